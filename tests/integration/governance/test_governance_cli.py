"""`steward governance|reviews|audits` as a user runs them."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from steward.cli import app

runner = CliRunner()


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_roster_schedules_and_charter_from_the_cli(tmp_path, configure) -> None:
    configure(f"sqlite:///{tmp_path / 'cli.db'}")
    assert run("init").exit_code == 0
    assert (
        run(
            "user",
            "add",
            "chair@dug.test",
            "--name",
            "Chair",
            "--role",
            "dug_chair",
            "--password",
            "long-enough-pass",
        ).exit_code
        == 0
    )
    roster = json.loads(run("governance", "roster", "--on", "2026-01-01", "--json").output)
    assert roster["members"] == []
    assert "0 of 8 voting seats are filled (R-DUG-2)." in roster["issues"]
    bad = runner.invoke(app, ["governance", "roster", "--on", "2026-13-01"])
    assert bad.exit_code == 1 and "field 'on'" in bad.output
    refused = runner.invoke(
        app,
        [
            "governance",
            "adopt-charter",
            "--as",
            "chair@dug.test",
            "--role",
            "r",
            "--chair-appointment",
            " ",
            "--communication-lines",
            "c",
            "--effective-from",
            "2026-01-01",
        ],
    )
    assert refused.exit_code == 1 and "chair_appointment" in refused.output
    adopted = run(
        "governance",
        "adopt-charter",
        "--as",
        "chair@dug.test",
        "--role",
        "Escalation body",
        "--chair-appointment",
        "Elected",
        "--communication-lines",
        "Monthly calls",
        "--effective-from",
        "2026-01-01",
    )
    assert "Charter version 1 adopted." in adopted.output
    assert "2026-01-01" in run("governance", "charters").output
    assert (
        run(
            "user",
            "add",
            "m@dug.test",
            "--name",
            "Member",
            "--role",
            "dug_member",
            "--password",
            "long-enough-pass",
        ).exit_code
        == 0
    )
    seated = run(
        "governance",
        "seat",
        "m@dug.test",
        "--as",
        "chair@dug.test",
        "--experience",
        "Runs DNSSEC signing",
        "--term-start",
        "2026-01-01",
        "--chair",
    )
    assert (
        "m@dug.test seated." in seated.output and "1 of 8 voting seats are filled" in seated.output
    )
    no_experience = runner.invoke(
        app,
        [
            "governance",
            "seat",
            "chair@dug.test",
            "--as",
            "chair@dug.test",
            "--experience",
            " ",
            "--term-start",
            "2026-01-01",
        ],
    )
    assert no_experience.exit_code == 1 and "technical_experience" in no_experience.output
    assert "No such motion." in runner.invoke(app, ["governance", "motion", "1"]).output
    reviews = json.loads(run("reviews", "schedule", "--json").output)
    assert reviews[0] == {"number": 1, "due": "2019-10-01", "status": "overdue", "review": None}
    audits = json.loads(run("audits", "schedule", "--json").output)
    assert [a["due"] for a in audits[:3]] == ["2019-10-01", "2022-10-01", "2025-10-01"]
