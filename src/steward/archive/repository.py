"""Every query of the archive.

Nothing here is access-scoped beyond one rule: sealed content and salts are read only
by :func:`sealed_secret` (for a reveal) and by verification; listings expose the leaf
documents, which for sealed entries hold nothing but a commitment.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from steward.archive.merkle import EMPTY_ROOT
from steward.archive.models import ArchiveCheckpoint, ArchiveEntry, ArchiveHead, ArchiveTile
from steward.archive.tiles import TileId
from steward.db import UtcDateTime, utcnow

HEAD_ID = 1


def _table(model: Any) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


class _Appends:
    """An append's statements for one dialect, built once: every recorded event appends, and a
    statement object that is reused keeps its cache key and compiled form (building them per
    append cost more than running them)."""

    def __init__(self, dialect: str) -> None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        head = _table(ArchiveHead)
        self.create_head = insert(head).values(
            id=HEAD_ID, size=0, root=EMPTY_ROOT, updated_at=bindparam("now")
        ).on_conflict_do_nothing(index_elements=["id"])
        self.lock_head = select(ArchiveHead.size, ArchiveHead.root).where(ArchiveHead.id == HEAD_ID).with_for_update()
        self.set_head = update(head).where(head.c.id == HEAD_ID).values(
            size=bindparam("new_size"), root=bindparam("new_root"), updated_at=bindparam("now"))
        tiles = insert(_table(ArchiveTile))
        self.put_tiles = tiles.on_conflict_do_update(
            index_elements=["level", "idx"], set_={"hashes": tiles.excluded.hashes})
        self.add_entries = insert(_table(ArchiveEntry))


@functools.cache
def _appends(dialect: str) -> _Appends:
    return _Appends(dialect)


def _append_statements(session: Session) -> _Appends:
    return _appends(session.get_bind().dialect.name)


# --- head ---------------------------------------------------------------------------


def lock_head(session: Session) -> tuple[int, bytes]:
    """Return the log's size and root, locked for this transaction so that appenders take turns.

    On PostgreSQL ``FOR UPDATE`` serialises appenders; SQLite transactions already
    start with ``BEGIN IMMEDIATE`` and so hold the write lock.
    """
    stmts = _append_statements(session)
    row = session.execute(stmts.lock_head).first()
    if row is None:  # the log's first append: make the head (once, whoever else is making it)
        session.execute(stmts.create_head, {"now": utcnow()})
        row = session.execute(stmts.lock_head).one()
    return int(row[0]), bytes(row[1])


def head(session: Session) -> tuple[int, bytes]:
    """The log's current size and root (an empty log if nothing was ever appended)."""
    row = session.execute(
        select(ArchiveHead.size, ArchiveHead.root).where(ArchiveHead.id == HEAD_ID)
    ).first()
    return (0, EMPTY_ROOT) if row is None else (int(row[0]), bytes(row[1]))


# PostgreSQL: an append's three writes (entries, tiles, head) in one statement, one round trip
# instead of three while every other appender waits for the head's lock
_PG_APPEND = text("""
WITH entries AS (
    INSERT INTO archive_entry (seq, kind, source_id, recorded_at, sealed, leaf, salt, sealed_content)
    SELECT * FROM unnest(CAST(:seq AS bigint[]), CAST(:kind AS varchar[]), CAST(:source_id AS integer[]),
                         CAST(:recorded_at AS timestamptz[]), CAST(:sealed AS boolean[]), CAST(:leaf AS text[]),
                         CAST(:salt AS bytea[]), CAST(:sealed_content AS text[]))
), tiles AS (
    INSERT INTO archive_tile (level, idx, hashes)
    SELECT * FROM unnest(CAST(:level AS integer[]), CAST(:idx AS bigint[]), CAST(:hashes AS bytea[]))
    ON CONFLICT (level, idx) DO UPDATE SET hashes = excluded.hashes
)
UPDATE archive_head SET size = :new_size, root = :new_root, updated_at = :now WHERE id = :head_id
""")
_ENTRY_COLUMNS = ("seq", "kind", "source_id", "recorded_at", "sealed", "leaf", "salt", "sealed_content")


def write_append(session: Session, rows: Sequence[dict[str, Any]], tiles: Mapping[TileId, bytes],
                 size: int, root: bytes) -> None:
    """Write an append: its entries (``rows``), the tiles it changed and the head's new size and
    root (the head locked by :func:`lock_head`)."""
    if session.get_bind().dialect.name != "postgresql":
        add_entries(session, rows)
        put_tiles(session, tiles)
        set_head(session, size, root)
        return
    params: dict[str, Any] = {c: [row[c] for row in rows] for c in _ENTRY_COLUMNS}
    utc = UtcDateTime()
    params["recorded_at"] = [utc.process_bind_param(t, session.get_bind().dialect) for t in params["recorded_at"]]
    params["level"] = [t.level for t in tiles]
    params["idx"] = [t.index for t in tiles]
    params["hashes"] = list(tiles.values())
    session.execute(_PG_APPEND, {**params, "new_size": size, "new_root": root, "now": utcnow(), "head_id": HEAD_ID})


def set_head(session: Session, size: int, root: bytes) -> None:
    """Move the head after an append (the row is locked by :func:`lock_head`)."""
    session.execute(_append_statements(session).set_head, {"new_size": size, "new_root": root, "now": utcnow()})


# --- tiles --------------------------------------------------------------------------


class TileTable:
    """The tile table as a ``TileReader`` (one SELECT per call)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._connection: Any = None
        self._sql: dict[int, str] = {}

    def get_tiles(self, ids: Sequence[TileId]) -> Mapping[TileId, bytes]:
        """Fetch the requested tiles that exist, in one SELECT."""
        if not ids:
            return {}
        # A proof's hot path: straight to the DB-API cursor (SQLAlchemy's statement
        # machinery costs more than the lookup itself), on the session's connection of
        # the current transaction.
        connection = self._connection
        if connection is None or connection.closed:
            connection = self._connection = self._session.connection()
        sql = self._sql.get(len(ids))
        if sql is None:
            # OR of (level, idx) pairs, not a row-value IN: SQLite answers the former with
            # one primary-key lookup per pair but scans the whole table for the latter.
            mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
            where = " OR ".join([f"(level = {mark} AND idx = {mark})"] * len(ids))
            sql = self._sql[len(ids)] = f"SELECT level, idx, hashes FROM archive_tile WHERE {where}"  # noqa: S608 (placeholders only)
        params = [value for t in ids for value in t]
        cursor = connection.connection.cursor()
        try:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        finally:
            cursor.close()
        return {TileId(level, idx): bytes(blob) for level, idx, blob in rows}


def put_tiles(session: Session, tiles: Mapping[TileId, bytes]) -> None:
    """Insert or replace tiles (a growing tile is rewritten with the same prefix)."""
    if not tiles:
        return
    session.execute(_append_statements(session).put_tiles,
                    [{"level": t.level, "idx": t.index, "hashes": blob} for t, blob in tiles.items()])


def all_tiles(session: Session) -> dict[TileId, bytes]:
    """Every stored tile (for verification)."""
    rows = session.execute(select(ArchiveTile.level, ArchiveTile.idx, ArchiveTile.hashes))
    return {TileId(level, idx): bytes(blob) for level, idx, blob in rows}


# --- entries ------------------------------------------------------------------------


def add_entries(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert log entries in one statement."""
    if rows:
        session.execute(_append_statements(session).add_entries, list(rows))


def entry(session: Session, seq: int) -> ArchiveEntry | None:
    """One entry by its position in the log."""
    return session.get(ArchiveEntry, seq)


def seqs_for_sources(session: Session, kind: str, source_ids: Sequence[int]) -> dict[int, int]:
    """Map source ids to their log positions."""
    if not source_ids:
        return {}
    rows = session.execute(
        select(ArchiveEntry.source_id, ArchiveEntry.seq).where(
            ArchiveEntry.kind == kind, ArchiveEntry.source_id.in_(list(source_ids))
        )
    )
    return {int(src): int(seq) for src, seq in rows if src is not None}


def logged_sources(session: Session, kind: str) -> set[int]:
    """Ids of the audit events (``kind='event'``) or publications already in the log."""
    rows = session.scalars(
        select(ArchiveEntry.source_id).where(
            ArchiveEntry.kind == kind, ArchiveEntry.source_id.is_not(None)
        )
    )
    return {int(r) for r in rows if r is not None}


def entries_page(session: Session, start: int, limit: int) -> list[ArchiveEntry]:
    """Entries from ``start`` on, in log order."""
    return list(
        session.scalars(
            select(ArchiveEntry)
            .where(ArchiveEntry.seq >= start)
            .order_by(ArchiveEntry.seq)
            .limit(limit)
        )
    )


def entries_desc(session: Session, limit: int, before: int | None = None) -> list[ArchiveEntry]:
    """The newest entries first (for the archive page)."""
    stmt = select(ArchiveEntry).order_by(ArchiveEntry.seq.desc()).limit(limit)
    if before is not None:
        stmt = stmt.where(ArchiveEntry.seq < before)
    return list(session.scalars(stmt))


def iter_entries(session: Session, batch: int = 5000) -> Iterator[Any]:
    """Every entry in log order, streamed as plain rows (no ORM identity map to grow)."""
    columns = (
        ArchiveEntry.seq,
        ArchiveEntry.kind,
        ArchiveEntry.source_id,
        ArchiveEntry.sealed,
        ArchiveEntry.leaf,
        ArchiveEntry.salt,
        ArchiveEntry.sealed_content,
        ArchiveEntry.recorded_at,
    )
    last = -1
    while True:
        rows = session.execute(
            select(*columns).where(ArchiveEntry.seq > last).order_by(ArchiveEntry.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def sealed_secret(session: Session, seq: int) -> tuple[bytes, str] | None:
    """The salt and canonical content of a sealed entry (for a reveal only)."""
    row = session.execute(
        select(ArchiveEntry.salt, ArchiveEntry.sealed_content).where(
            ArchiveEntry.seq == seq, ArchiveEntry.sealed.is_(True)
        )
    ).first()
    if row is None or row[0] is None or row[1] is None:
        return None
    return bytes(row[0]), str(row[1])


# --- checkpoints --------------------------------------------------------------------


def latest_checkpoint(session: Session) -> ArchiveCheckpoint | None:
    """The checkpoint of the largest size."""
    return session.scalars(
        select(ArchiveCheckpoint).order_by(ArchiveCheckpoint.size.desc()).limit(1)
    ).first()


def checkpoint_at(session: Session, size: int) -> ArchiveCheckpoint | None:
    """The checkpoint of exactly ``size`` leaves, if one was signed."""
    return session.scalars(select(ArchiveCheckpoint).where(ArchiveCheckpoint.size == size)).first()


def checkpoints(session: Session, limit: int | None = None) -> list[ArchiveCheckpoint]:
    """Checkpoints, the newest first."""
    stmt = select(ArchiveCheckpoint).order_by(ArchiveCheckpoint.size.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def add_checkpoint(session: Session, checkpoint: ArchiveCheckpoint) -> None:
    """Store a signed checkpoint."""
    session.add(checkpoint)
    session.flush()
