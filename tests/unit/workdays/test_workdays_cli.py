"""``steward deadline`` on bad input: one clear line naming what the user typed, never a traceback."""

from __future__ import annotations

from typer.testing import CliRunner

from steward.cli import app

runner = CliRunner()


def test_a_start_past_the_known_holidays_is_a_clear_error() -> None:
    result = runner.invoke(app, ["deadline", "9999-01-01", "-n", "1"])
    output = " ".join(result.output.split())  # the console wraps long lines
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "field 'start'" in output and "public holidays are known in US-CA" in output


def test_a_bad_zone_in_the_calendar_code_names_the_calendar_option() -> None:
    result = runner.invoke(app, ["deadline", "2026-01-05", "-n", "1", "--calendar", "US-CA@Mars/Base"])
    output = " ".join(result.output.split())
    assert result.exit_code == 1
    assert "field '--calendar': unknown time zone 'Mars/Base'" in output
