"""DUG API: charter versions, roster, motions and votes."""

from __future__ import annotations

from datetime import date

from fastapi import Query

from steward.accounts.principal import Principal
from steward.authz import Permission
from steward.errors import Invalid
from steward.governance import repository, service
from steward.governance.domain import CharterText
from steward.governance.models import DugCharter, DugMember, DugMotion
from steward.governance.schemas import (
    CharterIn,
    CharterOut,
    CommentIn,
    CommentOut,
    MemberChange,
    MemberIn,
    MemberOut,
    MotionIn,
    MotionOut,
    PathId,
    RosterOut,
    VoteIn,
    VoteOut,
)
from steward.web import CurrentPrincipal, DbSession, Router, require

router = Router(prefix="/api/v1/governance", tags=["governance"])


def charter_out(c: DugCharter) -> CharterOut:
    return CharterOut(
        version=c.version,
        role=c.role,
        chair_appointment=c.chair_appointment,
        communication_lines=c.communication_lines,
        effective_from=c.effective_from,
        note=c.note,
        adopted_at=c.adopted_at,
    )


def member_out(m: DugMember) -> MemberOut:
    return MemberOut(
        id=m.id,
        name=m.name,
        organisation=m.organisation.name if m.organisation is not None else None,
        seat=m.seat,
        community=m.community,
        technical_experience=m.technical_experience,
        term_start=m.term_start,
        term_end=m.term_end,
        is_chair=m.is_chair,
    )


def motion_out(m: DugMotion) -> MotionOut:
    return MotionOut(
        id=m.id,
        kind=m.kind,
        title=m.title,
        text=m.text,
        subject_type=m.subject_type,
        subject_id=m.subject_id,
        confidential=m.confidential,
        state=m.state,
        opened_at=m.opened_at,
        closed_at=m.closed_at,
        result_rule=m.result_rule,
        result=m.result or {},
        votes=[VoteOut(member=v.member.name, choice=v.choice, cast_at=v.cast_at) for v in m.votes],
        comments=[
            CommentOut(
                member=c.member.name, seat=c.member.seat, text=c.text, created_at=c.created_at
            )
            for c in m.comments
        ],
    )


@router.get("/charter", response_model=list[CharterOut])
def charters(db: DbSession) -> list[CharterOut]:
    """Every charter version, newest first (public)."""
    return [charter_out(c) for c in repository.charters(db)]


@router.post("/charter", response_model=CharterOut, status_code=201)
def adopt_charter(
    body: CharterIn, db: DbSession, principal: Principal = require(Permission.GOVERNANCE_MANAGE)
) -> CharterOut:
    text = CharterText(body.role, body.chair_appointment, body.communication_lines)
    return charter_out(service.adopt_charter(db, principal, text, body.effective_from, body.note))


@router.get("/members", response_model=RosterOut)
def roster(
    db: DbSession, on: str | None = Query(None, description="YYYY-MM-DD; default today")
) -> RosterOut:
    """Who serves on the DUG on a day, and whether the roster is complete (public)."""
    try:
        day = date.fromisoformat(on) if on else service.today_utc()
    except ValueError:
        raise Invalid("Use YYYY-MM-DD.", field="on") from None
    status = service.roster_status(db, day)
    return RosterOut(
        members=[member_out(m) for m in status.serving],
        complete=status.complete,
        issues=[i.message for i in status.issues],
        voting_seats=status.rules.voting_seats,
        liaisons_min=status.rules.liaisons_min,
        liaisons_max=status.rules.liaisons_max,
    )


@router.post("/members", response_model=MemberOut, status_code=201)
def add_member(
    body: MemberIn, db: DbSession, principal: Principal = require(Permission.GOVERNANCE_MANAGE)
) -> MemberOut:
    return member_out(service.add_member(db, principal, **body.model_dump()))


@router.patch("/members/{member_id}", response_model=MemberOut)
def change_member(
    member_id: PathId,
    body: MemberChange,
    db: DbSession,
    principal: Principal = require(Permission.GOVERNANCE_MANAGE),
) -> MemberOut:
    return member_out(service.change_member(db, principal, member_id, **body.model_dump()))


@router.get("/motions", response_model=list[MotionOut])
def motions(
    db: DbSession, principal: CurrentPrincipal, state: str | None = None
) -> list[MotionOut]:
    """Motions the caller may see (confidential ones only to non-recused members and parties)."""
    return [motion_out(m) for m in service.list_motions(db, principal, state)]


@router.post("/motions", response_model=MotionOut, status_code=201)
def propose(body: MotionIn, db: DbSession, principal: CurrentPrincipal) -> MotionOut:
    principal.require(Permission.MOTION_PROPOSE)
    return motion_out(service.propose_motion(db, principal, **body.model_dump()))


@router.get("/motions/{motion_id}", response_model=MotionOut)
def motion(motion_id: PathId, db: DbSession, principal: CurrentPrincipal) -> MotionOut:
    return motion_out(service.readable_motion(db, principal, motion_id))


@router.post("/motions/{motion_id}/votes", response_model=MotionOut, status_code=201)
def vote(motion_id: PathId, body: VoteIn, db: DbSession, principal: CurrentPrincipal) -> MotionOut:
    principal.require(Permission.MOTION_VOTE)
    service.cast_vote(db, principal, motion_id, body.choice)
    return motion_out(service.readable_motion(db, principal, motion_id))


@router.post("/motions/{motion_id}/comments", response_model=MotionOut, status_code=201)
def comment(
    motion_id: PathId, body: CommentIn, db: DbSession, principal: CurrentPrincipal
) -> MotionOut:
    principal.require(Permission.MOTION_COMMENT)
    service.comment(db, principal, motion_id, body.text)
    return motion_out(service.readable_motion(db, principal, motion_id))


@router.post("/motions/{motion_id}/close", response_model=MotionOut)
def close(motion_id: PathId, db: DbSession, principal: CurrentPrincipal) -> MotionOut:
    principal.require(Permission.MOTION_VOTE)
    return motion_out(service.close_motion(db, principal, motion_id))


@router.post("/motions/{motion_id}/withdraw", response_model=MotionOut)
def withdraw(motion_id: PathId, db: DbSession, principal: CurrentPrincipal) -> MotionOut:
    principal.require(Permission.MOTION_PROPOSE)
    return motion_out(service.withdraw_motion(db, principal, motion_id))
