"""`steward sla …` refusing bad input: a clear error naming the option, line or field, nothing
changed (no file overwritten, nothing stored or published) and never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from steward.cli import app
from steward.db import session_scope
from steward.sla import repository

ROOT_ZONE = Path(__file__).resolve().parents[4] / "shared" / "data" / "root-zone-db" / "tld.csv"
runner = CliRunner()
HEADER = "request_id,tld,category,channel,event,occurred_at\n"


def invoke(*args: str):  # type: ignore[no-untyped-def]
    result = runner.invoke(app, list(args))
    # an uncaught exception would be kept here (and shown to a user as a traceback)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def flat(text: str) -> str:
    """The output with rich's line wrapping and box borders undone."""
    return " ".join(text.replace("│", " ").split())


@pytest.fixture
def cli_db(tmp_path: Path, configure) -> Path:  # type: ignore[no-untyped-def]
    configure(f"sqlite:///{tmp_path / 'cli.db'}")
    assert invoke("init").exit_code == 0
    return tmp_path


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        ("2026-13", "month must look like 2026-10, not '2026-13'"),
        ("", "month must look like 2026-10"),
        ("9999-01", "years 0001 to 9998"),
        ("2999-01", "2999-01 has not begun"),
    ],
)
def test_simulate_checks_every_option_before_touching_the_output(
    cli_db: Path, first: str, expected: str
) -> None:
    keep = cli_db / "keep.csv"
    keep.write_text("precious\n")
    result = invoke("sla", "simulate", "--out", str(keep), "--first", first)
    assert result.exit_code == 2
    assert "'--first'" in result.output and expected in flat(result.output)
    assert keep.read_text() == "precious\n"


@pytest.mark.parametrize("where", ["missing/x.csv", "."])
def test_simulate_to_an_unwritable_path_is_a_clear_error(cli_db: Path, where: str) -> None:
    out = cli_db / where
    result = invoke("sla", "simulate", "--months", "1", "--out", str(out))
    assert result.exit_code == 1
    text = flat(result.output)
    assert f"field 'out': cannot write {out}" in text
    assert "No such file or directory" in text or "Is a directory" in text


def test_catalogue_load_names_the_line_and_column_of_a_toml_syntax_error(cli_db: Path) -> None:
    bad = cli_db / "bad.toml"
    bad.write_text('version = "2"\neffective = 2027-01-01\ncause = @\n')
    result = invoke("sla", "catalogue", "load", str(bad))
    assert result.exit_code == 1
    text = flat(result.output)
    assert "line 3: not valid TOML: Invalid value (at column 9)" in text
    assert "field '" not in text


def test_catalogue_load_refuses_a_file_that_is_not_utf8(cli_db: Path) -> None:
    exported = cli_db / "v1.toml"
    assert invoke("sla", "catalogue", "export", "--out", str(exported)).exit_code == 0
    text = exported.read_bytes().replace(b'version = "1"', b'version = "2"')
    bad = cli_db / "latin1.toml"
    bad.write_bytes(
        text.replace(b"effective = 2016-10-01", b'effective = 2027-01-01\ncause = "Caf\xe9"')
    )
    result = invoke("sla", "catalogue", "load", str(bad))
    assert result.exit_code == 1
    offset = bad.read_bytes().index(b"\xe9")
    line = bad.read_bytes()[:offset].count(b"\n") + 1
    assert f"line {line}: the file is not UTF-8 text (byte 0xe9 at offset {offset})" in flat(
        result.output
    )
    shown = invoke("sla", "catalogue", "show").output
    assert "Version 2" not in shown  # nothing loaded


def test_catalogue_export_refuses_an_empty_version_and_unwritable_outputs(cli_db: Path) -> None:
    empty = invoke("sla", "catalogue", "export", "--version", "")
    assert empty.exit_code == 2 and "'--version'" in empty.output
    assert "version = " not in empty.output
    assert "must be a version label" in flat(empty.output)
    missing = cli_db / "no" / "such" / "v.toml"
    result = invoke("sla", "catalogue", "export", "--out", str(missing))
    assert result.exit_code == 1
    assert f"cannot write {missing}: No such file or directory" in flat(result.output)
    folder = invoke("sla", "catalogue", "export", "--out", str(cli_db))
    assert folder.exit_code == 1 and "Is a directory" in flat(folder.output)


def test_ingest_refuses_a_row_with_an_extra_field_and_stores_nothing(cli_db: Path) -> None:
    assert invoke("registry", "import", str(ROOT_ZONE)).exit_code == 0
    events = cli_db / "events.csv"
    events.write_text(
        HEADER
        + "R-1,com,I,automated,received,2026-01-01T00:00:00Z\n"
        + "R-1,com,I,automated,ticket_confirmed,2026-01-01T00:00:09Z,surplus\n"
    )
    result = invoke("sla", "ingest", str(events))
    assert result.exit_code == 1
    text = flat(result.output)
    assert "line 3: expected 6 fields, found 7" in text and "nothing was ingested" in text
    assert "line 2" not in text  # the other row is good
    with session_scope() as db:
        assert repository.event_count(db) == 0


def test_publish_of_a_month_without_data_is_refused(cli_db: Path) -> None:
    result = invoke("sla", "publish", "--month", "2025-10")
    assert result.exit_code == 1
    assert "field 'month': there is no data for 2025-10" in flat(result.output)
    refused = invoke("sla", "report", "--month", "2025-10", "--published")
    assert refused.exit_code == 1 and "no published report for 2025-10" in flat(refused.output)


def test_month_options_name_themselves_and_the_last_month_has_an_end(cli_db: Path) -> None:
    bad = invoke("sla", "report", "--month", "2026-1")
    assert bad.exit_code == 2 and "'--month'" in bad.output
    last = invoke("sla", "report", "--month", "9998-12", "--format", "json")
    assert last.exit_code == 0 and '"month": "9998-12"' in last.output
