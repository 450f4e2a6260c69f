"""Urgent reviews' remedy deadlines on the public schedule: the IAP's finding of a breach capable
of remedy gives the IFM until this day (R-SYS-2, as R-DSP-6). Read by
``steward.portal.service.schedule``; the finding and the remedy period's outcome are published."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.portal.domain import ScheduleItem
from steward.systemic.domain import Stage
from steward.systemic.models import Review


def public_schedule(session: Session, now: datetime) -> list[ScheduleItem]:
    return [
        ScheduleItem(
            uid=f"urgent-review-{r.id}-remedy@steward",
            title=f"Remedy due: IAP finding on urgent review #{r.id}",
            kind="iap_finding",
            start=r.remedy_due,
            url=f"/disputes/findings#review-{r.id}",
            description="The last day for the IFM to remedy the breach the IAP found (R-SYS-2).",
        )
        for r in session.scalars(
            select(Review).where(Review.stage == Stage.REMEDY_PERIOD.value, Review.remedy_due.is_not(None))
        )
        if r.remedy_due is not None
    ]
