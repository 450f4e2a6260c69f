"""The IPRT's dates on the public schedule: the close of comments on a review's draft report.
Read by ``steward.portal.service.schedule``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from steward.portal.domain import ScheduleItem
from steward.reviews import repository


def public_schedule(session: Session, now: datetime) -> list[ScheduleItem]:
    return [
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
