"""Engine, sessions and the declarative base shared by every context."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UtcDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # pysqlite's own transaction handling defers BEGIN; take the write lock up front
    # so that read-then-write transactions do not fail with "database is locked".
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, immediate: bool = True) -> Engine:
    """Create an engine; for SQLite, create the folder and turn on WAL, foreign keys, busy timeout.

    ``immediate=False`` gives a SQLite engine whose transactions begin deferred: for read-only
    requests, which then never wait for (or hold) the write lock; WAL lets them read alongside a
    writer. PostgreSQL ignores the flag.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 10, "check_same_thread": False}, **_pool_size())
        event.listen(engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        if immediate:
            event.listen(engine, "begin", _sqlite_begin)
        else:
            event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, **_pool_size())


def _pool_size() -> dict[str, int]:
    """Connections for every request the admission gate lets in at once (steward.middleware),
    and a few more for the worker's and the CLI's own sessions."""
    from steward.config import get_settings

    return {"pool_size": get_settings().max_concurrent_requests, "max_overflow": 10}


@functools.cache
def engine_for(url: str, immediate: bool = True) -> Engine:
    if not immediate and not url.startswith("sqlite"):
        return engine_for(url)
    return make_engine(url, immediate=immediate)


def get_engine(*, read_only: bool = False) -> Engine:
    from steward.config import get_settings

    return engine_for(get_settings().database_url, immediate=not read_only)


@functools.cache
def _factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on error. Used by the CLI and the worker."""
    session = _factory(engine or get_engine())()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def new_session(engine: Engine | None = None, *, read_only: bool = False) -> Session:
    return _factory(engine or get_engine(read_only=read_only))()
