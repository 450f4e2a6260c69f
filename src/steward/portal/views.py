"""The transparency portal's pages and feeds (Atom, iCalendar, JSON, CSV)."""

from __future__ import annotations

import json

from fastapi import Query, Request
from fastapi.responses import Response

from steward.config import get_settings
from steward.db import utcnow
from steward.portal import service
from steward.portal.domain import atom_feed, ical_feed, kind_label, open_data_csv
from steward.web import CurrentPrincipal, DbSession, Router, render

router = Router(include_in_schema=False)

NAV = [("Publications", "/portal", None)]
PAGE = 50
FEED_SIZE = 100


@router.get("/portal")
def portal(
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    kind: str = Query("", max_length=40),
    page: int = Query(1, ge=1, le=100000),
) -> Response:
    chosen = kind or None
    total = service.item_count(db, chosen)
    items = service.public_items(db, chosen, PAGE, (page - 1) * PAGE)
    return render(
        request,
        "portal/index.html",
        {
            "items": items,
            "total": total,
            "kind": kind,
            "page": page,
            "pages": max(1, (total + PAGE - 1) // PAGE),
            "kinds": service.kinds(db),
            "kind_label": kind_label,
            "schedule": service.upcoming(db, utcnow()),
        },
    )


@router.get("/portal/publications/{publication_id}")
def publication(
    publication_id: int, request: Request, db: DbSession, principal: CurrentPrincipal
) -> Response:
    item, row = service.public_item(db, publication_id)
    return render(
        request,
        "portal/publication.html",
        {
            "item": item,
            "content": json.dumps(row.content, indent=2, ensure_ascii=False, sort_keys=True),
            "kind_label": kind_label,
        },
    )


@router.get("/portal/feed.atom")
def feed(db: DbSession, kind: str = Query("", max_length=40)) -> Response:
    items = service.public_items(db, kind or None, FEED_SIZE)
    updated = max((i.published_at for i in items), default=utcnow())
    body = atom_feed(
        items, base_url=get_settings().base_url, feed_url="/portal/feed.atom", updated=updated
    )
    return Response(body, media_type="application/atom+xml; charset=utf-8")


@router.get("/portal/calendar.ics")
def calendar(db: DbSession) -> Response:
    now = utcnow()
    body = ical_feed(service.schedule(db, now), base_url=get_settings().base_url, generated_at=now)
    return Response(body, media_type="text/calendar; charset=utf-8")


@router.get("/portal/open-data/publications.json")
def open_data_json(db: DbSession, kind: str = Query("", max_length=40)) -> Response:
    items = [i.as_json() for i in service.public_items(db, kind or None)]
    return Response(json.dumps(items, ensure_ascii=False, indent=1), media_type="application/json")


@router.get("/portal/open-data/publications.csv")
def open_data_csv_(db: DbSession, kind: str = Query("", max_length=40)) -> Response:
    body = open_data_csv(service.public_items(db, kind or None))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="steward-publications.csv"'},
    )


@router.get("/portal/open-data/schedule.json")
def schedule_json(db: DbSession) -> Response:
    items = [service.schedule_json(i) for i in service.schedule(db, utcnow())]
    return Response(json.dumps(items, ensure_ascii=False, indent=1), media_type="application/json")
