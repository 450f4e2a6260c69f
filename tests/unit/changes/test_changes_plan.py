"""Unit tests for plan content, versions and diffs (R-TCH-2: the published plan)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steward.changes.domain import InvalidInput, Origin, Significance
from steward.changes.plan import (
    AffectedTlds,
    PlanContent,
    build_content,
    diff_versions,
    format_timeline,
    next_version_number,
    normalise_tld,
    parse_affected,
    parse_sections,
    parse_timeline,
    render_text,
    slugify,
)

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"

BODY = """The IFM will sign the root zone with a new algorithm.

## Scope
All TLD managers with DS records.

## Roll-out & timing
Two phases.

## Scope
A second scope section.
"""


def content(**overrides: str) -> PlanContent:
    fields = {
        "title": "Algorithm rollover",
        "origin": "operational",
        "significance": "significant",
        "affected": "all",
        "body": BODY,
        "timeline": "2026-06-01: phase one\n2026-05-01: announcement",
    }
    fields.update(overrides)
    return build_content(**fields)


def test_sections_split_at_headings_with_unique_anchors() -> None:
    sections = parse_sections(BODY)
    assert [s.anchor for s in sections] == ["overview", "scope", "roll-out-timing", "scope-2"]
    assert sections[0].heading == "Overview"
    assert sections[2].heading == "Roll-out & timing"
    assert sections[1].body == "All TLD managers with DS records."


def test_no_preamble_means_no_overview_section() -> None:
    sections = parse_sections("## Overview\ntext\n## Details\nmore")
    assert [s.anchor for s in sections] == ["overview", "details"]


def test_empty_headed_section_is_kept() -> None:
    assert [s.anchor for s in parse_sections("intro\n## Open questions\n")] == [
        "overview",
        "open-questions",
    ]


def test_slugify_handles_unicode_and_symbols() -> None:
    assert slugify("Résumé — phase 2!") == "resume-phase-2"
    assert slugify("配置") == "section"


def test_timeline_is_sorted_and_round_trips() -> None:
    milestones = parse_timeline("2026-06-01: phase one\n\n2026-05-01: announcement\n")
    assert [m.on for m in milestones] == [date(2026, 5, 1), date(2026, 6, 1)]
    assert parse_timeline(format_timeline(milestones)) == milestones


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("2026-06-01: ok\nnot a date line", 2, "expected"),
        ("2026-02-30: impossible", 1, "is not a date"),
        ("\n\n2026-01-01:   ", 3, "expected"),
    ],
)
def test_bad_timeline_line_is_named(text: str, line: int, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as info:
        parse_timeline(text)
    assert info.value.field == "timeline"
    assert info.value.line == line


def test_affected_all_or_a_normalised_list() -> None:
    assert parse_affected("") == AffectedTlds(all=True)
    assert parse_affected(" ALL ") == AffectedTlds(all=True)
    affected = parse_affected(".ORG, com  xn--p1ai,рф")
    assert affected == AffectedTlds(all=False, tlds=("com", "org", "xn--p1ai"))
    assert affected.describe() == ".com, .org, .xn--p1ai"


@pytest.mark.parametrize("text", ["com, all", "bad_label", "a.b", "-x", "xn--zz"])
def test_bad_affected_list_names_the_field(text: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_affected(text)
    assert info.value.field == "affected"


def test_right_to_left_marks_are_ignored() -> None:
    assert normalise_tld("\u200fشبكة\u200e") == "xn--ngbc5azd"


def test_every_tld_in_the_root_zone_snapshot_normalises() -> None:
    """All 1,592 TLDs of the real root zone snapshot are acceptable as affected TLDs."""
    with (DATA / "root-zone-db" / "tld.csv").open(encoding="utf-8", newline="") as handle:
        labels = [row["Domain"] for row in csv.DictReader(handle)]
    assert len(labels) == 1592
    normalised = {normalise_tld(label) for label in labels}
    assert len(normalised) == 1592
    assert {"com", "xn--p1ai"} <= normalised
    assert all(label.isascii() for label in normalised)


def test_build_content_names_each_bad_field() -> None:
    cases = {
        "title": {"title": "   "},
        "origin": {"origin": "political"},
        "significance": {"significance": "huge"},
        "body": {"body": "\n  \n"},
        "affected": {"affected": "all com"},
        "timeline": {"timeline": "tomorrow: go"},
    }
    for field, override in cases.items():
        with pytest.raises(InvalidInput) as info:
            content(**override)
        assert info.value.field == field


def test_overlong_title_is_refused() -> None:
    with pytest.raises(InvalidInput, match="200"):
        content(title="t" * 201)


def test_build_content_collapses_title_whitespace_and_parses_all_parts() -> None:
    plan = content(title="  Algorithm \n rollover ")
    assert plan.title == "Algorithm rollover"
    assert plan.origin is Origin.OPERATIONAL
    assert plan.significance is Significance.SIGNIFICANT
    assert plan.section_anchors == ("overview", "scope", "roll-out-timing", "scope-2")
    assert plan.timeline[0].label == "announcement"


def test_identical_versions_have_an_empty_diff() -> None:
    diff = diff_versions(content(), content(), old_version=1, new_version=2)
    assert diff.unchanged
    assert diff.unified() == ""
    assert diff.changed_fields == ()


def test_diff_shows_changed_lines_fields_and_sections() -> None:
    old = content()
    new = content(
        origin="policy",
        body=BODY.replace("Two phases.", "Three phases.") + "\n## Fallback\nRevert.\n",
    )
    diff = diff_versions(old, new, old_version=1, new_version=2)
    assert diff.changed_fields == ("origin", "body")
    assert diff.sections_changed == ("roll-out-timing",)
    assert diff.sections_added == ("fallback",)
    assert diff.sections_removed == ()
    removed = [line.text for line in diff.lines if line.kind == "removed"]
    added = [line.text for line in diff.lines if line.kind == "added"]
    assert "Two phases." in removed
    assert "Three phases." in added
    assert any(text.startswith("Origin: Policy-driven") for text in added)
    unified = diff.unified()
    assert unified.startswith("--- version 1\n+++ version 2\n@@")
    assert "-Two phases." in unified and "+Three phases." in unified


def test_diff_line_numbers_point_into_each_version() -> None:
    old, new = content(), content(body=BODY.replace("Two phases.", "Three phases."))
    diff = diff_versions(old, new, old_version=1, new_version=2)
    old_lines, new_lines = render_text(old), render_text(new)
    for line in diff.lines:
        if line.kind == "removed":
            assert line.old is not None and old_lines[line.old - 1] == line.text
        if line.kind == "added":
            assert line.new is not None and new_lines[line.new - 1] == line.text
        if line.kind == "context":
            assert line.old is not None and old_lines[line.old - 1] == line.text


def test_removed_section_is_reported() -> None:
    diff = diff_versions(content(), content(body="Just an overview."), old_version=3, new_version=4)
    assert set(diff.sections_removed) == {"scope", "roll-out-timing", "scope-2"}


_line = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)


@given(st.lists(_line, min_size=1, max_size=15), st.lists(_line, min_size=1, max_size=15))
def test_applying_the_diff_rebuilds_the_new_version(a: list[str], b: list[str]) -> None:
    """Property: the old text plus the diff's added lines, minus its removed ones, is the new."""
    body_a = "x\n" + "\n".join(a)
    body_b = "x\n" + "\n".join(b)
    old = PlanContent("T", Origin.POLICY, Significance.MINOR, AffectedTlds(all=True), body_a)
    new = PlanContent("T", Origin.POLICY, Significance.MINOR, AffectedTlds(all=True), body_b)
    diff = diff_versions(old, new, old_version=1, new_version=2, context=0)
    result = render_text(old)
    offset = 0
    for line in diff.lines:
        if line.kind == "removed":
            assert line.old is not None
            del result[line.old - 1 + offset]
            offset -= 1
        elif line.kind == "added":
            assert line.new is not None
            result.insert(line.new - 1, line.text)
            offset += 1
    assert result == render_text(new)


def test_version_numbers_have_no_gaps() -> None:
    assert next_version_number([]) == 1
    assert next_version_number([1, 2, 3]) == 4
