"""Systemic failure API: signals (R-SYS-1) and urgent reviews (R-SYS-2)."""

from __future__ import annotations

from steward.accounts.principal import Principal
from steward.accounts.schemas import PersonOut
from steward.authz import Permission
from steward.db import utcnow
from steward.systemic import repository, service
from steward.systemic.domain import SignalKind, Stage
from steward.systemic.models import Review, Signal
from steward.systemic.schemas import (
    ActIn,
    DismissIn,
    EvidenceOut,
    ExpertOut,
    IdPath,
    MilestoneOut,
    ProposalIn,
    ReviewIn,
    ReviewOut,
    SignalOut,
)
from steward.web import CurrentPrincipal, DbSession, Router, require

router = Router(prefix="/api/v1/systemic", tags=["systemic"])


def signal_out(db: DbSession, principal: Principal, s: Signal) -> SignalOut:
    review = repository.readable_review_for_signal(db, principal, s.id)
    return SignalOut(
        id=s.id, kind=s.kind, kind_label=SignalKind(s.kind).label, summary=s.summary, state=s.state,
        observed_at=s.observed_at, detected_at=s.detected_at,
        evidence=[EvidenceOut(**e, url=service.evidence_link(e["kind"], e["ref"])) for e in s.evidence],
        measures=s.measures, reasoning=s.reasoning, review_id=review.id if review else None,
    )


def review_out(db: DbSession, principal: Principal, r: Review) -> ReviewOut:
    today = utcnow().date()
    people = service.engaged_people(db, r)
    return ReviewOut(
        id=r.id, version=r.version, title=r.title, signal_id=r.signal_id, stage=r.stage, stage_label=Stage(r.stage).label,
        outcome=r.outcome, escalation_eligible=service.escalation_eligible(r),
        experts=[ExpertOut(name=e.name, expertise=e.expertise, organisation_id=e.organisation_id,
                           declaration=e.declaration) for e in r.experts],
        mediators=[PersonOut(id=u.id, name=u.name) for u in people["mediator"]],
        panelists=[PersonOut(id=u.id, name=u.name) for u in people["panelist"]],
        findings=r.findings, critical=r.critical, advice=r.advice,
        # R-SYS-2: the report to the mediator, to whoever may read the review (as on its page)
        previous_attempts_report=r.previous_attempts_report,
        milestones=[MilestoneOut(id=m.id, kind=m.kind, title=m.title, due=m.due, done_on=m.done_on,
                                 overdue=m.done_on is None and today > m.due) for m in r.milestones],
        iap_finding=r.iap_finding, iap_decision=r.iap_decision, remedy_due=r.remedy_due,
        actions=[a.value for a in service.available_actions(db, principal, r)],
        timeline=[{"at": e.occurred_at.isoformat(), "tag": e.tag, "actor": e.actor_label, "data": e.data}
                  for e in repository.timeline(db, r.id)],
    )


@router.get("/signals", response_model=list[SignalOut])
def signals(db: DbSession, principal: Principal = require(Permission.SYSTEMIC_READ),
            state: str | None = None) -> list[SignalOut]:
    return [signal_out(db, principal, s) for s in repository.signals(db, principal, state)]


@router.get("/signals/{signal_id}", response_model=SignalOut)
def signal(signal_id: IdPath, db: DbSession, principal: Principal = require(Permission.SYSTEMIC_READ)) -> SignalOut:
    return signal_out(db, principal, service.get_signal(db, principal, signal_id))


@router.post("/detect")
def detect(db: DbSession, principal: Principal = require(Permission.SYSTEMIC_MANAGE)) -> dict[str, str]:
    """Run detection now (the worker also runs it every hour)."""
    return {"summary": service.detect(db, utcnow())}


@router.post("/signals", response_model=SignalOut, status_code=201)
def propose(body: ProposalIn, db: DbSession, principal: Principal = require(Permission.SYSTEMIC_PROPOSE)) -> SignalOut:
    """(d) A DUG member's proposal of a possible systemic failure."""
    return signal_out(db, principal, service.propose(db, principal, **body.model_dump(), now=utcnow()))


@router.post("/signals/{signal_id}/dismiss", response_model=SignalOut)
def dismiss(signal_id: IdPath, body: DismissIn, db: DbSession,
            principal: Principal = require(Permission.SYSTEMIC_MANAGE)) -> SignalOut:
    return signal_out(db, principal, service.dismiss(db, principal, signal_id, body.reason))


@router.get("/reviews", response_model=list[ReviewOut])
def reviews(db: DbSession, principal: CurrentPrincipal) -> list[ReviewOut]:
    return [review_out(db, principal, r) for r in repository.reviews(db, principal)]


@router.post("/reviews", response_model=ReviewOut, status_code=201)
def open_review(body: ReviewIn, db: DbSession, principal: Principal = require(Permission.SYSTEMIC_PROPOSE)) -> ReviewOut:
    """Open an urgent review (needs a passed DUG decision "determine_systemic_failure" on the
    subject ``systemic-signal`` with the signal's id, naming the operator concerned, if any, among
    its parties). The chair opens it, or a DUG member when the chair is recused (R-DUG-3)."""
    r = service.open_review(db, principal, body.signal_id, title=body.title,
                            operator_org_id=body.operator_org_id, now=utcnow())
    return review_out(db, principal, r)


@router.get("/reviews/{review_id}", response_model=ReviewOut)
def review(review_id: IdPath, db: DbSession, principal: CurrentPrincipal) -> ReviewOut:
    return review_out(db, principal, service.get_review(db, principal, review_id))


@router.post("/reviews/{review_id}/act", response_model=ReviewOut)
def act(review_id: IdPath, body: ActIn, db: DbSession, principal: CurrentPrincipal) -> ReviewOut:
    """Take one step of the urgent review (see the transition table in docs/systemic.md)."""
    data = body.model_dump()
    action = data.pop("action")
    data.update(mediator_ids=tuple(body.mediator_ids), panelist_ids=tuple(body.panelist_ids))
    r = service.act(db, principal, review_id, action, service.ActInput(**data), utcnow())
    return review_out(db, principal, r)
