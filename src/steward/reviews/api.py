"""IPRT API: schedule, convening, appointments, stages, findings, directions, comments."""

from __future__ import annotations

from steward.accounts.principal import Principal
from steward.authz import Permission
from steward.governance.schemas import PathId
from steward.reviews import repository, service
from steward.reviews.models import IprtDirection, IprtReview
from steward.reviews.schemas import (
    AdvanceIn,
    AppointIn,
    CommentIn,
    CommentOut,
    CompleteIn,
    CompositionOut,
    ConveneIn,
    CycleOut,
    DirectionIn,
    DirectionOut,
    FindingIn,
    FindingOut,
    MemberOut,
    ReviewOut,
    TextIn,
)
from steward.web import CurrentPrincipal, DbSession, Router, require

router = Router(prefix="/api/v1/reviews", tags=["reviews"])


def direction_out(d: IprtDirection) -> DirectionOut:
    return DirectionOut(
        id=d.id,
        target=d.target,
        text=d.text,
        due_on=d.due_on,
        status=d.status,
        completed_on=d.completed_on,
        completion_note=d.completion_note,
    )


def review_out(r: IprtReview) -> ReviewOut:
    comp = service.composition_of(r)
    return ReviewOut(
        id=r.id,
        cycle=r.cycle,
        title=r.title,
        stage=r.stage,
        due_on=r.due_on,
        convened_on=r.convened_on,
        terms_of_reference=r.terms_of_reference,
        evidence_notes=r.evidence_notes,
        draft_report=r.draft_report,
        comment_closes=r.comment_closes,
        final_report=r.final_report,
        closed_on=r.closed_on,
        members=[
            MemberOut(
                id=m.id,
                name=m.name,
                constituency=m.constituency,
                organisation=m.organisation.name if m.organisation else None,
                appointed_on=m.appointed_on,
            )
            for m in r.members
        ],
        composition=CompositionOut(
            filled={k.value: v for k, v in comp.filled.items()},
            vacancies={k.value: v for k, v in comp.vacancies.items()},
            customers_majority=comp.customers_majority,
            complete=comp.complete,
            problems=comp.problems(),
        ),
        findings=[
            FindingOut(id=f.id, topic=f.topic, text=f.text, referred_to=f.referred_to)
            for f in r.findings
        ],
        directions=[direction_out(d) for d in r.directions],
        comments=[
            CommentOut(author_name=c.author_name, text=c.text, created_at=c.created_at)
            for c in r.comments
        ],
        audits=[link.audit_id for link in r.audit_links],
    )


@router.get("/schedule", response_model=list[CycleOut])
def schedule(db: DbSession) -> list[CycleOut]:
    """Review cycles: transition + 3 years, then every 4 years; overdue ones flagged (R-IPRT-2)."""
    return [
        CycleOut(
            number=c.number,
            due=c.due,
            status=c.status.value,
            overdue=c.overdue,
            record_id=c.record_id,
        )
        for c in service.schedule(db, service.today_utc())
    ]


@router.get("", response_model=list[ReviewOut])
def reviews(db: DbSession) -> list[ReviewOut]:
    return [review_out(r) for r in repository.reviews(db)]


@router.get("/{review_id}", response_model=ReviewOut)
def review(review_id: PathId, db: DbSession) -> ReviewOut:
    return review_out(service.get(db, review_id))


@router.post("", response_model=ReviewOut, status_code=201)
def convene(
    body: ConveneIn, db: DbSession, principal: Principal = require(Permission.REVIEW_MANAGE)
) -> ReviewOut:
    return review_out(service.convene(db, principal, body.title))


@router.post("/{review_id}/members", response_model=ReviewOut, status_code=201)
def appoint(
    review_id: PathId,
    body: AppointIn,
    db: DbSession,
    principal: Principal = require(Permission.REVIEW_MANAGE),
) -> ReviewOut:
    service.appoint(db, principal, review_id, **body.model_dump())
    return review_out(service.get(db, review_id))


@router.delete("/{review_id}/members/{member_id}", response_model=ReviewOut)
def remove(
    review_id: PathId,
    member_id: PathId,
    db: DbSession,
    principal: Principal = require(Permission.REVIEW_MANAGE),
) -> ReviewOut:
    service.remove_member(db, principal, review_id, member_id)
    return review_out(service.get(db, review_id))


@router.post("/{review_id}/texts", response_model=ReviewOut)
def record_text(
    review_id: PathId,
    body: TextIn,
    db: DbSession,
    principal: Principal = require(Permission.REVIEW_MANAGE),
) -> ReviewOut:
    return review_out(service.record_text(db, principal, review_id, body.field, body.text))


@router.post("/{review_id}/stage", response_model=ReviewOut)
def advance(
    review_id: PathId,
    body: AdvanceIn,
    db: DbSession,
    principal: Principal = require(Permission.REVIEW_MANAGE),
) -> ReviewOut:
    return review_out(
        service.advance(db, principal, review_id, body.stage, comment_closes=body.comment_closes)
    )


@router.post("/{review_id}/findings", response_model=FindingOut, status_code=201)
def finding(
    review_id: PathId,
    body: FindingIn,
    db: DbSession,
    principal: Principal = require(Permission.REVIEW_MANAGE),
) -> FindingOut:
    f = service.add_finding(db, principal, review_id, body.topic, body.text)
    return FindingOut(id=f.id, topic=f.topic, text=f.text, referred_to=f.referred_to)


@router.post("/{review_id}/directions", response_model=DirectionOut, status_code=201)
def direction(
    review_id: PathId,
    body: DirectionIn,
    db: DbSession,
    principal: Principal = require(Permission.REVIEW_MANAGE),
) -> DirectionOut:
    return direction_out(
        service.add_direction(db, principal, review_id, body.target, body.text, body.due_on)
    )


@router.post("/directions/{direction_id}/complete", response_model=DirectionOut)
def complete(
    direction_id: PathId, body: CompleteIn, db: DbSession, principal: CurrentPrincipal
) -> DirectionOut:
    """The addressee (DUG chair for the DUG, IFM staff for the IFM) or the IPRT records completion."""
    if principal.is_anonymous:
        principal.require(Permission.REVIEW_MANAGE)
    return direction_out(service.complete_direction(db, principal, direction_id, body.note))


@router.post("/{review_id}/comments", response_model=CommentOut, status_code=201)
def comment(
    review_id: PathId, body: CommentIn, db: DbSession, principal: CurrentPrincipal
) -> CommentOut:
    """Public comment on the draft report while its comment period is open."""
    c = service.add_public_comment(db, principal, review_id, body.author_name, body.text)
    return CommentOut(author_name=c.author_name, text=c.text, created_at=c.created_at)
