"""``steward audits …``: the audit schedule and audits."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from steward.audits import repository, service
from steward.db import session_scope

NAME = "audits"
app = typer.Typer(help="Independent audits (R-AUD-1, R-AUD-2).", no_args_is_help=True)
console = Console()


@app.command("schedule")
def schedule(as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
    """The audit schedule: every 3 years from the transition date; overdue flagged."""
    with session_scope() as db:
        cycles = service.schedule(db, service.today_utc())
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "number": c.number,
                        "due": c.due.isoformat(),
                        "status": c.status.value,
                        "audit": c.record_id,
                    }
                    for c in cycles
                ],
                indent=2,
            )
        )
        return
    table = Table("audit", "due", "status")
    for c in cycles:
        status = f"[red]{c.status.value}[/red]" if c.overdue else c.status.value
        table.add_row(str(c.number), c.due.isoformat(), status)
    console.print(table)


@app.command("list")
def list_() -> None:
    """Audits with their firm and stage."""
    with session_scope() as db:
        table = Table("#", "cycle", "firm", "stage", "catalogue")
        for a in repository.audits(db):
            table.add_row(
                str(a.id),
                str(a.cycle),
                a.firm.name,
                service.stage_label(a),
                a.catalogue_version or "",
            )
    console.print(table)
