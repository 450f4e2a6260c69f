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
    report_csv_rows,
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


def test_csv_rows_follow_the_columns() -> None:
    metric = DEFAULT_CATALOGUE.metrics[0]
    report = MonthlyReport(
        Month(2026, 10), "1",
        (MetricResult(metric, 20, 19, 5_000_000, 59_000_000, 1, 2),),
        as_of=datetime(2026, 11, 1, tzinfo=UTC),
    )  # fmt: skip
    (row,) = report_csv_rows(report)
    values = dict(zip(CSV_COLUMNS, row, strict=True))
    assert values["id"] == "cat1-ticket-confirmation"
    assert (values["count"], values["met"], values["compliance"]) == ("20", "19", "95.0")
    assert (values["result"], values["median_s"], values["p95_s"]) == ("met", "5", "59")
    assert (values["unpaired_ends"], values["open_starts"]) == ("1", "2")
