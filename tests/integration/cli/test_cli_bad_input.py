"""Bad input on the command line: a clear one-line error naming what is wrong, never a traceback,
and nothing changed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from steward.cli import app
from steward.db import session_scope
from steward.events import AuditEvent

runner = CliRunner()


def steward(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The installed entry point, as a user runs it (``main`` turns setup errors into one line)."""
    return subprocess.run([sys.executable, "-c", "from steward.cli import main; main()", *args],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=120)


def test_a_database_not_set_up_and_a_broken_setting_are_told_in_one_line(tmp_path: Path) -> None:
    env = {"STEWARD_DATABASE_URL": f"sqlite:///{tmp_path / 'none.db'}", "STEWARD_DATA_DIR": str(tmp_path / "var")}
    blank = steward("user", "list", env=env)
    assert blank.returncode == 1 and "run `steward init`" in blank.stderr and "Traceback" not in blank.stderr
    broken = steward("user", "list", env={**env, "STEWARD_DUG_QUORUM": "abc"})
    assert broken.returncode == 1 and "STEWARD_DUG_QUORUM" in broken.stderr and "Traceback" not in broken.stderr


def test_init_into_a_folder_that_cannot_be_made_names_the_setting(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    db_in_file = {"STEWARD_DATABASE_URL": f"sqlite:///{tmp_path / 'file' / 'sub' / 'steward.db'}",
                  "STEWARD_DATA_DIR": str(tmp_path / "var")}
    result = steward("init", env=db_in_file)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "field 'STEWARD_DATABASE_URL': cannot create the folder" in result.stderr
    data_in_file = {"STEWARD_DATABASE_URL": f"sqlite:///{tmp_path / 'ok.db'}",
                    "STEWARD_DATA_DIR": str(tmp_path / "file" / "data")}
    result = steward("init", env=data_in_file)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "field 'STEWARD_DATA_DIR': cannot create the folder" in result.stderr
    assert not (tmp_path / "ok.db").exists()  # refused before the database was made


def test_serve_refuses_a_port_or_worker_count_out_of_range() -> None:
    for args in (["--port", "70000"], ["--port", "0"], ["--workers", "0"]):
        result = runner.invoke(app, ["serve", *args])
        assert result.exit_code == 2 and ("port" in result.output or "workers" in result.output), args


def _events() -> int:
    with session_scope() as s:
        return int(s.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def test_accounts_governance_and_reviews_refuse_bad_values(tmp_path: Path, configure) -> None:  # type: ignore[no-untyped-def]
    configure(f"sqlite:///{tmp_path / 'cli.db'}")
    assert runner.invoke(app, ["init"]).exit_code == 0
    add = ["user", "add", "gone@example.org", "--name", "Gone", "--role", "dug_liaison", "--password", "long-enough-pass"]
    assert runner.invoke(app, add).exit_code == 0
    admin = ["user", "add", "admin@example.org", "--name", "Admin", "--role", "sysadmin", "--password", "long-enough-pass"]
    assert runner.invoke(app, admin).exit_code == 0
    assert runner.invoke(app, ["user", "disable", "gone@example.org"]).exit_code == 0
    before = _events()
    assert runner.invoke(app, ["user", "disable", "gone@example.org"]).exit_code == 0
    assert _events() == before  # disabling a disabled account records nothing
    token = runner.invoke(app, ["user", "token", "gone@example.org", "--name", "later"])
    assert token.exit_code == 1 and "disabled" in token.output  # it would come alive with the account
    seat = runner.invoke(app, ["governance", "seat", "gone@example.org", "--as", "admin@example.org", "--seat", "liaison", "--community", "technical",
                               "--experience", "IETF DNSOP", "--term-start", "2026-01-01"])
    assert seat.exit_code != 0 and "disabled" in seat.output
    bad_day = runner.invoke(app, ["governance", "seat", "gone@example.org", "--as", "admin@example.org", "--seat", "liaison", "--community",
                                  "technical", "--experience", "IETF DNSOP", "--term-start", "2026-13-01"])
    assert bad_day.exit_code != 0 and "term-start" in bad_day.output
    state = runner.invoke(app, ["governance", "motions", "--state", "bogus"])
    assert state.exit_code == 1 and "bogus" in state.output and "open" in state.output
    assert _events() == before


def test_a_registry_file_that_is_not_utf8_is_refused_with_its_line(tmp_path: Path, configure) -> None:  # type: ignore[no-untyped-def]
    configure(f"sqlite:///{tmp_path / 'cli.db'}")
    assert runner.invoke(app, ["init"]).exit_code == 0
    rows = ["Domain,Type,TLD Manager"] + [f".t{i},generic,Registry {i}" for i in range(60)]
    data = "\n".join(rows).encode()
    cut = data.index(b".t55")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(data[:cut] + b"\xff\xfe" + data[cut:])
    result = runner.invoke(app, ["registry", "import", str(bad)])
    assert result.exit_code == 1 and "line 57" in result.output
    missing = runner.invoke(app, ["registry", "import", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 1 and "cannot read" in missing.output and "Traceback" not in missing.output
