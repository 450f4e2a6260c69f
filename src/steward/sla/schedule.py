"""The reporting months on the public schedule: the IFM reports its performance for each calendar
month (R-SLA-2), from three months back to a year ahead. Read by ``steward.portal.service.schedule``."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from steward.portal.domain import ScheduleItem


def _month_start(day: date, shift: int) -> date:
    index = day.year * 12 + day.month - 1 + shift
    return date(index // 12, index % 12 + 1, 1)


def public_schedule(session: Session, now: datetime) -> list[ScheduleItem]:
    today = now.astimezone(UTC).date()
    return [
        ScheduleItem(
            uid=f"sla-month-{start:%Y-%m}@steward",
            title=f"Performance reporting month {start:%B %Y}",
            kind="sla-report",
            start=start,
            end=_month_start(start, 1),
            url="/sla",
            description="The IFM reports its performance for each calendar month (R-SLA-2).",
        )
        for start in (_month_start(today, shift) for shift in range(-3, 13))
    ]
