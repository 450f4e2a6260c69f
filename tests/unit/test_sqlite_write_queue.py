"""The SQLite write queue (steward.db._WriteQueue, _QueuedConnection): Steward's writers of one
database take a thread lock and an ``flock`` of ``<database>-writelock`` before ``BEGIN
IMMEDIATE`` and give both back once COMMIT or ROLLBACK has run, or the connection closes.

Every wait here is bounded: the engines use a short busy timeout, so a queue that were never
given back would fail the test with "database is locked" instead of hanging it.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from steward import db as dbmod

SHORT = 2  # seconds a writer of these tests waits for a queue before giving up


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'queue.db'}"


@pytest.fixture
def engine(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setattr(dbmod, "SQLITE_BUSY_TIMEOUT_S", SHORT)
    engine = dbmod.make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"))
        conn.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO counter (id, n) VALUES (1, 0)"))
    yield engine
    engine.dispose()


def queue_of(url: str) -> dbmod._WriteQueue:
    return dbmod._write_queue(url)


def write_again(engine: Engine, value: str) -> None:
    """A second connection's whole write transaction (fails after SHORT if the queue is held)."""
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": value})


def start_writing(conn: Any, queue: dbmod._WriteQueue, value: str) -> None:
    """Begin a write transaction on ``conn`` and insert ``value``: the queue is then held."""
    conn.begin()
    conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": value})
    assert queue.threads.locked()


def values(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT v FROM t ORDER BY id")).scalars())


def test_the_queue_is_free_after_a_commit_and_after_a_rollback(engine: Engine, url: str) -> None:
    queue = queue_of(url)
    with engine.connect() as conn:
        start_writing(conn, queue, "kept")  # held for the transaction
        conn.commit()
        assert not queue.threads.locked()
        write_again(engine, "after commit")

        start_writing(conn, queue, "dropped")
        conn.rollback()
        assert not queue.threads.locked()
        write_again(engine, "after rollback")
    assert values(engine) == ["kept", "after commit", "after rollback"]
    assert not queue.threads.locked()


def test_a_failed_statement_then_rollback_frees_the_queue(engine: Engine, url: str) -> None:
    queue = queue_of(url)
    with pytest.raises(Exception, match="NOT NULL"), engine.begin() as conn:
        conn.execute(text("INSERT INTO t (v) VALUES (NULL)"))
    assert not queue.threads.locked()
    write_again(engine, "next")
    assert values(engine) == ["next"]


def test_closing_a_connection_in_a_write_transaction_frees_the_queue(engine: Engine, url: str) -> None:
    queue = queue_of(url)
    # back to the pool (SQLAlchemy rolls the transaction back)
    conn = engine.connect()
    start_writing(conn, queue, "lost 1")
    conn.close()
    assert not queue.threads.locked()
    write_again(engine, "after close")

    # the DBAPI connection itself closed (invalidated: never returns to the pool)
    conn = engine.connect()
    start_writing(conn, queue, "lost 2")
    conn.invalidate()
    assert not queue.threads.locked()
    conn.close()
    write_again(engine, "after invalidate")

    # a plain sqlite3 close() of the queued connection
    raw = engine.raw_connection()
    queued = raw.dbapi_connection
    assert isinstance(queued, dbmod._QueuedConnection)
    queued.begin_immediate(SHORT)
    assert queue.threads.locked()
    queued.close()
    assert not queue.threads.locked()
    raw.invalidate()
    write_again(engine, "after raw close")

    assert values(engine) == ["after close", "after invalidate", "after raw close"]


def test_two_threads_incrementing_one_row_lose_no_update(engine: Engine) -> None:
    """Read-then-write transactions: each one's SELECT already holds the write lock (BEGIN
    IMMEDIATE), so no increment is lost and none fails with "database is locked"."""
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def work() -> None:
        session = dbmod.new_session(engine)
        try:
            start.wait(timeout=SHORT)
            for _ in range(50):
                n = session.execute(text("SELECT n FROM counter WHERE id = 1")).scalar_one()
                session.execute(text("UPDATE counter SET n = :n WHERE id = 1"), {"n": n + 1})
                session.commit()
        except BaseException as exc:  # reported below, with its message
            errors.append(exc)
            session.rollback()
        finally:
            session.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter WHERE id = 1")).scalar_one() == 100


CHILD_WRITER = """
import sys
from sqlalchemy import text
from steward import db
engine = db.make_engine(sys.argv[1])
with engine.begin() as conn:
    conn.execute(text("INSERT INTO t (v) VALUES ('child')"))
    print("held", flush=True)
    sys.stdin.readline()
print("committed", flush=True)
engine.dispose()
"""

CHILD_QUEUE_ONLY = """
import fcntl, os, sys
# the queue's protocol, without importing Steward (quicker to start): flock <database>-writelock
fd = os.open(os.path.realpath(sys.argv[1].split("///", 1)[1]) + "-writelock", os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.readline()
fcntl.flock(fd, fcntl.LOCK_UN)
print("released", flush=True)
"""


def _child(script: str, url: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", script, url], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=dict(os.environ))


def _writer_thread(engine: Engine, got: list[str], seen: list[str]) -> threading.Thread:
    def write() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t (v) VALUES ('parent')"))  # BEGIN IMMEDIATE ran first
            got.append("parent has the lock")
            seen.extend(conn.execute(text("SELECT v FROM t ORDER BY id")).scalars())

    return threading.Thread(target=write)


def _wait_behind(child: subprocess.Popen[str], engine: Engine, url: str, then: str) -> list[str]:
    """Start a writer here while ``child`` holds the queue; it must wait until the child lets go.
    Returns what this process's writer saw in its transaction."""
    assert child.stdout is not None and child.stdin is not None
    try:
        assert child.stdout.readline().strip() == "held"
        assert Path(url.split("///", 1)[1] + "-writelock").exists()
        got: list[str] = []
        seen: list[str] = []
        writer = _writer_thread(engine, got, seen)
        writer.start()
        threading.Event().wait(0.3)  # time for the writer to get the lock if it could; only order is asserted
        assert got == []  # still queued behind the other process
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == then
        writer.join(timeout=10)
        assert not writer.is_alive()
        assert got == ["parent has the lock"]
        assert child.wait(timeout=10) == 0
        return seen
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_a_writer_in_another_process_makes_this_one_wait_until_it_commits(engine: Engine, url: str) -> None:
    seen = _wait_behind(_child(CHILD_WRITER, url), engine, url, then="committed")
    assert seen == ["child", "parent"]  # this transaction began after the child's commit


def test_the_queue_spans_processes_by_itself(engine: Engine, url: str) -> None:
    """The other process holds the queue's lock file (the flock) but no SQLite lock: SQLite's busy
    handler has nothing to wait for, so only the queue can keep this process's writer waiting."""
    seen = _wait_behind(_child(CHILD_QUEUE_ONLY, url), engine, url, then="released")
    assert seen == ["parent"]


def test_write_generation_changes_only_when_a_write_transaction_commits(
        url: str, engine: Engine, configure: Any) -> None:
    configure(url)
    before = dbmod.write_generation()
    write_again(engine, "x")
    after_write = dbmod.write_generation()
    assert after_write != before

    reader = dbmod.new_session(read_only=True)
    try:
        assert reader.execute(text("SELECT v FROM t")).scalars().all() == ["x"]
        reader.commit()
    finally:
        reader.close()
    assert dbmod.write_generation() == after_write

    with engine.connect() as conn:  # a rolled-back write changes nothing either
        conn.begin()
        conn.execute(text("INSERT INTO t (v) VALUES ('y')"))
        conn.rollback()
    assert dbmod.write_generation() == after_write

    session = dbmod.new_session()  # an ORM-less write through a session of the write engine
    try:
        session.execute(text("INSERT INTO t (v) VALUES ('z')"))
        session.commit()
    finally:
        session.close()
    assert dbmod.write_generation() != after_write


def test_a_write_transaction_that_only_reads_leaves_the_generation_alone(engine: Engine, url: str,
                                                                           configure: Any) -> None:
    configure(url)
    before = dbmod.write_generation()
    with engine.begin() as conn:  # BEGIN IMMEDIATE, a SELECT, COMMIT: nothing written
        conn.execute(text("SELECT count(*) FROM t"))
    assert dbmod.write_generation() == before
    assert not dbmod._write_queue(url).threads.locked()


def test_a_writer_waits_for_another_process_no_longer_than_the_busy_timeout(
        engine: Engine, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process that keeps the queue's lock file (a long import, a stopped process) makes a
    writer here fail with "database is locked" after the busy timeout; the queue is whole after."""
    import fcntl

    from sqlalchemy.exc import OperationalError

    monkeypatch.setattr(dbmod, "SQLITE_BUSY_TIMEOUT_S", 0.2)
    # an flock of another open file description is another holder, as another process would be
    other = os.open(url.split("///", 1)[1] + "-writelock", os.O_RDWR)
    try:
        fcntl.flock(other, fcntl.LOCK_EX)
        with pytest.raises((OperationalError, sqlite3.OperationalError), match="database is locked"):
            write_again(engine, "blocked")
        # the helper still waiting on the file keeps this process's place until it gets the file
        assert queue_of(url).threads.locked()
    finally:
        fcntl.flock(other, fcntl.LOCK_UN)
        os.close(other)
    for _ in range(200):  # then gives both back (bounded: 2 s)
        if not queue_of(url).threads.locked():
            break
        threading.Event().wait(0.01)
    assert not queue_of(url).threads.locked()
    write_again(engine, "after")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT v FROM t")).scalars().all() == ["after"]


def test_a_writer_waiting_on_another_process_gets_the_lock_the_moment_it_is_freed(
        engine: Engine, url: str) -> None:
    """The wait on another process's lock file blocks (no polling): it ends when the file is freed
    and the writer then holds both the process's place and the file."""
    import fcntl

    queue = queue_of(url)
    other = os.open(url.split("///", 1)[1] + "-writelock", os.O_RDWR)
    fcntl.flock(other, fcntl.LOCK_EX)
    got = threading.Event()

    def writer() -> None:
        queue.acquire(SHORT)
        got.set()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert not got.wait(0.2)  # still waiting behind the other holder
        fcntl.flock(other, fcntl.LOCK_UN)
        assert got.wait(SHORT)
        with pytest.raises(BlockingIOError):  # the writer holds the file now
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert queue.threads.locked()
    finally:
        thread.join(SHORT)
        if got.is_set():
            queue.release()
        os.close(other)
    assert not queue.threads.locked()
