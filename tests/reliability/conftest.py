"""Fixtures for the reliability tests: an empty database made ready by a real ``steward init``
(SQLite file, or a new database on the throwaway PostgreSQL server), run as subprocesses."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from steward import db as dbmod
from tests.reliability.procs import Deployment


def _empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'steward.db'}"
        return
    template = request.getfixturevalue("pg_template")
    name = f"r_{uuid.uuid4().hex[:12]}"
    with template["admin"].connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{template['base']}/{name}"
    finally:
        dbmod.engine_for.cache_clear()
        with template["admin"].connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no schema yet), on SQLite and on PostgreSQL."""
    yield from _empty_database(request, tmp_path)


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_pg_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty PostgreSQL database only (scale-out needs a server database)."""
    yield from _empty_database(request, tmp_path)


def _ready(url: str, tmp_path: Path, configure: Any, smtp: Any) -> Iterator[Deployment]:
    dep = Deployment(url, tmp_path / "var", smtp_port=getattr(smtp, "port", None))
    dep.run("init")
    configure(url)  # this process (factories, checks) uses the same database and data folder
    try:
        yield dep
    finally:
        dep.stop_all()
        dbmod.get_engine().dispose()


@pytest.fixture
def deployment(empty_url: str, tmp_path: Path, configure: Any, smtp_server: Any) -> Iterator[Deployment]:
    """``steward init`` done on an empty database; start ``serve``/``worker`` from the test."""
    yield from _ready(empty_url, tmp_path, configure, smtp_server)


@pytest.fixture
def pg_deployment(empty_pg_url: str, tmp_path: Path, configure: Any, smtp_server: Any) -> Iterator[Deployment]:
    yield from _ready(empty_pg_url, tmp_path, configure, smtp_server)
