"""The audits' dates on the public schedule: each three-yearly audit's due date (R-AUD-1) and each
published audit's community feedback period (R-AUD-2). Read by ``steward.portal.service.schedule``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from steward.audits import repository, service
from steward.portal.domain import ScheduleItem


def public_schedule(session: Session, now: datetime) -> list[ScheduleItem]:
    cycles = [
        ScheduleItem(
            uid=f"audit-{cycle.number}@steward",
            title=f"Independent audit {cycle.number} due",
            kind="audit_report",
            start=cycle.due,
            url="/audits",
            description="Every 3 years the DUG commissions an independent audit (R-AUD-1).",
        )
        for cycle in service.schedule(session, now.astimezone(UTC).date())
    ]
    return cycles + [
        ScheduleItem(
            uid=f"audit-{a.cycle}-feedback@steward",
            title=f"Community feedback on audit {a.cycle}",
            kind="audit_report",
            start=a.published_on,
            end=a.feedback_closes + timedelta(days=1),  # the closing day included
            url=f"/audits/{a.id}",
            description="The DUG seeks the community's feedback on the audit's results (R-AUD-2).",
        )
        for a in repository.published_audits(session)
        if a.published_on is not None and a.feedback_closes is not None
        and a.feedback_closes >= a.published_on
    ]
