"""Possible systemic failure signals (R-SYS-1) and urgent reviews (R-SYS-2)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from steward.db import Base, UtcDateTime, utcnow


class Signal(Base):
    __tablename__ = "systemic_signal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    # stable identity from the detection rule: re-running detection never duplicates a signal
    key: Mapped[str] = mapped_column(String(200), unique=True)
    summary: Mapped[str] = mapped_column(Text)
    observed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    detected_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    evidence: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    measures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reasoning: Mapped[str] = mapped_column(Text, default="")
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"))
    state: Mapped[str] = mapped_column(String(12), default="open", index=True)
    dismissed_reason: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)


class Review(Base):
    __tablename__ = "systemic_review"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    signal_id: Mapped[int] = mapped_column(ForeignKey("systemic_signal.id"), index=True)
    decision_motion_id: Mapped[int | None] = mapped_column(Integer)
    operator_org_id: Mapped[int | None] = mapped_column(ForeignKey("registry_organisation.id"))
    stage: Mapped[str] = mapped_column(String(20), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"))
    findings: Mapped[str] = mapped_column(Text, default="")
    critical: Mapped[bool | None] = mapped_column(Boolean)
    advice: Mapped[str] = mapped_column(Text, default="")
    previous_attempts_report: Mapped[str] = mapped_column(Text, default="")
    iap_finding: Mapped[str | None] = mapped_column(String(20))
    iap_decision: Mapped[str] = mapped_column(Text, default="")
    remedy_due: Mapped[date | None] = mapped_column(Date, index=True)
    outcome: Mapped[str | None] = mapped_column(String(30))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    experts: Mapped[list[Expert]] = relationship(lazy="selectin", order_by="Expert.id")
    evidence: Mapped[list[Evidence]] = relationship(lazy="selectin", order_by="Evidence.id")
    milestones: Mapped[list[Milestone]] = relationship(lazy="selectin", order_by="Milestone.id")
    participants: Mapped[list[Participant]] = relationship(lazy="selectin", order_by="Participant.id")


class Expert(Base):
    __tablename__ = "systemic_expert"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("systemic_review.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    expertise: Mapped[list[str]] = mapped_column(JSON, default=list)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("registry_organisation.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"), index=True)
    declaration: Mapped[str] = mapped_column(Text, default="")
    appointed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Participant(Base):
    """A mediator or IAP panelist engaged on one review: only they, of their role, see it (R-SYS-2,
    as R-DSP-7 for disputes)."""

    __tablename__ = "systemic_participant"
    __table_args__ = (UniqueConstraint("review_id", "user_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("systemic_review.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("account_user.id"), index=True)
    role: Mapped[str] = mapped_column(String(12))
    engaged_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Evidence(Base):
    __tablename__ = "systemic_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("systemic_review.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    ref: Mapped[str] = mapped_column(String(300), default="")
    text: Mapped[str] = mapped_column(Text)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"))
    added_by_label: Mapped[str] = mapped_column(String(200), default="")
    added_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Milestone(Base):
    """A remediation milestone or a long-term change step, with its due date."""

    __tablename__ = "systemic_milestone"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("systemic_review.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    title: Mapped[str] = mapped_column(String(300))
    due: Mapped[date] = mapped_column(Date, index=True)
    done_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    reminded: Mapped[bool] = mapped_column(Boolean, default=False)
