"""ORM tables of the technical-changes context (R-TCH-1, R-TCH-2)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from steward.db import Base, UtcDateTime, utcnow


class ChangePlan(Base):
    """An implementation plan; its content lives in versions, its state here."""

    __tablename__ = "change_plan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Denormalised from the current version for listings and feeds.
    title: Mapped[str] = mapped_column(String(200))
    origin: Mapped[str] = mapped_column(String(20), index=True)
    significance: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(24), index=True, default="draft")
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    # Compare-and-set: every state change bumps it, and the UPDATE checks the old value.
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    published_version: Mapped[int | None] = mapped_column(Integer)
    comment_opens_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    comment_closes_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    comments_closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    statement_text: Mapped[str | None] = mapped_column(Text)
    statement_issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    agreed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    agreement_note: Mapped[str | None] = mapped_column(Text)
    # "governance:motion:<id>" when a DUG decision authorised it, else "chair:<user id>".
    agreement_basis: Mapped[str | None] = mapped_column(String(80))

    implemented_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    implementation_note: Mapped[str | None] = mapped_column(Text)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    versions: Mapped[list[ChangePlanVersion]] = relationship(
        back_populates="plan", order_by="ChangePlanVersion.number", lazy="raise"
    )


class ChangePlanVersion(Base):
    """One saved version of a plan; versions are never edited, only added."""

    __tablename__ = "change_plan_version"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("change_plan.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    origin: Mapped[str] = mapped_column(String(20))
    significance: Mapped[str] = mapped_column(String(20))
    affected_all: Mapped[bool] = mapped_column(Boolean, default=True)
    affected_tlds: Mapped[list[str]] = mapped_column(JSON, default=list)
    body: Mapped[str] = mapped_column(Text)
    # [["2026-05-01", "announcement"], …]
    timeline: Mapped[list[Any]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    plan: Mapped[ChangePlan] = relationship(back_populates="versions", lazy="raise")


class ChangeComment(Base):
    """A comment in the RFC process; public once published, with the IFM's answer."""

    __tablename__ = "change_comment"
    __table_args__ = (
        UniqueConstraint("plan_id", "number"),
        Index("ix_change_comment_author_submitted", "author_user_id", "submitted_at"),
        Index("ix_change_comment_email_submitted", "email_hash", "submitted_at"),
        Index("ix_change_comment_client_submitted", "client_hash", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("change_plan.id"), index=True)
    # Assigned when the comment is published (1, 2, 3 … per plan).
    number: Mapped[int | None] = mapped_column(Integer)
    plan_version: Mapped[int] = mapped_column(Integer)
    section: Mapped[str | None] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(24), index=True)

    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"))
    author_name: Mapped[str] = mapped_column(String(200))
    author_organisation: Mapped[str | None] = mapped_column(String(300))
    # A public commenter's address: kept to send the link, never shown.
    email: Mapped[str | None] = mapped_column(String(320))
    email_hash: Mapped[str | None] = mapped_column(String(64))
    client_hash: Mapped[str | None] = mapped_column(String(64))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    disposition: Mapped[str | None] = mapped_column(String(24))
    response: Mapped[str | None] = mapped_column(Text)
    responded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"))
