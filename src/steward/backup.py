"""``steward backup`` / ``steward restore``: a consistent copy of the database, and back.

SQLite uses its online backup API (consistent while the app runs, WAL included); PostgreSQL uses
``pg_dump --format=custom`` and ``pg_restore --clean``. The signing keys and uploads in the data
folder are backed up separately (see docs/operations.md).

Bad input changes nothing: a backup is written to a temporary file next to the target and renamed
over it only once it is complete and checked (an existing target is replaced only with ``force``);
a restore first checks that the file is a Steward backup of a schema revision this code knows,
and then replaces the database's content in one transaction.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from steward.config import Settings
from steward.errors import Invalid
from steward.migrate import alembic_config

# (what is being done, pages copied so far, pages in all or None when unknown)
ShowProgress = Callable[[str, int, int | None], None]

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
# tables every schema revision has (the foundation revision creates them) …
_BASE_TABLES = frozenset({"account_user", "audit_event", "outbox_email"})
# … and those a revision has once it descends from the revision that creates them
_TABLES_SINCE = {"arch1": frozenset({"archive_head", "archive_entry"})}
_PROGRESS_STEPS = 100
_MIN_STEP_PAGES = 256


class _NotSteward(Exception):
    """Why a database or file is not one of Steward's (the caller names the file)."""


class _NoTables(_NotSteward):
    """An empty database: ``steward init`` makes it Steward's."""


@dataclass(frozen=True)
class BackupInfo:
    """A checked backup file: its schema revisions, and whether they are this code's heads."""

    path: Path
    revisions: tuple[str, ...]
    current: bool


def _no_progress(_what: str, _done: int, _total: int | None) -> None:
    return None


@contextmanager
def progress_shown() -> Iterator[ShowProgress]:
    """A progress callback for the CLI: a rich bar on stderr, shown from the first report on (so
    a refusal before any work is one line), stopped before an error is printed."""
    from steward.cli_support import progress_bar

    bar = progress_bar()
    task = bar.add_task("", total=None)
    started: list[bool] = []

    def show(what: str, done: int, total: int | None) -> None:
        if not started:
            bar.start()
            started.append(True)
        bar.update(task, description=what, completed=done, total=total)

    try:
        yield show
    finally:
        if started:  # (stopping a bar never started still prints an empty line)
            bar.stop()


# ---------------------------------------------------------------- shared


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def _check_schema(revisions: Sequence[str], tables: set[str]) -> tuple[tuple[str, ...], bool]:
    """The revisions (sorted) and whether they are the heads; :class:`_NotSteward` if the tables
    and ``alembic_version`` are not those of a Steward schema revision this code knows."""
    if not tables:
        raise _NoTables("it holds no tables")
    if "alembic_version" not in tables:
        raise _NotSteward("it has no alembic_version table, so it was not made by Steward")
    if not revisions:
        raise _NotSteward("its alembic_version table is empty")
    script = _script()
    known = {s.revision for s in script.walk_revisions()}
    unknown = sorted(set(revisions) - known)
    if unknown:
        raise _NotSteward(
            f"its schema revision {', '.join(unknown)} is unknown to this version of Steward "
            "(made by a newer version?)"
        )
    expected = set(_BASE_TABLES)
    ancestors = {s.revision for s in script.iterate_revisions(tuple(revisions), "base") if s is not None}
    for revision, names in _TABLES_SINCE.items():
        if revision in ancestors:
            expected |= names
    missing = sorted(expected - tables)
    if missing:
        raise _NotSteward(f"Steward's tables are missing from it: {', '.join(missing)}")
    return tuple(sorted(revisions)), set(revisions) == set(script.get_heads())


def _check_target(target: Path, force: bool, protected: Sequence[Path] = ()) -> None:
    if target in protected:
        raise Invalid(f"{target} is the database itself; write the backup to another file")
    if target.is_dir():
        raise Invalid(f"{target} is a directory; name the backup file (e.g. {target / 'steward.backup'})")
    if target.exists() or target.is_symlink():
        if not force:
            raise Invalid(f"{target} already exists; pass --force to replace it")
        if not target.is_file():
            raise Invalid(f"{target} is not a regular file; it cannot be replaced by a backup")


def _fsync(path: Path, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _written_atomically(target: Path) -> Iterator[Path]:
    """A new empty file next to ``target`` to write; renamed over ``target`` once the block ends
    without error (after fsync), removed otherwise."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    except OSError as exc:
        raise Invalid(f"cannot write {target}: {exc.strerror or exc}") from None
    os.close(fd)
    partial = Path(name)
    try:
        yield partial
        _fsync(partial)
        os.replace(partial, target)
        _fsync(target.parent, directory=True)
    except OSError as exc:
        raise Invalid(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        for leftover in (partial, partial.with_name(partial.name + "-journal")):
            leftover.unlink(missing_ok=True)


def _resolved(path: Path) -> Path:
    return path.expanduser().resolve()


def _backup_file(source: Path) -> Path:
    source = _resolved(source)
    if source.is_dir():
        raise Invalid(f"{source} is a directory, not a backup file")
    if not source.is_file():
        raise Invalid(f"no backup file at {source}")
    return source


# ---------------------------------------------------------------- SQLite


def _sqlite_path(settings: Settings) -> Path:
    database = make_url(settings.database_url).database
    if not database or database == ":memory:":
        raise Invalid("the SQLite URL names no file", field="STEWARD_DATABASE_URL")
    return _resolved(Path(database))


def _sqlite_files(database: Path) -> list[Path]:
    """The database and the files SQLite and Steward keep beside it."""
    return [database, *(database.with_name(database.name + s) for s in ("-wal", "-shm", "-journal", "-writelock"))]


def _sqlite_schema(conn: sqlite3.Connection) -> tuple[tuple[str, ...], bool]:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    revisions = []
    if "alembic_version" in tables:
        revisions = [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")]
    return _check_schema(revisions, tables)


def _copy_pages(src: sqlite3.Connection, dest: sqlite3.Connection, what: str, progress: ShowProgress) -> None:
    """SQLite's backup API in steps, reporting the pages copied."""
    total = int(src.execute("PRAGMA page_count").fetchone()[0])
    progress(what, 0, total)
    step = max(_MIN_STEP_PAGES, -(-total // _PROGRESS_STEPS))
    src.backup(dest, pages=step, progress=lambda _status, remaining, count: progress(what, count - remaining, count))


def _open_sqlite_backup(source: Path) -> tuple[sqlite3.Connection, BackupInfo]:
    """A read-only connection to a checked SQLite backup file (refused with a reason otherwise)."""
    size = source.stat().st_size
    with source.open("rb") as fh:
        header = fh.read(100)
    if size == 0:
        raise _NotSteward("the file is empty")
    if header.startswith(PGDUMP_MAGIC):
        raise _NotSteward("it is a PostgreSQL backup (pg_dump), and this installation uses SQLite")
    if not header.startswith(SQLITE_MAGIC):
        raise _NotSteward("it is not a SQLite database")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    # the payload fractions are fixed at 64, 32, 32; the page size is a power of two ≥ 512
    if len(header) < 100 or header[21:24] != b"\x40\x20\x20" or page_size < 512 or page_size & (page_size - 1):
        raise _NotSteward("it is not a readable SQLite database (its header is damaged)")
    pages = int.from_bytes(header[28:32], "big")
    if header[24:28] == header[92:96] and size < pages * page_size:
        raise _NotSteward(f"it is truncated ({size} of {pages * page_size} bytes)")
    # A copy of a live database may have committed transactions still in a -wal file beside it,
    # which the immutable read below would silently leave out: refuse rather than lose them.
    wal = source.with_name(source.name + "-wal")
    if header[18:20] == b"\x02\x02" and wal.is_file() and wal.stat().st_size > 0:
        raise _NotSteward(
            f"its write-ahead log {wal.name} beside it holds transactions the file itself does not "
            "(a copy of a live database?); make backups with `steward backup`"
        )
    # immutable: no lock, no -wal/-shm files created beside the backup
    conn = sqlite3.connect(f"{source.as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        try:
            problems = [r[0] for r in conn.execute("PRAGMA quick_check(5)")]
        except sqlite3.DatabaseError as exc:
            raise _NotSteward(f"it is not a readable SQLite database ({exc})") from None
        if problems != ["ok"]:
            raise _NotSteward(f"it is damaged ({'; '.join(problems)})")
        revisions, current = _sqlite_schema(conn)
    except BaseException:
        conn.close()
        raise
    return conn, BackupInfo(source, revisions, current)


def _backup_sqlite(settings: Settings, target: Path, force: bool, progress: ShowProgress) -> Path:
    database = _sqlite_path(settings)
    if database.is_dir():
        raise Invalid(f"the database {database} is a directory")
    if not database.is_file() or database.stat().st_size == 0:
        raise Invalid(f"no database at {database}; run `steward init`")
    _check_target(target, force, protected=_sqlite_files(database))
    try:
        # mode=rw: never create the database; one read transaction for the whole copy, so the
        # copy is of one snapshot (WAL) and is not restarted by the app's writes between steps
        src = sqlite3.connect(f"{database.as_uri()}?mode=rw", uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise Invalid(f"cannot open the database {database}: {exc}") from None
    try:
        src.execute("BEGIN")
        try:
            _sqlite_schema(src)
        except _NoTables:
            raise Invalid(f"no database at {database}; run `steward init`") from None
        except _NotSteward as exc:
            raise Invalid(f"{database} is not a Steward database: {exc}") from None
        with _written_atomically(target) as partial:
            dest = sqlite3.connect(partial)
            try:
                _copy_pages(src, dest, "Backing up", progress)
                dest.execute("PRAGMA journal_mode=DELETE")  # a self-contained file (no -wal)
            finally:
                dest.close()
    except sqlite3.Error as exc:
        raise Invalid(f"cannot back up {database}: {exc}") from None
    finally:
        src.close()
    return target


def _restore_sqlite(settings: Settings, source: Path, progress: ShowProgress) -> BackupInfo:
    database = _sqlite_path(settings)
    if source in _sqlite_files(database):
        raise Invalid(f"{source} is the database itself, not a backup")
    try:
        src, info = _open_sqlite_backup(source)
    except _NotSteward as exc:
        raise Invalid(f"{source} is not a Steward backup: {exc}") from None
    try:
        database.parent.mkdir(parents=True, exist_ok=True)
        dest = sqlite3.connect(database, timeout=30)
        try:
            # the destination stays locked from the first step to the last, and is written in
            # one transaction: a failure part-way leaves it as it was
            _copy_pages(src, dest, "Restoring", progress)
        finally:
            dest.close()
    except sqlite3.Error as exc:
        raise Invalid(f"cannot restore into {database} (nothing was restored): {exc}") from None
    finally:
        src.close()
    return info


# ---------------------------------------------------------------- PostgreSQL


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


def _shown_url(settings: Settings) -> str:
    return make_url(settings.database_url).render_as_string(hide_password=True)


class _ToolFailed(Exception):
    pass


def _run(args: list[str]) -> str:
    """Run a PostgreSQL client tool; its stdout, or :class:`_ToolFailed` with its error lines."""
    done = subprocess.run(
        args, capture_output=True, text=True, errors="replace",
        env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
    )
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if "error" in line.lower() or "fatal" in line.lower()]
        raise _ToolFailed("; ".join((errors or lines)[-3:]) or f"exit status {done.returncode}")
    return done.stdout


_TOC_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE (\S+) (\S+) ", re.M)


def _inspect_pg_dump(source: Path) -> BackupInfo:
    """Check a pg_dump custom-format archive holds a Steward schema (:class:`_NotSteward` if not)."""
    with source.open("rb") as fh:
        header = fh.read(16)
    if not header:
        raise _NotSteward("the file is empty")
    if header.startswith(SQLITE_MAGIC):
        raise _NotSteward("it is a SQLite backup, and this installation uses PostgreSQL")
    if not header.startswith(PGDUMP_MAGIC):
        raise _NotSteward("it is not a pg_dump custom-format archive")
    tool = _pg_tool("pg_restore")
    try:
        listing = _run([tool, "--list", str(source)])
        tables = {m.group(2) for m in _TOC_TABLE.finditer(listing) if m.group(1) == "public"}
        revisions: list[str] = []
        if "alembic_version" in tables:
            script = _run([tool, "--data-only", "--table=alembic_version", "--file=-", str(source)])
            revisions = _copied_rows(script, "alembic_version")
    except _ToolFailed as exc:
        raise _NotSteward(f"pg_restore cannot read it ({exc})") from None
    revs, current = _check_schema(revisions, tables)
    return BackupInfo(source, revs, current)


def _copied_rows(script: str, table: str) -> list[str]:
    """The first column of the rows of ``table`` in a plain SQL script's COPY block."""
    rows: list[str] = []
    inside = False
    for line in script.splitlines():
        if inside:
            if line == "\\.":
                break
            rows.append(line.split("\t", 1)[0])
        elif line.startswith("COPY ") and re.match(rf'COPY (?:"?public"?\.)?"?{table}"? ', line):
            inside = True
    return rows


def _backup_pg(settings: Settings, target: Path, force: bool, progress: ShowProgress) -> Path:
    _check_target(target, force)
    tool = _pg_tool("pg_dump")
    with _written_atomically(target) as partial:
        progress("Backing up (pg_dump)", 0, None)
        try:
            _run([tool, "--format=custom", "--no-owner", f"--file={partial}", _libpq_url(settings)])
        except _ToolFailed as exc:
            raise Invalid(f"pg_dump cannot back up {_shown_url(settings)}: {exc}") from None
        try:
            _inspect_pg_dump(partial)
        except _NoTables:
            raise Invalid(f"the database {_shown_url(settings)} is empty; run `steward init`") from None
        except _NotSteward as exc:
            raise Invalid(f"the database {_shown_url(settings)} is not a Steward database: {exc}") from None
    return target


def _restore_pg(settings: Settings, source: Path, progress: ShowProgress) -> BackupInfo:
    info = _check_pg_backup(source)
    progress("Restoring (pg_restore)", 0, None)
    try:
        _run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
              f"--dbname={_libpq_url(settings)}", str(source)])
    except _ToolFailed as exc:
        raise Invalid(f"pg_restore of {source} failed, and the database was not changed: {exc}") from None
    return info


def _check_pg_backup(source: Path) -> BackupInfo:
    try:
        return _inspect_pg_dump(source)
    except _NotSteward as exc:
        raise Invalid(f"{source} is not a Steward backup: {exc}") from None


# ---------------------------------------------------------------- public


def backup(settings: Settings, target: Path, *, force: bool = False, progress: ShowProgress = _no_progress) -> Path:
    """Write a consistent copy of the database to ``target`` (refused if it exists, unless
    ``force``); nothing is created or changed if the backup fails."""
    target = _resolved(target)
    try:
        if settings.is_sqlite:
            return _backup_sqlite(settings, target, force, progress)
        return _backup_pg(settings, target, force, progress)
    except OSError as exc:
        raise Invalid(f"cannot back up to {target}: {exc.strerror or exc}") from None


def check_backup(settings: Settings, source: Path) -> BackupInfo:
    """Refuse (:class:`Invalid`, naming the file) anything but a Steward backup of this backend
    with a schema revision this code knows; change nothing."""
    try:
        source = _backup_file(source)
        if not settings.is_sqlite:
            return _check_pg_backup(source)
        try:
            conn, info = _open_sqlite_backup(source)
        except _NotSteward as exc:
            raise Invalid(f"{source} is not a Steward backup: {exc}") from None
        conn.close()
        return info
    except OSError as exc:
        raise Invalid(f"cannot read {source}: {exc.strerror or exc}") from None


def restore(settings: Settings, source: Path, *, progress: ShowProgress = _no_progress) -> BackupInfo:
    """Replace the database's content with a backup made by :func:`backup`, after checking it is
    one (:func:`check_backup`); a refused file or a failed restore changes nothing."""
    try:
        source = _backup_file(source)
        if settings.is_sqlite:
            return _restore_sqlite(settings, source, progress)
        return _restore_pg(settings, source, progress)
    except OSError as exc:
        raise Invalid(f"cannot restore from {source}: {exc.strerror or exc}") from None
