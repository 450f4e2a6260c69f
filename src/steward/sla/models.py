"""Service levels: catalogue versions, the IFM's event data, published reports and DUG reviews.

The event table is built for bulk ingest: integer codes (see ``steward.sla.domain``), times as
integer microseconds since the epoch (UTC), and the natural key ``(request, event, occurred_at)``
as primary key, which makes ingest idempotent and serves every read (a period's events are found
through their requests' spans, so the events need no index on time).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from steward.db import Base, UtcDateTime, utcnow

# INTEGER PRIMARY KEY is SQLite's rowid (fast appends); BIGINT on PostgreSQL
BigId = BigInteger().with_variant(Integer(), "sqlite")


class SlaCatalogueVersion(Base):
    """One version of the SLA catalogue (R-SLA-1); ``definition`` is the validated mapping."""

    __tablename__ = "sla_catalogue_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(40), unique=True)
    effective: Mapped[date] = mapped_column(Date, index=True)
    cause: Mapped[str | None] = mapped_column(Text)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    loaded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    loaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"))


class SlaRequest(Base):
    """A root zone change request seen in the IFM's data; keeps its TLD and category."""

    __tablename__ = "sla_request"
    __table_args__ = (
        # partial: only the few long-span requests are indexed, so ingest barely pays for it
        Index(
            "ix_sla_request_long_span",
            "first_at",
            sqlite_where=text("long_span"),
            postgresql_where=text("long_span"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    request_id: Mapped[str] = mapped_column(String(100), unique=True)
    tld: Mapped[str] = mapped_column(String(70))
    category: Mapped[int] = mapped_column(SmallInteger)
    # earliest and latest event and first `closed` event (µs since the epoch) tell which requests
    # a period needs; long_span marks those spanning more than LONG_SPAN_US (or not closed), which
    # a period's query takes whatever their start, so that the others are found by first_at alone
    first_at: Mapped[int] = mapped_column(BigInteger, index=True)
    last_at: Mapped[int] = mapped_column(BigInteger)
    closed_at: Mapped[int | None] = mapped_column(BigInteger)
    long_span: Mapped[bool] = mapped_column(Boolean)


class SlaEvent(Base):
    """One timestamped event of a request. The natural key is the primary key, and on SQLite the
    table is stored in that key's order (WITHOUT ROWID): no second index to maintain on ingest, and
    a request's events are read together. ``seq`` is the order received (breaks time ties)."""

    __tablename__ = "sla_event"
    __table_args__ = {"sqlite_with_rowid": False}

    request_id: Mapped[int] = mapped_column(ForeignKey("sla_request.id"), primary_key=True)
    event: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    occurred_at: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    channel: Mapped[int] = mapped_column(SmallInteger)
    seq: Mapped[int] = mapped_column(BigInteger)


class SlaIngestBatch(Base):
    """One submitted file: who sent what, how many rows were new and how many already there."""

    __tablename__ = "sla_ingest_batch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    source: Mapped[str] = mapped_column(String(300))
    format: Mapped[str] = mapped_column(String(10))
    rows: Mapped[int] = mapped_column(Integer)
    added: Mapped[int] = mapped_column(Integer)
    duplicates: Mapped[int] = mapped_column(Integer)
    # the batch's rows took the order-received numbers seq_start … seq_start + rows - 1
    seq_start: Mapped[int] = mapped_column(BigInteger)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"))


class SlaReport(Base):
    """A month's report as the IFM published it: frozen, public, citing its catalogue version."""

    __tablename__ = "sla_report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7), unique=True)
    catalogue_version: Mapped[str] = mapped_column(String(40))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    met: Mapped[int] = mapped_column(Integer)
    with_data: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    rating: Mapped[str] = mapped_column(String(20))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"))


class SlaMissExplanation(Base):
    """The IFM's explanation of one missed threshold of a published report."""

    __tablename__ = "sla_miss_explanation"
    __table_args__ = (UniqueConstraint("report_id", "metric_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("sla_report.id"), index=True)
    metric_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class SlaReviewComment(Base):
    """A DUG member's comment on a published report, before the DUG records its review."""

    __tablename__ = "sla_review_comment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("sla_report.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"))
    author_name: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class SlaReview(Base):
    """The DUG's recorded review of a published report (R-SLA-2); public once recorded."""

    __tablename__ = "sla_review"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("sla_report.id"), unique=True)
    overall: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text, default="")
    # [{"metric": id, "finding": satisfactory|concern|breach, "note": …}]
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    advice: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("account_user.id"))
