"""Shared fixtures: fresh databases (SQLite and PostgreSQL), the app, factories, SMTP, browser.

Integration tests take ``db_url`` (or ``session``), which runs each test on SQLite and on a
throwaway PostgreSQL server that pytest-postgresql starts from the Debian binaries.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ["STEWARD_ENVIRONMENT"] = "test"
os.environ.setdefault("STEWARD_SECRET_KEY", "test-secret")

import pytest
from pytest_postgresql import factories
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from steward import db as dbmod
from steward.config import get_settings
from steward.contexts import load_models
from tests.support import Factory

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SHARED_DATA = SHARED / "data"

load_models()


_LEADING = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/|\()*", re.S)
_READS = ("SELECT", "WITH", "PRAGMA", "SHOW", "EXPLAIN", "VALUES")
_WRITES = re.compile(r"\b(?:INSERT|UPDATE|DELETE|MERGE|INTO)\b")


@event.listens_for(Engine, "before_cursor_execute")
def _safe_requests_never_write(conn: Any, _cursor: Any, statement: str, _parameters: Any, context: Any,
                               _executemany: bool) -> None:
    """Safe requests (GET, HEAD) read through the read-only engine, which on PostgreSQL runs in
    autocommit (``steward.db.engine_for``), so a write there would not be atomic: in every test,
    a statement through it other than a read fails."""
    if not conn.get_execution_options().get("steward_read_only"):
        return
    sql = _LEADING.sub("", statement, count=1).upper()
    writes = context is not None and (context.isinsert or context.isupdate or context.isdelete)
    if writes or not sql.startswith(_READS) or (sql.startswith("WITH") and _WRITES.search(sql)):
        raise AssertionError(f"a write through the read-only engine: {statement[:120]}")


postgresql_proc = factories.postgresql_proc(executable=str(REPO / "scripts" / "pg_ctl"), port=None)


def _reset_caches() -> None:
    get_settings.cache_clear()
    dbmod.engine_for.cache_clear()
    dbmod._factory.cache_clear()
    from steward.accounts import service as accounts_service

    accounts_service._hasher.cache_clear()
    accounts_service._dummy_hash.cache_clear()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the full schema, copied for each test (faster than creating it)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = dbmod.make_engine(f"sqlite:///{path}")
    dbmod.Base.metadata.create_all(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template(postgresql_proc: Any) -> dict[str, Any]:
    """A PostgreSQL template database with the full schema; each test clones it."""
    base = f"postgresql+psycopg://{postgresql_proc.user}@{postgresql_proc.host}:{postgresql_proc.port}"
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS steward_template"))
        conn.execute(text("CREATE DATABASE steward_template"))
    engine = create_engine(f"{base}/steward_template")
    dbmod.Base.metadata.create_all(engine)
    engine.dispose()
    return {"base": base, "admin": admin}


def _new_pg_database(pg_template: dict[str, Any]) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with pg_template["admin"].connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE steward_template'))
    return f"{pg_template['base']}/{name}"


def _drop_pg_database(pg_template: dict[str, Any], url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with pg_template["admin"].connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Point Steward's settings at a database URL and a fresh data folder."""

    def apply(url: str, **env: str) -> None:
        monkeypatch.setenv("STEWARD_DATABASE_URL", url)
        monkeypatch.setenv("STEWARD_DATA_DIR", str(tmp_path / "var"))
        for key, value in env.items():
            monkeypatch.setenv(f"STEWARD_{key.upper()}", value)
        _reset_caches()

    yield apply
    dbmod.engine_for.cache_clear()
    _reset_caches()


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "steward.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, configure: Any, tmp_path: Path) -> Iterator[str]:
    """A fresh database with the full schema, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = request.getfixturevalue("sqlite_url")
        configure(url)
        yield url
        return
    template = request.getfixturevalue("pg_template")
    url = _new_pg_database(template)
    configure(url)
    yield url
    dbmod.engine_for.cache_clear()
    _drop_pg_database(template, url)


@pytest.fixture
def sqlite_db(sqlite_url: str, configure: Any) -> str:
    """A fresh SQLite database only (e2e and browser tests)."""
    configure(sqlite_url)
    return sqlite_url


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    s = dbmod.new_session()
    try:
        yield s
    finally:
        s.rollback()
        s.close()
        dbmod.get_engine().dispose()


# ---------------------------------------------------------------- factories


@pytest.fixture
def make() -> Factory:
    return Factory()


# ---------------------------------------------------------------- HTTP


@pytest.fixture
def app(sqlite_db: str) -> Any:
    from steward.app import create_app

    return create_app()


@pytest.fixture
def client(app: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://testserver", follow_redirects=False) as c:
        yield c


# ---------------------------------------------------------------- SMTP


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from email import message_from_bytes, policy

        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on loopback; Steward's settings point at it."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("STEWARD_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("STEWARD_SMTP_PORT", str(port))
    get_settings.cache_clear()
    try:
        yield mailbox
    finally:
        controller.stop()
        get_settings.cache_clear()


# ---------------------------------------------------------------- live server and browser


class LiveServer:
    def __init__(self, url: str) -> None:
        self.url = url


@pytest.fixture
def live_server(sqlite_db: str) -> Iterator[LiveServer]:
    """Steward served by uvicorn on loopback, in a thread, on a fresh SQLite database."""
    import uvicorn

    from steward.app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=10)


CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("STEWARD_CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, tmp_path: Path) -> Iterator[Any]:
    context = browser.new_context()
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    artifacts = REPO / "var" / "screenshots"
    artifacts.mkdir(parents=True, exist_ok=True)
    context.close()


