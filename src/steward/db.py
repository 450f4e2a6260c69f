"""Engine, sessions and the declarative base shared by every context."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, exc
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from steward.errors import Invalid

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# how long a SQLite writer waits for the lock held by a writer outside Steward (the sqlite3 shell)
SQLITE_BUSY_TIMEOUT_S = 10


_generation = [0]


def write_generation() -> int:
    """A number that changes whenever a transaction of this process that may change a public page
    has committed: a response made under an earlier number may be out of date
    (steward.middleware.PublicCache)."""
    return _generation[0]


def _bump_generation() -> None:
    _generation[0] += 1


# Tables no public page reads (steward.middleware.PublicCache's pages; tests/e2e/test_public_cache.py
# checks it): a transaction that writes only these leaves this process's kept public pages as they
# are. Every dispute action writes nothing else (its case, file, audit event, archive entry, mail),
# and each used to send the next visitor of the portal into the application. archive_entry is read
# by the portal only for a publication's position, and is written in the publication's transaction.
PRIVATE_TABLES = frozenset({
    "dispute_case", "dispute_document", "dispute_attachment", "dispute_timeline", "dispute_participant",
    "dispute_remedial_action", "dispute_disclosure_consent", "audit_event", "archive_entry", "archive_tile",
    "archive_head", "outbox_email", "account_session", "account_login_failure", "account_api_token",
    "worker_task",
})
# A statement's writes: every writing word must be a plain write naming a private table for the
# statement not to count ("DO UPDATE" of an upsert and "FOR [NO KEY] UPDATE" of a locking read
# write nothing of their own; INSERT OR …, MERGE, a schema-qualified name: not vouched for, count)
_WRITING_WORD = re.compile(r"\b(?:INSERT|UPDATE|DELETE|MERGE|REPLACE|UPSERT)\b", re.IGNORECASE)
_PLAIN_WRITE = re.compile(r'(?:INSERT\s+INTO|DELETE\s+FROM|UPDATE)\s+"?(\w+)"?[\s(]', re.IGNORECASE)
_NOT_A_WRITE = re.compile(r"(?:\bDO|\bFOR|\bKEY)\s+$", re.IGNORECASE)
_NOT_WRITES = ("SELECT", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA", "SET ", "SHOW")


def changes_public_pages(statement: str) -> bool:
    """Whether a statement may change what a public page shows: a write to any table but the
    PRIVATE_TABLES. A statement it cannot read (DDL, anything unusual) counts."""
    head = statement.lstrip()[:9].upper()
    if head.startswith(_NOT_WRITES):
        return False
    writes = [m.start() for m in _WRITING_WORD.finditer(statement)]
    if not writes:
        return not head.startswith("WITH")  # WITH … SELECT reads; DDL and the unknown count
    return any(_public_write_at(statement, at) for at in writes)


def _public_write_at(statement: str, at: int) -> bool:
    if _NOT_A_WRITE.search(statement, max(0, at - 12), at):
        return False
    plain = _PLAIN_WRITE.match(statement, at)
    return plain is None or plain.group(1).lower() not in PRIVATE_TABLES


def note_statement(dbapi_connection: Any, statement: str) -> None:
    """Mark the driver's connection if ``statement`` may change a public page (seen by SQLite's
    commit, _QueuedConnection, and by a session's). Every statement through SQLAlchemy is noted;
    code that writes straight through the driver (steward.sla.repository) notes its own."""
    if changes_public_pages(statement):
        with contextlib.suppress(AttributeError):  # a connection that takes no mark counts as written
            dbapi_connection.steward_public_write = True


@event.listens_for(Engine, "before_cursor_execute")
def _note_public_write(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
    note_statement(cursor.connection, statement)


def _took_public_write(dbapi_connection: Any) -> bool:
    wrote = bool(getattr(dbapi_connection, "steward_public_write", False))
    try:
        dbapi_connection.steward_public_write = False
    except AttributeError:  # pysqlite's plain connection (not Steward's): every commit counts
        return True
    return wrote


@event.listens_for(Session, "after_begin")
def _session_began(session: Session, transaction: Any, connection: Any) -> None:
    if transaction.nested:
        return  # a savepoint: the transaction's connection and mark go on
    dbapi_connection = connection.connection.dbapi_connection
    _took_public_write(dbapi_connection)  # nothing left over from the connection's earlier use
    session.info.setdefault("steward_connections", []).append(dbapi_connection)


@event.listens_for(Session, "after_commit")
def _session_committed(session: Session) -> None:
    # PostgreSQL (SQLite's commit has done it already, and taken the mark); not at a savepoint's
    # release, which also calls this: the transaction has not committed yet
    if session.in_nested_transaction():
        return
    took = [_took_public_write(c) for c in session.info.get("steward_connections", [])]  # every mark taken
    if any(took):
        _bump_generation()


@event.listens_for(Session, "after_transaction_end")
def _session_ended(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the transaction, committed or not (a savepoint's end changes nothing)
        for c in session.info.pop("steward_connections", []):
            _took_public_write(c)


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
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class _WriteQueue:
    """Steward's writers of one SQLite database queue here before ``BEGIN IMMEDIATE``: the threads
    of a process on a lock, the processes on an ``flock`` of ``<database>-writelock``.

    SQLite itself makes a writer that finds the lock taken retry by sleeping (1, 2, 5, 10 … 100 ms),
    so colliding writers waited many times longer than the holder needed; a queue hands the lock
    on as soon as it is free. The busy timeout stays as the net for writers outside Steward (the
    ``sqlite3`` shell). A writer waits at most ``timeout`` (the busy timeout) in all for its place,
    as SQLite would have: past it the request fails with "database is locked", which the app
    answers 503 (try again). Linux cannot wait for an ``flock`` with a time limit, and polling one
    would hand it on late and unfairly; a writer that finds another process holding it therefore
    blocks in a helper thread and waits for that thread at most the time left. If the time runs
    out, the helper keeps the process's place until it gets the file lock, then gives both back.
    """

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.threads = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int | None:
        if self.path is None:
            return None
        if self._pid != os.getpid():  # a forked child must not share its parent's lock file
            self._fd = os.open(self.path + "-writelock", os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def acquire(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        if not self.threads.acquire(timeout=timeout):
            raise sqlite3.OperationalError("database is locked (another writer of this process held it)")
        try:
            fd = self._file()
            if fd is None:
                return
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                pass
        except BaseException:
            self.threads.release()
            raise
        self._wait_for_file(fd, deadline, timeout)

    def _wait_for_file(self, fd: int, deadline: float, timeout: float) -> None:
        """Block on the file lock in a helper thread; give up (raising) at ``deadline``. Holds the
        process's place (``threads``) on entry; on return holds both; on a raise holds neither
        (the helper gives back what it still holds or gets)."""
        done = threading.Event()
        guard = threading.Lock()
        outcome: dict[str, BaseException | bool] = {}

        def wait() -> None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException as err:  # handed to the waiting writer
                failure: BaseException | None = err
            else:
                failure = None
            with guard:
                if outcome.get("abandoned"):  # the writer gave up meanwhile: give both back
                    if failure is None:
                        fcntl.flock(fd, fcntl.LOCK_UN)
                    self.threads.release()
                    return
                if failure is not None:
                    outcome["failure"] = failure
                done.set()

        threading.Thread(target=wait, name="steward-writelock", daemon=True).start()
        done.wait(max(0.0, deadline - time.monotonic()))
        with guard:
            if not done.is_set():
                outcome["abandoned"] = True
                raise sqlite3.OperationalError(
                    f"database is locked (another process's writer held it for over {timeout:g} s)")
        failure = outcome.get("failure")
        if isinstance(failure, BaseException):
            self.threads.release()
            raise failure

    def release(self) -> None:
        try:
            fd = self._file()
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self.threads.release()


_queues: dict[str, _WriteQueue] = {}
_queues_lock = threading.Lock()


def _write_queue(url: str) -> _WriteQueue:
    database = make_url(url).database
    key = str(Path(database).resolve()) if database and database != ":memory:" else ""
    with _queues_lock:
        if key not in _queues:
            _queues[key] = _WriteQueue(key or None)
        return _queues[key]


class _QueuedConnection(sqlite3.Connection):
    """A pysqlite connection whose write transactions go through the database's write queue:
    taken before ``BEGIN IMMEDIATE``, given back once COMMIT or ROLLBACK has run (or the
    connection closes)."""

    queue: _WriteQueue | None = None
    holding = False
    changes_at_begin = 0
    steward_public_write = False  # set by _note_public_write

    def begin_immediate(self, timeout: float) -> None:
        self.steward_public_write = False
        if self.queue is None:
            self.execute("BEGIN IMMEDIATE")
            return
        self.queue.acquire(timeout)
        self.holding = True
        self.changes_at_begin = self.total_changes
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._give_back()
            raise

    def _give_back(self) -> None:
        if self.holding and self.queue is not None:
            self.holding = False
            self.queue.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            # a failed COMMIT can leave the transaction open: keep the lock until its rollback
            if not self.in_transaction:
                if self.holding and self.total_changes != self.changes_at_begin and _took_public_write(self):
                    _bump_generation()  # rows a public page may show were written (ORM, Core, SQL text)
                self._give_back()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._give_back()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._give_back()



def _sqlite_begin(conn: Any) -> None:
    # pysqlite's own transaction handling defers BEGIN; take the write lock up front
    # so that read-then-write transactions do not fail with "database is locked".
    dbapi_connection = conn.connection.dbapi_connection
    if isinstance(dbapi_connection, _QueuedConnection):
        dbapi_connection.begin_immediate(SQLITE_BUSY_TIMEOUT_S)
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_begin_deferred(conn: Any) -> None:
    # straight to the driver: a read-only request's BEGIN through SQLAlchemy's execution path
    # cost more than its query
    conn.connection.dbapi_connection.execute("BEGIN")


def make_folder(folder: Path, setting: str) -> None:
    """Create ``folder`` (and its parents) or say which setting names a folder that cannot be."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise Invalid(f"cannot create the folder {folder}: {exc.strerror or exc}", field=setting) from None


def make_engine(url: str, *, immediate: bool = True) -> Engine:
    """Create an engine; for SQLite, create the folder and turn on WAL, foreign keys, busy timeout.

    ``immediate=False`` gives a SQLite engine whose transactions begin deferred: for read-only
    requests, which then never wait for (or hold) the write lock; WAL lets them read alongside a
    writer. PostgreSQL ignores the flag (``engine_for`` gives read-only requests autocommit).
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            make_folder(Path(path).parent, "STEWARD_DATABASE_URL")
        engine = create_engine(url, **_pool_size(), connect_args={
            "timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False, "factory": _QueuedConnection})
        event.listen(engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        if immediate:
            queue = _write_queue(url)

            @event.listens_for(engine, "connect")
            def _join_queue(dbapi_connection: Any, _record: Any) -> None:
                dbapi_connection.queue = queue

            event.listen(engine, "begin", _sqlite_begin)
        else:
            event.listen(engine, "begin", _sqlite_begin_deferred)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, **_pool_size())
    _ping_after_idle(engine)
    return engine


# A pooled PostgreSQL connection unused for this long is tested before use.
PING_AFTER_IDLE_S = 5.0


def _ping_after_idle(engine: Engine) -> None:
    """Test a pooled connection that sat idle before handing it out, as ``pool_pre_ping`` does, but
    only after ``PING_AFTER_IDLE_S``. pool_pre_ping pinged at every checkout: one more round trip
    per request (a DUG board visit: four → five), while a connection in steady use has just
    proved itself. A dead idle connection (the database restarted, a failover, a firewall's idle
    timeout) is replaced, with every pooled connection older than it; a connection that dies
    within the idle window fails its first statement, and SQLAlchemy then invalidates the pool the
    same way (the requests that had taken such a connection meanwhile answer 500)."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as err:
            if dialect.is_disconnect(err, dbapi_connection, None):
                raise exc.InvalidatePoolError("a pooled connection was dead after idling") from err
            raise


def _pool_size() -> dict[str, int]:
    """Connections for every request the admission gate lets in at once (steward.middleware),
    and a few more for the worker's and the CLI's own sessions."""
    from steward.config import get_settings

    return {"pool_size": get_settings().max_concurrent_requests, "max_overflow": 10}


@functools.cache
def engine_for(url: str, immediate: bool = True) -> Engine:
    if not immediate and not url.startswith("sqlite"):
        # PostgreSQL: a read-only request's statements run in autocommit, on the same pool. At
        # READ COMMITTED every statement reads its own snapshot anyway; BEGIN and COMMIT were two
        # more round trips (a DUG board visit: six → four), each a wait for the database and for
        # the GIL back.
        return engine_for(url).execution_options(isolation_level="AUTOCOMMIT", steward_read_only=True)
    engine = make_engine(url, immediate=immediate)
    # marked so that the tests can refuse any write through it (tests/conftest.py)
    return engine if immediate else engine.execution_options(steward_read_only=True)


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
