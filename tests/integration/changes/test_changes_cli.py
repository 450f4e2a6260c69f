"""`steward changes …` on SQLite and PostgreSQL: the IFM drafts, revises and publishes a plan."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from steward.cli import app

runner = CliRunner()


def test_cli_drafts_revises_publishes_and_shows_a_plan(db_url, make, tmp_path):
    ifm = make.user("ifm_staff", org=make.org("PTI", kind="ifm"))
    body = tmp_path / "plan.txt"
    body.write_text("Sign the hints file.\n\n## Format\nDetached signature.\n", encoding="utf-8")
    bad = runner.invoke(app, ["changes", "create", "--as", ifm.email, "--title", "Hints",
                              "--body", str(body), "--origin", "political"])
    assert bad.exit_code == 1 and "field 'origin'" in bad.output

    created = runner.invoke(app, ["changes", "create", "--as", ifm.email, "--title", "Signed hints",
                                  "--body", str(body), "--origin", "operational"])
    assert created.exit_code == 0, created.output
    assert "Drafted plan #1" in created.output
    assert "Signed hints" not in runner.invoke(app, ["changes", "list"]).output  # drafts are internal

    body.write_text("Sign the hints file.\n\n## Format\nDetached Ed25519 signature.\n", encoding="utf-8")
    revised = runner.invoke(app, ["changes", "revise", "1", "--as", ifm.email, "--body", str(body),
                                  "--note", "algorithm named"])
    assert revised.exit_code == 0, revised.output
    assert "-Detached signature." in revised.output and "+Detached Ed25519 signature." in revised.output

    published = runner.invoke(app, ["changes", "publish", "1", "--as", ifm.email, "--days", "45"])
    assert published.exit_code == 0 and "open for comment until" in published.output
    shown = json.loads(runner.invoke(app, ["changes", "show", "1", "--json"]).output)
    assert shown["state"] == "open_for_comment" and shown["published_version"] == 2
    assert [s["anchor"] for s in shown["version"]["sections"]] == ["overview", "format"]
    assert "Signed hints" in runner.invoke(app, ["changes", "list"]).output

    refused = runner.invoke(app, ["changes", "statement", "1", "--as", ifm.email, "--text", str(body)])
    assert refused.exit_code == 1 and "cannot issue statement" in refused.output
