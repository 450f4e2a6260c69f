"""`steward sla …` as a user runs it: simulate, ingest (twice), report in three formats,
catalogue show/export/load with clear errors, publish (R-SLA-1, R-SLA-2)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from steward.cli import app
from steward.db import utcnow
from steward.sla.domain import Month

ROOT_ZONE = Path(__file__).resolve().parents[4] / "shared" / "data" / "root-zone-db" / "tld.csv"
runner = CliRunner()


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_simulate_ingest_report_publish(tmp_path, configure):
    configure(f"sqlite:///{tmp_path / 'cli.db'}")
    assert run("init").exit_code == 0
    assert run("registry", "import", str(ROOT_ZONE)).exit_code == 0
    events = tmp_path / "events.csv"
    made = run("sla", "simulate", "--months", "2", "--seed", "3", "--out", str(events))
    assert made.exit_code == 0 and "Wrote" in made.output
    tlds = {row["tld"] for row in csv.DictReader(events.open())}
    assert len(tlds) > 10  # drawn from the imported Root Zone Database

    first = run("sla", "ingest", str(events))
    assert first.exit_code == 0 and "new requests" in first.output
    again = run("sla", "ingest", str(events))
    assert again.exit_code == 0 and "already recorded; nothing was added" in again.output

    month = str(Month.of(utcnow()).plus(-1))
    data = json.loads(run("sla", "report", "--month", month, "--format", "json").output)
    assert set(data) >= {"month", "catalogue_version", "metrics", "summary"}
    assert data["month"] == month and data["catalogue_version"] == "1"
    assert set(data["metrics"][0]) == {
        "id",
        "count",
        "met",
        "compliance",
        "target",
        "result",
        "median_s",
        "p95_s",
    }
    assert set(data["summary"]) == {"met", "with_data", "total"} and data["summary"]["total"] == 11
    table = run("sla", "report", "--month", month).output
    assert f"{data['summary']['met']} of {data['summary']['with_data']} thresholds met" in table
    rows = list(
        csv.DictReader(
            io.StringIO(run("sla", "report", "--month", month, "--format", "csv").output)
        )
    )
    assert [r["id"] for r in rows] == [m["id"] for m in data["metrics"]]

    published = run("sla", "publish", "--month", month)
    assert published.exit_code == 0 and f"Published {month}" in published.output
    frozen = json.loads(
        run("sla", "report", "--month", month, "--published", "--format", "json").output
    )
    assert frozen["metrics"] == data["metrics"]
    assert runner.invoke(app, ["sla", "publish", "--month", month]).exit_code == 1


def test_bad_event_file_lists_lines_and_changes_nothing(tmp_path, configure):
    configure(f"sqlite:///{tmp_path / 'cli.db'}")
    run("init")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "request_id,tld,category,channel,event,occurred_at\nR,nosuch,I,automated,received,2026-01-01T00:00:00Z\n"
    )
    result = runner.invoke(app, ["sla", "ingest", str(bad)])
    assert result.exit_code == 1
    assert (
        "line 2: tld: unknown TLD 'nosuch'" in result.output
        and "nothing was ingested" in result.output
    )


def test_catalogue_show_export_and_load(tmp_path, configure):
    configure(f"sqlite:///{tmp_path / 'cli.db'}")
    run("init")
    shown = run("sla", "catalogue", "show").output
    assert "Version 1, effective 2016-10-01" in shown and "12-hour rule" in shown
    exported = tmp_path / "v1.toml"
    assert run("sla", "catalogue", "export", "--out", str(exported)).exit_code == 0
    text = (
        exported.read_text()
        .replace('version = "1"', 'version = "2"')
        .replace("effective = 2016-10-01", "effective = 2027-01-01")
    )
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('threshold = "50min"', 'threshold = "fifty minutes"'))
    refused = runner.invoke(app, ["sla", "catalogue", "load", str(bad)])
    assert refused.exit_code == 1 and "(cat1-tech-check).threshold" in refused.output
    good = tmp_path / "v2.toml"
    good.write_text(text)
    loaded = run("sla", "catalogue", "load", str(good), "--cause", "Audit 2026 (R-AUD-2)")
    assert loaded.exit_code == 0 and "Loaded catalogue version 2" in loaded.output
    assert "Audit 2026 (R-AUD-2)" in run("sla", "catalogue", "export", "--version", "2").output
    assert (
        runner.invoke(app, ["sla", "catalogue", "load", str(good)]).exit_code == 1
    )  # versions never change
