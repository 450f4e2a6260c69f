"""Open data of the transparency portal: publications and the public schedule as JSON."""

from __future__ import annotations

from fastapi import Query

from steward.db import utcnow
from steward.portal import service
from steward.portal.schemas import PublicItemOut, PublicItemPage, ScheduleItemOut
from steward.web import DbSession, Router

router = Router(prefix="/api/v1/portal", tags=["portal"])


@router.get("/publications", response_model=PublicItemPage)
def publications(
    db: DbSession,
    kind: str | None = Query(None, max_length=40, description="e.g. iap_finding, audit_result"),
    limit: int = Query(100, ge=1, le=service.MAX_PAGE),
    offset: int = Query(0, ge=0, le=2**62),
) -> PublicItemPage:
    """Everything published, newest first, each with its archive position and proof page."""
    items = service.public_items(db, kind, limit, offset)
    return PublicItemPage(
        total=service.item_count(db, kind), items=[PublicItemOut(**i.as_json()) for i in items]
    )


@router.get("/schedule", response_model=list[ScheduleItemOut])
def schedule(db: DbSession) -> list[ScheduleItemOut]:
    """The public schedule: reporting months, audits, reviews, comment periods."""
    return [ScheduleItemOut(**service.schedule_json(i)) for i in service.schedule(db, utcnow())]
