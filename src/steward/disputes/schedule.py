"""IAP remedy deadlines on the public schedule: a published finding of a breach capable of
remedy gives the IFM until this moment (R-DSP-6). Read by ``steward.portal.service.schedule``;
every change of them is published (the finding, the remedy confirmed or not made, a withdrawal),
so the public pages are made again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.disputes.domain import Stage
from steward.disputes.models import DisputeCase
from steward.portal.domain import ScheduleItem


def public_schedule(session: Session, now: datetime) -> list[ScheduleItem]:
    return [
        ScheduleItem(
            uid=f"dispute-{c.id}-remedy@steward",
            title=f"Remedy due: IAP finding {c.reference}",
            kind="iap_finding",
            start=c.remedy_due,
            url=f"/disputes/findings#{c.reference}",
            description="The IFM must remedy the breach the IAP found by this moment (R-DSP-6).",
        )
        for c in session.scalars(
            select(DisputeCase).where(DisputeCase.stage == Stage.REMEDY_PENDING.value,
                                      DisputeCase.remedy_due.is_not(None))
        )
        if c.remedy_due is not None
    ]
