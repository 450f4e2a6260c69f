"""Safe requests (GET, HEAD) read through ``get_engine(read_only=True)``: on SQLite a deferred
transaction that never queues for the write lock; on PostgreSQL autocommit, so a page's reads
cost no BEGIN and COMMIT round trips (docs/architecture.md, "The request path"). Nothing may
write through it (tests/conftest.py checks every statement of every test)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from steward import db as dbmod


def test_read_only_session_reads_and_leaves_no_transaction_open_on_postgresql(db_url: str) -> None:
    with dbmod.new_session(read_only=True) as s:
        assert s.execute(text("SELECT count(*) FROM account_user")).scalar() == 0
        driver = s.connection().connection.dbapi_connection
        if db_url.startswith("postgresql"):
            import psycopg

            # autocommit: the SELECT ran without a BEGIN, and nothing waits for a COMMIT
            assert driver.autocommit
            assert driver.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        s.commit()
    # the read-write engine still wraps its statements in a transaction
    with dbmod.new_session() as s:
        s.execute(text("SELECT 1"))
        if db_url.startswith("postgresql"):
            assert not s.connection().connection.dbapi_connection.autocommit
        assert s.in_transaction()
        s.rollback()


@pytest.mark.parametrize("sql", [
    "DELETE FROM account_user",
    "-- a comment first\nUPDATE account_user SET name = name",
    "WITH gone AS (SELECT id FROM account_user) DELETE FROM account_user WHERE id IN (SELECT id FROM gone)",
])
def test_a_write_through_the_read_only_engine_fails_every_test(db_url: str, sql: str) -> None:
    with pytest.raises(AssertionError, match="read-only engine"), dbmod.get_engine(read_only=True).connect() as c:
        c.execute(text(sql))


def test_reads_through_the_read_only_engine_pass_however_written(db_url: str) -> None:
    with dbmod.get_engine(read_only=True).connect() as c:
        assert c.execute(text("/* counted */ SELECT count(*) FROM account_user")).scalar() == 0
        if db_url.startswith("postgresql"):  # how PostgreSQL compiles a compound of limited selects
            assert c.execute(text("(SELECT 1 LIMIT 1) UNION ALL (SELECT 2)")).all() == [(1,), (2,)]
