"""Every query of the governance (DUG) context.

Motions are read through :func:`readable_motions`, the one access-scoped statement: a
confidential motion is visible only to serving DUG members who are not recused from it
(R-DUG-3) and to people of the organisations that are parties to it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, exists, false, or_, select, true
from sqlalchemy.orm import Session

from steward.governance.models import DugCharter, DugMember, DugMotion, DugMotionParty


def charters(session: Session) -> list[DugCharter]:
    return list(session.scalars(select(DugCharter).order_by(DugCharter.version.desc())))


def charter(session: Session, version: int) -> DugCharter | None:
    return session.scalar(select(DugCharter).where(DugCharter.version == version))


def memberships(session: Session) -> list[DugMember]:
    return list(
        session.scalars(
            select(DugMember).order_by(DugMember.term_start.desc(), DugMember.name)
        ).unique()
    )


def membership(session: Session, member_id: int) -> DugMember | None:
    return session.get(DugMember, member_id)


def serving_filter(day: date) -> object:
    return (DugMember.term_start <= day) & (
        (DugMember.term_end.is_(None)) | (DugMember.term_end >= day)
    )


def serving(session: Session, day: date) -> list[DugMember]:
    stmt = select(DugMember).where(serving_filter(day)).order_by(DugMember.name)  # type: ignore[arg-type]
    return list(session.scalars(stmt).unique())


def membership_of_user(session: Session, user_id: int, day: date) -> DugMember | None:
    stmt = select(DugMember).where(DugMember.user_id == user_id, serving_filter(day))  # type: ignore[arg-type]
    return session.scalars(stmt).unique().first()


def terms_ending_between(session: Session, start: date, end: date) -> list[DugMember]:
    stmt = select(DugMember).where(DugMember.term_end >= start, DugMember.term_end <= end)
    return list(session.scalars(stmt).unique())


def readable_motions(
    viewer_member: DugMember | None, viewer_organisation_id: int | None
) -> Select[DugMotion]:
    """The motions a viewer may see (the single access-scoped statement).

    Public motions to everyone; a confidential one to serving DUG members not recused from
    it (R-DUG-3) and to people of a party organisation who are not themselves DUG members.
    """
    visible = DugMotion.confidential == false()
    if viewer_member is not None:
        if viewer_member.organisation_id is None:
            visible = visible | true()
        else:
            recused = exists().where(
                DugMotionParty.motion_id == DugMotion.id,
                DugMotionParty.organisation_id == viewer_member.organisation_id,
            )
            visible = visible | ~recused
    # a serving member whose organisation is a party is recused even from what the party sees
    if viewer_member is None and viewer_organisation_id is not None:
        party = exists().where(
            DugMotionParty.motion_id == DugMotion.id,
            DugMotionParty.organisation_id == viewer_organisation_id,
        )
        visible = or_(visible, party)
    return select(DugMotion).where(visible)


def motions(
    stmt: Select[DugMotion], state: str | None = None, limit: int = 200
) -> Select[DugMotion]:
    if state:
        stmt = stmt.where(DugMotion.state == state)
    return stmt.order_by(DugMotion.id.desc()).limit(limit)


def motion_for_update(session: Session, motion_id: int) -> DugMotion | None:
    return session.get(DugMotion, motion_id)


def passed_decisions(
    session: Session, kind: str, subject_type: str, subject_id: str
) -> list[DugMotion]:
    stmt = (
        select(DugMotion)
        .where(
            DugMotion.kind == kind,
            DugMotion.subject_type == subject_type,
            DugMotion.subject_id == subject_id,
            DugMotion.state == "passed",
        )
        .order_by(DugMotion.id.desc())
    )
    return list(session.scalars(stmt))
