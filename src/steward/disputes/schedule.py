"""IAP remedy deadlines on the public schedule: a published finding of a breach capable of
remedy gives the IFM until this moment (R-DSP-6). Read by ``steward.portal.service.schedule``.

Read from the findings' publications, never from the disputes' own tables (private: a public page
behind the cache may not read them, ``steward.db.PRIVATE_TABLES``). Every change of a finding's
outcome is published — the remedy confirmed or not made, a withdrawal — so the latest publication
of each case says whether its remedy is still pending."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.disputes.domain import Stage
from steward.events import Publication
from steward.portal.domain import ScheduleItem


def public_schedule(session: Session, now: datetime) -> list[ScheduleItem]:
    latest: dict[str, dict[str, Any]] = {}
    for content in session.scalars(
        select(Publication.content).where(Publication.kind == "iap_finding").order_by(Publication.id)
    ):
        if isinstance(content, dict) and isinstance(content.get("reference"), str):
            latest[content["reference"]] = content  # the newest publication of each case wins
    return [
        ScheduleItem(
            uid=f"dispute-{reference}-remedy@steward",
            title=f"Remedy due: IAP finding {reference}",
            kind="iap_finding",
            start=datetime.fromisoformat(content["remedy_due"]),
            url=f"/disputes/findings#{reference}",
            description="The IFM must remedy the breach the IAP found by this moment (R-DSP-6).",
        )
        for reference, content in sorted(latest.items())
        if content.get("outcome") == Stage.REMEDY_PENDING.value and content.get("remedy_due")
    ]
