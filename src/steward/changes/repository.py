"""Every query of the technical-changes context.

Reads that show plans to a person start from :func:`readable_plans`, the one
access-scoped statement: drafts are internal to the IFM, except operational
drafts, on which the DUG liaises (R-TCH-1); everything published is public.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from steward.accounts.principal import Principal
from steward.authz import Permission
from steward.changes.domain import CommentStatus, Origin, PlanState
from steward.changes.models import ChangeComment, ChangePlan, ChangePlanVersion


def readable_plans(principal: Principal) -> Select[ChangePlan]:
    """Plans this principal may see (mirrors :func:`steward.changes.domain.plan_visible`)."""
    statement = select(ChangePlan)
    if principal.has(Permission.CHANGE_DRAFT):
        return statement
    public = ChangePlan.published_version.is_not(None)
    if principal.has(Permission.CHANGE_LIAISE):
        return statement.where(or_(public, ChangePlan.origin == Origin.OPERATIONAL.value))
    return statement.where(public)


def list_plans(
    session: Session, principal: Principal, *, state: str | None = None
) -> list[ChangePlan]:
    """Readable plans, newest first, optionally of one state."""
    statement = readable_plans(principal)
    if state:
        statement = statement.where(ChangePlan.state == state)
    return list(session.scalars(statement.order_by(ChangePlan.id.desc())))


def readable_plan(session: Session, principal: Principal, plan_id: int) -> ChangePlan | None:
    """One plan if this principal may see it."""
    return session.scalar(readable_plans(principal).where(ChangePlan.id == plan_id))


def plan_by_id(session: Session, plan_id: int) -> ChangePlan | None:
    """Unscoped lookup, for services that check permissions themselves."""
    return session.get(ChangePlan, plan_id)


def versions(session: Session, plan_id: int) -> list[ChangePlanVersion]:
    """All versions of a plan, oldest first."""
    return list(
        session.scalars(
            select(ChangePlanVersion)
            .where(ChangePlanVersion.plan_id == plan_id)
            .order_by(ChangePlanVersion.number)
        )
    )


def version(session: Session, plan_id: int, number: int) -> ChangePlanVersion | None:
    """One version of a plan."""
    return session.scalar(
        select(ChangePlanVersion).where(
            ChangePlanVersion.plan_id == plan_id, ChangePlanVersion.number == number
        )
    )


def published_comments(session: Session, plan_id: int) -> list[ChangeComment]:
    """Public comments of a plan, in number order."""
    return list(
        session.scalars(
            select(ChangeComment)
            .where(
                ChangeComment.plan_id == plan_id,
                ChangeComment.status == CommentStatus.PUBLISHED.value,
            )
            .order_by(ChangeComment.number)
        )
    )


def comment_in_plan(session: Session, plan_id: int, number: int) -> ChangeComment | None:
    """A published comment by its number within a plan."""
    return session.scalar(
        select(ChangeComment).where(
            ChangeComment.plan_id == plan_id,
            ChangeComment.number == number,
            ChangeComment.status == CommentStatus.PUBLISHED.value,
        )
    )


def comment_by_token_hash(session: Session, token_hash: str) -> ChangeComment | None:
    """The pending comment a confirmation link belongs to."""
    return session.scalar(select(ChangeComment).where(ChangeComment.token_hash == token_hash))


def pending_count(session: Session, plan_id: int) -> int:
    """Comments still waiting for their author to confirm an email address."""
    return int(
        session.scalar(
            select(func.count(ChangeComment.id)).where(
                ChangeComment.plan_id == plan_id,
                ChangeComment.status == CommentStatus.PENDING_CONFIRMATION.value,
            )
        )
        or 0
    )


def next_comment_number(session: Session, plan_id: int) -> int:
    """The number the next published comment of a plan gets.

    The plan's row is locked first (``FOR UPDATE`` on PostgreSQL; SQLite's write
    transaction already serialises) so two comments published at once never get the
    same number.
    """
    session.execute(select(ChangePlan.id).where(ChangePlan.id == plan_id).with_for_update())
    current = session.scalar(
        select(func.max(ChangeComment.number)).where(ChangeComment.plan_id == plan_id)
    )
    return int(current or 0) + 1


def submission_times(
    session: Session,
    *,
    since: datetime,
    author_user_id: int | None = None,
    email_hash: str | None = None,
    client_hash: str | None = None,
) -> dict[str, list[datetime]]:
    """Recent comment submissions per rate-limit key (pending ones count too)."""
    result: dict[str, list[datetime]] = {}
    keys = (
        ("user", ChangeComment.author_user_id, author_user_id),
        ("email", ChangeComment.email_hash, email_hash),
        ("client", ChangeComment.client_hash, client_hash),
    )
    for name, column, value in keys:
        if value is None:
            continue
        result[name] = list(
            session.scalars(
                select(ChangeComment.submitted_at).where(
                    column == value, ChangeComment.submitted_at > since
                )
            )
        )
    return result


def plans_due_to_close(session: Session, now: datetime) -> Sequence[int]:
    """Plans whose comment period has ended but that are still marked open."""
    return session.scalars(
        select(ChangePlan.id).where(
            ChangePlan.state == PlanState.OPEN_FOR_COMMENT.value,
            ChangePlan.comment_closes_at <= now,
        )
    ).all()


def expired_pending(session: Session, now: datetime) -> list[ChangeComment]:
    """Unconfirmed comments whose link has expired."""
    return list(
        session.scalars(
            select(ChangeComment).where(
                ChangeComment.status == CommentStatus.PENDING_CONFIRMATION.value,
                ChangeComment.token_expires_at <= now,
            )
        )
    )


def awaiting_agreement(session: Session) -> list[ChangePlan]:
    """Operational plans whose statement is out and that wait for the DUG's agreement."""
    return list(
        session.scalars(
            select(ChangePlan).where(
                ChangePlan.state == PlanState.STATEMENT_ISSUED.value,
                ChangePlan.origin == Origin.OPERATIONAL.value,
            )
        )
    )
