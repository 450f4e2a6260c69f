"""``steward``: the one command-line entry point."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from steward.contexts import modules

app = typer.Typer(
    help="Steward: accountability for the IANA naming functions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()


@app.command()
def init() -> None:
    """Create or upgrade the database (an upgrade keeps all data) and the data folder."""
    from steward.migrate import upgrade

    settings = upgrade()
    for _name, setup in modules("setup"):
        setup.on_init(settings)
    console.print(f"Database ready at {settings.database_url.split('@')[-1]}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes", min=1, max=64)] = 1,
    reload: Annotated[bool, typer.Option(help="Reload on code change (development)")] = False,
    forwarded_allow_ips: Annotated[
        str, typer.Option(help="Reverse proxies trusted for X-Forwarded-* (comma-separated)")
    ] = "127.0.0.1",
) -> None:
    """Serve the web pages and the JSON API (one process per worker, each on its own socket)."""
    from steward import serving

    serving.run(
        "steward.app:create_app", factory=True, host=host, port=port, workers=workers, reload=reload,
        proxy_headers=True, forwarded_allow_ips=forwarded_allow_ips, log_level="info",
    )


@app.command()
def worker(once: Annotated[bool, typer.Option(help="Run one iteration and exit")] = False) -> None:
    """Send queued email and run periodic tasks until SIGTERM (run several: no job runs twice)."""
    from steward import worker as worker_mod

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if once:
        console.print(worker_mod.run_once())
    else:
        worker_mod.run_forever()


@app.command()
def backup(
    file: Annotated[Path, typer.Argument(help="Where to write the backup (a new file)")],
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it already exists")] = False,
) -> None:
    """Back up the database (SQLite online backup, or pg_dump for PostgreSQL); an existing FILE is
    kept unless --force."""
    from steward import backup as backup_mod
    from steward.cli_support import fail_on_error
    from steward.config import get_settings

    with fail_on_error(), backup_mod.progress_shown() as progress:
        written = backup_mod.backup(get_settings(), file, force=force, progress=progress)
    console.print(f"Backup written to {written}", highlight=False, markup=False)


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(help="A backup made by `steward backup`")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Replace the database's content with a backup (stop the app and workers first); a file that
    is not a Steward backup is refused and changes nothing."""
    from steward import backup as backup_mod
    from steward.cli_support import fail_on_error
    from steward.config import get_settings

    settings = get_settings()
    if not yes:
        with fail_on_error():
            backup_mod.check_backup(settings, file)
        typer.confirm("This replaces every record in the database. Continue?", abort=True)
    with fail_on_error(), backup_mod.progress_shown() as progress:
        info = backup_mod.restore(settings, file, progress=progress)
    console.print(f"Database restored from {info.path}", highlight=False, markup=False)
    if not info.current:
        console.print("The backup has an older schema: run `steward init` to upgrade it.", markup=False)


@app.command()
def demo() -> None:
    """Load demo data: organisations, TLDs, one account for every role, and cases at several stages."""
    from steward.demo import load

    load(console)


for _name, cli_module in modules("cli"):
    if hasattr(cli_module, "app"):
        app.add_typer(cli_module.app, name=getattr(cli_module, "NAME", _name))
    for command in getattr(cli_module, "COMMANDS", []):
        app.command()(command)


def main() -> None:
    """Run the CLI; a broken setting or a database not set up is told in one line, never as a
    traceback (the commands' own errors go through ``cli_support.fail_on_error``)."""
    from pydantic import ValidationError
    from sqlalchemy.exc import ArgumentError, DBAPIError

    from steward.cli_support import err
    from steward.errors import StewardError

    try:
        app()
    except ValidationError as exc:  # the settings, read from STEWARD_* variables
        problems = "; ".join(
            f"STEWARD_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors())
        err.print(f"[red]Error:[/red] invalid setting — {problems}", highlight=False)
        raise SystemExit(1) from None
    except StewardError as exc:  # raised outside a command's own handling, e.g. by the settings
        err.print(f"[red]Error:[/red] {exc.detail()}", highlight=False)
        raise SystemExit(1) from None
    except ArgumentError as exc:
        err.print(f"[red]Error:[/red] the database URL cannot be used: {exc}", highlight=False)
        raise SystemExit(1) from None
    except DBAPIError as exc:
        text = str(exc.orig).lower()
        if "no such table" in text or ("relation" in text and "does not exist" in text):
            err.print("[red]Error:[/red] the database is not set up: run `steward init` first.", highlight=False)
        else:
            err.print(f"[red]Error:[/red] the database answered: {str(exc.orig).strip().splitlines()[0]}",
                      highlight=False)
        raise SystemExit(1) from None
