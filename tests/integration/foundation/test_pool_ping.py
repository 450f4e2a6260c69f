"""A pooled PostgreSQL connection is tested before use only after it sat idle
(``steward.db.PING_AFTER_IDLE_S``): a connection the database dropped meanwhile is replaced
without the request seeing it, and a connection in steady use costs no extra round trip."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text

from steward import db as dbmod
from tests.conftest import _drop_pg_database, _new_pg_database

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_url(pg_template: dict[str, Any]) -> Iterator[str]:
    url = _new_pg_database(pg_template)
    yield url
    _drop_pg_database(pg_template, url)


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    engine = dbmod.make_engine(pg_url)
    yield engine
    engine.dispose()


def _drop_the_pools_connections(engine: Engine) -> None:
    """What a restart of the database or a failover does to the pool's connections."""
    other = dbmod.make_engine(engine.url.render_as_string(hide_password=False))
    try:
        with other.connect() as c:
            c.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ))
            c.commit()
    finally:
        other.dispose()


def test_a_connection_dropped_while_idle_is_replaced_before_use(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with engine.connect() as c:
        c.execute(text("SELECT 1"))
    _drop_the_pools_connections(engine)
    monkeypatch.setattr(dbmod, "PING_AFTER_IDLE_S", 0.0)  # the pooled connection counts as idle
    with engine.connect() as c:
        assert c.execute(text("SELECT 1")).scalar() == 1


def test_a_connection_in_steady_use_is_not_pinged(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    pings: list[object] = []
    ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(conn) or ping(conn))
    for _ in range(5):
        with engine.connect() as c:
            c.execute(text("SELECT 1"))
    assert pings == []  # pool_pre_ping sent one per checkout after the first: a round trip each
    monkeypatch.setattr(dbmod, "PING_AFTER_IDLE_S", 0.0)
    with engine.connect() as c:
        c.execute(text("SELECT 1"))
    assert len(pings) == 1


def test_a_connection_dropped_within_the_idle_window_fails_once_then_the_pool_is_renewed(
    engine: Engine,
) -> None:
    from sqlalchemy.exc import OperationalError

    with engine.connect() as c:
        c.execute(text("SELECT 1"))
    _drop_the_pools_connections(engine)
    with pytest.raises(OperationalError), engine.connect() as c:
        c.execute(text("SELECT 1"))
    with engine.connect() as c:  # that failure invalidated the pool: a new connection
        assert c.execute(text("SELECT 1")).scalar() == 1
