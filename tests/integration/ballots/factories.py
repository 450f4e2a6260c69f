"""Test data for escalation: passed DUG decisions and matters eligible for the Further
Escalation Options, built directly in the database (the governance and review flows that
produce them are tested in their own contexts)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from steward.db import utcnow
from steward.governance.models import DugMotionParty as MotionParty
from steward.governance.models import Motion
from steward.systemic.models import Review, Signal


def passed_decision(session: Session, kind: str, subject_type: str, subject_id: int | str,
                    parties: tuple[int, ...] = ()) -> Motion:
    motion = Motion(kind=kind, title=f"{kind} on {subject_type} {subject_id}", text="Decided.",
                    subject_type=subject_type, subject_id=str(subject_id), state="passed",
                    closed_at=utcnow(), parties=[MotionParty(organisation_id=o) for o in parties])
    session.add(motion)
    session.flush()
    return motion


def eligible_review(session: Session, now: datetime | None = None, *, decided: bool = True) -> Review:
    """An urgent review closed after an IAP finding of a breach not capable of remedy, with the
    DUG's decision to proceed to the Further Escalation Options (unless ``decided`` is False)."""
    now = now or utcnow()
    signal = Signal(kind="proposal", key=f"proposal:test:{uuid.uuid4().hex}", summary="Systemic delays",
                    observed_at=now, detected_at=now, state="review")
    session.add(signal)
    session.flush()
    review = Review(title="Publication delays", signal_id=signal.id, stage="closed",
                    outcome="iap_not_remediable", iap_finding="not_remediable", opened_at=now, closed_at=now)
    session.add(review)
    session.flush()
    if decided:
        passed_decision(session, "proceed_further_escalation", "urgent_review", review.id)
    return review
