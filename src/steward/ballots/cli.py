"""``steward ballots …``: list, show, open, vote, close and tally, verify a receipt, execute."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from steward.accounts import repository as accounts_repository
from steward.accounts.principal import Principal
from steward.ballots import domain, repository, service
from steward.cli_support import fail_on_error
from steward.db import session_scope, utcnow
from steward.errors import Invalid

NAME = "ballots"
app = typer.Typer(help="Consent ballots of the naming customers (R-ESC-1).", no_args_is_help=True)
console = Console()
AS_HELP = "act as this user (email); their roles decide what is allowed"


def _as(db: Session, email: str) -> Principal:
    user = accounts_repository.user_by_email(db, email.strip().lower())
    if user is None or not user.active:
        raise Invalid(f"no active user {email}", field="as")
    return Principal.of(user)


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid("use a moment such as 2026-12-20T17:00", field="closes_at") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@app.command("list")
def list_() -> None:
    """Every ballot with its status."""
    with session_scope() as db:
        table = Table("id", "title", "option", "closes (UTC)", "status", "result")
        now = utcnow()
        for b in repository.ballots(db):
            result = "—" if not b.closed else ("consent" if b.passed else "no consent")
            table.add_row(str(b.id), b.title, b.option, f"{b.closes_at:%Y-%m-%d %H:%M}",
                          service.status_of(b, now).value, result)
    console.print(table)


@app.command("show")
def show(ballot_id: int, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """A ballot's rules and, after the close, its tally and receipt tree."""
    with fail_on_error(), session_scope() as db:
        b = service.get(db, ballot_id)
        data = {"id": b.id, "title": b.title, "option": b.option, "status": service.status_of(b, utcnow()).value,
                "rules": service.rules_of(b).describe(),
                "electorate": {"cctld": b.electorate_cctld, "gtld": b.electorate_gtld},
                "result": service.public_result(b) if b.closed else None}
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
        return
    console.print(f"[b]#{data['id']} {data['title']}[/b] ({data['status']})")
    for line in data["rules"]:  # type: ignore[attr-defined]
        console.print(f"  • {line}")
    if data["result"]:
        console.print_json(json.dumps(data["result"], default=str))


@app.command("open")
def open_(
    matter_type: Annotated[str, typer.Argument(help="dispute or urgent_review")],
    matter_id: int,
    option: Annotated[str, typer.Argument(help=", ".join(o.value for o in domain.Option))],
    closes_at: Annotated[str, typer.Option(help="UTC moment, e.g. 2026-12-20T17:00")],
    as_: Annotated[str, typer.Option("--as", help=AS_HELP)],
    description: str = "",
    title: str = "",
) -> None:
    """Open a consent ballot on an eligible matter (needs a passed DUG decision)."""
    with fail_on_error(), session_scope() as db:
        b = service.open_ballot(db, _as(db, as_), matter_type=matter_type, matter_id=matter_id, option=option,
                                description=description, title=title, closes_at=_moment(closes_at), now=utcnow())
        console.print(f"Opened ballot #{b.id}: {b.electorate_cctld} ccTLD and {b.electorate_gtld} gTLD electors.")


@app.command("vote")
def vote(ballot_id: int, choice: Annotated[str, typer.Argument(help="yes, no or abstain")],
         as_: Annotated[str, typer.Option("--as", help=AS_HELP)]) -> None:
    """Vote for the user's organisation in every chamber it belongs to; prints the receipt code."""
    with fail_on_error(), session_scope() as db:
        r = service.cast_vote(db, _as(db, as_), ballot_id, choice=choice, now=utcnow())
    console.print(f"Vote {'changed' if r.changed else 'recorded'}. Keep your receipt code: [b]{r.code}[/b]")


@app.command("close")
def close(ballot_id: int, as_: Annotated[str, typer.Option("--as", help=AS_HELP)] = "") -> None:
    """Close and tally a ballot whose closing moment has passed (the worker does it too)."""
    with fail_on_error(), session_scope() as db:
        b = service.close_ballot(db, _as(db, as_) if as_ else None, ballot_id, utcnow())
        console.print(f"Closed: {'consent given' if b.passed else 'no consent'}; receipt root {b.receipt_root}")


@app.command("verify")
def verify(ballot_id: int, code: str) -> None:
    """Check a receipt code against the published tally (after the close)."""
    with fail_on_error(), session_scope() as db:
        found = service.verify_code(db, service.get(db, ballot_id), code)
    for v in found:
        console.print(f"{v['leaf']['chamber']}: '{v['leaf']['choice']}' is leaf {v['index']} of {v['tree_size']}; "
                      f"proof verifies against root {v['root_hex']}")


@app.command("execute")
def execute(ballot_id: int, as_: Annotated[str, typer.Option("--as", help=AS_HELP)], note: str = "") -> None:
    """Record that the DUG executes the option (refused without a passed ballot)."""
    with fail_on_error(), session_scope() as db:
        service.execute_option(db, _as(db, as_), ballot_id, note, utcnow())
    console.print("Recorded: the option is executed.")
