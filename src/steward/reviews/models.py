"""Tables of IPRT reviews: the review, its members, findings, directions, comments, audit links."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from steward.db import Base, UtcDateTime, utcnow


class IprtReview(Base):
    __tablename__ = "reviews_review"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle: Mapped[int] = mapped_column(Integer, unique=True)
    title: Mapped[str] = mapped_column(String(300))
    stage: Mapped[str] = mapped_column(String(24), default="convened", index=True)
    convened_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    terms_of_reference: Mapped[str] = mapped_column(Text, default="")
    evidence_notes: Mapped[str] = mapped_column(Text, default="")
    draft_report: Mapped[str] = mapped_column(Text, default="")
    comment_closes: Mapped[date | None] = mapped_column(Date)
    final_report: Mapped[str] = mapped_column(Text, default="")
    closed_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    convened_by_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"))

    members: Mapped[list[IprtMember]] = relationship(
        back_populates="review", lazy="selectin", order_by="IprtMember.id"
    )
    findings: Mapped[list[IprtFinding]] = relationship(lazy="selectin", order_by="IprtFinding.id")
    directions: Mapped[list[IprtDirection]] = relationship(
        lazy="selectin", order_by="IprtDirection.id"
    )
    comments: Mapped[list[IprtComment]] = relationship(lazy="selectin", order_by="IprtComment.id")
    audit_links: Mapped[list[IprtReviewAudit]] = relationship(lazy="selectin")


class IprtMember(Base):
    __tablename__ = "reviews_member"
    __table_args__ = (UniqueConstraint("review_id", "person_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews_review.id"), index=True)
    person_key: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("registry_organisation.id"))
    constituency: Mapped[str] = mapped_column(String(24))
    appointed_on: Mapped[date] = mapped_column(Date)

    review: Mapped[IprtReview] = relationship(back_populates="members")
    organisation = relationship("Organisation", lazy="joined")


class IprtFinding(Base):
    __tablename__ = "reviews_finding"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews_review.id"), index=True)
    topic: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    # R-IPRT-3: out-of-scope findings are kept but pointed to the DUG
    referred_to: Mapped[str | None] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class IprtDirection(Base):
    __tablename__ = "reviews_direction"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews_review.id"), index=True)
    target: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    completed_on: Mapped[date | None] = mapped_column(Date)
    completion_note: Mapped[str] = mapped_column(Text, default="")


class IprtComment(Base):
    __tablename__ = "reviews_comment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews_review.id"), index=True)
    author_name: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class IprtReviewAudit(Base):
    """An audit whose results inform this review (R-AUD-2)."""

    __tablename__ = "reviews_audit_link"

    review_id: Mapped[int] = mapped_column(ForeignKey("reviews_review.id"), primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits_audit.id"), primary_key=True)
