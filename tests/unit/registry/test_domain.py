"""Registry rules, pure: labels, chambers, the Root Zone Database CSV."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.registry.domain import (
    Chamber,
    Current,
    RegistryFileError,
    TldType,
    chambers_of,
    clean_text,
    labels,
    parse_root_zone_csv,
    plan_import,
)

ROOT_ZONE = Path(__file__).resolve().parents[4] / "shared" / "data" / "root-zone-db" / "tld.csv"


@pytest.fixture(scope="module")
def rows():
    return parse_root_zone_csv(ROOT_ZONE.read_text(encoding="utf-8"))


def test_all_1592_rows_parse_with_the_real_type_counts(rows):
    assert len(rows) == 1592
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.type.value] = counts.get(row.type.value, 0) + 1
    assert counts == {
        "generic": 1247, "country-code": 316, "sponsored": 14, "test": 11, "generic-restricted": 3, "infrastructure": 1,
    }


def test_idns_keep_both_labels(rows):
    by_a = {r.a_label: r for r in rows}
    assert by_a["xn--p1ai"].u_label == "рф"
    assert by_a["xn--4dbrk0ce"].u_label == "ישראל"
    assert sum(1 for r in rows if r.a_label != r.u_label) == 169


def test_right_to_left_marks_are_removed(rows):
    assert not any("\u200f" in r.u_label or "\u200e" in r.u_label for r in rows)


def test_manager_newlines_are_cleaned(rows):
    fj = next(r for r in rows if r.a_label == "fj")
    assert fj.manager == "The University of the South Pacific, IT Services"
    assert not any(r.manager and "\n" in r.manager for r in rows)


def test_not_assigned_tlds_have_no_manager(rows):
    assert sum(1 for r in rows if r.manager is None) == 153


def test_malformed_file_names_the_line():
    text = "Domain,Type,TLD Manager\n.aaa,generic,AAA\n.bbb,galactic,BBB\n"
    with pytest.raises(RegistryFileError) as err:
        parse_root_zone_csv(text)
    assert err.value.line == 3
    assert "galactic" in err.value.message


def test_line_numbers_count_embedded_newlines():
    text = 'Domain,Type,TLD Manager\n.aa,country-code,"Two\nlines"\n.b_b,generic,X\n'
    with pytest.raises(RegistryFileError) as err:
        parse_root_zone_csv(text)
    assert err.value.line == 4


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("", 1, "empty"),
        ("Name,Kind\n.a,generic,X\n", 1, "expected header"),
        ("Domain,Type,TLD Manager\n.aaa,generic\n", 2, "3 columns"),
        ("Domain,Type,TLD Manager\n.aaa,generic,\n", 2, "TLD Manager"),
        ("Domain,Type,TLD Manager\n.aaa,generic,A\n.AAA,generic,B\n", 3, "already appears on line 2"),
        ("Domain,Type,TLD Manager\n.-bad-,generic,A\n", 2, "Domain"),
        ("Domain,Type,TLD Manager\n", 2, "no TLD rows"),
    ],
)
def test_every_kind_of_bad_file_is_refused(text, line, fragment):
    with pytest.raises(RegistryFileError) as err:
        parse_root_zone_csv(text)
    assert err.value.line == line
    assert fragment in err.value.message


def test_labels_accept_a_or_u_label_with_or_without_dot():
    assert labels(".xn--p1ai") == labels("рф")
    assert labels("COM").a_label == "com"
    with pytest.raises(ValueError):
        labels("a.b")


def test_chamber_rule_sponsored_and_restricted_are_gtld_test_and_infrastructure_none():
    assert chambers_of([TldType.COUNTRY_CODE]) == {Chamber.CCTLD}
    assert chambers_of([TldType.SPONSORED]) == {Chamber.GTLD}
    assert chambers_of([TldType.GENERIC_RESTRICTED]) == {Chamber.GTLD}
    assert chambers_of([TldType.GENERIC, TldType.COUNTRY_CODE]) == {Chamber.CCTLD, Chamber.GTLD}
    assert chambers_of([TldType.TEST, TldType.INFRASTRUCTURE]) == frozenset()


def test_clean_text_collapses_blanks_and_marks():
    assert clean_text("\u200fA  B\nC\u200e") == "A B, C"


def test_plan_reports_added_removed_reassigned(rows):
    current = {r.a_label: Current(type=r.type, manager=r.manager) for r in rows[:10]}
    current["gone"] = Current(type=TldType.GENERIC, manager="Old")
    first = rows[0]
    current[first.a_label] = Current(type=first.type, manager="Someone Else")
    plan = plan_import(current, rows)
    assert len(plan.added) == len(rows) - 10
    assert plan.removed == ["gone"]
    assert plan.reassigned == [(first.a_label, "Someone Else", first.manager)]
