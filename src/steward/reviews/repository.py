"""Every query of the reviews (IPRT) context. Reviews are public records."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.reviews.models import Direction, Review


def reviews(session: Session) -> list[Review]:
    return list(session.scalars(select(Review).order_by(Review.cycle.desc())).unique())


def review(session: Session, review_id: int) -> Review | None:
    return session.get(Review, review_id)


def direction(session: Session, direction_id: int) -> Direction | None:
    return session.get(Direction, direction_id)


def open_directions(session: Session) -> list[Direction]:
    stmt = select(Direction).where(Direction.status == "open").order_by(Direction.due_on)
    return list(session.scalars(stmt))
