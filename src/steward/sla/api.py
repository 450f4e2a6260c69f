"""JSON routes of the service-levels context under ``/api/v1/sla``.

The IFM submits events with its API token (``POST /events``: a CSV or JSON body, or a multipart
``file``); published reports and recorded reviews are public.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile

from steward.accounts.principal import Principal
from steward.authz import Permission
from steward.config import get_settings
from steward.db import utcnow
from steward.errors import Invalid
from steward.sla import domain, repository, service
from steward.sla.rows import COLUMNS
from steward.sla.schemas import CommentIn, ExplanationIn, PublishIn, ReportListItem, ReviewIn
from steward.textfile import decode_utf8
from steward.web import DbSession, Router, require

router = Router(prefix="/api/v1/sla", tags=["sla"])

_EVENTS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {
                "schema": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": list(COLUMNS),
                        "properties": {c: {"type": "string"} for c in COLUMNS},
                    },
                }
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
        },
    }
}


def problem(error: service.EventFileInvalid) -> JSONResponse:
    """422 problem+json listing every refused row."""
    body = {
        "type": "about:blank",
        "title": "Invalid input",
        "status": 422,
        "detail": error.detail(),
        "field": error.field,
        "line": error.line,
        "errors": error.as_list(),
        "truncated": error.truncated,
    }
    return JSONResponse(body, status_code=422, media_type="application/problem+json")


@router.post("/events", openapi_extra=_EVENTS_BODY, status_code=200)
async def submit_events(
    request: Request, db: DbSession, principal: Principal = require(Permission.SLA_INGEST)
) -> Response:
    """Ingest the IFM's events, all or nothing; the same rows again add nothing and say so."""
    limit = get_settings().sla_upload_max_bytes
    content_type = request.headers.get("content-type", "")
    name = "api"
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Invalid("attach the events as the form field 'file'", field="file")
        data = await upload.read(limit + 1)
        name, content_type = upload.filename or "upload", upload.content_type or ""
    else:
        data = await request.body()
    if len(data) > limit:
        raise Invalid(f"the file is larger than {limit // 2**20} MiB", field="file")
    try:
        result = await run_in_threadpool(
            service.ingest_file,
            db,
            principal,
            data,
            source=name,
            now=utcnow(),
            content_type=content_type,
        )
    except service.EventFileInvalid as exc:
        return problem(exc)
    return JSONResponse(result.as_dict())


@router.get("/catalogue")
def catalogue(db: DbSession) -> list[dict[str, Any]]:
    """Every catalogue version, oldest first (R-SLA-1)."""
    return [_version(v) for v in service.catalogue_versions(db)]


def _version(version: domain.CatalogueVersion) -> dict[str, Any]:
    data = domain.catalogue_to_mapping(version)
    data["effective"] = version.effective.isoformat()
    return data


@router.post(
    "/catalogue",
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
async def load_catalogue(
    request: Request, db: DbSession, principal: Principal = require(Permission.SLA_CATALOGUE)
) -> dict[str, Any]:
    """Load a new catalogue version written in TOML (see docs/sla.md)."""
    text = decode_utf8(await request.body())
    version = await run_in_threadpool(service.load_catalogue, db, principal, text)
    return _version(version)


@router.get("/reports", response_model=list[ReportListItem])
def reports(db: DbSession) -> list[ReportListItem]:
    """Every published report, newest first."""
    return [
        ReportListItem(
            month=r.month,
            catalogue_version=r.catalogue_version,
            met=r.met,
            with_data=r.with_data,
            total=r.total,
            rating=r.rating,
            published_at=r.published_at.isoformat(),
        )
        for r in repository.published_reports(db)
    ]


@router.get("/reports/{month}")
def report(month: str, db: DbSession) -> dict[str, Any]:
    """A published report: frozen figures, the IFM's explanations, the DUG's review once recorded."""
    return service.public_report(db, service.parse_month(month))


@router.get("/reports/{month}/csv")
def report_csv(month: str, db: DbSession) -> Response:
    data = service.public_report(db, service.parse_month(month))
    names = {m.id: m.name for m in service.catalogue_version(db, data["catalogue_version"]).metrics}
    return Response(
        domain.report_csv(data, names),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="sla-{data["month"]}.csv"'},
    )


@router.get("/drafts/{month}")
def draft(
    month: str, db: DbSession, principal: Principal = require(Permission.SLA_DRAFT_READ)
) -> dict[str, Any]:
    """A month's report computed now from the data (not published)."""
    return service.compute_month(db, service.parse_month(month), now=utcnow()).as_json()


@router.post("/reports/{month}/publish", status_code=201)
def publish(
    month: str,
    body: PublishIn,
    db: DbSession,
    principal: Principal = require(Permission.SLA_PUBLISH),
) -> dict[str, Any]:
    """Publish and freeze a month's report (R-SLA-2)."""
    the_month = service.parse_month(month)
    service.publish(db, principal, the_month, now=utcnow(), explanations=body.explanations)
    return service.public_report(db, the_month)


@router.put("/reports/{month}/explanations/{metric_id}")
def explain(
    month: str,
    metric_id: str,
    body: ExplanationIn,
    db: DbSession,
    principal: Principal = require(Permission.SLA_PUBLISH),
) -> dict[str, Any]:
    """Attach the IFM's explanation of a missed threshold."""
    row = service.explain(db, principal, service.parse_month(month), metric_id, body.text)
    return {"month": month, "metric": row.metric_id, "text": row.text}


@router.get("/reports/{month}/comments")
def comments(
    month: str, db: DbSession, principal: Principal = require(Permission.SLA_DRAFT_READ)
) -> list[dict[str, Any]]:
    row = service.published_report(db, service.parse_month(month))
    return [
        {
            "id": c.id,
            "author": c.author_name,
            "text": c.text,
            "created_at": c.created_at.isoformat(),
        }
        for c in repository.comments(db, row.id)
    ]


@router.post("/reports/{month}/comments", status_code=201)
def comment(
    month: str,
    body: CommentIn,
    db: DbSession,
    principal: Principal = require(Permission.SLA_COMMENT),
) -> dict[str, Any]:
    """A DUG member's comment on a published report."""
    row = service.add_comment(db, principal, service.parse_month(month), body.text)
    return {"id": row.id, "author": row.author_name, "text": row.text}


@router.post("/reports/{month}/review", status_code=201)
def record_review(
    month: str, body: ReviewIn, db: DbSession, principal: Principal = require(Permission.SLA_REVIEW)
) -> dict[str, Any]:
    """The DUG records its findings and advice (R-SLA-2); public once recorded."""
    review = service.record_review(
        db,
        principal,
        service.parse_month(month),
        overall=body.overall,
        findings=[(f.metric, f.finding, f.note) for f in body.findings],
        summary=body.summary,
        advice=body.advice,
    )
    return service.review_json(review, month)
