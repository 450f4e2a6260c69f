"""The transparency portal: everything published, with proofs; feeds; the public schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from steward.accounts.principal import Principal
from steward.archive import service as archive
from steward.contexts import CONTEXTS, modules
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


def _month_start(day: date, shift: int) -> date:
    index = day.year * 12 + day.month - 1 + shift
    return date(index // 12, index % 12 + 1, 1)


def schedule(session: Session, now: datetime) -> list[ScheduleItem]:
    """The public schedule: reporting months (R-SLA-2), audits (R-AUD-1), IPRT reviews
    (R-IPRT-2), comment periods of technical changes (R-TCH-2), and whatever other
    contexts publish through a ``schedule`` module with ``public_schedule(session, now)``."""
    today = now.astimezone(UTC).date()
    items: list[ScheduleItem] = []
    for shift in range(-3, 13):
        start = _month_start(today, shift)
        items.append(
            ScheduleItem(
                uid=f"sla-month-{start:%Y-%m}@steward",
                title=f"Performance reporting month {start:%B %Y}",
                kind="sla-report",
                start=start,
                end=_month_start(start, 1),
                url="/sla",
                description="The IFM reports its performance for each calendar month (R-SLA-2).",
            )
        )
    if "audits" in CONTEXTS:
        from steward.audits import service as audits

        for cycle in audits.schedule(session, today):
            items.append(
                ScheduleItem(
                    uid=f"audit-{cycle.number}@steward",
                    title=f"Independent audit {cycle.number} due",
                    kind="audit_report",
                    start=cycle.due,
                    url="/audits",
                    description="Every 3 years the DUG commissions an independent audit (R-AUD-1).",
                )
            )
    if "reviews" in CONTEXTS:
        from steward.reviews import service as reviews

        for cycle in reviews.schedule(session, today):
            items.append(
                ScheduleItem(
                    uid=f"iprt-review-{cycle.number}@steward",
                    title=f"IPRT review {cycle.number} due",
                    kind="iprt_final_report",
                    start=cycle.due,
                    url="/reviews",
                    description="The IANA Performance Review Team's periodic review (R-IPRT-2).",
                )
            )
    if "changes" in CONTEXTS:
        from steward.changes import service as changes

        for plan in changes.list_plans(session, Principal.anonymous()):
            if plan.comment_opens_at and plan.comment_closes_at:
                items.append(
                    ScheduleItem(
                        uid=f"change-{plan.id}-comments@steward",
                        title=f"Comment period: {plan.title}",
                        kind="consultation",
                        start=plan.comment_opens_at,
                        end=plan.comment_closes_at,
                        url=f"/changes/{plan.id}",
                        description="Public comments on a technical-change plan (R-TCH-2).",
                    )
                )
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
