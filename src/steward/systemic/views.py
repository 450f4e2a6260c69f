"""Systemic failure pages: signals for the DUG (R-SYS-1) and urgent reviews (R-SYS-2)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from steward.accounts import repository as accounts_repository
from steward.accounts.principal import Principal
from steward.authz import Permission, Role
from steward.ballots import service as ballots_service
from steward.ballots.domain import MatterKind
from steward.db import utcnow
from steward.errors import Invalid, StewardError
from steward.registry import repository as registry_repository
from steward.systemic import domain, repository, service
from steward.systemic.domain import Action, SignalKind, Stage
from steward.web import CurrentPrincipal, DbSession, Router, render

router = Router(include_in_schema=False)

NAV = [("Systemic", "/systemic", "signed-in")]

LADDER = [Stage.DETERMINED, Stage.ROOT_CAUSE, Stage.REMEDIATION, Stage.ADVICE, Stage.LONG_TERM,
          Stage.MEDIATION, Stage.IAP, Stage.REMEDY_PERIOD, Stage.CLOSED]


def _index(request: Request, db: DbSession, principal: Principal, status: int = 200, **extra: Any) -> Response:
    if principal.is_anonymous:
        principal.require(Permission.SYSTEMIC_READ)
    return render(request, "systemic/index.html", {
        "signals": repository.signals(db, principal), "reviews": repository.reviews(db, principal),
        "can_read": principal.has(Permission.SYSTEMIC_READ),
        "can_propose": principal.has(Permission.SYSTEMIC_PROPOSE),
        "can_manage": principal.has(Permission.SYSTEMIC_MANAGE),
        "kind_label": lambda k: SignalKind(k).label, "stage_label": lambda s: Stage(s).label,
        "form": {}, **extra,
    }, status_code=status)


@router.get("/systemic")
def index(request: Request, db: DbSession, principal: CurrentPrincipal) -> Response:
    return _index(request, db, principal)


@router.post("/systemic/detect")
def detect(request: Request, db: DbSession, principal: CurrentPrincipal) -> Response:
    principal.require(Permission.SYSTEMIC_MANAGE)
    return _index(request, db, principal, message=service.detect(db, utcnow()))


@router.post("/systemic/signals")
def propose(
    request: Request, db: DbSession, principal: CurrentPrincipal,
    title: Annotated[str, Form()] = "", reasoning: Annotated[str, Form()] = "", evidence: Annotated[str, Form()] = "",
) -> Response:
    principal.require(Permission.SYSTEMIC_PROPOSE)
    try:
        row = service.propose(db, principal, title=title, reasoning=reasoning, evidence=evidence, now=utcnow())
    except StewardError as err:
        db.rollback()
        return _index(request, db, principal, err.status, error=err.detail(),
                      form={"title": title, "reasoning": reasoning, "evidence": evidence})
    return RedirectResponse(f"/systemic/signals/{row.id}", status_code=303)


def _signal(request: Request, db: DbSession, principal: Principal, signal_id: int, status: int = 200,
            **extra: Any) -> Response:
    row = service.get_signal(db, principal, signal_id)
    evidence = [{**e, "url": service.evidence_link(e["kind"], e["ref"])} for e in row.evidence]
    can_manage = principal.has(Permission.SYSTEMIC_MANAGE)
    # a member may open the review in the chair's stead when the chair is recused from it
    # (R-DUG-3): from every review if the chair works for the IFM, else from one whose operator
    # concerned is the chair's organisation (the only one such a member is offered)
    ifm = registry_repository.ifm_organisation_ids(db)
    chair_orgs = {u.organisation_id for u in accounts_repository.users_with_role(db, Role.DUG_CHAIR.value)}
    chair_org = next(iter(chair_orgs)) if len(chair_orgs) == 1 else None
    can_stand_in = (not can_manage and principal.has_role(Role.DUG_MEMBER) and chair_org is not None
                    and principal.organisation_id != chair_org and principal.organisation_id not in ifm)
    can_open = (can_manage and principal.organisation_id not in ifm) or can_stand_in
    operators = registry_repository.organisations(db, "operator") if can_open else []
    if can_stand_in and chair_org not in ifm:
        operators = [o for o in operators if o.id == chair_org]
    return render(request, "systemic/signal.html", {
        "signal": row, "kind_label": SignalKind(row.kind).label, "evidence": evidence,
        "review": repository.readable_review_for_signal(db, principal, row.id),
        "operators": operators,
        "can_manage": can_manage, "can_open": can_open, "can_stand_in": can_stand_in, **extra,
    }, status_code=status)


@router.get("/systemic/signals/{signal_id:int}")
def signal(signal_id: int, request: Request, db: DbSession, principal: CurrentPrincipal) -> Response:
    return _signal(request, db, principal, signal_id)


@router.post("/systemic/signals/{signal_id:int}/dismiss")
def dismiss(signal_id: int, request: Request, db: DbSession, principal: CurrentPrincipal,
            reason: Annotated[str, Form()] = "") -> Response:
    principal.require(Permission.SYSTEMIC_MANAGE)
    try:
        service.dismiss(db, principal, signal_id, reason)
    except StewardError as err:
        db.rollback()
        return _signal(request, db, principal, signal_id, err.status, error=err.detail())
    return RedirectResponse(f"/systemic/signals/{signal_id}", status_code=303)


@router.post("/systemic/signals/{signal_id:int}/review")
def open_review(signal_id: int, request: Request, db: DbSession, principal: CurrentPrincipal,
                title: Annotated[str, Form()] = "", operator_org_id: Annotated[str, Form()] = "") -> Response:
    principal.require(Permission.SYSTEMIC_PROPOSE)  # the DUG; the service decides who of it opens one
    try:
        org = int(operator_org_id) if operator_org_id.strip() else None
        row = service.open_review(db, principal, signal_id, title=title, operator_org_id=org, now=utcnow())
    except ValueError:
        db.rollback()
        return _signal(request, db, principal, signal_id, 422, error="field 'operator_org_id': choose an operator")
    except StewardError as err:
        db.rollback()
        return _signal(request, db, principal, signal_id, err.status, error=err.detail())
    return RedirectResponse(f"/systemic/reviews/{row.id}", status_code=303)


def _review(request: Request, db: DbSession, principal: Principal, review_id: int, status: int = 200,
            **extra: Any) -> Response:
    row = service.get_review(db, principal, review_id)
    today = utcnow().date()
    stage = Stage(row.stage)
    actions = service.available_actions(db, principal, row)
    return render(request, "systemic/review.html", {
        "review": row, "stage": stage, "Stage": Stage, "ladder": LADDER, "today": today,
        "actions": actions, "Action": Action, "engaged": service.engaged_people(db, row),
        "mediator_choices": accounts_repository.users_with_role(db, Role.MEDIATOR.value)
        if Action.ENGAGE_MEDIATOR in actions else [],
        "panelist_choices": accounts_repository.users_with_role(db, Role.IAP_PANELIST.value)
        if Action.ENGAGE_IAP in actions else [],
        "transitions": domain.actions_from(stage), "timeline": repository.timeline(db, row.id),
        "eligible": service.escalation_eligible(row),
        "binds": domain.bound_parties(row.operator_org_id is not None),
        "organisations": registry_repository.organisations(db) if Action.APPOINT_EXPERT in actions else [],
        "can_open_ballot": ballots_service.may_manage(db, principal, (MatterKind.URGENT_REVIEW, row.id)),
        "operator": registry_repository.organisation_by_id(db, row.operator_org_id) if row.operator_org_id else None,
        **extra,
    }, status_code=status)


@router.get("/systemic/reviews/{review_id:int}")
def review(review_id: int, request: Request, db: DbSession, principal: CurrentPrincipal) -> Response:
    return _review(request, db, principal, review_id)


@router.post("/systemic/reviews/{review_id:int}/act")
def act(
    review_id: int, request: Request, db: DbSession, principal: CurrentPrincipal,
    action: Annotated[str, Form()] = "", text: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "",
    expertise: Annotated[str, Form()] = "", organisation_id: Annotated[str, Form()] = "",
    user_email: Annotated[str, Form()] = "", declaration: Annotated[str, Form()] = "",
    milestones: Annotated[str, Form()] = "", milestone_id: Annotated[str, Form()] = "",
    critical: Annotated[str, Form()] = "", finding: Annotated[str, Form()] = "", ref: Annotated[str, Form()] = "",
    mediator_ids: Annotated[list[str] | None, Form()] = None,
    panelist_ids: Annotated[list[str] | None, Form()] = None,
    version: Annotated[str, Form()] = "",
) -> Response:
    try:
        def _int(value: str, field: str) -> int | None:
            if not value.strip():
                return None
            if not value.strip().isdigit():
                raise Invalid("choose one of the listed items", field=field)
            return int(value)

        inp = service.ActInput(
            text=text, name=name, expertise=expertise, organisation_id=_int(organisation_id, "organisation_id"),
            user_email=user_email, declaration=declaration, milestones=milestones,
            milestone_id=_int(milestone_id, "milestone_id"),
            critical={"yes": True, "no": False}.get(critical), finding=finding, ref=ref,
            mediator_ids=tuple(i for v in mediator_ids or [] if (i := _int(v, "mediator_ids")) is not None),
            panelist_ids=tuple(i for v in panelist_ids or [] if (i := _int(v, "panelist_ids")) is not None),
            version=_int(version, "version"))
        service.act(db, principal, review_id, action, inp, utcnow())
    except StewardError as err:
        db.rollback()
        return _review(request, db, principal, review_id, err.status, error=err.detail())
    return RedirectResponse(f"/systemic/reviews/{review_id}", status_code=303)
