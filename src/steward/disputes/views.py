"""Dispute pages: my disputes / queue / board, lodge form, case page, published IAP findings."""

from __future__ import annotations

from typing import Annotated

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from steward.accounts.principal import Principal
from steward.authz import Permission
from steward.config import get_settings
from steward.db import utcnow
from steward.disputes import domain, repository, service
from steward.disputes.domain import LADDER, Action, Subject
from steward.disputes.models import DisputeCase
from steward.errors import StewardError, Unauthenticated
from steward.web import CurrentPrincipal, DbSession, Router, render

router = Router(include_in_schema=False)

NAV = [("Disputes", "/disputes", "signed-in"), ("IAP findings", "/disputes/findings", None)]
# cards per stage on the board (the most urgent); the full list is /disputes
BOARD_PER_STAGE = 10


def _signed_in(principal: Principal) -> None:
    if principal.is_anonymous:
        raise Unauthenticated()


def _rows(db: Session, principal: Principal, **kw: object) -> list[dict[str, object]]:
    return _items(db, repository.readable_cases(db, principal, **kw))  # type: ignore[arg-type]


def _items(db: Session, rows: list[DisputeCase]) -> list[dict[str, object]]:
    names = repository.organisation_names(db, sorted({r.complainant_org_id for r in rows}))
    now = utcnow()
    out = []
    for r in rows:
        case = service.to_domain(r)
        out.append({
            "row": r, "case": case, "complainant": names.get(r.complainant_org_id, "?"),
            "overdue": sorted(k.value for k in domain.overdue(case, now)),
        })
    return out


@router.get("/disputes")
def index(request: Request, db: DbSession, principal: CurrentPrincipal, q: str = "") -> Response:
    """My disputes (operator), the IFM's queue, a mediator's or panelist's cases — all readable cases."""
    _signed_in(principal)
    items = _rows(db, principal, query=q.strip()[:100])
    return render(request, "disputes/index.html", {
        "items": items, "q": q,
        "open_items": [i for i in items if i["case"].stage.open],  # type: ignore[attr-defined]
        "closed_items": [i for i in items if not i["case"].stage.open],  # type: ignore[attr-defined]
        "can_lodge": principal.has(Permission.DISPUTE_LODGE),
        "is_ifm": "ifm_staff" in {r.value for r in principal.roles},
        "heading": _heading({r.value for r in principal.roles}),
    })


def _heading(roles: set[str]) -> str:
    if "operator_staff" in roles:
        return "My disputes"
    if "ifm_staff" in roles:
        return "IFM queue"
    if roles & domain.DUG_ROLES:
        return "DUG cases"
    if "mediator" in roles:
        return "My cases as mediator"
    if "iap_panelist" in roles:
        return "My cases as IAP panelist"
    return "Disputes"


@router.get("/disputes/board")
def board(request: Request, db: DbSession, principal: CurrentPrincipal) -> Response:
    """The DUG's board: open cases by stage, each with its next deadline and overdue flags."""
    _signed_in(principal)
    rows, counts = repository.board_cases(db, principal, BOARD_PER_STAGE)
    now = utcnow()
    items = [{"row": r, "stage": r.stage, "complainant": r.complainant or "?",
              "overdue": sorted(k.value for k in domain.passed(service.deadlines_of(r), now))} for r in rows]
    columns = [(stage, [i for i in items if i["stage"] == stage.value], counts.get(stage.value, 0))
               for stage in LADDER]
    return render(request, "disputes/board.html", {"columns": columns, "count": sum(counts.values()),
                                                   "per_stage": BOARD_PER_STAGE})


@router.get("/disputes/new")
def new(request: Request, db: DbSession, principal: CurrentPrincipal) -> Response:
    principal.require(Permission.DISPUTE_LODGE)
    return _new_form(request, db, principal, {}, None)


def _new_form(request: Request, db: Session, principal: Principal, values: dict[str, str], error: StewardError | None) -> Response:
    from steward.registry import repository as registry_repo

    tlds = registry_repo.tlds_of(db, principal.organisation_id) if principal.organisation_id else []
    return render(request, "disputes/new.html", {
        "values": values, "error": error, "subjects": list(Subject), "tlds": tlds,
    }, status_code=422 if error else 200)


@router.post("/disputes/new")
def lodge(
    request: Request, db: DbSession, principal: CurrentPrincipal,
    title: Annotated[str, Form()] = "", tlds: Annotated[str, Form()] = "",
    service_levels: Annotated[str, Form()] = "", subject: Annotated[str, Form()] = "service_level",
    what_happened: Annotated[str, Form()] = "", negotiation: Annotated[str, Form()] = "",
    mode: Annotated[str, Form()] = "lodge",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    principal.require(Permission.DISPUTE_LODGE)
    values = {"title": title, "tlds": tlds, "service_levels": service_levels, "subject": subject,
              "what_happened": what_happened, "negotiation": negotiation, "mode": mode}
    form = service.ComplaintForm(
        title=title, tlds=_split(tlds), service_levels=_lines(service_levels), subject=subject,
        what_happened=what_happened, negotiation=negotiation,
    )
    try:
        row = service.open_case(db, principal, form, negotiate_first=mode == "negotiate",
                                uploads=_uploads(files))
    except StewardError as exc:
        db.rollback()
        return _new_form(request, db, principal, values, exc)
    return RedirectResponse(f"/disputes/{row.id}", status_code=303)


@router.get("/disputes/{case_id:int}")
def case_page(case_id: int, request: Request, db: DbSession, principal: CurrentPrincipal) -> Response:
    row = service.get_case(db, principal, case_id)
    return _case(request, db, principal, row, None)


def _case(request: Request, db: Session, principal: Principal, row: object, error: StewardError | None) -> Response:
    facts = service.case_facts(db, principal, row)  # type: ignore[arg-type]
    actions: list[Action] = facts["actions"]
    return render(request, "disputes/case.html", {
        **facts, "error": error, "Action": Action, "ground_choices": list(domain.RefusalGround),
        "text_required": domain.TEXT_REQUIRED, "with_document": set(domain.ACTION_DOCUMENT),
        "mediator_choices": repository.users_with_roles(db, ["mediator"]) if Action.ENGAGE_MEDIATOR in actions else [],
        "panelist_choices": repository.users_with_roles(db, ["iap_panelist"]) if Action.ENGAGE_IAP in actions else [],
        "subjects": list(Subject),
        "can_consent": bool(set(facts["relations"]) & {"complainant", "ifm"}),
    }, status_code=(error.status if error else 200))


@router.post("/disputes/{case_id:int}/act")
def act(
    case_id: int, request: Request, db: DbSession, principal: CurrentPrincipal,
    action: Annotated[str, Form()], version: Annotated[int | None, Form()] = None,
    text: Annotated[str, Form()] = "", refusal_ground: Annotated[str, Form()] = "",
    mediator_ids: Annotated[list[int] | None, Form()] = None,
    panelist_ids: Annotated[list[int] | None, Form()] = None,
    remedial_action_index: Annotated[int | None, Form()] = None,
    tlds: Annotated[str, Form()] = "", service_levels: Annotated[str, Form()] = "",
    subject: Annotated[str, Form()] = "service_level", what_happened: Annotated[str, Form()] = "",
    negotiation: Annotated[str, Form()] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    complaint = None
    if action == Action.ESCALATE.value:
        complaint = service.ComplaintForm(
            title="-", tlds=_split(tlds), service_levels=_lines(service_levels), subject=subject,
            what_happened=what_happened, negotiation=negotiation,
        )
    req = service.ActionRequest(
        action=action, version=version, text=text, refusal_ground=refusal_ground or None,
        mediator_ids=mediator_ids or [], panelist_ids=panelist_ids or [],
        remedial_action_index=remedial_action_index, complaint=complaint,
    )
    try:
        req = service.ActionRequest(**{**req.__dict__, "uploads": _uploads(files)})
        service.act(db, principal, case_id, req)
    except StewardError as exc:
        if exc.status in (401, 404):
            raise
        db.rollback()
        return _case(request, db, principal, service.get_case(db, principal, case_id), exc)
    return RedirectResponse(f"/disputes/{case_id}", status_code=303)


@router.post("/disputes/{case_id:int}/disclose")
def disclose(case_id: int, request: Request, db: DbSession, principal: CurrentPrincipal) -> Response:
    try:
        service.consent_to_disclosure(db, principal, case_id)
    except StewardError as exc:
        if exc.status in (401, 404):
            raise
        db.rollback()
        return _case(request, db, principal, service.get_case(db, principal, case_id), exc)
    return RedirectResponse(f"/disputes/{case_id}", status_code=303)


@router.get("/disputes/{case_id:int}/attachments/{attachment_id:int}")
def download(case_id: int, attachment_id: int, db: DbSession, principal: CurrentPrincipal) -> Response:
    att = service.attachment(db, principal, case_id, attachment_id)
    return Response(att.data, media_type=att.content_type, headers={
        "Content-Disposition": f'attachment; filename="{att.filename}"',
        "X-Content-SHA256": att.sha256, "X-Content-Type-Options": "nosniff",
    })


@router.get("/disputes/findings")
def findings(request: Request, db: DbSession, principal: CurrentPrincipal) -> Response:
    """Every IAP finding, public (R-DSP-6): parties and finding, never the confidential file."""
    from steward.systemic import service as systemic

    return render(request, "disputes/findings.html", {
        "findings": service.published_findings(db), "review_findings": systemic.published_findings(db)})


def _split(text: str) -> list[str]:
    return [p for p in text.replace(",", " ").split() if p]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _uploads(files: list[UploadFile] | None) -> list[service.Upload]:
    out = []
    for f in files or []:
        if not f.filename:
            continue
        # read one byte over the limit so an oversized file is refused without reading it all
        data = f.file.read(get_settings().upload_max_bytes + 1)
        out.append(service.Upload(f.filename, f.content_type or "", data))
    return out

