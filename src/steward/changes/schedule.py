"""The technical changes' dates on the public schedule: each published plan's comment period
(R-TCH-2). Read by ``steward.portal.service.schedule``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from steward.accounts.principal import Principal
from steward.changes import service
from steward.portal.domain import ScheduleItem


def public_schedule(session: Session, now: datetime) -> list[ScheduleItem]:
    return [
        ScheduleItem(
            uid=f"change-{plan.id}-comments@steward",
            title=f"Comment period: {plan.title}",
            kind="consultation",
            start=plan.comment_opens_at,
            end=plan.comment_closes_at,
            url=f"/changes/{plan.id}",
            description="Public comments on a technical-change plan (R-TCH-2).",
        )
        for plan in service.list_plans(session, Principal.anonymous())
        if plan.comment_opens_at and plan.comment_closes_at
    ]
