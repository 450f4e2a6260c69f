"""`steward backup` and `steward restore` as a user runs them: anything but a Steward backup is
refused, a missing database is not created, a bad target is refused, and an existing file is kept
unless --force; each with a one-line error, exit status 1, no traceback and nothing changed. The
copy shows a progress bar. SQLite throughout; PostgreSQL (pg_dump) for the refusals and a round trip.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from steward import backup as backup_mod
from steward import db as dbmod
from steward.cli import app
from steward.config import get_settings

STEWARD = str(Path(sys.executable).with_name("steward"))
runner = CliRunner()
TLDS = "Domain,Type,TLD Manager\n.alpha,generic,A\n.beta,generic,B\n"
MORE_TLDS = TLDS + ".gamma,generic,C\n"


def invoke(*args: str, input: str | None = None) -> Any:
    return runner.invoke(app, list(args), input=input, catch_exceptions=False)


def flat(s: str) -> str:
    """Without whitespace: rich wraps long lines at 80 columns when not writing to a terminal."""
    return "".join(s.split())


def refused(result: Any, *parts: str) -> None:
    """Exit status 1, one error naming ``parts``, no traceback."""
    out = result.output
    assert result.exit_code == 1, out
    assert "Traceback" not in out and out.count("Error:") == 1, out
    for part in parts:
        assert flat(part) in flat(out), (part, out)


def steward_init(url: str, data_dir: Path) -> None:
    env = {**os.environ, "STEWARD_DATABASE_URL": url, "STEWARD_DATA_DIR": str(data_dir)}
    done = subprocess.run([STEWARD, "init"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def sqlite_copy(source: Path, target: Path) -> None:
    src, dest = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dest)
    finally:
        dest.close()
        src.close()


def sqlite_content(path: Path) -> list[str]:
    dbmod.get_engine().dispose()
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database made by a real `steward init` (copied for each test)."""
    folder = tmp_path_factory.mktemp("steward-init")
    steward_init(f"sqlite:///{folder / 'steward.db'}", folder / "var")
    return folder / "steward.db"


@pytest.fixture
def database(tmp_path: Path, configure: Any, initialised: Path) -> Path:
    """This test's Steward database (SQLite) with two TLDs."""
    path = tmp_path / "steward.db"
    sqlite_copy(initialised, path)
    configure(f"sqlite:///{path}")
    tlds = tmp_path / "tlds.csv"
    tlds.write_text(TLDS, encoding="utf-8")
    assert invoke("registry", "import", str(tlds)).exit_code == 0
    return path


@pytest.fixture
def good_backup(database: Path, tmp_path: Path) -> Path:
    target = tmp_path / "backups" / "good.backup"
    result = invoke("backup", str(target))
    assert result.exit_code == 0, result.output
    return target


def tld_count(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM registry_tld").fetchone()[0])
    finally:
        conn.close()


# ---------------------------------------------------------------- 1. restore refuses non-backups


def _empty(p: Path, _good: Path) -> str:
    p.write_bytes(b"")
    return "the file is empty"


def _other_program(p: Path, _good: Path) -> str:
    conn = sqlite3.connect(p)
    conn.execute("CREATE TABLE photo (id INTEGER PRIMARY KEY, name TEXT)")
    conn.commit()
    conn.close()
    return "no alembic_version table"


def _fake_header(p: Path, _good: Path) -> str:
    p.write_bytes(b"SQLite format 3\x00" + b"\x00" * 4080)
    return "not a readable SQLite database"


def _fake_header_real_page(p: Path, good: Path) -> str:
    p.write_bytes(good.read_bytes()[:100] + os.urandom(8192))
    return "is not a Steward backup"


def _truncated(p: Path, good: Path) -> str:
    data = good.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    return "it is truncated"


def _text(p: Path, _good: Path) -> str:
    p.write_text("hello, not a backup\n", encoding="utf-8")
    return "not a SQLite database"


def _pg_dump(p: Path, _good: Path) -> str:
    p.write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 100)
    return "PostgreSQL backup"


def _unknown_revision(p: Path, good: Path) -> str:
    sqlite_copy(good, p)
    conn = sqlite3.connect(p)
    conn.execute("UPDATE alembic_version SET version_num = 'f00dfeed'")
    conn.commit()
    conn.close()
    return "revision f00dfeed is unknown"


def _steward_tables_missing(p: Path, good: Path) -> str:
    sqlite_copy(good, p)
    conn = sqlite3.connect(p)
    conn.execute("DROP TABLE archive_head")
    conn.commit()
    conn.close()
    return "tables are missing from it: archive_head"


@pytest.mark.parametrize("make_file", [
    _empty, _other_program, _fake_header, _fake_header_real_page, _truncated, _text, _pg_dump,
    _unknown_revision, _steward_tables_missing,
], ids=lambda f: f.__name__.strip("_"))
def test_restore_refuses_anything_but_a_steward_backup_and_changes_nothing(
    make_file: Any, database: Path, good_backup: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "suspect" / "not-a-backup.db"
    bad.parent.mkdir()
    reason = make_file(bad, good_backup)
    before, file_before = sqlite_content(database), bad.read_bytes()
    refused(invoke("restore", "--yes", str(bad)), str(bad), reason)
    assert sqlite_content(database) == before
    assert bad.read_bytes() == file_before
    assert os.listdir(bad.parent) == [bad.name]  # no -wal/-shm/-journal created beside it
    # asked first: the file is checked before the question, which is never put
    refused(invoke("restore", str(bad)), str(bad), reason)
    assert "Continue?" not in invoke("restore", str(bad)).output


def test_restore_refuses_a_live_copy_whose_wal_holds_transactions(
    database: Path, good_backup: Path, tmp_path: Path
) -> None:
    """A plain copy of a running database (the file and its -wal): the read that checks a backup
    ignores the -wal, so restoring would silently drop what it holds — refused instead."""
    import shutil

    live = tmp_path / "live" / "steward.db"
    live.parent.mkdir()
    sqlite_copy(good_backup, live)
    conn = sqlite3.connect(live)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE only_in_the_wal (x INTEGER)")
    conn.commit()
    copy = tmp_path / "copy" / "steward.db"
    copy.parent.mkdir()
    shutil.copy(live, copy)
    shutil.copy(live.with_name("steward.db-wal"), copy.with_name("steward.db-wal"))
    conn.close()
    before = sqlite_content(database)
    refused(invoke("restore", "--yes", str(copy)), str(copy), "write-ahead log")
    assert sqlite_content(database) == before


def test_restore_refuses_a_missing_file_or_a_directory(database: Path, tmp_path: Path) -> None:
    before = sqlite_content(database)
    refused(invoke("restore", "--yes", str(tmp_path / "nope.backup")), "no backup file at", str(tmp_path / "nope.backup"))
    refused(invoke("restore", "--yes", str(tmp_path)), f"{tmp_path} is a directory")
    refused(invoke("restore", "--yes", str(database)), "is the database itself")
    assert sqlite_content(database) == before


def test_backup_change_restore_round_trip_with_progress(database: Path, tmp_path: Path) -> None:
    target = tmp_path / "steward.backup"
    made = invoke("backup", str(target))
    assert made.exit_code == 0 and "Backup written to" in made.output, made.output
    assert re.search(r"Backing up .*(\d+)/\1", made.output), made.output  # the bar, at its end
    more = tmp_path / "more.csv"
    more.write_text(MORE_TLDS, encoding="utf-8")
    assert invoke("registry", "import", str(more)).exit_code == 0
    assert tld_count(database) == 3
    dbmod.get_engine().dispose()
    declined = invoke("restore", str(target), input="n\n")
    assert declined.exit_code == 1 and "Continue?" in declined.output and tld_count(database) == 3
    done = invoke("restore", "--yes", str(target))
    assert done.exit_code == 0 and "Database restored from" in done.output, done.output
    assert re.search(r"Restoring .*(\d+)/\1", done.output), done.output
    assert "steward init" not in done.output  # the backup's schema is this version's
    assert tld_count(database) == 2
    conn = sqlite3.connect(database)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_progress_is_reported_in_steps_of_pages(database: Path, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(backup_mod, "_MIN_STEP_PAGES", 8)
    seen: list[tuple[str, int, int | None]] = []
    backup_mod.backup(get_settings(), tmp_path / "b.backup", progress=lambda *a: seen.append(a))
    total = seen[0][2]
    assert seen[0] == ("Backing up", 0, total) and total and total > 50
    assert len(seen) > 5 and seen[-1] == ("Backing up", total, total)
    assert [done for _w, done, _t in seen] == sorted(done for _w, done, _t in seen)
    seen.clear()
    backup_mod.restore(get_settings(), tmp_path / "b.backup", progress=lambda *a: seen.append(a))
    assert len(seen) > 5 and seen[-1][0] == "Restoring" and seen[-1][1] == seen[-1][2]


# ---------------------------------------------------------------- 2. no database: no file


def test_backup_without_a_database_fails_and_creates_nothing(tmp_path: Path, configure: Any) -> None:
    missing = tmp_path / "var" / "steward.db"
    configure(f"sqlite:///{missing}")
    target = tmp_path / "out" / "steward.backup"
    refused(invoke("backup", str(target)), f"no database at {missing}; run `steward init`")
    assert not missing.exists() and not missing.parent.exists() and not target.parent.exists()
    missing.parent.mkdir()
    missing.write_bytes(b"")  # what the old `steward backup` left behind
    refused(invoke("backup", str(target)), f"no database at {missing}; run `steward init`")
    assert missing.read_bytes() == b"" and os.listdir(missing.parent) == ["steward.db"]
    assert not target.parent.exists()


def test_backup_refuses_a_database_of_another_program(tmp_path: Path, configure: Any) -> None:
    other = tmp_path / "other.db"
    _other_program(other, other)
    configure(f"sqlite:///{other}")
    refused(invoke("backup", str(tmp_path / "b.backup")), f"{other} is not a Steward database")
    assert not (tmp_path / "b.backup").exists()


# ---------------------------------------------------------------- 3. bad targets, --force


def test_backup_refuses_bad_targets_with_one_line_and_changes_nothing(database: Path, tmp_path: Path) -> None:
    existing = tmp_path / "notes.txt"
    existing.write_text("keep me\n", encoding="utf-8")
    listing = sorted(os.listdir(tmp_path))
    refused(invoke("backup", "/proc/x.bak"), "cannot write /proc/x.bak")
    refused(invoke("backup", str(tmp_path)), f"{tmp_path} is a directory")
    refused(invoke("backup", str(existing)), f"{existing} already exists; pass --force to replace it")
    refused(invoke("backup", "--force", str(database)), "is the database itself")
    refused(invoke("backup", "--force", str(database) + "-wal"), "is the database itself")
    refused(invoke("backup", "--force", "/dev/null"), "/dev/null is not a regular file")
    assert existing.read_text(encoding="utf-8") == "keep me\n"
    assert sorted(os.listdir(tmp_path)) == listing  # no partial file left behind


def test_backup_keeps_an_existing_backup_unless_forced(database: Path, good_backup: Path, tmp_path: Path) -> None:
    first = good_backup.read_bytes()
    more = tmp_path / "more.csv"
    more.write_text(MORE_TLDS, encoding="utf-8")
    assert invoke("registry", "import", str(more)).exit_code == 0
    refused(invoke("backup", str(good_backup)), "already exists", "--force")
    assert good_backup.read_bytes() == first
    replaced = invoke("backup", "--force", str(good_backup))
    assert replaced.exit_code == 0, replaced.output
    assert tld_count(good_backup) == 3
    assert os.listdir(good_backup.parent) == [good_backup.name]
    # onto a file that is not a SQLite database, forced: replaced whole, not written into
    notes = tmp_path / "notes.txt"
    notes.write_text("old\n", encoding="utf-8")
    assert invoke("backup", "--force", str(notes)).exit_code == 0
    assert tld_count(notes) == 3


def test_errors_in_a_real_process_are_one_line_without_traceback(database: Path, good_backup: Path, tmp_path: Path) -> None:
    fake = tmp_path / "fake.db"
    _fake_header(fake, good_backup)
    truncated = tmp_path / "truncated.db"
    _truncated(truncated, good_backup)
    env = {**os.environ, "STEWARD_DATABASE_URL": f"sqlite:///{database}", "STEWARD_DATA_DIR": str(tmp_path / "var"),
           "COLUMNS": "500"}
    for args in (["backup", "/proc/x.bak"], ["backup", "/tmp"], ["backup", str(good_backup)],
                 ["restore", "--yes", str(fake)], ["restore", "--yes", str(truncated)]):
        done = subprocess.run([STEWARD, *args], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("Error: "), (args, done.stderr)
        assert done.stdout == ""


# ---------------------------------------------------------------- PostgreSQL


@pytest.fixture
def pg_steward(pg_template: dict[str, Any], tmp_path: Path, configure: Any) -> Iterator[tuple[str, str]]:
    """A PostgreSQL database made ready by a real `steward init`, with two TLDs; and an empty
    database beside it, for another program."""
    names = [f"b_{uuid.uuid4().hex[:12]}", f"o_{uuid.uuid4().hex[:12]}"]
    with pg_template["admin"].connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{pg_template['base']}/{names[0]}"
    try:
        steward_init(url, tmp_path / "var")
        configure(url)
        tlds = tmp_path / "tlds.csv"
        tlds.write_text(TLDS, encoding="utf-8")
        assert invoke("registry", "import", str(tlds)).exit_code == 0
        yield url, f"{pg_template['base']}/{names[1]}"
    finally:
        dbmod.get_engine().dispose()
        dbmod.engine_for.cache_clear()
        with pg_template["admin"].connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def pg_content(url: str) -> list[Any]:
    dbmod.get_engine().dispose()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = [r[0] for r in conn.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"))]
            return [(t, conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar()) for t in tables] + [
                conn.execute(text("SELECT version_num FROM alembic_version")).scalar()]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgresql_refuses_non_backups_and_round_trips(
    pg_steward: tuple[str, str], tmp_path: Path, monkeypatch: Any
) -> None:
    url, other_url = pg_steward
    good = tmp_path / "steward.backup"
    made = invoke("backup", str(good))
    assert made.exit_code == 0 and good.read_bytes().startswith(b"PGDMP"), made.output
    refused(invoke("backup", str(good)), "already exists")
    before = pg_content(url)

    fake = tmp_path / "fake.dump"
    fake.write_bytes(b"PGDMP" + b"\x00" * 200)
    sqlite_file = tmp_path / "sqlite.backup"
    _other_program(sqlite_file, sqlite_file)
    truncated = tmp_path / "truncated.dump"
    truncated.write_bytes(good.read_bytes()[:200])
    empty = tmp_path / "empty.dump"
    empty.write_bytes(b"")
    # a pg_dump of a database that is not Steward's
    other_engine = create_engine(other_url)
    with other_engine.begin() as conn:
        conn.execute(text("CREATE TABLE photo (id int PRIMARY KEY)"))
    other_engine.dispose()
    foreign = tmp_path / "foreign.dump"
    subprocess.run([backup_mod._pg_tool("pg_dump"), "--format=custom", f"--file={foreign}",
                    other_url.replace("+psycopg", "")], check=True, capture_output=True)
    cut = tmp_path / "cut.dump"  # the table of contents whole, data missing
    cut.write_bytes(good.read_bytes()[: good.stat().st_size * 9 // 10])
    for path, reason in ((fake, "pg_restore cannot read it"), (sqlite_file, "it is a SQLite backup"),
                         (truncated, "pg_restore cannot read it"), (empty, "the file is empty"),
                         (foreign, "no alembic_version table"), (cut, "pg_restore")):
        refused(invoke("restore", "--yes", str(path)), str(path), reason)
    assert pg_content(url) == before

    # a backup of a database that is missing, or not Steward's, is refused and leaves no file
    listing = sorted(os.listdir(tmp_path))
    monkeypatch.setenv("STEWARD_DATABASE_URL", url + "_missing")
    get_settings.cache_clear()
    refused(invoke("backup", str(tmp_path / "other.backup")), "pg_dump cannot back up", "does not exist")
    monkeypatch.setenv("STEWARD_DATABASE_URL", other_url)
    get_settings.cache_clear()
    refused(invoke("backup", str(tmp_path / "other.backup")), "is not a Steward database", "no alembic_version")
    assert sorted(os.listdir(tmp_path)) == listing
    monkeypatch.setenv("STEWARD_DATABASE_URL", url)
    get_settings.cache_clear()

    more = tmp_path / "more.csv"
    more.write_text(MORE_TLDS, encoding="utf-8")
    assert invoke("registry", "import", str(more)).exit_code == 0
    dbmod.get_engine().dispose()
    done = invoke("restore", "--yes", str(good))
    assert done.exit_code == 0 and "Database restored from" in done.output, done.output
    assert pg_content(url) == before

