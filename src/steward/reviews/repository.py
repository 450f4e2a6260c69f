"""Every query of the reviews (IPRT) context. Reviews are public records."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.reviews.models import IprtDirection, IprtReview


def reviews(session: Session) -> list[IprtReview]:
    return list(session.scalars(select(IprtReview).order_by(IprtReview.cycle.desc())).unique())


def review(session: Session, review_id: int) -> IprtReview | None:
    return session.get(IprtReview, review_id)


def direction(session: Session, direction_id: int) -> IprtDirection | None:
    return session.get(IprtDirection, direction_id)


def open_directions(session: Session) -> list[IprtDirection]:
    stmt = (
        select(IprtDirection).where(IprtDirection.status == "open").order_by(IprtDirection.due_on)
    )
    return list(session.scalars(stmt))
