"""HTML pages of the technical-changes context: plans, comments, the statement."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from steward.accounts.principal import Principal
from steward.authz import Permission
from steward.changes import domain, repository, service
from steward.changes.domain import Action, Disposition, Origin, PlanState, Significance
from steward.changes.models import ChangePlan
from steward.changes.schemas import Number, OptionalVersionQuery, PlanId, VersionQuery
from steward.errors import Invalid, NotFound, StewardError
from steward.web import CurrentPrincipal, DbSession, Router, render

router = Router(prefix="/changes", include_in_schema=False)

NAV = [("Technical changes", "/changes", None)]

FormText = Annotated[str, Form()]


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.get("", response_class=HTMLResponse)
def index(request: Request, db: DbSession, principal: CurrentPrincipal, state: str | None = None) -> Response:
    plans = service.list_plans(db, principal, state=state or None)
    return render(
        request,
        "changes/index.html",
        {
            "plans": plans,
            "state": state or "",
            "states": list(PlanState),
            "effective": {p.id: service.effective_state(p) for p in plans},
            "can_draft": principal.has(Permission.CHANGE_DRAFT),
            "Origin": Origin,
        },
    )


def _plan_form(
    request: Request, values: dict[str, str], *, plan: ChangePlan | None, error: StewardError | None
) -> Response:
    return render(
        request,
        "changes/form.html",
        {
            "plan": plan,
            "values": values,
            "error": error,
            "origins": list(Origin),
            "significances": list(Significance),
        },
        status_code=error.status if error else 200,
    )


@router.get("/new", response_class=HTMLResponse)
def new_form(request: Request, principal: CurrentPrincipal) -> Response:
    principal.require(Permission.CHANGE_DRAFT)
    values = {"origin": "operational", "significance": "significant", "affected": "all"}
    return _plan_form(request, values, plan=None, error=None)


@router.post("/new")
def create(
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    title: FormText = "",
    origin: FormText = "",
    significance: FormText = "",
    affected: FormText = "all",
    body: FormText = "",
    timeline: FormText = "",
) -> Response:
    principal.require(Permission.CHANGE_DRAFT)
    values = {
        "title": title,
        "origin": origin,
        "significance": significance,
        "affected": affected,
        "body": body,
        "timeline": timeline,
    }
    try:
        plan = service.create_plan(db, principal, service.PlanInput(**values))
    except StewardError as exc:
        db.rollback()
        return _plan_form(request, values, plan=None, error=exc)
    return _see_other(service.plan_url(plan.id))


@router.get("/confirm/{token}", response_class=HTMLResponse)
def confirm_page(token: str, request: Request, db: DbSession) -> Response:
    # A GET never publishes: mail scanners follow links, people press buttons.
    comment, plan = service.pending_by_token(db, token)
    return render(request, "changes/confirm.html", {"comment": comment, "plan": plan, "token": token})


@router.post("/confirm/{token}")
def confirm(token: str, db: DbSession) -> Response:
    comment = service.confirm_comment(db, token)
    return _see_other(f"{service.plan_url(comment.plan_id)}#comment-{comment.number}")


def _plan_context(
    db: Session, principal: Principal, plan: ChangePlan, version_number: int | None = None
) -> dict[str, Any]:
    version = service.shown_version(db, principal, plan.id, version_number)
    versions = service.plan_versions(db, principal, plan.id)
    state = service.effective_state(plan)
    is_ifm = principal.has(Permission.CHANGE_PUBLISH)
    answers_public = plan.statement_issued_at is not None
    comments = repository.published_comments(db, plan.id)
    actions = service.available_actions(db, plan)
    return {
        "plan": plan,
        "version": version,
        "versions": versions,
        "sections": service.sections_of(version),
        "timeline": service.content_of(version).timeline,
        "state": state,
        "origin": Origin(plan.origin),
        "comments": comments,
        "show_answers": answers_public or is_ifm,
        "is_ifm": is_ifm,
        "can_draft": principal.has(Permission.CHANGE_DRAFT),
        "can_agree": principal.has(Permission.CHANGE_AGREE),
        "actions": [a.value for a in actions],
        "Action": Action,
        "open_for_comment": state is PlanState.OPEN_FOR_COMMENT,
        "pending": repository.pending_count(db, plan.id) if is_ifm else 0,
        "unanswered": [c.number for c in comments if not (c.disposition and c.response)],
        "disposition_labels": {d.value: d.label for d in Disposition},
        "is_latest": version.number == versions[-1].number,
        "decisions": service.dug_decisions(db, plan.id),
        "headings": {s.anchor: s.heading for s in service.sections_of(version)},
        "can_propose": principal.has(Permission.MOTION_PROPOSE),
    }


def format_timeline_from(raw: list[Any]) -> str:
    """Stored timeline rows back into the text form."""
    return "\n".join(f"{d}: {label}" for d, label in raw)


@router.get("/{plan_id}", response_class=HTMLResponse)
def show(
    plan_id: PlanId,
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    version: OptionalVersionQuery = None,
    section: str | None = None,
) -> Response:
    plan = service.get_plan(db, principal, plan_id)
    context = _plan_context(db, principal, plan, version)
    context["form"] = {"section": section or ""}
    return render(request, "changes/plan.html", context)


@router.post("/{plan_id}/comments")
def comment(
    plan_id: PlanId,
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    body: FormText = "",
    section: FormText = "",
    name: FormText = "",
    email: FormText = "",
) -> Response:
    data = service.CommentInput(
        body=body,
        section=section or None,
        name=name if principal.is_anonymous else None,
        email=email if principal.is_anonymous else None,
    )
    try:
        created = service.submit_comment(db, principal, plan_id, data, client=_client(request))
    except StewardError as exc:
        if isinstance(exc, NotFound):
            raise
        db.rollback()
        plan = service.get_plan(db, principal, plan_id)
        context = _plan_context(db, principal, plan)
        context["form"] = {"body": body, "section": section, "name": name, "email": email}
        context["comment_error"] = exc
        return render(request, "changes/plan.html", context, status_code=exc.status)
    if created.number is None:
        plan = service.get_plan(db, principal, plan_id)
        return render(request, "changes/check_email.html", {"plan": plan, "comment": created})
    return _see_other(f"{service.plan_url(plan_id)}#comment-{created.number}")


@router.get("/{plan_id}/edit", response_class=HTMLResponse)
def edit_form(plan_id: PlanId, request: Request, db: DbSession, principal: CurrentPrincipal) -> Response:
    principal.require(Permission.CHANGE_DRAFT)
    plan = service.get_plan(db, principal, plan_id)
    version = service.shown_version(db, principal, plan_id)
    values = {
        "title": version.title,
        "origin": version.origin,
        "significance": version.significance,
        "affected": "all" if version.affected_all else ", ".join(version.affected_tlds),
        "body": version.body,
        "timeline": format_timeline_from(version.timeline),
        "note": "",
    }
    return _plan_form(request, values, plan=plan, error=None)


@router.post("/{plan_id}/edit")
def revise(
    plan_id: PlanId,
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    title: FormText = "",
    origin: FormText = "",
    significance: FormText = "",
    affected: FormText = "all",
    body: FormText = "",
    timeline: FormText = "",
    note: FormText = "",
) -> Response:
    principal.require(Permission.CHANGE_DRAFT)
    plan = service.get_plan(db, principal, plan_id)
    values = {
        "title": title,
        "origin": origin,
        "significance": significance,
        "affected": affected,
        "body": body,
        "timeline": timeline,
    }
    try:
        version = service.revise_plan(db, principal, plan_id, service.PlanInput(**values), note=note)
    except StewardError as exc:
        db.rollback()
        plan = service.get_plan(db, principal, plan_id)
        return _plan_form(request, {**values, "note": note}, plan=plan, error=exc)
    return _see_other(f"{service.plan_url(plan_id)}/diff?old={version.number - 1}&new={version.number}")


@router.get("/{plan_id}/diff", response_class=HTMLResponse)
def diff(
    plan_id: PlanId, request: Request, db: DbSession, principal: CurrentPrincipal, old: VersionQuery, new: VersionQuery
) -> Response:
    plan = service.get_plan(db, principal, plan_id)
    result = service.diff(db, principal, plan_id, old, new)
    versions = service.plan_versions(db, principal, plan_id)
    return render(request, "changes/diff.html", {"plan": plan, "diff": result, "versions": versions})


@router.post("/{plan_id}/publish")
def publish(
    plan_id: PlanId, db: DbSession, principal: CurrentPrincipal, comment_days: FormText = ""
) -> Response:
    days = None
    if comment_days.strip():
        if not comment_days.strip().isdigit():
            raise Invalid("must be a whole number of days", field="comment_days")
        days = int(comment_days)
    service.publish_plan(db, principal, plan_id, comment_days=days)
    return _see_other(service.plan_url(plan_id))


@router.post("/{plan_id}/close")
def close(plan_id: PlanId, db: DbSession, principal: CurrentPrincipal) -> Response:
    service.close_comments(db, principal, plan_id)
    return _see_other(service.plan_url(plan_id))


@router.get("/{plan_id}/respond", response_class=HTMLResponse)
def respond_page(plan_id: PlanId, request: Request, db: DbSession, principal: CurrentPrincipal) -> Response:
    principal.require(Permission.CHANGE_PUBLISH)
    plan = service.get_plan(db, principal, plan_id)
    return render(request, "changes/respond.html", _respond_context(db, principal, plan))


def _respond_context(db: Session, principal: Principal, plan: ChangePlan) -> dict[str, Any]:
    rows = service.statement_rows(db, plan)
    return {
        "plan": plan,
        "rows": rows,
        "dispositions": list(Disposition),
        "state": service.effective_state(plan),
        "unanswered": [r.number for r in rows if not (r.disposition and (r.response or "").strip())],
        "pending": repository.pending_count(db, plan.id),
    }


@router.post("/{plan_id}/comments/{number}/response")
def respond(
    plan_id: PlanId,
    number: Number,
    db: DbSession,
    principal: CurrentPrincipal,
    disposition: FormText = "",
    response: FormText = "",
) -> Response:
    service.respond(db, principal, plan_id, number, disposition=disposition, response=response)
    return _see_other(f"{service.plan_url(plan_id)}/respond#row-{number}")


@router.post("/{plan_id}/statement")
def issue_statement(
    plan_id: PlanId, request: Request, db: DbSession, principal: CurrentPrincipal, text: FormText = ""
) -> Response:
    try:
        service.issue_statement(db, principal, plan_id, text)
    except StewardError as exc:
        if isinstance(exc, NotFound):
            raise
        db.rollback()
        plan = service.get_plan(db, principal, plan_id)
        context = _respond_context(db, principal, plan)
        context.update({"statement_error": exc, "statement_text": text})
        return render(request, "changes/respond.html", context, status_code=exc.status)
    return _see_other(f"{service.plan_url(plan_id)}/statement")


@router.get("/{plan_id}/statement", response_class=HTMLResponse)
def statement(plan_id: PlanId, request: Request, db: DbSession, principal: CurrentPrincipal) -> Response:
    plan = service.get_plan(db, principal, plan_id)
    if plan.statement_issued_at is None:
        raise NotFound("the IFM has not issued a statement on this plan yet")
    rows = service.statement_rows(db, plan)
    summary = domain.disposition_summary(r.disposition for r in rows if r.disposition)
    return render(
        request,
        "changes/statement.html",
        {"plan": plan, "rows": rows, "summary": summary, "origin": Origin(plan.origin)},
    )


@router.post("/{plan_id}/agreement")
def agree(plan_id: PlanId, db: DbSession, principal: CurrentPrincipal) -> Response:
    service.record_agreement(db, principal, plan_id)
    return _see_other(service.plan_url(plan_id))


@router.post("/{plan_id}/implemented")
def implemented(plan_id: PlanId, db: DbSession, principal: CurrentPrincipal, note: FormText = "") -> Response:
    service.mark_implemented(db, principal, plan_id, note=note)
    return _see_other(service.plan_url(plan_id))


@router.post("/{plan_id}/withdraw")
def withdraw(plan_id: PlanId, db: DbSession, principal: CurrentPrincipal, reason: FormText = "") -> Response:
    service.withdraw(db, principal, plan_id, reason=reason)
    return _see_other(service.plan_url(plan_id))


def home_panels(db: DbSession, principal: Principal) -> list[Any]:
    """What needs this person in technical changes: for the IFM, the next step of each plan;
    for the DUG, plans awaiting its agreement; for everyone, plans open for comment."""
    from steward.pages.views import HomePanel

    plans = service.list_plans(db, principal)
    items: list[tuple[str, str, str]] = []
    for plan in plans:
        state = service.effective_state(plan)
        url = service.plan_url(plan.id)
        if principal.has(Permission.CHANGE_PUBLISH):
            note = {
                PlanState.DRAFT: "draft: revise or publish for comment",
                PlanState.COMMENTS_CLOSED: "comments closed: answer them and issue the statement",
                PlanState.AGREED: "agreed by the DUG: mark implemented when done",
            }.get(state)
            if state is PlanState.STATEMENT_ISSUED and plan.origin == Origin.POLICY.value:
                note = "statement issued: mark implemented when done"
            if note:
                items.append((plan.title, url if state is not PlanState.COMMENTS_CLOSED
                              else f"{url}/respond", note))
                continue
        if (
            principal.has(Permission.CHANGE_LIAISE)
            and state is PlanState.STATEMENT_ISSUED
            and plan.origin == Origin.OPERATIONAL.value
        ):
            items.append((plan.title, url, "awaiting the DUG's agreement (R-TCH-1)"))
        elif state is PlanState.OPEN_FOR_COMMENT and plan.comment_closes_at is not None:
            items.append((plan.title, url, f"open for comment until {plan.comment_closes_at:%Y-%m-%d}"))
    return [HomePanel("Technical changes", items, "No implementation plan needs you.")]
