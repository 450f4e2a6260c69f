"""IPRT pages: the review schedule, convening, appointing members and every stage."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from steward.accounts.principal import Principal
from steward.authz import Permission
from steward.errors import StewardError
from steward.governance.schemas import PathId
from steward.registry import repository as registry_repo
from steward.reviews import repository, service
from steward.reviews.domain import (
    CONSTITUENCY_LABELS,
    NEXT_STAGE,
    STAGE_LABELS,
    FindingTopic,
    Stage,
    comment_period_open,
)
from steward.web import CurrentPrincipal, DbSession, Router, optional_form_date, render

router = Router(include_in_schema=False)

NAV = [("IPRT", "/reviews", None)]

TOPIC_LABELS = {
    FindingTopic.due_process: "Due process",
    FindingTopic.policy_adherence: "Adherence to community policy guidance",
    FindingTopic.dug_ifm_relationship: "DUG–IFM relationship",
    FindingTopic.operational_service_levels: "Operational service levels (referred to the DUG)",
}


def _index(request: Request, db: DbSession, principal: Principal, **extra: Any) -> Response:
    today = service.today_utc()
    context = {
        "today": today,
        "cycles": service.schedule(db, today),
        "reviews": repository.reviews(db),
        "can_manage": principal.has(Permission.REVIEW_MANAGE),
        "stage_label": service.stage_label,
    }
    context.update(extra)
    return render(
        request, "reviews/index.html", context, status_code=422 if "error" in extra else 200
    )


@router.get("/reviews")
def index(request: Request, db: DbSession, principal: CurrentPrincipal) -> Response:
    return _index(request, db, principal)


@router.post("/reviews")
def convene(
    request: Request, db: DbSession, principal: CurrentPrincipal, title: Annotated[str, Form()] = ""
) -> Response:
    principal.require(Permission.REVIEW_MANAGE)
    try:
        review = service.convene(db, principal, title)
    except StewardError as err:
        db.rollback()
        return _index(request, db, principal, error=err.detail())
    return RedirectResponse(f"/reviews/{review.id}", status_code=303)


def _page(
    request: Request, db: DbSession, principal: Principal, review_id: int, **extra: Any
) -> Response:
    review = service.get(db, review_id)
    today = service.today_utc()
    stage = Stage(review.stage)
    nxt = NEXT_STAGE.get(stage)
    context = {
        "review": review,
        "today": today,
        "stage": stage,
        "stage_labels": STAGE_LABELS,
        "next_stage": nxt,
        "composition": service.composition_of(review),
        "plan": service.seat_plan(),
        "constituencies": CONSTITUENCY_LABELS,
        "topics": TOPIC_LABELS,
        "organisations": registry_repo.organisations(db),
        "audits": service.linked_audits(db, review),
        "can_manage": principal.has(Permission.REVIEW_MANAGE),
        "comment_open": comment_period_open(review.comment_closes, stage, today),
    }
    context.update(extra)
    return render(
        request, "reviews/review.html", context, status_code=422 if "error" in extra else 200
    )


@router.get("/reviews/{review_id}")
def review(
    review_id: PathId, request: Request, db: DbSession, principal: CurrentPrincipal
) -> Response:
    return _page(request, db, principal, review_id)


@router.post("/reviews/{review_id}/members")
def appoint(
    review_id: PathId,
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    name: Annotated[str, Form()] = "",
    constituency: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    organisation_id: Annotated[str, Form()] = "",
) -> Response:
    principal.require(Permission.REVIEW_MANAGE)
    try:
        service.appoint(
            db,
            principal,
            review_id,
            name=name,
            constituency=constituency,
            email=email or None,
            organisation_id=int(organisation_id) if organisation_id.strip().isdigit() else None,
        )
    except StewardError as err:
        db.rollback()
        form = {
            "name": name,
            "constituency": constituency,
            "email": email,
            "organisation_id": organisation_id,
        }
        return _page(request, db, principal, review_id, error=err.detail(), form=form)
    return RedirectResponse(f"/reviews/{review_id}#members", status_code=303)


@router.post("/reviews/{review_id}/members/{member_id}/remove")
def remove(
    review_id: PathId,
    member_id: PathId,
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
) -> Response:
    principal.require(Permission.REVIEW_MANAGE)
    try:
        service.remove_member(db, principal, review_id, member_id)
    except StewardError as err:
        db.rollback()
        return _page(request, db, principal, review_id, error=err.detail())
    return RedirectResponse(f"/reviews/{review_id}#members", status_code=303)


@router.post("/reviews/{review_id}/texts")
def record_text(
    review_id: PathId,
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    field: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
) -> Response:
    principal.require(Permission.REVIEW_MANAGE)
    try:
        service.record_text(db, principal, review_id, field, text)
    except StewardError as err:
        db.rollback()
        return _page(request, db, principal, review_id, error=err.detail())
    return RedirectResponse(f"/reviews/{review_id}", status_code=303)


@router.post("/reviews/{review_id}/stage")
def advance(
    review_id: PathId,
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    stage: Annotated[str, Form()] = "",
    comment_closes: Annotated[str, Form()] = "",
) -> Response:
    principal.require(Permission.REVIEW_MANAGE)
    try:
        service.advance(
            db,
            principal,
            review_id,
            stage,
            comment_closes=optional_form_date(comment_closes, "comment_closes"),
        )
    except StewardError as err:
        db.rollback()
        return _page(request, db, principal, review_id, error=err.detail())
    return RedirectResponse(f"/reviews/{review_id}", status_code=303)


@router.post("/reviews/{review_id}/findings")
def finding(
    review_id: PathId,
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    topic: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
) -> Response:
    principal.require(Permission.REVIEW_MANAGE)
    try:
        service.add_finding(db, principal, review_id, topic, text)
    except StewardError as err:
        db.rollback()
        return _page(request, db, principal, review_id, error=err.detail())
    return RedirectResponse(f"/reviews/{review_id}#findings", status_code=303)


@router.post("/reviews/{review_id}/directions")
def direction(
    review_id: PathId,
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    target: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
    due_on: Annotated[str, Form()] = "",
) -> Response:
    principal.require(Permission.REVIEW_MANAGE)
    try:
        service.add_direction(
            db, principal, review_id, target, text, optional_form_date(due_on, "due_on")
        )
    except StewardError as err:
        db.rollback()
        return _page(request, db, principal, review_id, error=err.detail())
    return RedirectResponse(f"/reviews/{review_id}#directions", status_code=303)


@router.post("/reviews/{review_id}/directions/{direction_id}/complete")
def complete(
    review_id: PathId,
    direction_id: PathId,
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    note: Annotated[str, Form()] = "",
) -> Response:
    if principal.is_anonymous:
        principal.require(Permission.REVIEW_MANAGE)
    try:
        service.complete_direction(db, principal, direction_id, note)
    except StewardError as err:
        db.rollback()
        return _page(request, db, principal, review_id, error=err.detail())
    return RedirectResponse(f"/reviews/{review_id}#directions", status_code=303)


@router.post("/reviews/{review_id}/comments")
def comment(
    review_id: PathId,
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    author_name: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
) -> Response:
    try:
        service.add_public_comment(db, principal, review_id, author_name, text)
    except StewardError as err:
        db.rollback()
        return _page(request, db, principal, review_id, error=err.detail())
    return RedirectResponse(f"/reviews/{review_id}#comments", status_code=303)


def home_panels(db: DbSession, principal: Principal) -> list[Any]:
    """IPRT members see the review in progress; addressees see their open remedial directions."""
    from steward.authz import Role
    from steward.pages.views import HomePanel

    items = []
    if principal.has(Permission.REVIEW_MANAGE):
        for r in repository.reviews(db):
            if r.stage != Stage.closed.value:
                items.append((r.title, f"/reviews/{r.id}", service.stage_label(r)))
    targets = {"dug"} if principal.has_role(Role.DUG_CHAIR) else set()
    if principal.has_role(Role.IFM_STAFF):
        targets.add("ifm")
    for d in repository.open_directions(db):
        if d.target in targets:
            due = f", due {d.due_on.isoformat()}" if d.due_on else ""
            items.append(
                (
                    f"Remedial direction: {d.text[:80]}",
                    f"/reviews/{d.review_id}#directions",
                    f"to the {d.target.upper()}{due}",
                )
            )
    if not items and not (principal.has(Permission.REVIEW_MANAGE) or targets):
        return []
    return [HomePanel("IPRT reviews", items, "No review or direction needs you.")]
