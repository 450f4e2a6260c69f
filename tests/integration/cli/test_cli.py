"""The `steward` CLI as a user runs it: init, user, registry import and stats."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from typer.testing import CliRunner

from steward.cli import app
from steward.db import session_scope
from steward.governance import service as governance

ROOT_ZONE = Path(__file__).resolve().parents[4] / "shared" / "data" / "root-zone-db" / "tld.csv"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_help_lists_every_sub_command():
    out = run("--help").output
    for name in ("init", "serve", "worker", "demo", "user", "registry"):
        assert name in out


def test_init_user_and_registry_round_trip(tmp_path, configure):
    configure(f"sqlite:///{tmp_path / 'cli.db'}")
    assert run("init").exit_code == 0
    assert run("init").exit_code == 0  # an upgrade of an up-to-date database is a no-op
    added = run("user", "add", "ops@example.org", "--name", "Ops", "--role", "ifm_staff", "--password", "long-enough-pass")
    assert added.exit_code == 0 and "Created ops@example.org" in added.output
    dup = runner.invoke(app, ["user", "add", "ops@example.org", "--name", "Ops", "--role", "ifm_staff", "--password", "long-enough-pass"])
    assert dup.exit_code == 1
    weak = runner.invoke(app, ["user", "add", "x@example.org", "--name", "X", "--role", "ifm_staff", "--password", "short"])
    assert weak.exit_code == 1 and "password" in weak.output
    assert "ops@example.org" in run("user", "list").output
    assert run("user", "set-password", "ops@example.org", "--password", "another-long-pass").exit_code == 0
    assert run("user", "disable", "ops@example.org").exit_code == 0

    first = run("registry", "import", str(ROOT_ZONE))
    assert first.exit_code == 0 and "1592 added" in first.output
    again = run("registry", "import", str(ROOT_ZONE))
    assert again.exit_code == 0 and "No changes" in again.output
    stats = json.loads(run("registry", "stats", "--json").output)
    assert stats["tlds"]["by_type"] == {
        "generic": 1247, "country-code": 316, "sponsored": 14, "generic-restricted": 3, "infrastructure": 1, "test": 11,
    }
    assert stats["operators"]["total"] > 0


def test_malformed_file_exits_1_with_the_line(tmp_path, configure):
    configure(f"sqlite:///{tmp_path / 'cli.db'}")
    run("init")
    bad = tmp_path / "bad.csv"
    bad.write_text("Domain,Type,TLD Manager\n.ok,generic,Ok\n.bad,nonsense,Bad\n", encoding="utf-8")
    result = runner.invoke(app, ["registry", "import", str(bad)])
    assert result.exit_code == 1
    assert "line 3" in result.output and "nonsense" in result.output
    stats = json.loads(run("registry", "stats", "--json").output)
    assert stats["tlds"]["total"] == 0


def test_demo_shows_its_progress_and_loads_once(tmp_path, configure):
    configure(f"sqlite:///{tmp_path / 'cli.db'}")
    assert run("init").exit_code == 0
    loaded = run("demo")
    assert loaded.exit_code == 0 and "Demo data loaded." in loaded.output
    assert re.search(r"Demo data .*(\d+)/\1", loaded.output), loaded.output  # the bar, at its end
    assert "chair@dug.example" in loaded.output and "demo-chair-2026" in loaded.output
    again = run("demo")
    assert again.exit_code == 0 and "already loaded" in again.output and "/" not in again.output.split("\n")[0]


@pytest.mark.parametrize("moment", ["2027-01-04 09:00", "2029-12-31 23:59"])
def test_demo_loads_whatever_the_day_it_is_run(moment, tmp_path, configure):
    """`make run` loads the demo on the day it is run: nothing in it may expire (a seat whose term
    had ended would turn the demo's voters away, R-DUG-2)."""
    configure(f"sqlite:///{tmp_path / 'cli.db'}")
    assert run("init").exit_code == 0
    with time_machine.travel(datetime.fromisoformat(moment).replace(tzinfo=UTC), tick=True):
        loaded = run("demo")
        assert loaded.exit_code == 0 and "Demo data loaded." in loaded.output
        with session_scope() as session:
            assert governance.roster_status(session, governance.today_utc()).complete
