"""Tables of the periodic audit: the audit, its findings and community feedback."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from steward.db import Base, UtcDateTime, utcnow


class PeriodicAudit(Base):
    __tablename__ = "audits_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle: Mapped[int] = mapped_column(Integer, unique=True)
    due_on: Mapped[date] = mapped_column(Date)
    firm_id: Mapped[int] = mapped_column(ForeignKey("registry_organisation.id"), index=True)
    scope: Mapped[str] = mapped_column(Text, default="")
    declaration: Mapped[str] = mapped_column(Text)
    declared_on: Mapped[date] = mapped_column(Date)
    motion_id: Mapped[int | None] = mapped_column(ForeignKey("governance_motion.id"))
    commissioned_on: Mapped[date] = mapped_column(Date)
    stage: Mapped[str] = mapped_column(String(20), default="commissioned", index=True)
    report: Mapped[str] = mapped_column(Text, default="")
    # the report document as uploaded by the auditor (optional; its SHA-256 is published)
    report_filename: Mapped[str | None] = mapped_column(String(200))
    report_content_type: Mapped[str | None] = mapped_column(String(100))
    report_size: Mapped[int | None] = mapped_column(Integer)
    report_sha256: Mapped[str | None] = mapped_column(String(64))
    report_file: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    published_on: Mapped[date | None] = mapped_column(Date)
    feedback_closes: Mapped[date | None] = mapped_column(Date)
    examination: Mapped[str] = mapped_column(Text, default="")
    refine: Mapped[bool] = mapped_column(Boolean, default=False)
    # the SLA catalogue version created from this audit, or the refinement recorded for it
    catalogue_version: Mapped[str | None] = mapped_column(String(80))
    examined_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    firm = relationship("Organisation", lazy="joined")
    findings: Mapped[list[PeriodicAuditFinding]] = relationship(
        lazy="selectin", order_by="PeriodicAuditFinding.id"
    )
    feedback: Mapped[list[PeriodicAuditFeedback]] = relationship(
        lazy="selectin", order_by="PeriodicAuditFeedback.id"
    )


class PeriodicAuditFinding(Base):
    __tablename__ = "audits_finding"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits_audit.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(12), default="observation")


class PeriodicAuditFeedback(Base):
    __tablename__ = "audits_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits_audit.id"), index=True)
    author_name: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


# the names other contexts import (the classes are prefixed so the ORM registry stays unambiguous)
Audit = PeriodicAudit
AuditFinding = PeriodicAuditFinding
