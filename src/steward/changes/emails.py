"""Emails of the technical-changes context: one function per message, sent through the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from steward.config import get_settings
from steward.outbox import enqueue_email

if TYPE_CHECKING:
    from steward.changes.models import ChangeComment, ChangePlan
    from steward.changes.service import StatementRow

_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "changes" / "email"


@cache
def _env() -> Environment:
    # Text parts must not be HTML-escaped; HTML parts must be.
    return Environment(
        loader=FileSystemLoader(str(_TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        keep_trailing_newline=True,
    )


def _render(name: str, context: dict[str, Any]) -> tuple[str, str, str]:
    env = _env()
    subject = env.get_template(f"{name}.subject.txt").render(context).strip()
    text = env.get_template(f"{name}.txt").render(context)
    html = env.get_template(f"{name}.html").render(context)
    return subject, text, html


def send_confirmation(session: Session, comment: ChangeComment, plan: ChangePlan, token: str) -> None:
    """Ask a public commenter to confirm the address; the comment is published on confirmation."""
    settings = get_settings()
    assert comment.email is not None
    context = {
        "plan": plan,
        "comment": comment,
        "link": f"{settings.base_url.rstrip('/')}/changes/confirm/{token}",
        "hours": settings.change_confirm_hours,
    }
    subject, text, html = _render("confirm_comment", context)
    enqueue_email(session, comment.email, subject, text, html, key=f"change-confirm:{comment.id}")


def notify_statement(session: Session, plan: ChangePlan, rows: Sequence[StatementRow]) -> None:
    """Tell public commenters who confirmed an address that the statement answering them is out."""
    from steward.changes import repository

    settings = get_settings()
    link = f"{settings.base_url.rstrip('/')}/changes/{plan.id}/statement"
    by_number = {row.number: row for row in rows}
    for comment in repository.published_comments(session, plan.id):
        if not comment.email or comment.number is None:
            continue
        row = by_number.get(comment.number)
        subject, text, html = _render(
            "statement_issued", {"plan": plan, "row": row, "link": link}
        )
        enqueue_email(
            session,
            comment.email,
            subject,
            text,
            html,
            key=f"change-statement:{plan.id}:{comment.number}",
        )
