"""Queries of the portal: published records only (everything in ``publication`` is public)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.events import Publication


def _published(kind: str | None = None):  # type: ignore[no-untyped-def]
    # The one statement every portal read starts from: publications are public by definition.
    stmt = select(Publication)
    if kind:
        stmt = stmt.where(Publication.kind == kind)
    return stmt


def publications(
    session: Session, kind: str | None = None, limit: int | None = None, offset: int = 0
) -> list[Publication]:
    """Publications, newest first."""
    stmt = _published(kind).order_by(Publication.published_at.desc(), Publication.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return list(session.scalars(stmt))


def count(session: Session, kind: str | None = None) -> int:
    """Number of publications (of a kind)."""
    return int(session.scalar(select(func.count()).select_from(_published(kind).subquery())) or 0)


def publication(session: Session, publication_id: int) -> Publication | None:
    """One publication."""
    return session.scalars(_published().where(Publication.id == publication_id)).first()


def kinds(session: Session) -> list[tuple[str, int]]:
    """Kinds of publications with their counts."""
    rows = session.execute(
        select(Publication.kind, func.count()).group_by(Publication.kind).order_by(Publication.kind)
    )
    return [(kind, int(n)) for kind, n in rows]
