"""Typed audit events and publications.

Every state change records an :class:`AuditEvent` with a typed tag (``dispute:lodged``).
Everything made public records a :class:`Publication`. Both feed the tamper-evident archive.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from steward.db import Base, UtcDateTime, utcnow

if TYPE_CHECKING:
    from steward.accounts.principal import Principal


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"), index=True)
    actor_label: Mapped[str] = mapped_column(String(200), default="system")
    tag: Mapped[str] = mapped_column(String(80), index=True)
    subject_type: Mapped[str] = mapped_column(String(40), default="")
    subject_id: Mapped[str] = mapped_column(String(80), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    public: Mapped[bool] = mapped_column(Boolean, default=False)


class Publication(Base):
    __tablename__ = "publication"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    title: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"))


class EventListener(Protocol):
    def __call__(self, session: Session, record: AuditEvent | Publication) -> None: ...


# The archive registers itself here so that every event and publication enters the log
# in the same transaction that records it.
LISTENERS: list[EventListener] = []


def _actor(actor: Principal | None) -> tuple[int | None, str]:
    if actor is None or actor.user is None:
        return None, "system"
    return actor.user.id, actor.user.email


def record_event(
    session: Session,
    tag: str,
    *,
    actor: Principal | None,
    subject_type: str = "",
    subject_id: str | int = "",
    data: dict[str, Any] | None = None,
    public: bool = False,
) -> AuditEvent:
    """Record who did what, when (UTC), under a typed ``resource:verb`` tag.

    ``public`` events enter the archive in clear; the others only as sealed commitments.
    """
    if ":" not in tag:
        raise ValueError(f"audit tag must be 'resource:verb', got {tag!r}")
    actor_id, actor_label = _actor(actor)
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=actor_id,
        actor_label=actor_label,
        tag=tag,
        subject_type=subject_type,
        subject_id=str(subject_id),
        data=data or {},
        public=public,
    )
    session.add(event)
    session.flush()
    for listener in LISTENERS:
        listener(session, event)
    return event


def record_publication(
    session: Session,
    kind: str,
    title: str,
    url: str,
    content: dict[str, Any],
    *,
    actor: Principal | None,
    summary: str = "",
) -> Publication:
    """Publish a record: it appears on the transparency portal and its feeds, and in the archive."""
    publication = Publication(
        published_at=utcnow(),
        kind=kind,
        title=title,
        url=url,
        summary=summary,
        content=content,
        actor_id=_actor(actor)[0],
    )
    session.add(publication)
    session.flush()
    for listener in LISTENERS:
        listener(session, publication)
    return publication


def recent_events(session: Session, limit: int = 100) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)))
