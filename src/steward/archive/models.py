"""The archive's tables: log entries, the Merkle tree's tiles, the log head, checkpoints.

Importing this module registers the archive as a listener of ``steward.events``, so every
audit event and publication enters the log in the transaction that records it (appended
when that transaction commits).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from steward import events
from steward.db import Base, UtcDateTime, utcnow


class ArchiveEntry(Base):
    """One leaf of the log. ``leaf`` is the exact canonical JSON that was hashed.

    A sealed entry's ``leaf`` holds only a commitment; its ``salt`` and
    ``sealed_content`` are confidential and never leave the service unrevealed.
    """

    __tablename__ = "archive_entry"
    __table_args__ = (UniqueConstraint("kind", "source_id"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[int | None] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sealed: Mapped[bool] = mapped_column(Boolean, default=False)
    leaf: Mapped[str] = mapped_column(Text)
    salt: Mapped[bytes | None] = mapped_column(LargeBinary)
    sealed_content: Mapped[str | None] = mapped_column(Text)


class ArchiveTile(Base):
    """The final node hashes of one tile of the tree (see ``steward.archive.tiles``)."""

    __tablename__ = "archive_tile"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hashes: Mapped[bytes] = mapped_column(LargeBinary)


class ArchiveHead(Base):
    """The one row holding the log's size and root; appenders lock it to take turns."""

    __tablename__ = "archive_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    root: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ArchiveCheckpoint(Base):
    """A signed checkpoint (C2SP signed note) of the log at ``size``."""

    __tablename__ = "archive_checkpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, unique=True)
    root: Mapped[bytes] = mapped_column(LargeBinary)
    note: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


PENDING = "archive_pending"


def _archive_listener(session: Session, record: Any) -> None:
    # Queue the record; it is appended just before the transaction commits, so the log
    # head's lock is held only for the commit itself (no lock-order deadlocks with the
    # rows the use case touched) and log order is commit order.
    session.info.setdefault(PENDING, []).append(record)


@event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    if session.info.get(PENDING):
        from steward.archive.service import drain_pending

        drain_pending(session)


@event.listens_for(Session, "after_transaction_end")
def _drop_pending(session: Session, transaction: Any) -> None:
    # at the end of the transaction (committed: drained already; rolled back: nothing to log);
    # not at a savepoint's rollback, which keeps what was recorded before it (drain_pending skips
    # the records the savepoint took back)
    if transaction.parent is None:
        session.info.pop(PENDING, None)


if _archive_listener not in events.LISTENERS:
    events.LISTENERS.append(_archive_listener)
