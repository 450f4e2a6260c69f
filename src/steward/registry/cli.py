"""``steward registry …``: import the Root Zone Database, statistics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from steward.cli_support import fail_on_error, progress_bar
from steward.db import session_scope
from steward.registry import service
from steward.textfile import read_utf8

NAME = "registry"
app = typer.Typer(help="The registry of operators and TLDs.", no_args_is_help=True)
console = Console()


@app.command("import")
def import_(file: Annotated[Path, typer.Argument(help="Root Zone Database CSV (Domain,Type,TLD Manager)")]) -> None:
    """Import the IANA Root Zone Database CSV; a malformed file is refused and changes nothing."""
    with fail_on_error():
        text = read_utf8(file)
        with progress_bar() as bar, session_scope() as db:
            task = bar.add_task("Importing TLDs", total=None)
            report = service.import_root_zone(db, None, text, progress=lambda done, total: bar.update(task, completed=done, total=total))
    console.print(report.summary())
    for item in report.added[:20]:
        console.print(f"  + .{item}")
    if len(report.added) > 20:
        console.print(f"  … and {len(report.added) - 20} more added")
    for item in report.removed:
        console.print(f"  - .{item}")
    for change in report.reassigned:
        console.print(f"  ~ .{change['tld']}: {change['from'] or 'Not assigned'} → {change['to'] or 'Not assigned'}")


@app.command("stats")
def stats(as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
    """Counts of TLDs by type and of operators by chamber."""
    with session_scope() as db:
        data = service.stats(db)
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    table = Table("TLD type", "count")
    for key, value in data["tlds"]["by_type"].items():
        table.add_row(key, str(value))
    table.add_row("[b]total[/b]", str(data["tlds"]["total"]))
    console.print(table)
    chambers = Table("operators by chamber", "count")
    for key, value in data["operators"]["by_chamber"].items():
        chambers.add_row(key, str(value))
    chambers.add_row("[b]total operators[/b]", str(data["operators"]["total"]))
    console.print(chambers)
