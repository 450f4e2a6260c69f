"""The IPRT's dates on the public schedule: each periodic review's due date (R-IPRT-2) and the close
of comments on a review's draft report. Read by ``steward.portal.service.schedule``."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from steward.portal.domain import ScheduleItem
from steward.reviews import repository, service


def public_schedule(session: Session, now: datetime) -> list[ScheduleItem]:
    cycles = [
        ScheduleItem(
            uid=f"iprt-review-{cycle.number}@steward",
            title=f"IPRT review {cycle.number} due",
            kind="iprt_final_report",
            start=cycle.due,
            url="/reviews",
            description="The IANA Performance Review Team's periodic review (R-IPRT-2).",
        )
        for cycle in service.schedule(session, now.astimezone(UTC).date())
    ]
    return cycles + [
        ScheduleItem(
            uid=f"iprt-review-{r.cycle}-comments@steward",
            title=f"Comments on the draft report of IPRT review {r.cycle} close",
            kind="iprt_draft_report",
            start=r.comment_closes,
            url=f"/reviews/{r.id}",
            description="The last day for public comments on the IPRT's draft report.",
        )
        for r in repository.reviews(session)
        if r.comment_closes is not None and r.draft_report
    ]
