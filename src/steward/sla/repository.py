"""Every query of the service-levels context.

Event data is read and written through the driver's own cursor (``executemany`` with plain
tuples, arrays built straight from fetched rows): the ORM's per-row objects would cost more
than the whole measurement. Everything else goes through the ORM.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.db import note_statement
from steward.registry.models import Tld
from steward.sla.domain import Month
from steward.sla.measure import EventLog
from steward.sla.models import (
    SlaCatalogueVersion,
    SlaEvent,
    SlaIngestBatch,
    SlaMissExplanation,
    SlaReport,
    SlaRequest,
    SlaReview,
    SlaReviewComment,
)

LONG_SPAN_US: Final = 62 * 86_400 * 1_000_000
"""Requests spanning longer than this are found for a period by a flag, not by their start time
(see :func:`log_for_period`)."""

CHUNK: Final = 50_000
IN_CHUNK: Final = 500

Progress = Callable[[int], None]


class _Raw:
    """The driver connection of the session's transaction, with its parameter style."""

    def __init__(self, session: Session) -> None:
        connection = session.connection()
        self.dialect = connection.dialect.name
        self.driver: Any = connection.connection.driver_connection
        self.mark = "?" if self.dialect == "sqlite" else "%s"

    def sql(self, text: str) -> str:
        return text.replace("?", self.mark)

    def executemany(self, text: str, rows: Sequence[tuple[Any, ...]]) -> int:
        """Run a statement for every row; returns how many rows it changed in total."""
        note_statement(self.driver, text)  # past SQLAlchemy: the public cache's write mark by hand
        cursor = self.driver.cursor()
        try:
            if self.dialect == "sqlite":
                before = self.driver.total_changes
                cursor.executemany(self.sql(text), rows)
                return int(self.driver.total_changes - before)
            cursor.executemany(self.sql(text), rows)
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def fetch(self, text: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.driver.cursor()
        try:
            cursor.execute(self.sql(text), tuple(params))
            return list(cursor.fetchall())
        finally:
            cursor.close()


# --- catalogue ---------------------------------------------------------------------------


def catalogue_rows(session: Session) -> list[SlaCatalogueVersion]:
    return list(
        session.scalars(
            select(SlaCatalogueVersion).order_by(
                SlaCatalogueVersion.effective, SlaCatalogueVersion.id
            )
        )
    )


def catalogue_row(session: Session, version: str) -> SlaCatalogueVersion | None:
    return session.scalar(select(SlaCatalogueVersion).where(SlaCatalogueVersion.version == version))


# --- registry facts ----------------------------------------------------------------------


def known_tlds(session: Session) -> set[str]:
    """A-labels of every TLD in the registry (also inactive ones: old requests may name them)."""
    return set(session.scalars(select(Tld.a_label)))


# --- event data --------------------------------------------------------------------------


def request_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(SlaRequest)) or 0)


def event_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(SlaEvent)) or 0)


def stored_requests(
    session: Session, request_ids: Iterable[str], *, total: int
) -> dict[str, tuple[int, str, int, int, int, int | None]]:
    """``request_id → (id, tld, category, first_at, last_at, closed_at)`` of those stored.

    A large batch reads every stored request at once; a small one asks in chunks."""
    raw = _Raw(session)
    wanted = list(request_ids)
    columns = "request_id, id, tld, category, first_at, last_at, closed_at FROM sla_request"
    if len(wanted) > 5_000 or total < 5 * len(wanted):
        rows = raw.fetch(f"SELECT {columns}")
        wanted_set = set(wanted)
        return {r[0]: r[1:] for r in rows if r[0] in wanted_set}
    found: dict[str, tuple[int, str, int, int, int, int | None]] = {}
    for i in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[i : i + IN_CHUNK]
        marks = ",".join("?" * len(chunk))
        for row in raw.fetch(f"SELECT {columns} WHERE request_id IN ({marks})", chunk):
            found[row[0]] = row[1:]
    return found


def insert_requests(
    session: Session, rows: Sequence[tuple[str, str, int, int, int, int | None, bool]]
) -> dict[str, int]:
    """Insert new requests ``(request_id, tld, category, first_at, last_at, closed_at,
    long_span)`` and return their ids."""
    if not rows:
        return {}
    raw = _Raw(session)
    start = int(raw.fetch("SELECT coalesce(max(id), 0) FROM sla_request")[0][0])
    if raw.dialect == "sqlite":
        # the transaction holds SQLite's write lock (BEGIN IMMEDIATE): the next ids are ours
        numbered = [(start + i, *row) for i, row in enumerate(rows, start=1)]
        raw.executemany(
            "INSERT INTO sla_request "
            "(id, request_id, tld, category, first_at, last_at, closed_at, long_span) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            numbered,
        )
        return {row[1]: row[0] for row in numbered}
    raw.executemany(
        "INSERT INTO sla_request "
        "(request_id, tld, category, first_at, last_at, closed_at, long_span) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    names = {r[0] for r in rows}
    return {
        rid: rid_id
        for rid_id, rid in raw.fetch("SELECT id, request_id FROM sla_request WHERE id > ?", [start])
        if rid in names
    }


def update_request_spans(
    session: Session, rows: Sequence[tuple[int, int, int | None, bool, int]]
) -> None:
    """Set ``(first_at, last_at, closed_at, long_span)`` of stored requests, by id (last)."""
    if rows:
        _Raw(session).executemany(
            "UPDATE sla_request SET first_at = ?, last_at = ?, closed_at = ?, long_span = ? "
            "WHERE id = ?",
            rows,
        )


def next_seq(session: Session) -> int:
    """The first order-received number free for a new batch. On PostgreSQL ingests are serialised
    by a transaction-scoped advisory lock (SQLite's write lock already does it)."""
    raw = _Raw(session)
    if raw.dialect == "postgresql":
        raw.fetch("SELECT pg_advisory_xact_lock(?)", [_INGEST_LOCK])
    row = raw.fetch("SELECT coalesce(max(seq_start + rows), 1) FROM sla_ingest_batch")
    return int(row[0][0])


_INGEST_LOCK: Final = 0x51A_1E57


def insert_events(
    session: Session,
    rows: Sequence[tuple[int, int, int, int, int]],
    progress: Progress | None = None,
) -> int:
    """Insert ``(request, event, occurred_at, channel, seq)`` rows, skipping those already stored
    (the natural key); returns how many were new."""
    raw = _Raw(session)
    statement = (
        "INSERT INTO sla_event (request_id, event, occurred_at, channel, seq) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (request_id, event, occurred_at) DO NOTHING"
    )
    added = 0
    for i in range(0, len(rows), CHUNK):
        added += raw.executemany(statement, rows[i : i + CHUNK])
        if progress is not None:
            progress(min(len(rows), i + CHUNK))
    return added


def add_batch(session: Session, batch: SlaIngestBatch) -> SlaIngestBatch:
    session.add(batch)
    session.flush()
    return batch


def recent_batches(session: Session, limit: int = 10) -> list[SlaIngestBatch]:
    return list(
        session.scalars(select(SlaIngestBatch).order_by(SlaIngestBatch.id.desc()).limit(limit))
    )


def data_bounds(session: Session) -> tuple[int, int] | None:
    """Earliest and latest event time (µs), or None without data."""
    low, high = session.execute(
        select(func.min(SlaRequest.first_at), func.max(SlaRequest.last_at))
    ).one()
    return None if low is None else (int(low), int(high))


_RELEVANT = """
    SELECT id FROM sla_request WHERE first_at >= ? AND first_at < ?
        AND (last_at >= ? OR closed_at IS NULL)
    UNION
    SELECT id FROM sla_request WHERE long_span AND first_at < ?
        AND (last_at >= ? OR closed_at IS NULL)
"""
_PERIOD_EVENTS = (
    "SELECT seq, request_id, event, channel, occurred_at FROM sla_event WHERE request_id IN ("  # noqa: S608
    + _RELEVANT
    + ")"
)
_PERIOD_REQUESTS = (
    "SELECT id, request_id, category FROM sla_request WHERE id IN ("  # noqa: S608
    + _RELEVANT
    + ")"
)


def log_for_period(session: Session, first: Month, last: Month) -> EventLog:
    """Every event of the requests that matter for the months ``first``…``last``: those with an
    event in the period and those open during it (for "open, already over").

    Such a request started before the period's end and either had an event on or after its start
    or is not closed. It started at most LONG_SPAN_US before the period (found by the index on
    ``first_at``), or it spans longer, or is not closed: then it is flagged ``long_span`` (few).
    """
    raw = _Raw(session)
    start, end = first.start_us, last.end_us
    params = [start - LONG_SPAN_US, end, start, end, start]
    events = raw.fetch(_PERIOD_EVENTS, params)
    requests = raw.fetch(_PERIOD_REQUESTS, params)
    return _log(events, requests)


def full_log(session: Session) -> EventLog:
    """The whole event log (benchmarks and exports)."""
    raw = _Raw(session)
    events = raw.fetch("SELECT seq, request_id, event, channel, occurred_at FROM sla_event")
    requests = raw.fetch("SELECT id, request_id, category FROM sla_request")
    return _log(events, requests)


def _log(events: list[tuple[Any, ...]], requests: list[tuple[Any, ...]]) -> EventLog:
    """Arrays from fetched rows; request ids are renumbered 0…n-1 for the engine."""
    if requests:
        req_ids = np.fromiter((r[0] for r in requests), dtype=np.int64, count=len(requests))
        order = np.argsort(req_ids)
        req_ids = req_ids[order]
        names = [requests[i][1] for i in order.tolist()]
        categories = np.fromiter((requests[i][2] for i in order.tolist()), dtype=np.int8)
    else:
        req_ids = np.zeros(0, dtype=np.int64)
        names = []
        categories = np.zeros(0, dtype=np.int8)
    table = (
        np.array(events, dtype=np.int64).reshape(-1, 5)
        if events
        else np.zeros((0, 5), dtype=np.int64)
    )
    return EventLog(
        request_ids=names,
        request_category=categories,
        req=np.searchsorted(req_ids, table[:, 1]).astype(np.int64),
        event=table[:, 2].astype(np.int8),
        channel=table[:, 3].astype(np.int8),
        t=table[:, 4].copy(),
        seq=table[:, 0].copy(),
    )


# --- published reports and reviews -------------------------------------------------------


def published(session: Session, month: str) -> SlaReport | None:
    return session.scalar(select(SlaReport).where(SlaReport.month == month))


def published_reports(session: Session) -> list[SlaReport]:
    """Every published report, newest month first."""
    return list(session.scalars(select(SlaReport).order_by(SlaReport.month.desc())))


def published_between(session: Session, first: str, last: str) -> list[SlaReport]:
    return list(
        session.scalars(
            select(SlaReport)
            .where(SlaReport.month >= first, SlaReport.month <= last)
            .order_by(SlaReport.month)
        )
    )


def explanations(session: Session, report_id: int) -> dict[str, SlaMissExplanation]:
    rows = session.scalars(
        select(SlaMissExplanation).where(SlaMissExplanation.report_id == report_id)
    )
    return {r.metric_id: r for r in rows}


def comments(session: Session, report_id: int) -> list[SlaReviewComment]:
    return list(
        session.scalars(
            select(SlaReviewComment)
            .where(SlaReviewComment.report_id == report_id)
            .order_by(SlaReviewComment.id)
        )
    )


def review(session: Session, report_id: int) -> SlaReview | None:
    return session.scalar(select(SlaReview).where(SlaReview.report_id == report_id))
