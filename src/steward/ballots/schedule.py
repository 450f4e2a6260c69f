"""Consent ballots on the public schedule: each ballot's voting period (R-ESC-1). Read by
``steward.portal.service.schedule``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from steward.ballots import domain, repository
from steward.portal.domain import ScheduleItem


def public_schedule(session: Session, now: datetime) -> list[ScheduleItem]:
    return [
        ScheduleItem(
            uid=f"ballot-{b.id}@steward",
            title=f"Consent ballot: {domain.Option(b.option).label}",
            kind="ballot-result",
            start=b.opens_at,
            end=b.closes_at,
            url=f"/ballots/{b.id}",
            description="The naming customers vote, one vote per registry operator in each chamber (R-ESC-1).",
        )
        for b in repository.ballots(session)
    ]
