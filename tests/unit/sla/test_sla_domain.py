"""Months, times and report shapes of the SLA domain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steward.sla.domain import (
    CSV_COLUMNS,
    DEFAULT_CATALOGUE,
    MetricResult,
    Month,
    MonthlyReport,
    Rating,
    Summary,
    from_us,
    month_range,
    report_csv,
    seconds,
    to_us,
)


def test_month_parse_and_bounds_are_utc() -> None:
    month = Month.parse("2026-10")
    assert str(month) == "2026-10"
    assert month.start == datetime(2026, 10, 1, tzinfo=UTC)
    assert month.end == datetime(2026, 11, 1, tzinfo=UTC)
    assert Month(2026, 12).plus(1) == Month(2027, 1)
    assert Month(2027, 1).plus(-13) == Month(2025, 12)
    assert Month.of(datetime(2026, 11, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))) == month


@pytest.mark.parametrize("text", ["2026-13", "2026-1", "26-10", "October", ""])
def test_month_parse_refuses_bad_text(text: str) -> None:
    with pytest.raises(ValueError, match="month must look like 2026-10"):
        Month.parse(text)


def test_month_range_is_inclusive() -> None:
    assert month_range(Month(2025, 11), Month(2026, 2)) == [
        Month(2025, 11), Month(2025, 12), Month(2026, 1), Month(2026, 2),
    ]  # fmt: skip


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1),
                    timezones=st.just(UTC)))  # fmt: skip
def test_microsecond_epoch_round_trips_exactly(moment: datetime) -> None:
    assert from_us(to_us(moment)) == moment


def test_seconds_are_whole_when_they_can_be() -> None:
    assert seconds(60_000_000) == 60 and isinstance(seconds(60_000_000), int)
    assert seconds(1_500_000) == 1.5


def test_summary_words() -> None:
    assert Summary(11, 11, 11).rating is Rating.EXCELLENT
    assert Summary(10, 11, 11).rating is Rating.SATISFACTORY
    assert Summary(0, 0, 11).rating is Rating.NO_DATA
    assert Summary(62, 65, 65).text == "62 of 65 thresholds met"
    assert Summary(62, 65, 65).percent == 95.4


def test_csv_has_one_row_per_metric_under_the_columns() -> None:
    import csv
    import io

    metric = DEFAULT_CATALOGUE.metrics[0]
    report = MonthlyReport(
        Month(2026, 10), "1",
        (MetricResult(metric, 20, 19, 5_000_000, 59_000_000, 1, 2),),
        as_of=datetime(2026, 11, 1, tzinfo=UTC),
    )  # fmt: skip
    text = report_csv(report.as_json(), {metric.id: metric.name})
    header, row = list(csv.reader(io.StringIO(text)))
    assert tuple(header) == CSV_COLUMNS
    values = dict(zip(CSV_COLUMNS, row, strict=True))
    assert values["id"] == "cat1-ticket-confirmation" and values["name"].startswith(
        "Request received"
    )
    assert (values["count"], values["met"], values["compliance"]) == ("20", "19", "95.0")
    assert (values["result"], values["median_s"], values["p95_s"]) == ("met", "5", "59")
    assert (values["unpaired_ends"], values["open_starts"]) == ("1", "2")
    # a metric named like a formula (catalogue text is the DUG's) opens as text in a spreadsheet
    named = report_csv(report.as_json(), {metric.id: "=cmd|' /C calc'!A0"})
    assert list(csv.reader(io.StringIO(named)))[1][3] == "'=cmd|' /C calc'!A0"


def test_review_checks_overall_and_findings_R_SLA_2() -> None:
    from steward.sla.domain import Finding, Overall, check_review

    ids = ["a", "b"]
    verdict, findings = check_review(
        "concerns", [("a", "breach", " late "), ("b", "satisfactory", "")], ids
    )
    assert verdict is Overall.CONCERNS
    assert findings[0].finding is Finding.BREACH and findings[0].note == "late"
    with pytest.raises(
        ValueError, match="overall: cannot be satisfactory with a breach noted on a"
    ):
        check_review("satisfactory", [("a", "breach", "")], ids)
    with pytest.raises(ValueError, match=r"findings\.zz: no such metric"):
        check_review("concerns", [("zz", "breach", "")], ids)
    with pytest.raises(ValueError, match=r"findings\.a: 'awful' is not one of"):
        check_review("concerns", [("a", "awful", "")], ids)
    with pytest.raises(ValueError, match="overall: 'fine' is not one of"):
        check_review("fine", [], ids)


def test_a_month_is_over_at_its_utc_end() -> None:
    from steward.sla.domain import month_is_over

    assert not month_is_over(Month(2026, 10), datetime(2026, 10, 31, 23, 59, tzinfo=UTC))
    assert month_is_over(Month(2026, 10), datetime(2026, 11, 1, tzinfo=UTC))


def test_human_duration() -> None:
    from steward.sla.domain import human_duration

    assert human_duration(None) == "—"
    assert human_duration(6) == "6 s" and human_duration(1.5) == "1.5 s"
    assert human_duration(382) == "6 min 22 s" and human_duration(3000) == "50 min"
    assert human_duration(71510) == "19 h 51 min" and human_duration(284765) == "3 d 7 h"
