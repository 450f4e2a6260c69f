"""The transparency portal: everything published, with proofs; feeds; the public schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from steward.archive import service as archive
from steward.contexts import modules
from steward.errors import Invalid, NotFound
from steward.events import Publication
from steward.portal import repository
from steward.portal.domain import PublicItem, ScheduleItem

MAX_PAGE = 500


def _check_kind(kind: str | None) -> str | None:
    if kind is not None and (
        not kind or len(kind) > 40 or not kind.replace("_", "").replace("-", "").isalnum()
    ):
        raise Invalid("kind must be a publication kind such as iap_finding", field="kind")
    return kind or None


def _items(session: Session, rows: list[Publication]) -> list[PublicItem]:
    seqs = archive.publication_seqs(session, [p.id for p in rows])
    return [
        PublicItem(
            id=p.id,
            kind=p.kind,
            title=p.title,
            published_at=p.published_at,
            url=p.url,
            summary=p.summary or "",
            log_index=seqs.get(p.id),
            proof_url=f"/archive/entries/{seqs[p.id]}" if p.id in seqs else None,
        )
        for p in rows
    ]


def public_items(
    session: Session, kind: str | None = None, limit: int | None = None, offset: int = 0
) -> list[PublicItem]:
    """Published records, newest first, each with its log position and proof page."""
    if limit is not None and not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit must be between 1 and {MAX_PAGE}", field="limit")
    rows = repository.publications(session, _check_kind(kind), limit, offset)
    return _items(session, rows)


def public_item(session: Session, publication_id: int) -> tuple[PublicItem, Publication]:
    """One published record and its stored content."""
    row = repository.publication(session, publication_id)
    if row is None:
        raise NotFound(f"no publication {publication_id}")
    return _items(session, [row])[0], row


def item_count(session: Session, kind: str | None = None) -> int:
    """How many records are published (of a kind)."""
    return repository.count(session, _check_kind(kind))


def kinds(session: Session) -> list[tuple[str, int]]:
    """Publication kinds present, with counts."""
    return repository.kinds(session)


def schedule(session: Session, now: datetime) -> list[ScheduleItem]:
    """The public schedule: every context's dates, from its ``schedule`` module's
    ``public_schedule(session, now)`` (reporting months R-SLA-2, audits R-AUD-1/2, IPRT reviews
    R-IPRT-2, comment periods R-TCH-2, ballots R-ESC-1, remedy deadlines R-DSP-6…), by start."""
    items: list[ScheduleItem] = []
    for _name, module in modules("schedule"):
        items.extend(module.public_schedule(session, now))
    return sorted(items, key=lambda i: (_sort_key(i.start), i.uid))


def upcoming(session: Session, now: datetime, limit: int = 8) -> list[ScheduleItem]:
    """Schedule items not yet over, soonest first."""
    current = now.astimezone(UTC)
    return [i for i in schedule(session, now) if _sort_key(i.effective_end) > current][:limit]


def _sort_key(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def schedule_json(item: ScheduleItem) -> dict[str, Any]:
    """Open-data JSON of a schedule item."""
    return {
        "uid": item.uid,
        "title": item.title,
        "kind": item.kind,
        "start": item.start.isoformat(),
        "end": item.effective_end.isoformat(),
        "all_day": not isinstance(item.start, datetime),
        "url": item.url,
        "description": item.description,
    }
