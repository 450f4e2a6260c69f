"""Tables of the DUG: charter versions, memberships, motions, votes and comments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from steward.db import Base, UtcDateTime, utcnow


class DugCharter(Base):
    __tablename__ = "governance_charter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    role: Mapped[str] = mapped_column(Text)
    chair_appointment: Mapped[str] = mapped_column(Text)
    communication_lines: Mapped[str] = mapped_column(Text)
    effective_from: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    adopted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    adopted_by_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"))


class DugMember(Base):
    __tablename__ = "governance_member"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("account_user.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("registry_organisation.id"), index=True
    )
    seat: Mapped[str] = mapped_column(String(12))
    community: Mapped[str] = mapped_column(String(12))
    technical_experience: Mapped[str] = mapped_column(Text)
    term_start: Mapped[date] = mapped_column(Date)
    term_end: Mapped[date | None] = mapped_column(Date, index=True)
    is_chair: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    organisation = relationship("Organisation", lazy="joined")


class DugMotion(Base):
    __tablename__ = "governance_motion"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    subject_type: Mapped[str] = mapped_column(String(40), default="", index=True)
    subject_id: Mapped[str] = mapped_column(String(80), default="", index=True)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(12), default="open", index=True)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    result_rule: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    parties: Mapped[list[DugMotionParty]] = relationship(lazy="selectin", cascade="all")
    votes: Mapped[list[DugVote]] = relationship(
        back_populates="motion", lazy="selectin", order_by="DugVote.id"
    )
    comments: Mapped[list[DugMotionComment]] = relationship(
        back_populates="motion", lazy="selectin", order_by="DugMotionComment.id"
    )

    @property
    def party_organisation_ids(self) -> set[int]:
        return {p.organisation_id for p in self.parties}


class DugMotionParty(Base):
    """An organisation that is a party to the matter: its DUG members recuse (R-DUG-3)."""

    __tablename__ = "governance_motion_party"

    motion_id: Mapped[int] = mapped_column(ForeignKey("governance_motion.id"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("registry_organisation.id"), primary_key=True, index=True
    )


class DugVote(Base):
    __tablename__ = "governance_vote"
    __table_args__ = (UniqueConstraint("motion_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    motion_id: Mapped[int] = mapped_column(ForeignKey("governance_motion.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("governance_member.id"))
    choice: Mapped[str] = mapped_column(String(8))
    cast_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    motion: Mapped[DugMotion] = relationship(back_populates="votes")
    member: Mapped[DugMember] = relationship(lazy="joined")


class DugMotionComment(Base):
    __tablename__ = "governance_motion_comment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    motion_id: Mapped[int] = mapped_column(ForeignKey("governance_motion.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("governance_member.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    motion: Mapped[DugMotion] = relationship(back_populates="comments")
    member: Mapped[DugMember] = relationship(lazy="joined")


# the name other contexts may import (the classes are prefixed so the ORM registry stays unambiguous)
Motion = DugMotion
