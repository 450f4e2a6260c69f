"""Every query of the governance (DUG) context.

Motions are read through :func:`readable_motions`, the one access-scoped statement: a
confidential motion is visible only to serving DUG members who are not recused from it
(R-DUG-3) and to people of the organisations that are parties to it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, exists, false, or_, select, true
from sqlalchemy.orm import Session

from steward.governance.models import CharterVersion, Membership, Motion, MotionParty


def charters(session: Session) -> list[CharterVersion]:
    return list(session.scalars(select(CharterVersion).order_by(CharterVersion.version.desc())))


def charter(session: Session, version: int) -> CharterVersion | None:
    return session.scalar(select(CharterVersion).where(CharterVersion.version == version))


def memberships(session: Session) -> list[Membership]:
    return list(
        session.scalars(
            select(Membership).order_by(Membership.term_start.desc(), Membership.name)
        ).unique()
    )


def membership(session: Session, member_id: int) -> Membership | None:
    return session.get(Membership, member_id)


def serving_filter(day: date) -> object:
    return (Membership.term_start <= day) & (
        (Membership.term_end.is_(None)) | (Membership.term_end >= day)
    )


def serving(session: Session, day: date) -> list[Membership]:
    stmt = select(Membership).where(serving_filter(day)).order_by(Membership.name)  # type: ignore[arg-type]
    return list(session.scalars(stmt).unique())


def membership_of_user(session: Session, user_id: int, day: date) -> Membership | None:
    stmt = select(Membership).where(Membership.user_id == user_id, serving_filter(day))  # type: ignore[arg-type]
    return session.scalars(stmt).unique().first()


def terms_ending_between(session: Session, start: date, end: date) -> list[Membership]:
    stmt = select(Membership).where(Membership.term_end >= start, Membership.term_end <= end)
    return list(session.scalars(stmt).unique())


def readable_motions(
    viewer_member: Membership | None, viewer_organisation_id: int | None
) -> Select[Motion]:
    """The motions a viewer may see (the single access-scoped statement).

    Public motions to everyone; a confidential one to serving DUG members not recused from
    it (R-DUG-3) and to people of a party organisation who are not themselves DUG members.
    """
    visible = Motion.confidential == false()
    if viewer_member is not None:
        if viewer_member.organisation_id is None:
            visible = visible | true()
        else:
            recused = exists().where(
                MotionParty.motion_id == Motion.id,
                MotionParty.organisation_id == viewer_member.organisation_id,
            )
            visible = visible | ~recused
    # a serving member whose organisation is a party is recused even from what the party sees
    if viewer_member is None and viewer_organisation_id is not None:
        party = exists().where(
            MotionParty.motion_id == Motion.id,
            MotionParty.organisation_id == viewer_organisation_id,
        )
        visible = or_(visible, party)
    return select(Motion).where(visible)


def motions(
    stmt: Select[Motion], state: str | None = None, limit: int = 200
) -> Select[Motion]:
    if state:
        stmt = stmt.where(Motion.state == state)
    return stmt.order_by(Motion.id.desc()).limit(limit)


def motion_for_update(session: Session, motion_id: int) -> Motion | None:
    return session.get(Motion, motion_id)


def passed_decisions(
    session: Session, kind: str, subject_type: str, subject_id: str
) -> list[Motion]:
    stmt = (
        select(Motion)
        .where(
            Motion.kind == kind,
            Motion.subject_type == subject_type,
            Motion.subject_id == subject_id,
            Motion.state == "passed",
        )
        .order_by(Motion.id.desc())
    )
    return list(session.scalars(stmt))
