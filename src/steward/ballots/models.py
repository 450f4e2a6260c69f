"""Consent ballots (R-ESC-1): the ballot with its fixed rules, the electorate fixed at opening,
the current votes (secret until the close) and the receipt leaves published at the close."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from steward.db import Base, UtcDateTime, utcnow


class Ballot(Base):
    __tablename__ = "ballot_ballot"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    # the matter that made escalation possible: a dispute's IAP outcome or an urgent review
    matter_type: Mapped[str] = mapped_column(String(30))
    matter_id: Mapped[int] = mapped_column(Integer)
    option: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(Text, default="")
    # rules fixed at opening (never changed afterwards)
    opens_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closes_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    quorum_percent: Mapped[int] = mapped_column(Integer)
    majority_percent: Mapped[int] = mapped_column(Integer)
    electorate_cctld: Mapped[int] = mapped_column(Integer)
    electorate_gtld: Mapped[int] = mapped_column(Integer)
    motion_id: Mapped[int | None] = mapped_column(Integer)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # close and tally
    closed: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    tally: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    receipt_root: Mapped[str | None] = mapped_column(String(64))
    receipt_count: Mapped[int | None] = mapped_column(Integer)
    reminder_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    executed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    executed_by_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"))
    execution_note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)


class Elector(Base):
    """An operator in the electorate fixed at opening, with the chambers it votes in."""

    __tablename__ = "ballot_elector"

    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot_ballot.id"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("registry_organisation.id"), primary_key=True)
    cctld: Mapped[bool] = mapped_column(Boolean)
    gtld: Mapped[bool] = mapped_column(Boolean)


class Vote(Base):
    """The current vote of one elector in one chamber; read only by the tally at the close."""

    __tablename__ = "ballot_vote"
    __table_args__ = (UniqueConstraint("ballot_id", "organisation_id", "chamber"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot_ballot.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("registry_organisation.id"))
    chamber: Mapped[str] = mapped_column(String(8))
    choice: Mapped[str] = mapped_column(String(8))
    receipt: Mapped[str] = mapped_column(String(64), unique=True)
    cast_at: Mapped[datetime] = mapped_column(UtcDateTime)
    cast_by_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"))
    changes: Mapped[int] = mapped_column(Integer, default=0)


class ReceiptLeaf(Base):
    """One counted vote as published at the close: an anonymous receipt id and the choice."""

    __tablename__ = "ballot_receipt_leaf"
    __table_args__ = (
        UniqueConstraint("ballot_id", "position"),
        Index("ix_ballot_receipt_leaf_receipt", "ballot_id", "receipt"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot_ballot.id"))
    position: Mapped[int] = mapped_column(Integer)
    receipt: Mapped[str] = mapped_column(String(64))
    chamber: Mapped[str] = mapped_column(String(8))
    choice: Mapped[str] = mapped_column(String(8))
