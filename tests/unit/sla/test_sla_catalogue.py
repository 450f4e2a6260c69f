"""The SLA catalogue (R-SLA-1): the default version as domain.md maps it, the TOML format and its
validation errors, and which version is in force for a month."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from steward.sla.domain import (
    DEFAULT_CATALOGUE,
    CatalogueError,
    CatalogueVersion,
    Category,
    Channel,
    Event,
    Metric,
    MetricType,
    Month,
    Result,
    catalogue_from_mapping,
    catalogue_to_mapping,
    describe_duration,
    format_duration,
    load_catalogue_toml,
    parse_duration,
    version_in_force,
)

GOOD_TOML = """
version = "2"
effective = 2027-01-01
cause = "Periodic audit 2026 (R-AUD-2)"

[[metrics]]
id = "cat1-ticket-confirmation"
category = "I"
phase = "submission"
name = "Request received via automated interface → ticket confirmation sent"
start = "received"
end = "ticket_confirmed"
channel = "automated"
type = "max"
threshold = "30s"
target = 99.5

[[metrics]]
id = "cat2-min-wait"
category = "II"
phase = "review"
name = "Cooling-off before release"
start = "contact_affirmed"
end = "released"
type = "min"
threshold = "1h"
target = 90
"""


def test_default_catalogue_maps_the_category_i_table_and_the_emergency_rule() -> None:
    """domain.md: the default catalogue, start → end [channel] threshold target."""
    table = {
        (m.start, m.end, m.channel, m.category): (m.threshold_s, m.target, m.type)
        for m in DEFAULT_CATALOGUE.metrics
    }
    I, E = Category.I, Category.EMERGENCY  # noqa: E741
    max_ = MetricType.MAX
    assert table == {
        (Event.RECEIVED, Event.TICKET_CONFIRMED, Channel.AUTOMATED, I): (60, Decimal(95), max_),
        (Event.RECEIVED, Event.LODGED, Channel.EMAIL, I): (3 * 86400, Decimal(95), max_),
        (Event.RECEIVED, Event.TECH_CHECK_DONE, Channel.AUTOMATED, I): (3000, Decimal(95), max_),
        (Event.RETEST_REQUESTED, Event.RETEST_DONE, None, I): (600, Decimal(95), max_),
        (Event.TECH_CHECK_DONE, Event.CONTACT_CONFIRMATION_SENT, None, I): (60, Decimal(95), max_),
        (Event.CONTACT_RESPONSE, Event.CONTACT_AFFIRMED, None, I): (60, Decimal(95), max_),
        (Event.CONTACT_AFFIRMED, Event.RELEASED, None, I): (5 * 86400, Decimal(90), max_),
        (Event.SUPPLEMENTAL_CHECK_STARTED, Event.SUPPLEMENTAL_CHECK_DONE, None, I): (
            600, Decimal(95), max_,
        ),
        (Event.RELEASED, Event.PUBLISHED, None, I): (72 * 3600, Decimal(99), max_),
        (Event.PUBLISHED, Event.REQUESTER_NOTIFIED, None, I): (60, Decimal(95), max_),
        (Event.RECEIVED, Event.PUBLISHED, None, E): (12 * 3600, Decimal(100), max_),
    }  # fmt: skip
    assert len({m.id for m in DEFAULT_CATALOGUE.metrics}) == 11
    assert all(m.period == "month" for m in DEFAULT_CATALOGUE.metrics)


def test_load_catalogue_toml_reads_every_field() -> None:
    version = load_catalogue_toml(GOOD_TOML)
    assert version.version == "2"
    assert version.effective == date(2027, 1, 1)
    assert version.cause == "Periodic audit 2026 (R-AUD-2)"
    first, second = version.metrics
    assert first.channel is Channel.AUTOMATED and first.threshold_s == 30
    assert first.target == Decimal("99.5")
    assert second.type is MetricType.MIN and second.channel is None
    assert second.threshold_s == 3600 and second.category is Category.II


def test_catalogue_mapping_round_trip_keeps_every_metric() -> None:
    again = catalogue_from_mapping(catalogue_to_mapping(DEFAULT_CATALOGUE))
    assert again == DEFAULT_CATALOGUE


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (('threshold = "30s"', 'threshold = "30 seconds"'),
         "metrics[1] (cat1-ticket-confirmation).threshold: '30 seconds' is not a duration"),
        (('start = "received"', 'start = "arrived"'),
         "metrics[1] (cat1-ticket-confirmation).start: 'arrived' is not one of received"),
        (('category = "II"', 'category = "VI"'), "metrics[2] (cat2-min-wait).category: 'VI'"),
        (('channel = "automated"', 'channel = "fax"'), ".channel: 'fax' is not one of automated, email"),
        (('type = "min"', 'type = "average"'), "metrics[2] (cat2-min-wait).type: 'average'"),
        (("target = 90", "target = 120"), "metrics[2] (cat2-min-wait).target: must be more than 0 and at most 100"),
        (("target = 90", 'target = "lots"'), "metrics[2] (cat2-min-wait).target: 'lots' is not a percentage"),
        (('end = "released"', 'end = "contact_affirmed"'), "metrics[2] (cat2-min-wait).end: must differ from start"),
        (('id = "cat2-min-wait"', 'id = "cat1-ticket-confirmation"'), "metrics[2] (cat1-ticket-confirmation).id: duplicate metric id"),
        (('id = "cat2-min-wait"', 'id = "Bad Id"'), "metrics[2] (Bad Id).id: required"),
        (("effective = 2027-01-01", "effective = 2027-01-01T00:00:00Z"), "effective: give a date"),
        (('version = "2"', ""), "version: required"),
        (('name = "Cooling-off before release"', 'nmae = "x"'), "metrics[2] (cat2-min-wait).nmae: unknown field"),
        (('threshold = "1h"', 'threshold = "0s"'), "metrics[2] (cat2-min-wait).threshold: must be longer than 0 s"),
        (('threshold = "1h"', 'threshold = "1h"\nperiod = "week"'), '.period: only "month"'),
    ],
)  # fmt: skip
def test_bad_catalogue_names_the_metric_and_field(edit: tuple[str, str], expected: str) -> None:
    text = GOOD_TOML.replace(*edit)
    assert text != GOOD_TOML
    with pytest.raises(CatalogueError) as caught:
        load_catalogue_toml(text)
    assert any(expected in p for p in caught.value.problems), caught.value.problems


def test_catalogue_that_is_not_toml_says_so() -> None:
    with pytest.raises(CatalogueError, match="not valid TOML"):
        load_catalogue_toml("version = \n")


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        ('version = "2"\neffective = 2027-01-01\ncause = @\n', 3, 9, "Invalid value (at column 9)"),
        ("version = \n", 1, 11, "Invalid value (at column 11)"),
        ('version = "2"\nx = [1,\n', 2, None, "Invalid value (at the end of the file)"),
    ],
)
def test_toml_syntax_error_gives_its_line_and_column_and_no_field(
    text: str, line: int, column: int | None, message: str
) -> None:
    with pytest.raises(CatalogueError) as caught:
        load_catalogue_toml(text)
    error = caught.value
    assert (error.line, error.column, error.fields) == (line, column, [None])
    assert error.problems == [f"not valid TOML: {message}"]


def test_each_problem_keeps_the_field_it_names() -> None:
    """The field is recorded, never cut out of the message (ids and keys may hold colons)."""
    text = GOOD_TOML.replace('id = "cat2-min-wait"', 'id = "cat2: wait"').replace(
        "target = 99.5", 'target = 99.5\n"odd: key" = 1'
    )
    with pytest.raises(CatalogueError) as caught:
        load_catalogue_toml(text)
    assert caught.value.fields == [
        "metrics[1] (cat1-ticket-confirmation).odd: key",
        "metrics[2] (cat2: wait).id",
    ]
    assert caught.value.line is None
    assert len(caught.value.problems) == 2


def test_months_are_read_from_0001_to_9998_and_every_one_has_an_end() -> None:
    assert Month.parse("9998-12").end == Month(9999, 1).start
    for text in ("0000-01", "9999-01"):
        with pytest.raises(ValueError, match="years 0001 to 9998"):
            Month.parse(text)


def test_catalogue_lists_every_problem_at_once() -> None:
    text = GOOD_TOML.replace('threshold = "30s"', 'threshold = "soon"').replace(
        "target = 90", "target = 0"
    )
    with pytest.raises(CatalogueError) as caught:
        load_catalogue_toml(text)
    assert len(caught.value.problems) == 2


def test_catalogue_without_metrics_is_refused() -> None:
    with pytest.raises(CatalogueError, match="metrics: at least one"):
        catalogue_from_mapping({"version": "3", "effective": date(2027, 1, 1)})


def _version(label: str, effective: date) -> CatalogueVersion:
    return CatalogueVersion(label, effective, DEFAULT_CATALOGUE.metrics)


def test_version_in_force_is_the_one_effective_on_the_first_of_the_month() -> None:
    """R-SLA-1: performance is judged against the version in force for the period."""
    v1 = _version("1", date(2016, 10, 1))
    v2 = _version("2", date(2027, 1, 1))
    v3 = _version("3", date(2027, 3, 15))  # mid-month: applies from April
    versions = [v3, v1, v2]
    assert version_in_force(versions, Month(2016, 9)) is None
    assert version_in_force(versions, Month(2016, 10)) is v1
    assert version_in_force(versions, Month(2026, 12)) is v1
    assert version_in_force(versions, Month(2027, 1)) is v2
    assert version_in_force(versions, Month(2027, 3)) is v2
    assert version_in_force(versions, Month(2027, 4)) is v3


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("60s", 60), ("50min", 3000), ("72h", 259200), ("3d", 259200), ("1h30min", 5400),
     ("1d 2h", 93600)],
)  # fmt: skip
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize("text", ["", "60", "5 minutes", "1.5h", "h"])
def test_parse_duration_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_describe_duration_uses_the_units_of_the_real_table() -> None:
    assert describe_duration(60) == "60 s"
    assert describe_duration(59) == "59 s"
    assert describe_duration(600) == "10 min"
    assert describe_duration(3000) == "50 min"
    assert describe_duration(43200) == "12 h"
    assert describe_duration(259200) == "72 h"
    assert describe_duration(432000) == "5 days"


def _metric(metric_type: MetricType, threshold_s: int = 60, target: str = "95") -> Metric:
    return Metric("m", Category.I, "p", "n", Event.RECEIVED, Event.LODGED, metric_type,
                  threshold_s, Decimal(target))  # fmt: skip


def test_max_is_met_at_the_threshold_and_min_too() -> None:
    assert _metric(MetricType.MAX).is_met(60_000_000)
    assert not _metric(MetricType.MAX).is_met(60_000_001)
    assert _metric(MetricType.MIN).is_met(60_000_000)
    assert not _metric(MetricType.MIN).is_met(59_999_999)


def test_result_compares_compliance_with_target_exactly() -> None:
    metric = _metric(MetricType.MAX, target="95")
    assert metric.result(57, 60) is Result.MET  # exactly 95 %
    assert metric.result(56, 59) is Result.MISSED  # 94.9 %
    assert metric.result(0, 0) is Result.NO_DATA
    assert _metric(MetricType.MAX, target="99.5").result(199, 200) is Result.MET
    assert _metric(MetricType.MAX, target="99.5").result(198, 200) is Result.MISSED


def test_toml_export_loads_back_unchanged() -> None:
    from steward.sla.domain import dump_catalogue_toml

    text = dump_catalogue_toml(DEFAULT_CATALOGUE)
    assert 'threshold = "72h"' in text or 'threshold = "3d"' in text
    assert load_catalogue_toml(text) == DEFAULT_CATALOGUE
    custom = load_catalogue_toml(GOOD_TOML)
    assert load_catalogue_toml(dump_catalogue_toml(custom)) == custom
