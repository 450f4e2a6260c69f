"""Pages of the service-levels context: the public performance page with its charts, the IFM's
ingest and publish pages, the DUG's review page, the catalogue."""

from __future__ import annotations

from typing import Any

from fastapi import Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from steward.accounts.principal import Principal
from steward.authz import Permission
from steward.config import get_settings
from steward.db import utcnow
from steward.errors import Invalid, NotFound, StewardError
from steward.sla import charts, domain, repository, service
from steward.sla.domain import Month
from steward.web import CurrentPrincipal, DbSession, Router, render, require, templates

router = Router(include_in_schema=False)
templates.env.filters["sla_duration"] = domain.human_duration

NAV = [
    ("Performance", "/sla", None),
    ("IFM data", "/sla/ifm", Permission.SLA_INGEST),
]


def _names(db: DbSession, version: str) -> dict[str, domain.Metric]:
    try:
        return {m.id: m for m in service.catalogue_version(db, version).metrics}
    except NotFound:
        return {}


@router.get("/sla")
def performance(
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    month: str = Query("", max_length=7),
) -> Response:
    """The public performance page: a published month's table, charts, explanations, review."""
    published = repository.published_reports(db)
    chosen = None
    if month:
        chosen = service.public_report(db, service.parse_month(month))
    elif published:
        chosen = service.public_report(db, Month.parse(published[0].month))
    metrics = _names(db, chosen["catalogue_version"]) if chosen else {}
    return render(
        request,
        "sla/performance.html",
        {
            "months": [r.month for r in published],
            "report": chosen,
            "metrics": metrics,
            "can_review": principal.has(Permission.SLA_DRAFT_READ),
        },
    )


@router.get("/sla/charts/{month}/{metric_id}.svg")
def chart(month: str, metric_id: str, db: DbSession) -> Response:
    """Compliance of one metric over the 12 published months ending at ``month``, vs target."""
    last = service.parse_month(month)
    first = last.plus(-11)
    reports = {r.month: r for r in repository.published_between(db, str(first), str(last))}
    if str(last) not in reports:
        raise NotFound(f"no published report for {last}")
    months = [str(m) for m in domain.month_range(first, last)]
    compliance: list[float | None] = []
    target = None
    for label in months:
        row = reports.get(label)
        item = (
            None
            if row is None
            else next((m for m in row.content["metrics"] if m["id"] == metric_id), None)
        )
        compliance.append(None if item is None else item["compliance"])
        if item is not None:
            target = float(item["target"])
    if target is None:
        raise NotFound(f"no metric {metric_id} in the reports up to {last}")
    metric = _names(db, reports[str(last)].catalogue_version).get(metric_id)
    title = f"{metric_id}: {metric.name}" if metric else metric_id
    svg = charts.compliance_chart(title[:90], months, compliance, target)
    return Response(
        svg, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=300"}
    )


@router.get("/sla/reports/{filename}")
def download(filename: str, db: DbSession) -> Response:
    """``2026-10.json`` or ``2026-10.csv``: a published report for download."""
    stem, _, suffix = filename.rpartition(".")
    if suffix not in {"json", "csv"}:
        raise NotFound("downloads are .json or .csv")
    data = service.public_report(db, service.parse_month(stem))
    disposition = {"Content-Disposition": f'attachment; filename="sla-{data["month"]}.{suffix}"'}
    if suffix == "csv":
        names = {k: m.name for k, m in _names(db, data["catalogue_version"]).items()}
        return Response(
            domain.report_csv(data, names),
            media_type="text/csv; charset=utf-8",
            headers=disposition,
        )
    import json

    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers=disposition,
    )


@router.get("/sla/catalogue")
def catalogue(request: Request, db: DbSession, principal: CurrentPrincipal) -> Response:
    return render(request, "sla/catalogue.html", {"versions": service.catalogue_versions(db)})


# --- the IFM ------------------------------------------------------------------------------


def _ifm_context(db: DbSession, principal: Principal) -> dict[str, Any]:
    months = service.data_months(db)[:13]
    drafts = []
    if months:
        now = utcnow()
        computed = service.compute(db, months[-1], months[0], now=now)
        published = {r.month for r in repository.published_reports(db)}
        for report in reversed(computed):
            drafts.append(
                {
                    "month": str(report.month),
                    "summary": report.summary,
                    "published": str(report.month) in published,
                    "over": domain.month_is_over(report.month, now),
                }
            )
    return {
        "batches": repository.recent_batches(db),
        "drafts": drafts,
        "events": repository.event_count(db),
        "can_publish": principal.has(Permission.SLA_PUBLISH),
        "max_mib": get_settings().sla_upload_max_bytes // 2**20,
    }


@router.get("/sla/ifm")
def ifm(
    request: Request, db: DbSession, principal: Principal = require(Permission.SLA_INGEST)
) -> Response:
    return render(request, "sla/ifm.html", _ifm_context(db, principal))


@router.post("/sla/ifm/upload")
def upload(
    request: Request,
    db: DbSession,
    file: UploadFile,
    principal: Principal = require(Permission.SLA_INGEST),
) -> Response:
    """Upload an event file: the result, or a clear per-line error list (nothing ingested)."""
    limit = get_settings().sla_upload_max_bytes
    data = file.file.read(limit + 1)
    context: dict[str, Any] = {}
    status = 200
    try:
        if len(data) > limit:
            raise Invalid(f"the file is larger than {limit // 2**20} MiB", field="file")
        if not data:
            raise Invalid("choose a CSV or JSON file of events", field="file")
        result = service.ingest_file(
            db,
            principal,
            data,
            source=file.filename or "upload",
            now=utcnow(),
            content_type=file.content_type,
        )
        context["result"] = result
    except service.EventFileInvalid as exc:
        db.rollback()
        context["errors"], context["truncated"], status = exc.errors, exc.truncated, 422
    except StewardError as exc:
        db.rollback()
        context["error"], status = exc.detail(), 422
    context["filename"] = file.filename
    return render(
        request, "sla/ifm.html", _ifm_context(db, principal) | context, status_code=status
    )


@router.get("/sla/ifm/publish/{month}")
def publish_form(
    month: str,
    request: Request,
    db: DbSession,
    principal: Principal = require(Permission.SLA_PUBLISH),
) -> Response:
    """The month's report computed now, with a field to explain each miss, and the publish button."""
    the_month = service.parse_month(month)
    existing = repository.published(db, str(the_month))
    if existing is not None:
        return RedirectResponse(f"/sla?month={the_month}", status_code=303)
    report = service.compute_month(db, the_month, now=utcnow())
    return render(
        request,
        "sla/publish.html",
        {
            "report": report,
            "over": domain.month_is_over(the_month, utcnow()),
        },
    )


@router.post("/sla/ifm/publish/{month}")
async def publish(
    month: str,
    request: Request,
    db: DbSession,
    principal: Principal = require(Permission.SLA_PUBLISH),
) -> Response:
    form = await request.form()
    explanations = {
        str(k).removeprefix("explain-"): str(v)
        for k, v in form.items()
        if str(k).startswith("explain-")
    }
    the_month = service.parse_month(month)
    service.publish(db, principal, the_month, now=utcnow(), explanations=explanations)
    return RedirectResponse(f"/sla?month={the_month}", status_code=303)


@router.post("/sla/ifm/explain/{month}")
def explain(
    month: str,
    db: DbSession,
    metric: str = Form(...),
    text: str = Form(""),
    principal: Principal = require(Permission.SLA_PUBLISH),
) -> Response:
    service.explain(db, principal, service.parse_month(month), metric, text)
    return RedirectResponse(f"/sla?month={month}#{metric}", status_code=303)


# --- the DUG ------------------------------------------------------------------------------


def _review_context(db: DbSession, principal: Principal, month: Month) -> dict[str, Any]:
    report = service.public_report(db, month)
    row = service.published_report(db, month)
    return {
        "report": report,
        "metrics": _names(db, report["catalogue_version"]),
        "comments": repository.comments(db, row.id),
        "can_comment": principal.has(Permission.SLA_COMMENT),
        "can_record": principal.has(Permission.SLA_REVIEW),
        "findings": [f.value for f in domain.Finding],
        "overalls": [o.value for o in domain.Overall],
    }


@router.get("/sla/review/{month}")
def review_page(
    month: str,
    request: Request,
    db: DbSession,
    principal: Principal = require(Permission.SLA_DRAFT_READ),
) -> Response:
    return render(
        request, "sla/review.html", _review_context(db, principal, service.parse_month(month))
    )


@router.post("/sla/review/{month}/comment")
def comment(
    month: str,
    request: Request,
    db: DbSession,
    text: str = Form(""),
    principal: Principal = require(Permission.SLA_COMMENT),
) -> Response:
    the_month = service.parse_month(month)
    try:
        service.add_comment(db, principal, the_month, text)
    except StewardError as exc:
        db.rollback()
        context = _review_context(db, principal, the_month) | {"error": exc.detail(), "text": text}
        return render(request, "sla/review.html", context, status_code=422)
    return RedirectResponse(f"/sla/review/{the_month}#comments", status_code=303)


@router.post("/sla/review/{month}/record")
async def record(
    month: str,
    request: Request,
    db: DbSession,
    principal: Principal = require(Permission.SLA_REVIEW),
) -> Response:
    form = await request.form()
    the_month = service.parse_month(month)
    findings = []
    for key, value in form.items():
        if str(key).startswith("finding-"):
            metric_id = str(key).removeprefix("finding-")
            note = str(form.get(f"note-{metric_id}", ""))
            if str(value) != "satisfactory" or note.strip():
                findings.append((metric_id, str(value), note))
    try:
        service.record_review(
            db,
            principal,
            the_month,
            overall=str(form.get("overall", "")),
            findings=findings,
            summary=str(form.get("summary", "")),
            advice=str(form.get("advice", "")),
        )
    except StewardError as exc:
        db.rollback()
        context = _review_context(db, principal, the_month) | {"error": exc.detail()}
        return render(request, "sla/review.html", context, status_code=422)
    return RedirectResponse(f"/sla?month={the_month}#review", status_code=303)


def home_panels(db: DbSession, principal: Principal) -> list[Any]:
    """What needs this person in service levels: months to publish (IFM), reports to review (DUG)."""
    from steward.pages.views import HomePanel

    panels = []
    published = repository.published_reports(db)
    if principal.has(Permission.SLA_PUBLISH):
        done = {r.month for r in published}
        now = utcnow()
        waiting = [
            m
            for m in service.data_months(db)[:13]
            if domain.month_is_over(m, now) and str(m) not in done
        ]
        panels.append(
            HomePanel(
                "Monthly performance reports",
                [
                    (
                        f"Publish the report for {m}",
                        f"/sla/ifm/publish/{m}",
                        "month over, not published",
                    )
                    for m in waiting
                ],
                "Every month with data is published.",
            )
        )
    if principal.has(Permission.SLA_COMMENT) or principal.has(Permission.SLA_REVIEW):
        open_reviews = [r for r in published[:12] if repository.review(db, r.id) is None]
        verb = (
            "Record the DUG's review of" if principal.has(Permission.SLA_REVIEW) else "Comment on"
        )
        panels.append(
            HomePanel(
                "IFM reports to review",
                [
                    (
                        f"{verb} {r.month}",
                        f"/sla/review/{r.month}",
                        f"{r.met} of {r.with_data} met, {r.rating}",
                    )
                    for r in open_reviews
                ],
                "Every published report has its DUG review.",
            )
        )
    return panels
