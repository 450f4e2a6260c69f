"""Audit pages: the schedule and every audit's report, feedback and examination."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from steward.accounts.principal import Principal
from steward.audits import repository, service
from steward.audits.domain import feedback_open
from steward.audits.service import SEVERITIES, FindingInput, ReportDocument
from steward.authz import Permission
from steward.config import get_settings
from steward.errors import Invalid, NotFound, StewardError
from steward.governance.schemas import PathId
from steward.web import CurrentPrincipal, DbSession, Router, form_date, render

router = Router(include_in_schema=False)

NAV = [("Audits", "/audits", None)]


def _index(request: Request, db: DbSession, principal: Principal, **extra: Any) -> Response:
    today = service.today_utc()
    context = {
        "today": today,
        "cycles": service.schedule(db, today),
        "audits": repository.audits(db),
        "firms": repository.audit_firms(db),
        "can_manage": principal.has(Permission.PERIODIC_AUDIT_MANAGE),
        "stage_label": service.stage_label,
    }
    context.update(extra)
    return render(
        request, "audits/index.html", context, status_code=422 if "error" in extra else 200
    )


@router.get("/audits")
def index(request: Request, db: DbSession, principal: CurrentPrincipal) -> Response:
    return _index(request, db, principal)


@router.post("/audits")
def commission(
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    firm_id: Annotated[str, Form()] = "",
    declaration: Annotated[str, Form()] = "",
    scope: Annotated[str, Form()] = "",
) -> Response:
    principal.require(Permission.PERIODIC_AUDIT_MANAGE)
    try:
        if not firm_id.strip().isdigit():
            raise Invalid("Choose an audit firm.", field="firm_id")
        audit = service.commission(
            db, principal, firm_id=int(firm_id), declaration=declaration, scope=scope
        )
    except StewardError as err:
        db.rollback()
        return _index(request, db, principal, error=err.detail())
    return RedirectResponse(f"/audits/{audit.id}", status_code=303)


def _page(
    request: Request, db: DbSession, principal: Principal, audit_id: int, **extra: Any
) -> Response:
    audit = service.get(db, audit_id)
    today = service.today_utc()
    context = {
        "audit": audit,
        "today": today,
        "stage": service.stage_label(audit),
        "show_report": service.can_see_report(principal, audit),
        "can_manage": principal.has(Permission.PERIODIC_AUDIT_MANAGE),
        "can_report": principal.has(Permission.PERIODIC_AUDIT_REPORT)
        and principal.organisation_id == audit.firm_id,
        "feedback_open": feedback_open(service.facts(audit), today),
        "severities": SEVERITIES,
        "catalogue_toml": service.catalogue_template(db, audit, today)
        if audit.stage == "published"
        else "",
    }
    context.update(extra)
    return render(
        request, "audits/audit.html", context, status_code=422 if "error" in extra else 200
    )


@router.get("/audits/{audit_id}")
def audit(
    audit_id: PathId, request: Request, db: DbSession, principal: CurrentPrincipal
) -> Response:
    return _page(request, db, principal, audit_id)


@router.get("/audits/{audit_id}/report-document")
def report_document(audit_id: PathId, db: DbSession, principal: CurrentPrincipal) -> Response:
    """The uploaded report document, to those who may see the report (404 to others)."""
    audit = service.get(db, audit_id)
    if not service.can_see_report(principal, audit) or audit.report_file is None:
        raise NotFound("No such report document.")
    return Response(
        audit.report_file,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{audit.report_filename}"',
            "X-Report-SHA256": audit.report_sha256 or "",
        },
    )


def _findings(text: str) -> list[FindingInput]:
    """One finding per line: ``severity | title | detail`` (severity and detail optional)."""
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) >= 2 and parts[0] in SEVERITIES:
            out.append(FindingInput(parts[1], " | ".join(parts[2:]), parts[0]))
        else:
            out.append(FindingInput(parts[0], " | ".join(parts[1:])))
    return out


@router.post("/audits/{audit_id}/report")
def report(
    audit_id: PathId,
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    report: Annotated[str, Form()] = "",
    findings: Annotated[str, Form()] = "",
    report_file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    principal.require(Permission.PERIODIC_AUDIT_REPORT)
    try:
        document = None
        if report_file is not None and report_file.filename:
            # read one byte past the limit so an oversized file is refused, not truncated
            data = report_file.file.read(get_settings().upload_max_bytes + 1)
            document = ReportDocument(report_file.filename, report_file.content_type, data)
        service.submit_report(
            db, principal, audit_id, report, _findings(findings), document=document
        )
    except StewardError as err:
        db.rollback()
        return _page(request, db, principal, audit_id, error=err.detail())
    return RedirectResponse(f"/audits/{audit_id}", status_code=303)


@router.post("/audits/{audit_id}/publish")
def publish(
    audit_id: PathId,
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    feedback_closes: Annotated[str, Form()] = "",
) -> Response:
    principal.require(Permission.PERIODIC_AUDIT_MANAGE)
    try:
        service.publish(db, principal, audit_id, form_date(feedback_closes, "feedback_closes"))
    except StewardError as err:
        db.rollback()
        return _page(request, db, principal, audit_id, error=err.detail())
    return RedirectResponse(f"/audits/{audit_id}", status_code=303)


@router.post("/audits/{audit_id}/feedback")
def feedback(
    audit_id: PathId,
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    author_name: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
) -> Response:
    try:
        service.add_feedback(db, principal, audit_id, author_name, text)
    except StewardError as err:
        db.rollback()
        return _page(request, db, principal, audit_id, error=err.detail())
    return RedirectResponse(f"/audits/{audit_id}#feedback", status_code=303)


@router.post("/audits/{audit_id}/examination")
def examine(
    audit_id: PathId,
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    examination: Annotated[str, Form()] = "",
    refine: Annotated[str, Form()] = "",
    catalogue_toml: Annotated[str, Form()] = "",
) -> Response:
    principal.require(Permission.PERIODIC_AUDIT_MANAGE)
    try:
        service.examine(
            db, principal, audit_id, examination, bool(refine), catalogue_toml=catalogue_toml
        )
    except StewardError as err:
        db.rollback()
        return _page(request, db, principal, audit_id, error=err.detail())
    return RedirectResponse(f"/audits/{audit_id}", status_code=303)


def home_panels(db: DbSession, principal: Principal) -> list[Any]:
    """The firm's auditor sees audits awaiting its report; the DUG chair, the next DUG step."""
    from steward.pages.views import HomePanel

    items = []
    for a in repository.audits(db):
        if (
            principal.has(Permission.PERIODIC_AUDIT_REPORT)
            and principal.organisation_id == a.firm_id
            and a.stage == "commissioned"
        ):
            items.append((f"Independent audit {a.cycle}", f"/audits/{a.id}", "submit the report"))
        if principal.has(Permission.PERIODIC_AUDIT_MANAGE) and a.stage in (
            "report_submitted",
            "published",
        ):
            step = (
                "publish the results" if a.stage == "report_submitted" else "feedback, then examine"
            )
            items.append((f"Independent audit {a.cycle}", f"/audits/{a.id}", step))
    if not items and not (
        principal.has(Permission.PERIODIC_AUDIT_REPORT)
        or principal.has(Permission.PERIODIC_AUDIT_MANAGE)
    ):
        return []
    return [HomePanel("Independent audits", items, "No audit needs you.")]
