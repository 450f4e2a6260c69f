"""``steward systemic …``: detection, signals, urgent reviews and their steps."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from steward.accounts import repository as accounts_repository
from steward.accounts.principal import Principal
from steward.cli_support import fail_on_error
from steward.db import session_scope, utcnow
from steward.errors import Invalid
from steward.systemic import domain, repository, service
from steward.systemic.domain import SignalKind, Stage

NAME = "systemic"
app = typer.Typer(help="Systemic failures and urgent reviews (R-SYS-1, R-SYS-2).", no_args_is_help=True)
console = Console()
AS_HELP = "act as this user (email); their roles decide what is allowed"


def _as(db: Session, email: str) -> Principal:
    user = accounts_repository.user_by_email(db, email.strip().lower())
    if user is None or not user.active:
        raise Invalid(f"no active user {email}", field="as")
    return Principal.of(user)


def _ids(db: Session, emails: list[str], field: str) -> tuple[int, ...]:
    ids = []
    for email in emails:
        user = accounts_repository.user_by_email(db, email.strip().lower())
        if user is None:
            raise Invalid(f"no user {email}", field=field)
        ids.append(user.id)
    return tuple(ids)


@app.command("detect")
def detect() -> None:
    """Run every detection rule now (the worker runs it hourly)."""
    with fail_on_error(), session_scope() as db:
        console.print(service.detect(db, utcnow()))


@app.command("signals")
def signals(as_: Annotated[str, typer.Option("--as", help=AS_HELP)]) -> None:
    """The signals the user may see, with their evidence."""
    with fail_on_error(), session_scope() as db:
        principal = _as(db, as_)
        table = Table("id", "kind", "summary", "evidence", "state")
        for s in repository.signals(db, principal):
            table.add_row(str(s.id), SignalKind(s.kind).label, s.summary,
                          "\n".join(f"{e['label']} {service.evidence_link(e['kind'], e['ref']) or ''}"
                                    for e in s.evidence), s.state)
    console.print(table)


@app.command("propose")
def propose(title: str, reasoning: str, as_: Annotated[str, typer.Option("--as", help=AS_HELP)],
            evidence: Annotated[str, typer.Option(help="'dispute 12; audit 3; https://…'")] = "") -> None:
    """(d) A DUG member proposes a possible systemic failure."""
    with fail_on_error(), session_scope() as db:
        row = service.propose(db, _as(db, as_), title=title, reasoning=reasoning,
                              evidence=evidence.replace(";", "\n"), now=utcnow())
        console.print(f"Signal #{row.id} recorded.")


@app.command("open")
def open_review(signal_id: int, title: str, as_: Annotated[str, typer.Option("--as", help=AS_HELP)],
                operator: Annotated[int | None, typer.Option(help="operator organisation id, where applicable")] = None) -> None:
    """Open an urgent review from a signal (needs the DUG's passed decision)."""
    with fail_on_error(), session_scope() as db:
        row = service.open_review(db, _as(db, as_), signal_id, title=title, operator_org_id=operator, now=utcnow())
        console.print(f"Urgent review #{row.id} opened.")


@app.command("reviews")
def reviews(as_: Annotated[str, typer.Option("--as", help=AS_HELP)]) -> None:
    """The urgent reviews the user may see."""
    with fail_on_error(), session_scope() as db:
        table = Table("id", "title", "stage", "outcome")
        for r in repository.reviews(db, _as(db, as_)):
            table.add_row(str(r.id), r.title, Stage(r.stage).label, r.outcome or "—")
    console.print(table)


@app.command("show")
def show(review_id: int, as_: Annotated[str, typer.Option("--as", help=AS_HELP)]) -> None:
    """One urgent review: stage, plan, and the steps the user may take."""
    with fail_on_error(), session_scope() as db:
        principal = _as(db, as_)
        r = service.get_review(db, principal, review_id)
        console.print(f"[b]#{r.id} {r.title}[/b] — {Stage(r.stage).label}")
        for e in r.experts:
            console.print(f"  expert: {e.name} ({', '.join(e.expertise)})")
        for m in r.milestones:
            console.print(f"  {m.kind}: {m.title} due {m.due} {'done ' + str(m.done_on) if m.done_on else ''}")
        console.print("  next: " + (", ".join(a.value for a in service.available_actions(db, principal, r)) or "none"))


@app.command("act")
def act(
    review_id: int,
    action: Annotated[str, typer.Argument(help=", ".join(a.value for a in domain.Action))],
    as_: Annotated[str, typer.Option("--as", help=AS_HELP)],
    text: str = "", name: str = "", expertise: str = "", organisation: int | None = None,
    user_email: str = "", declaration: str = "",
    milestones: Annotated[str, typer.Option(help="'YYYY-MM-DD title; YYYY-MM-DD title'")] = "",
    milestone: int | None = None, critical: bool | None = None, finding: str = "", ref: str = "",
    mediator: Annotated[list[str] | None, typer.Option(help="engage_mediator: the mediator's email")] = None,
    panelist: Annotated[list[str] | None, typer.Option(help="engage_iap: a panelist's email (repeat)")] = None,
) -> None:
    """Take one step of the urgent review ladder."""
    with fail_on_error(), session_scope() as db:
        inp = service.ActInput(text=text, name=name, expertise=expertise, organisation_id=organisation,
                               user_email=user_email, declaration=declaration,
                               milestones=milestones.replace(";", "\n"), milestone_id=milestone,
                               critical=critical, finding=finding, ref=ref,
                               mediator_ids=_ids(db, mediator or [], "mediator_ids"),
                               panelist_ids=_ids(db, panelist or [], "panelist_ids"))
        r = service.act(db, _as(db, as_), review_id, action, inp, utcnow())
        console.print(f"Urgent review #{r.id}: {Stage(r.stage).label}")
