"""Demo data for consent ballots: an open ballot on the urgent review that reached the IAP, with
two operators' votes already cast (secret until the close)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from steward.accounts.principal import Principal
from steward.ballots import service
from steward.db import utcnow
from steward.governance.demo import pass_motion
from steward.governance.domain import MotionKind


def load_demo(session: Session, ctx: Any) -> None:
    review_id = ctx.extra.get("systemic_escalation_review")
    if review_id is None:
        return
    now = utcnow()
    chair = ctx.extra.get("dug_chair") or Principal.of(ctx.users["chair@dug.example"])
    pass_motion(session, ctx, MotionKind.proceed_further_escalation, "Ask consent for a Golden Bylaw",
                "Proceed to the Further Escalation Options: propose a Golden Bylaw amendment.",
                "urgent_review", review_id, now.date())
    ballot = service.open_ballot(
        session, chair, matter_type="urgent_review", matter_id=review_id, option="golden_bylaw",
        description="Amend the ICANN Bylaws so that the DUG's escalation powers cannot be overturned by the Board.",
        closes_at=now + timedelta(days=14), now=now)
    for email, choice in (("operator@denic.example", "yes"), ("operator@sidn.example", "yes")):
        service.cast_vote(session, Principal.of(ctx.users[email]), ballot.id, choice=choice, now=now)
