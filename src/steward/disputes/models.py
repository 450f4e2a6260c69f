"""Individual dispute cases: the case row, its people, file, timeline and consents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from steward.db import Base, UtcDateTime, utcnow


class DisputeCase(Base):
    """One dispute. ``stage`` changes only through the service, by compare-and-set on ``version``."""

    __tablename__ = "dispute_case"
    __table_args__ = (
        # the board's reads: per stage, the cases in order of their next deadline (also every
        # read by stage alone)
        Index("ix_dispute_case_board", "stage", "next_due_at", "id"),
        # numbering (repository.next_reference) reads one year's references by prefix; the unique
        # index follows the database's collation, which PostgreSQL cannot read a prefix from
        Index("ix_dispute_case_reference_prefix", "reference",
              postgresql_ops={"reference": "text_pattern_ops"}).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    complainant_org_id: Mapped[int] = mapped_column(
        ForeignKey("registry_organisation.id"), index=True
    )
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"))
    stage: Mapped[str] = mapped_column(String(30))
    version: Mapped[int] = mapped_column(Integer, default=1)

    subject: Mapped[str] = mapped_column(String(20))
    tlds: Mapped[list[str]] = mapped_column(JSON, default=list)
    service_levels: Mapped[list[str]] = mapped_column(JSON, default=list)
    what_happened: Mapped[str] = mapped_column(Text, default="")
    negotiation: Mapped[str] = mapped_column(Text, default="")

    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    lodged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)

    # deadlines keep their proof (workdays.domain.Deadline.to_dict())
    acknowledgement_due: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    answer_due: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    response_due: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    responded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    remedy_due: Mapped[datetime | None] = mapped_column(UtcDateTime)
    remedied_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # earliest running deadline: what the worker polls and the queues sort by
    next_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)

    instructions: Mapped[int] = mapped_column(Integer, default=0)
    dug_report_filed: Mapped[bool] = mapped_column(Boolean, default=False)
    ifm_report_filed: Mapped[bool] = mapped_column(Boolean, default=False)
    bound_agreement_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finding_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)

    refusal_ground: Mapped[str | None] = mapped_column(String(20))
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    refusal_rule: Mapped[str | None] = mapped_column(String(20))
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)

    participants: Mapped[list[DisputeParticipant]] = relationship(
        back_populates="case", lazy="selectin", order_by="DisputeParticipant.id"
    )
    remedial_actions: Mapped[list[DisputeRemedialAction]] = relationship(
        lazy="selectin", order_by="DisputeRemedialAction.position"
    )


class DisputeParticipant(Base):
    """A mediator or IAP panelist engaged on a case (they see it from then on)."""

    __tablename__ = "dispute_participant"
    __table_args__ = (UniqueConstraint("case_id", "user_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("dispute_case.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("account_user.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    engaged_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    case: Mapped[DisputeCase] = relationship(back_populates="participants")


class DisputeRemedialAction(Base):
    """A remedial action agreed in mediation, tracked to completion (R-DSP-4)."""

    __tablename__ = "dispute_remedial_action"
    __table_args__ = (UniqueConstraint("case_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("dispute_case.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completion_note: Mapped[str] = mapped_column(Text, default="")


class DisputeDocument(Base):
    """A document in the case file: complaint, response, reports, outcomes, the IAP decision."""

    __tablename__ = "dispute_document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("dispute_case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    body: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"))
    author_label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    attachments: Mapped[list[DisputeAttachment]] = relationship(
        lazy="selectin", order_by="DisputeAttachment.id"
    )


class DisputeAttachment(Base):
    """A file attached to a document; its SHA-256 digest is kept and shown."""

    __tablename__ = "dispute_attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("dispute_document.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class DisputeTimelineEntry(Base):
    """Every event on a case, in order: transitions, documents, deadline recomputations."""

    __tablename__ = "dispute_timeline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("dispute_case.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"))
    actor_label: Mapped[str] = mapped_column(String(200), default="system")
    tag: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(40), default="")
    from_stage: Mapped[str] = mapped_column(String(30), default="")
    to_stage: Mapped[str] = mapped_column(String(30), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    document_id: Mapped[int | None] = mapped_column(ForeignKey("dispute_document.id"))


class DisputeDisclosureConsent(Base):
    """A party's consent to disclose the record (R-DSP-7); kept beside the archived case."""

    __tablename__ = "dispute_disclosure_consent"
    __table_args__ = (UniqueConstraint("case_id", "party"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("dispute_case.id"), index=True)
    party: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
