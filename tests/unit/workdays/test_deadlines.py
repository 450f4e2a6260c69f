"""Working-day deadlines (domain.md "Working days and time"; R-DSP-3's 10 working days)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steward.workdays.domain import (
    CalendarError,
    Deadline,
    SkippedDay,
    WorkdayCalendar,
    calendar_day_deadline,
    parse_calendar,
    recompute,
    working_day_deadline,
)

LA = ZoneInfo("America/Los_Angeles")
CAL = WorkdayCalendar()


def la(*args: int) -> datetime:
    return datetime(*args, tzinfo=LA)  # type: ignore[misc]


def test_default_calendar_is_california_in_los_angeles_time() -> None:
    assert CAL.spec.code == "US-CA"
    assert CAL.spec.timezone == "America/Los_Angeles"
    assert CAL.weekend == frozenset({5, 6})


def test_ifm_response_deadline_skips_thanksgiving_and_the_day_after() -> None:
    # Lodged Wednesday 26 Nov 2025; Thursday and Friday are holidays in California.
    d = working_day_deadline(la(2025, 11, 26, 10, 0), 10, CAL)
    assert d.skipped[:4] == (
        SkippedDay(date(2025, 11, 27), "Thanksgiving Day"),
        SkippedDay(date(2025, 11, 28), "Day After Thanksgiving"),
        SkippedDay(date(2025, 11, 29), "weekend"),
        SkippedDay(date(2025, 11, 30), "weekend"),
    )
    assert d.counted[0] == date(2025, 12, 1)
    assert d.counted[-1] == date(2025, 12, 12)
    assert d.due == la(2025, 12, 13, 0, 0)
    assert d.due.isoformat() == "2025-12-13T00:00:00-08:00"


def test_ifm_response_deadline_skips_christmas_and_new_year() -> None:
    d = working_day_deadline(la(2025, 12, 22, 9, 0), 10, CAL)
    reasons = {s.day: s.reason for s in d.skipped}
    assert reasons[date(2025, 12, 25)] == "Christmas Day"
    assert reasons[date(2026, 1, 1)] == "New Year's Day"
    assert reasons[date(2025, 12, 27)] == "weekend"
    assert d.counted == (
        date(2025, 12, 23),
        date(2025, 12, 24),
        date(2025, 12, 26),
        date(2025, 12, 29),
        date(2025, 12, 30),
        date(2025, 12, 31),
        date(2026, 1, 2),
        date(2026, 1, 5),
        date(2026, 1, 6),
        date(2026, 1, 7),
    )
    assert d.due == la(2026, 1, 8, 0, 0)


def test_observed_christmas_and_new_year_on_friday_before_a_weekend_holiday() -> None:
    # 2027: Christmas and New Year's Day fall on Saturdays, observed on Fridays 24 and 31 Dec.
    d = working_day_deadline(la(2027, 12, 23, 12, 0), 5, CAL)
    reasons = {s.day: s.reason for s in d.skipped}
    assert reasons[date(2027, 12, 24)] == "Christmas Day (observed)"
    assert reasons[date(2027, 12, 25)] == "weekend"
    assert reasons[date(2027, 12, 31)] == "New Year's Day (observed)"
    assert d.counted == (
        date(2027, 12, 27),
        date(2027, 12, 28),
        date(2027, 12, 29),
        date(2027, 12, 30),
        date(2028, 1, 3),
    )


def test_day_one_is_the_first_working_day_after_the_start_day() -> None:
    # Started Monday morning: Monday itself never counts.
    d = working_day_deadline(la(2025, 12, 1, 0, 1), 1, CAL)
    assert d.counted == (date(2025, 12, 2),)
    assert d.skipped == ()
    assert d.due == la(2025, 12, 3, 0, 0)


def test_weekend_start_counts_from_monday() -> None:
    d = working_day_deadline(la(2025, 12, 6, 15, 0), 1, CAL)  # Saturday
    assert d.skipped == (SkippedDay(date(2025, 12, 7), "weekend"),)
    assert d.counted == (date(2025, 12, 8),)


def test_start_day_is_taken_in_los_angeles_not_utc() -> None:
    # 07:30 UTC Saturday is still Friday 23:30 in Los Angeles: day 1 is Monday.
    d = working_day_deadline(datetime(2025, 12, 6, 7, 30, tzinfo=UTC), 1, CAL)
    assert d.counted == (date(2025, 12, 8),)
    assert [s.reason for s in d.skipped] == ["weekend", "weekend"]


def test_friday_start_one_working_day_is_due_at_tuesday_midnight() -> None:
    d = working_day_deadline(la(2025, 12, 5, 16, 0), 1, CAL)
    assert d.due == la(2025, 12, 9, 0, 0)


def test_due_moment_carries_daylight_saving_offset() -> None:
    d = working_day_deadline(la(2026, 6, 1, 9, 0), 3, CAL)
    assert d.due.isoformat() == "2026-06-05T00:00:00-07:00"


def test_remaining_at_marks_three_working_days_before_due() -> None:
    d = working_day_deadline(la(2025, 11, 26, 10, 0), 10, CAL)
    # Day 7 is Tue 9 Dec; from its close only Wed, Thu, Fri remain.
    assert d.remaining_at(3) == la(2025, 12, 10, 0, 0)
    assert d.remaining_at(0) == d.due
    assert d.remaining_at(10) == d.start
    with pytest.raises(CalendarError):
        d.remaining_at(-1)


def test_overdue_only_from_the_due_moment() -> None:
    d = working_day_deadline(la(2025, 12, 1, 9, 0), 1, CAL)
    assert not d.is_overdue(d.due - timedelta(microseconds=1))
    assert d.is_overdue(d.due)


def test_proof_round_trips_through_json() -> None:
    d = working_day_deadline(la(2025, 11, 26, 10, 0), 10, CAL)
    data = json.loads(json.dumps(d.to_dict()))
    assert data["due"] == "2025-12-13T00:00:00-08:00"
    assert data["counted"][0] == {"date": "2025-12-01", "reason": "working day 1"}
    assert data["skipped"][0] == {"date": "2025-11-27", "reason": "Thanksgiving Day"}
    assert Deadline.from_dict(data) == d


def test_explain_lists_every_day_in_order() -> None:
    d = working_day_deadline(la(2025, 11, 26, 10, 0), 2, CAL)
    lines = d.explain()
    assert lines[1] == "2025-11-27 Thu — skipped: Thanksgiving Day"
    assert lines[5] == "2025-12-01 Mon — working day 1"
    assert lines[-1] == "due 2025-12-03T00:00:00-08:00"


def test_recompute_on_another_calendar_drops_us_holidays() -> None:
    d = working_day_deadline(la(2025, 11, 26, 10, 0), 2, CAL)
    london = WorkdayCalendar.from_code("GB-ENG", "Europe/London")
    moved = recompute(d, london)
    assert moved.start == d.start
    assert moved.calendar == "GB-ENG"
    # 10:00 in LA is 18:00 in London, still Wednesday: Thu and Fri count there.
    assert moved.counted == (date(2025, 11, 27), date(2025, 11, 28))
    assert moved.due < d.due


def test_parse_calendar_accepts_zone_suffix() -> None:
    spec = parse_calendar("gb-eng@Europe/London")
    assert (spec.code, spec.timezone) == ("GB-ENG", "Europe/London")


@pytest.mark.parametrize(
    ("code", "tz", "field"),
    [
        ("XX", "UTC", "calendar"),
        ("US-ZZ", "UTC", "calendar"),
        ("", "UTC", "calendar"),
        ("US-CA", "Mars/Olympus", "timezone"),
        ("US-CA@Mars/Base", "UTC", "calendar"),  # the zone typed in the calendar code: name that
    ],
)
def test_bad_calendar_is_refused_naming_the_field(code: str, tz: str, field: str) -> None:
    with pytest.raises(CalendarError) as err:
        parse_calendar(code, tz)
    assert err.value.field == field


def test_bad_deadline_inputs_are_refused() -> None:
    with pytest.raises(CalendarError) as err:
        working_day_deadline(la(2025, 1, 1), 0, CAL)
    assert err.value.field == "working_days"
    with pytest.raises(CalendarError) as err:
        working_day_deadline(datetime(2025, 1, 1), 1, CAL)
    assert err.value.field == "start"


@pytest.mark.parametrize(
    "start",
    [
        datetime(9999, 1, 1, tzinfo=LA),  # once an OverflowError
        datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-12))),  # past date.max in LA
        la(2101, 3, 2),  # past the holiday data: every weekday would count
        la(2100, 12, 30),  # day 2 falls in 2101
    ],
)
def test_a_deadline_past_the_known_holidays_is_refused_naming_the_start(start: datetime) -> None:
    with pytest.raises(CalendarError, match="public holidays are known") as err:
        working_day_deadline(start, 2, CAL)
    assert err.value.field == "start"


def test_a_deadline_up_to_the_last_known_day_is_counted() -> None:
    assert CAL.last_day == date(2100, 12, 31)
    d = working_day_deadline(la(2100, 12, 28), 2, CAL)  # Tuesday: Wednesday and Thursday count
    assert d.counted == (date(2100, 12, 29), date(2100, 12, 30))


def test_calendar_day_deadline_is_plain_calendar_time() -> None:
    start = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)
    assert calendar_day_deadline(start, 30) == datetime(2026, 3, 12, 12, 0, tzinfo=UTC)
    with pytest.raises(CalendarError):
        calendar_day_deadline(start, 0)


moments = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=200, deadline=None)
@given(start=moments, n=st.integers(min_value=1, max_value=40))
def test_every_day_between_start_and_due_is_counted_or_skipped(start: datetime, n: int) -> None:
    d = working_day_deadline(start, n, CAL)
    assert len(d.counted) == n
    assert all(CAL.is_working_day(day) for day in d.counted)
    assert all(not CAL.is_working_day(s.day) for s in d.skipped)
    days = sorted([*d.counted, *(s.day for s in d.skipped)])
    first = CAL.local_date(start) + timedelta(days=1)
    assert days == [first + timedelta(days=i) for i in range(len(days))]
    assert days[-1] == d.counted[-1]
    assert d.due == CAL.end_of_day(d.counted[-1])
    assert d.due > start


@settings(max_examples=100, deadline=None)
@given(start=moments, n=st.integers(min_value=1, max_value=30))
def test_one_more_working_day_is_strictly_later(start: datetime, n: int) -> None:
    assert working_day_deadline(start, n + 1, CAL).due > working_day_deadline(start, n, CAL).due
