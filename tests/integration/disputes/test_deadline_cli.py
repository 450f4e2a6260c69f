"""``steward deadline START --working-days N [--calendar CODE] [--json]`` as a user runs it."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from steward.cli import app

runner = CliRunner()


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_deadline_json_gives_due_with_offset_and_the_proof() -> None:
    result = run("deadline", "2025-11-26T10:00:00-08:00", "--working-days", "10", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["due"] == "2025-12-13T00:00:00-08:00"
    assert data["counted"][0] == {"date": "2025-12-01", "reason": "working day 1"}
    assert len(data["counted"]) == 10
    assert data["skipped"][:2] == [
        {"date": "2025-11-27", "reason": "Thanksgiving Day"},
        {"date": "2025-11-28", "reason": "Day After Thanksgiving"},
    ]


def test_deadline_across_christmas_and_new_year_prints_the_proof() -> None:
    result = run("deadline", "2025-12-22", "--working-days", "10")
    assert result.exit_code == 0, result.output
    assert "2026-01-08T00:00:00-08:00" in result.output
    assert "Christmas Day" in result.output and "New Year's Day" in result.output


def test_deadline_on_another_calendar() -> None:
    result = run("deadline", "2025-11-26T10:00:00-08:00", "-n", "2", "--calendar", "GB-ENG@Europe/London", "--json")
    data = json.loads(result.output)
    assert data["calendar"] == "GB-ENG" and data["timezone"] == "Europe/London"
    assert [d["date"] for d in data["counted"]] == ["2025-11-27", "2025-11-28"]


def test_deadline_refuses_bad_input_naming_the_option() -> None:
    for args, needle in [
        (("2025-11-26", "--working-days", "0"), "--working-days"),
        (("2025-11-26", "-n", "2", "--calendar", "XX"), "--calendar"),
        (("not-a-date", "-n", "2"), "START"),
    ]:
        result = runner.invoke(app, ["deadline", *args])
        assert result.exit_code == 1
        assert needle in result.output or needle in (result.stderr if result.stderr_bytes else "")


def test_deadline_is_a_top_level_command() -> None:
    assert "deadline" in run("--help").output
