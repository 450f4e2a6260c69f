"""``steward archive …``: verify the log, check proofs, sign checkpoints, reveal sealed records."""

from __future__ import annotations

import json
import os
from http.client import HTTPException
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qs, urlsplit

import typer
from rich.console import Console
from rich.progress import Progress, TaskID

from steward.archive import repository, service
from steward.archive.checkpoint import NoteError, NoteVerifier
from steward.archive.keys import load_verifier
from steward.archive.merkle import check_proof_file
from steward.archive.remote import Fetch, http_fetch, verify_remote
from steward.cli_support import err, fail_on_error, progress_bar
from steward.config import get_settings
from steward.db import session_scope, utcnow
from steward.errors import Invalid

NAME = "archive"
app = typer.Typer(
    help="The tamper-evident archive (RFC 9162 log, signed checkpoints).", no_args_is_help=True
)
console = Console()


@app.command("check-proof")
def check_proof(
    file: Annotated[Path, typer.Argument(help="JSON inclusion or consistency proof")],
) -> None:
    """Verify a proof file; exit 0 when it is valid, 1 when it is not (saying why)."""
    try:
        text = file.read_bytes()
    except OSError as exc:
        err.print(f"[red]invalid:[/red] cannot read {file}: {exc.strerror}")
        raise typer.Exit(1) from None
    result = check_proof_file(text)
    if result.valid:
        console.print(f"[green]valid[/green] {result.kind} proof: {result.reason}", highlight=False)
        return
    err.print(f"[red]invalid[/red] {result.kind or ''} proof: {result.reason}", highlight=False)
    raise typer.Exit(1)


def _default_state(url: str) -> Path:
    safe = "".join(c if c.isalnum() or c in ".-" else "_" for c in url.split("://")[-1])
    return Path.home() / ".steward" / "monitor" / f"{safe}.json"


def _state_problem(path: Path) -> str | None:
    """Why the monitor's state file cannot be kept at ``path`` (checked before any request, and
    without creating anything), or None."""
    if path.exists():
        if not path.is_file():
            return f"{path} is not a file"
        if not os.access(path, os.R_OK | os.W_OK):
            return f"{path} cannot be read and written"
        return None
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot create {path}: {folder} is not a folder that can be written"
    return None


def _fetch(bar: Progress | None = None, task: TaskID | None = None) -> Fetch:
    """``http_fetch`` that reports a malformed URL as a failure to reach it and, given a bar,
    moves it over the entries the remote check reads (its total: the signed checkpoint's size)."""

    def fetch(url: str) -> tuple[int, bytes]:
        try:
            status, body = http_fetch(url)
        except (ValueError, HTTPException) as exc:  # e.g. a port that is not a number
            raise OSError(f"not a usable URL ({exc})") from None
        if bar is None or task is None or status != 200:
            return status, body
        if url.endswith("/checkpoint"):
            lines = body.decode("utf-8", "replace").splitlines()
            if len(lines) > 1 and lines[1].isdigit():
                bar.update(task, total=int(lines[1]), completed=0)
        elif "/entries?" in url:
            try:
                start = int(parse_qs(urlsplit(url).query).get("start", ["0"])[0])
                items = len(json.loads(body).get("items") or [])
            except (ValueError, TypeError, AttributeError):
                return status, body  # the check itself says what is wrong with the page
            total = next(t.total for t in bar.tasks if t.id == task)
            bar.update(task, completed=start + items if total is None else min(total, start + items))
        return status, body

    return fetch


def _verify_remote(remote: str, state: Path | None, entries: bool) -> None:
    path = state or _default_state(remote)
    with fail_on_error():
        problem = _state_problem(path)
        if problem:
            raise Invalid(problem, field="state")
    try:
        if entries:
            with progress_bar() as bar:
                task = bar.add_task("Checking published entries", total=None)
                report = verify_remote(remote, path, _fetch(bar, task), check_entries=True)
        else:
            report = verify_remote(remote, path, _fetch())
    except OSError as exc:  # the state file, written once the log checked out
        err.print(f"[red]Error:[/red] field 'state': cannot write {path}: {exc.strerror or exc}",
                  highlight=False)
        raise typer.Exit(1) from None
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        err.print(f"[red]FAIL[/red] {remote} does not answer as a Steward archive does ({exc!r})",
                  highlight=False)
        raise typer.Exit(1) from None
    for note in report.notes:
        console.print(note, highlight=False)
    for problem in report.problems:
        err.print(f"[red]FAIL[/red] {problem}", highlight=False)
    if not report.ok:
        raise typer.Exit(1)
    console.print(
        f"[green]OK[/green] {remote}: signed checkpoint of {report.size} entries, root {report.root}",
        highlight=False,
    )


@app.command("verify")
def verify(
    remote: Annotated[
        str | None, typer.Option("--remote", help="Check a running instance at this URL instead")
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option(help="With --remote: where to remember the pinned key and last checkpoint"),
    ] = None,
    entries: Annotated[
        bool,
        typer.Option("--entries", help="With --remote: also recompute the root from every entry"),
    ] = False,
    key: Annotated[
        str | None,
        typer.Option(help="Local: the log's public key to trust (default: the key file)"),
    ] = None,
) -> None:
    """Re-read the whole archive and check every entry, tile and checkpoint; name what was tampered with."""
    with fail_on_error():
        if key is not None and not key.strip():
            raise Invalid("the key is empty: give the log's public key (name+hash+key), or leave "
                          "--key out to use the key file", field="key")
        if key is not None and remote:
            raise Invalid("--key is for a local check: with --remote the key the log serves on the "
                          "first run is pinned in the --state file", field="key")
    if remote:
        _verify_remote(remote, state, entries)
        return
    with fail_on_error():
        if key is not None:
            try:
                verifier: NoteVerifier | None = NoteVerifier.from_key_text(key)
            except NoteError as exc:  # the key the user gave cannot be used: never skip the signatures
                raise Invalid(f"{exc}; the checkpoints' signatures cannot be checked with it",
                              field="key") from None
        else:
            try:
                verifier = load_verifier(get_settings())
            except NoteError as exc:
                err.print(f"[yellow]warning:[/yellow] {exc}; checkpoint signatures are not checked")
                verifier = None
        with progress_bar() as bar, session_scope() as db:
            task = bar.add_task("Checking entries", total=None)
            local = service.verify_log(
                db, verifier, progress=lambda done, total: bar.update(task, completed=done, total=total)
            )
    for problem in local.problems:
        err.print(f"[red]TAMPERED[/red] {problem}", highlight=False)
    summary = f"{local.entries} entries, log size {local.size}, root {service.b64(local.root)}, {local.checkpoints} checkpoints"
    if not local.ok:
        err.print(f"[red]FAIL[/red] {len(local.problems)} problem(s); {summary}", highlight=False)
        raise typer.Exit(1)
    if key is not None and not local.checkpoints:
        err.print("[yellow]warning:[/yellow] no checkpoint is signed yet: the key was not used")
    console.print(f"[green]OK[/green] {summary}", highlight=False)


@app.command("checkpoint")
def checkpoint() -> None:
    """Sign a checkpoint of the log now (prints the signed note)."""
    with fail_on_error(), session_scope() as db:
        cp = service.sign_checkpoint(db, utcnow())
        note = cp.note
    typer.echo(note, nl=False)


@app.command("status")
def status() -> None:
    """Size, root and latest checkpoint of the log."""
    with session_scope() as db:
        size, root = repository.head(db)
        cp = repository.latest_checkpoint(db)
        line = f"log size {size}, root {service.b64(root)}"
        signed = (
            f"latest checkpoint: size {cp.size}, signed {cp.signed_at:%Y-%m-%d %H:%M UTC}"
            if cp
            else "no checkpoint signed yet"
        )
    console.print(line, highlight=False)
    console.print(signed, highlight=False)


@app.command("proof")
def proof(
    index: Annotated[int, typer.Argument(help="Entry number (leaf index)")],
    size: Annotated[int | None, typer.Option(help="Tree size (default: current)")] = None,
) -> None:
    """Print the inclusion proof of an entry as a JSON proof file."""
    with fail_on_error(), session_scope() as db:
        doc = service.inclusion_proof(db, index, size)
    typer.echo(json.dumps(doc, indent=2))


@app.command("reveal")
def reveal(seq: Annotated[int, typer.Argument(help="Number of a sealed entry")]) -> None:
    """Print the salt and content that open a sealed entry (hand it only to those entitled to it)."""
    with fail_on_error(), session_scope() as db:
        doc = service.reveal(db, seq)
    typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
