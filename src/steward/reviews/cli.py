"""``steward reviews …``: the IPRT review schedule and reviews."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from steward.cli_support import fail_on_error
from steward.db import session_scope
from steward.governance.cli import acting_as
from steward.reviews import repository, service

NAME = "reviews"
app = typer.Typer(help="IPRT reviews (R-IPRT-1…3).", no_args_is_help=True)
console = Console()


@app.command("schedule")
def schedule(as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
    """The review schedule: transition + 3 years, then every 4 years; overdue flagged."""
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
                        "review": c.record_id,
                    }
                    for c in cycles
                ],
                indent=2,
            )
        )
        return
    table = Table("review", "due", "status")
    for c in cycles:
        status = f"[red]{c.status.value}[/red]" if c.overdue else c.status.value
        table.add_row(str(c.number), c.due.isoformat(), status)
    console.print(table)


@app.command("list")
def list_() -> None:
    """Convened reviews and their stage."""
    with session_scope() as db:
        table = Table("#", "title", "stage", "members")
        for r in repository.reviews(db):
            table.add_row(str(r.id), r.title, service.stage_label(r), str(len(r.members)))
    console.print(table)


@app.command("convene")
def convene(
    as_: Annotated[str, typer.Option("--as", help="Email of the acting account")],
    title: str = "",
) -> None:
    """Convene the review of the next scheduled cycle."""
    with fail_on_error(), session_scope() as db:
        review = service.convene(db, acting_as(db, as_), title)
        rid, cycle = review.id, review.cycle
    console.print(f"Review #{rid} convened for cycle {cycle}.")


@app.command("appoint")
def appoint(
    review_id: int,
    name: str,
    constituency: Annotated[
        str, typer.Argument(help="registry_customer, gac, alac, ssac, rssac, ietf, other")
    ],
    as_: Annotated[str, typer.Option("--as", help="Email of the acting account")],
    email: str | None = None,
    organisation_id: int | None = None,
) -> None:
    """Appoint a member; the R-IPRT-1 composition is checked."""
    with fail_on_error(), session_scope() as db:
        service.appoint(
            db,
            acting_as(db, as_),
            review_id,
            name=name,
            constituency=constituency,
            email=email,
            organisation_id=organisation_id,
        )
        problems = service.composition_of(service.get(db, review_id)).problems()
    console.print(f"{name} appointed.")
    for p in problems:
        console.print(f"  [yellow]![/yellow] {p}")
