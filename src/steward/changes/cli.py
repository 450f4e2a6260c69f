"""``steward changes …``: implementation plans, the RFC process, the statement, the DUG's agreement."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from steward.accounts import repository as accounts_repo
from steward.accounts.principal import Principal
from steward.changes import repository, service
from steward.changes.domain import Origin
from steward.cli_support import fail_on_error
from steward.db import session_scope, utcnow
from steward.errors import Invalid, NotFound

NAME = "changes"
app = typer.Typer(
    help="Technical changes: implementation plans, public comments, the IFM's statement, the DUG's agreement.",
    no_args_is_help=True,
)
console = Console()

AsUser = Annotated[str, typer.Option("--as", help="Email of the account acting (its roles apply)")]


def _principal(db: Session, email: str) -> Principal:
    user = accounts_repo.user_by_email(db, email.strip().lower())
    if user is None or not user.active:
        raise NotFound(f"no active account {email}")
    return Principal.of(user)


def _read(path: Path, field: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid(f"cannot read {path}: {exc}", field=field) from None


@app.command("list")
def list_(
    state: Annotated[str | None, typer.Option(help="Only plans in this state")] = None,
    as_user: Annotated[str | None, typer.Option("--as", help="See what this account sees")] = None,
) -> None:
    """List plans (published ones, or what ``--as`` may see)."""
    with fail_on_error(), session_scope() as db:
        principal = _principal(db, as_user) if as_user else Principal.anonymous()
        plans = service.list_plans(db, principal, state=state)
        table = Table("id", "title", "origin", "state", "comments close (UTC)")
        now = utcnow()
        for p in plans:
            table.add_row(
                str(p.id),
                p.title,
                Origin(p.origin).value,
                service.effective_state(p, now).label,
                f"{p.comment_closes_at:%Y-%m-%d %H:%M}" if p.comment_closes_at else "",
            )
    console.print(table)


@app.command("create")
def create(
    as_user: AsUser,
    title: Annotated[str, typer.Option(help="Title of the plan")],
    body_file: Annotated[Path, typer.Option("--body", help="Plan text file ('## ' opens a section)")],
    origin: Annotated[str, typer.Option(help="policy | operational (R-TCH-1)")],
    significance: Annotated[str, typer.Option(help="minor | significant | major")] = "significant",
    affected: Annotated[str, typer.Option(help="'all' or TLDs separated by commas")] = "all",
    timeline_file: Annotated[Path | None, typer.Option("--timeline", help="'YYYY-MM-DD: step' lines")] = None,
) -> None:
    """Draft a plan (IFM staff)."""
    with fail_on_error(), session_scope() as db:
        data = service.PlanInput(
            title=title,
            origin=origin,
            significance=significance,
            affected=affected,
            body=_read(body_file, "body"),
            timeline=_read(timeline_file, "timeline") if timeline_file else "",
        )
        plan = service.create_plan(db, _principal(db, as_user), data)
        plan_id = plan.id
    console.print(f"Drafted plan #{plan_id}: {title}")


@app.command("revise")
def revise(
    plan_id: int,
    as_user: AsUser,
    body_file: Annotated[Path, typer.Option("--body", help="New plan text file")],
    note: Annotated[str, typer.Option(help="What changed")] = "",
    title: Annotated[str | None, typer.Option(help="New title (default: unchanged)")] = None,
    timeline_file: Annotated[Path | None, typer.Option("--timeline", help="New timeline file")] = None,
) -> None:
    """Save a new version of a plan; print the diff from the previous one."""
    with fail_on_error(), session_scope() as db:
        principal = _principal(db, as_user)
        current = service.shown_version(db, principal, plan_id)
        data = service.PlanInput(
            title=title or current.title,
            origin=current.origin,
            significance=current.significance,
            affected="all" if current.affected_all else ",".join(current.affected_tlds),
            body=_read(body_file, "body"),
            timeline=_read(timeline_file, "timeline")
            if timeline_file
            else "\n".join(f"{d}: {label}" for d, label in current.timeline),
        )
        version = service.revise_plan(db, principal, plan_id, data, note=note)
        text = service.diff(db, principal, plan_id, version.number - 1, version.number).unified()
    typer.echo(text)


@app.command("show")
def show(
    plan_id: int,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    as_user: Annotated[str | None, typer.Option("--as", help="See what this account sees")] = None,
) -> None:
    """Show a plan, its sections and its comments."""
    from steward.changes.api import comment_out, plan_out

    with fail_on_error(), session_scope() as db:
        principal = _principal(db, as_user) if as_user else Principal.anonymous()
        plan = service.get_plan(db, principal, plan_id)
        data = plan_out(db, principal, plan).model_dump(mode="json")
        data["comments"] = [
            comment_out(c, with_answer=plan.statement_issued_at is not None).model_dump(mode="json")
            for c in repository.published_comments(db, plan.id)
        ]
    if as_json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    console.print(f"[b]#{data['id']} {data['title']}[/b]", highlight=False)
    console.print(f"{data['state_label']} · {Origin(data['origin']).label} · {data['significance']}")
    if data["comment_closes_at"]:
        console.print(f"Comments: {data['comment_opens_at']} → {data['comment_closes_at']}")
    version = data["version"] or {}
    for section in version.get("sections", []):
        console.print(f"\n[b]{section['heading']}[/b] ({section['anchor']})", highlight=False)
        console.print(section["body"], markup=False, highlight=False)
    for c in data["comments"]:
        console.print(f"\n#{c['number']} {c['author']}: ", end="", markup=False, highlight=False)
        console.print(c["body"], markup=False, highlight=False)


@app.command("diff")
def diff(plan_id: int, old: int, new: int) -> None:
    """Print the differences between two published versions."""
    with fail_on_error(), session_scope() as db:
        text = service.diff(db, Principal.anonymous(), plan_id, old, new).unified()
    typer.echo(text or "The two versions say the same thing.")


@app.command("publish")
def publish(
    plan_id: int,
    as_user: AsUser,
    days: Annotated[int | None, typer.Option(help="Comment period in days (default: setting)")] = None,
) -> None:
    """Publish a draft for public comment (R-TCH-2)."""
    with fail_on_error(), session_scope() as db:
        plan = service.publish_plan(db, _principal(db, as_user), plan_id, comment_days=days)
        closes = plan.comment_closes_at
    console.print(f"Plan #{plan_id} is open for comment until {closes:%Y-%m-%d %H:%M} UTC.")


@app.command("respond")
def respond(
    plan_id: int,
    number: int,
    as_user: AsUser,
    disposition: Annotated[str, typer.Option(help="accepted | partly_accepted | not_accepted | out_of_scope")],
    response: Annotated[str, typer.Option(help="The IFM's response")],
) -> None:
    """Record the disposition of and response to one comment."""
    with fail_on_error(), session_scope() as db:
        service.respond(
            db, _principal(db, as_user), plan_id, number, disposition=disposition, response=response
        )
    console.print(f"Comment #{number} answered.")


@app.command("statement")
def statement(
    plan_id: int,
    as_user: AsUser,
    text_file: Annotated[Path, typer.Option("--text", help="File with the statement's text")],
) -> None:
    """Issue the IFM's statement (refused while a comment is unanswered)."""
    with fail_on_error(), session_scope() as db:
        service.issue_statement(db, _principal(db, as_user), plan_id, _read(text_file, "text"))
    console.print(f"Statement on plan #{plan_id} issued and published.")


@app.command("agree")
def agree(plan_id: int, as_user: AsUser) -> None:
    """Record the DUG's agreement from its passed decision (operational/technical plans, R-TCH-1)."""
    with fail_on_error(), session_scope() as db:
        plan = service.record_agreement(db, _principal(db, as_user), plan_id)
        basis = plan.agreement_basis
    console.print(f"Plan #{plan_id} agreed ({basis}).")


@app.command("implemented")
def implemented(
    plan_id: int, as_user: AsUser, note: Annotated[str, typer.Option(help="Implementation note")] = ""
) -> None:
    """Mark a plan implemented."""
    with fail_on_error(), session_scope() as db:
        service.mark_implemented(db, _principal(db, as_user), plan_id, note=note)
    console.print(f"Plan #{plan_id} implemented.")


@app.command("withdraw")
def withdraw(
    plan_id: int, as_user: AsUser, reason: Annotated[str, typer.Option(help="Why")]
) -> None:
    """Withdraw a plan, with the reason."""
    with fail_on_error(), session_scope() as db:
        service.withdraw(db, _principal(db, as_user), plan_id, reason=reason)
    console.print(f"Plan #{plan_id} withdrawn.")


@app.command("tick")
def tick() -> None:
    """Close ended comment periods, expire unconfirmed comments, record passed DUG agreements
    (the worker does this every five minutes)."""
    with fail_on_error(), session_scope() as db:
        summary = service.periodic(db, utcnow())
    console.print(summary)
