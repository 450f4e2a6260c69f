"""``steward backup`` / ``steward restore``: a consistent copy of the database, and back.

SQLite uses its online backup API (consistent while the app runs, WAL included); PostgreSQL uses
``pg_dump --format=custom`` and ``pg_restore --clean``. The signing keys and uploads in the data
folder are backed up separately (see docs/operations.md).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from steward.config import Settings
from steward.errors import Invalid


def _sqlite_path(settings: Settings) -> Path:
    database = make_url(settings.database_url).database
    if not database:
        raise Invalid("the SQLite URL names no file", field="STEWARD_DATABASE_URL")
    return Path(database)


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not candidates:
        raise Invalid(f"{name} is not installed (Debian package postgresql-client)")
    return str(candidates[-1])


def _libpq_url(settings: Settings) -> str:
    return make_url(settings.database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def backup(settings: Settings, target: Path) -> Path:
    """Write a consistent copy of the database to ``target``."""
    target = target.expanduser().resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    if settings.is_sqlite:
        source = sqlite3.connect(_sqlite_path(settings))
        dest = sqlite3.connect(target)
        try:
            with dest:
                source.backup(dest)
        finally:
            dest.close()
            source.close()
        return target
    subprocess.run(
        [_pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target}", _libpq_url(settings)],
        check=True, env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
    )
    return target


def restore(settings: Settings, source: Path) -> None:
    """Replace the database's content with a backup made by :func:`backup`."""
    source = source.expanduser().resolve()
    if not source.is_file():
        raise Invalid(f"no backup file at {source}", field="FILE")
    if settings.is_sqlite:
        with source.open("rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                raise Invalid(f"{source} is not a SQLite backup", field="FILE")
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dest = sqlite3.connect(_sqlite_path(settings))
        try:
            src.backup(dest)
        finally:
            dest.close()
            src.close()
        return
    with source.open("rb") as fh:
        if fh.read(5) != b"PGDMP":
            raise Invalid(f"{source} is not a pg_dump custom-format backup", field="FILE")
    subprocess.run(
        [_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
         f"--dbname={_libpq_url(settings)}", str(source)],
        check=True,
    )
