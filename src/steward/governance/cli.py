"""``steward governance …``: the DUG roster, charter versions and decisions."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from steward.accounts.principal import Principal
from steward.cli_support import fail_on_error
from steward.db import session_scope
from steward.errors import Invalid
from steward.governance import repository, service
from steward.governance.domain import CharterText

NAME = "governance"
app = typer.Typer(help="The DUG: roster, charter and decisions.", no_args_is_help=True)
console = Console()


def _day(value: str | None, option: str = "on") -> date:
    """A date typed as ``--<option>`` (today when not given); an error names the option."""
    if not value:
        return service.today_utc()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(f"Use YYYY-MM-DD (got {value!r}).", field=option.replace("_", "-")) from None


def acting_as(db: object, email: str) -> Principal:
    """The principal of the account a CLI command acts for."""
    from sqlalchemy.orm import Session

    from steward.accounts import repository as accounts_repo

    assert isinstance(db, Session)
    user = accounts_repo.user_by_email(db, email.strip().lower())
    if user is None or not user.active:
        raise Invalid(f"No active account {email}.", field="as")
    return Principal.of(user)


@app.command("roster")
def roster(
    on: Annotated[str | None, typer.Option(help="Day, YYYY-MM-DD (default today)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Who serves on the DUG, and whether the roster meets the rules (R-DUG-2)."""
    with fail_on_error(), session_scope() as db:
        day = _day(on)
        status = service.roster_status(db, day)
        rows = [
            {
                "name": m.name,
                "seat": m.seat,
                "community": m.community,
                "chair": m.is_chair,
                "organisation": m.organisation.name if m.organisation else None,
                "term_end": m.term_end.isoformat() if m.term_end else None,
            }
            for m in status.serving
        ]
        issues = [i.message for i in status.issues]
    if as_json:
        typer.echo(json.dumps({"on": day.isoformat(), "members": rows, "issues": issues}, indent=2))
        return
    table = Table("name", "seat", "community", "organisation", "term ends", title=f"DUG on {day}")
    for r in rows:
        table.add_row(
            str(r["name"]) + (" (chair)" if r["chair"] else ""),
            str(r["seat"]),
            str(r["community"]),
            str(r["organisation"] or ""),
            str(r["term_end"] or "open"),
        )
    console.print(table)
    for issue in issues:
        console.print(f"[yellow]![/yellow] {issue}")
    if not issues:
        console.print("[green]The DUG is fully constituted.[/green]")


@app.command("charters")
def charters() -> None:
    """Charter versions, newest first (R-DUG-1)."""
    with session_scope() as db:
        table = Table("version", "effective from", "note")
        for c in repository.charters(db):
            table.add_row(str(c.version), c.effective_from.isoformat(), c.note)
    console.print(table)


@app.command("adopt-charter")
def adopt_charter(
    as_: Annotated[str, typer.Option("--as", help="Email of the acting DUG chair")],
    role: Annotated[str, typer.Option(help="The role of the DUG")],
    chair_appointment: Annotated[str, typer.Option(help="How the chair is appointed")],
    communication_lines: Annotated[str, typer.Option(help="Lines of communication with IFM staff")],
    effective_from: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    note: str = "",
) -> None:
    """Adopt a new charter version."""
    with fail_on_error(), session_scope() as db:
        actor = acting_as(db, as_)
        c = service.adopt_charter(
            db,
            actor,
            CharterText(role, chair_appointment, communication_lines),
            _day(effective_from, "effective_from"),
            note,
        )
        version = c.version
    console.print(f"Charter version {version} adopted.")


@app.command("motions")
def motions(
    state: Annotated[str | None, typer.Option(help="open, passed, failed, withdrawn")] = None,
) -> None:
    """Public DUG motions and the rule that decided each."""
    with fail_on_error(), session_scope() as db:
        table = Table("#", "title", "kind", "state", "rule")
        for m in service.list_motions(db, Principal.anonymous(), state):
            table.add_row(str(m.id), m.title, m.kind, m.state, m.result_rule)
    console.print(table)


@app.command("seat")
def seat(
    email: Annotated[str, typer.Argument(help="Email of the person to seat")],
    as_: Annotated[str, typer.Option("--as", help="Email of the acting DUG chair or sysadmin")],
    experience: Annotated[str, typer.Option(help="Relevant technical experience (R-DUG-2)")],
    term_start: Annotated[str, typer.Option(help="First day of the term, YYYY-MM-DD")],
    seat_kind: Annotated[str, typer.Option("--seat", help="voting or liaison")] = "voting",
    community: Annotated[str, typer.Option(help="cctld, gtld or technical")] = "cctld",
    term_end: Annotated[str | None, typer.Option(help="Last day of the term")] = None,
    chair: Annotated[bool, typer.Option("--chair", help="Appoint as chair")] = False,
) -> None:
    """Seat a member; the composition rules are checked (R-DUG-2)."""
    from steward.accounts import repository as accounts_repo

    with fail_on_error(), session_scope() as db:
        actor = acting_as(db, as_)
        user = accounts_repo.user_by_email(db, email.strip().lower())
        if user is None:
            raise Invalid(f"No account {email}.", field="email")
        service.add_member(
            db,
            actor,
            user_id=user.id,
            seat=seat_kind,
            community=community,
            technical_experience=experience,
            term_start=_day(term_start, "term_start"),
            term_end=_day(term_end, "term_end") if term_end else None,
            is_chair=chair,
        )
        issues = [i.message for i in service.roster_status(db, service.today_utc()).issues]
    console.print(f"{email} seated.")
    for issue in issues:
        console.print(f"  [yellow]![/yellow] {issue}")


@app.command("motion")
def motion(motion_id: int) -> None:
    """A public motion: its votes and the rule that decided it."""
    with fail_on_error(), session_scope() as db:
        m = service.readable_motion(db, Principal.anonymous(), motion_id)
        console.print(f"[b]#{m.id} {m.title}[/b] ({m.kind}) — {m.state}")
        table = Table("member", "vote")
        for v in m.votes:
            table.add_row(v.member.name, v.choice)
        console.print(table)
        if m.result_rule:
            console.print(m.result_rule)
