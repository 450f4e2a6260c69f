"""Working-day calendar and deadlines with their proof (domain.md, "Working days and time").

Counting rule: day 1 is the first working day *after* the calendar day, in the
calendar's time zone, on which the clock started; the deadline is the end of the
Nth working day, i.e. local midnight at its close. A working day is a day that is
neither a weekend day of the calendar's country nor one of its public holidays as
the ``holidays`` package gives them (observed days included).

Every :class:`Deadline` carries its proof: the start, the days counted and the days
skipped with the reason ("weekend" or the holiday's name).

Pure: no I/O, no database. The holiday data comes from the ``holidays`` package.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

DEFAULT_CALENDAR = "US-CA"
DEFAULT_TIMEZONE = "America/Los_Angeles"
WEEKEND = "weekend"

# A deadline more than this many calendar days past its start means the counting can
# never finish (e.g. a calendar whose every day is a holiday); refuse instead of looping.
_MAX_SPAN_DAYS = 3660


class CalendarError(ValueError):
    """A calendar code, time zone or deadline request that cannot be used.

    ``field`` names the input that was wrong, so callers can report it.
    """

    def __init__(self, message: str, field: str = "calendar") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class CalendarSpec:
    """Which calendar: a country (ISO 3166-1 alpha-2), an optional subdivision, a time zone."""

    country: str
    subdivision: str | None
    timezone: str

    @property
    def code(self) -> str:
        """The calendar code, ``CC`` or ``CC-SUB`` (e.g. ``US-CA``)."""
        return f"{self.country}-{self.subdivision}" if self.subdivision else self.country

    def __str__(self) -> str:
        return f"{self.code} ({self.timezone})"


def parse_calendar(code: str, timezone: str = DEFAULT_TIMEZONE) -> CalendarSpec:
    """Parse ``CC``, ``CC-SUB`` or ``CC-SUB@Area/City`` into a validated :class:`CalendarSpec`.

    The ``@zone`` suffix overrides ``timezone``. Raises :class:`CalendarError` naming the
    offending part when the country, subdivision or zone is unknown.
    """
    raw = code.strip()
    zone_field = "timezone"
    if "@" in raw:
        raw, timezone = (part.strip() for part in raw.split("@", 1))
        zone_field = "calendar"  # the zone was typed as part of the calendar code: name that
    if not raw:
        raise CalendarError("calendar code is empty; expected e.g. US-CA", "calendar")
    country, _, subdivision = raw.partition("-")
    country = country.upper()
    sub = subdivision.upper() or None
    supported = holidays.list_supported_countries()
    if country not in supported:
        raise CalendarError(f"unknown country {country!r} in calendar code {code!r}", "calendar")
    if sub is not None and sub not in supported[country]:
        raise CalendarError(
            f"unknown subdivision {sub!r} of {country} in calendar code {code!r}", "calendar"
        )
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CalendarError(f"unknown time zone {timezone!r}", zone_field) from exc
    return CalendarSpec(country=country, subdivision=sub, timezone=timezone)


@dataclass(frozen=True)
class WorkdayCalendar:
    """A working-day calendar: weekends and public holidays of one place, in one time zone."""

    spec: CalendarSpec = field(default_factory=lambda: CalendarSpec("US", "CA", DEFAULT_TIMEZONE))

    @classmethod
    def from_code(
        cls, code: str = DEFAULT_CALENDAR, timezone: str = DEFAULT_TIMEZONE
    ) -> WorkdayCalendar:
        """Build a calendar from a code such as ``US-CA`` (see :func:`parse_calendar`)."""
        return cls(parse_calendar(code, timezone))

    @cached_property
    def _holidays(self) -> holidays.HolidayBase:
        return holidays.country_holidays(
            self.spec.country, subdiv=self.spec.subdivision, observed=True
        )

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone."""
        return ZoneInfo(self.spec.timezone)

    @property
    def last_day(self) -> date:
        """The last day a deadline can be counted to: the ``holidays`` package knows each
        country's holidays up to a year (2100 for most); past it every weekday would count as a
        working day, and past ``date.max`` there are no days (the due moment is the next midnight)."""
        end = int(getattr(self._holidays, "end_year", date.max.year))
        return min(date(min(end, date.max.year), 12, 31), date.max - timedelta(days=1))

    @property
    def weekend(self) -> frozenset[int]:
        """Weekend weekdays (Monday = 0) as the ``holidays`` package defines them for the country."""
        return frozenset(self._holidays.weekend)

    def holiday_name(self, day: date) -> str | None:
        """The public holiday's name on ``day`` (several joined by "; "), or None."""
        names = self._holidays.get_list(day)
        return "; ".join(names) if names else None

    def skip_reason(self, day: date) -> str | None:
        """Why ``day`` is not a working day ("weekend" or the holiday's name), or None if it is one."""
        if day.weekday() in self.weekend:
            return WEEKEND
        return self.holiday_name(day)

    def is_working_day(self, day: date) -> bool:
        """True when ``day`` is neither a weekend day nor a public holiday."""
        return self.skip_reason(day) is None

    def local_date(self, moment: datetime) -> date:
        """The calendar date of an aware ``moment`` in the calendar's time zone."""
        return _aware(moment, "start").astimezone(self.zone).date()

    def end_of_day(self, day: date) -> datetime:
        """Local midnight at the close of ``day`` (an aware datetime in the calendar's zone)."""
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone)


@dataclass(frozen=True)
class SkippedDay:
    """A calendar day passed over while counting, with the reason."""

    day: date
    reason: str


@dataclass(frozen=True)
class Deadline:
    """A working-day deadline and its proof.

    ``counted`` lists the working days counted, in order (``counted[-1]`` is day N);
    ``skipped`` the non-working days passed over before day N, with reasons.
    ``due`` is local midnight at the close of day N, aware, in the calendar's zone.
    """

    start: datetime
    working_days: int
    calendar: str
    timezone: str
    counted: tuple[date, ...]
    skipped: tuple[SkippedDay, ...]
    due: datetime

    def is_overdue(self, now: datetime) -> bool:
        """True once ``now`` has reached the due moment."""
        return _aware(now, "now") >= self.due

    def remaining_at(self, k: int) -> datetime:
        """The moment from which only ``k`` working days remain before ``due``.

        That is the close of working day N−k (or the start, if N ≤ k). Used for
        "response due in 3 working days" reminders.
        """
        if k < 0:
            raise CalendarError("k must not be negative", "k")
        if k >= self.working_days:
            return self.start
        zone = ZoneInfo(self.timezone)
        day = self.counted[self.working_days - k - 1]
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready proof: ISO 8601 moments with offsets, dates with reasons."""
        return {
            "calendar": self.calendar,
            "timezone": self.timezone,
            "start": self.start.isoformat(),
            "working_days": self.working_days,
            "due": self.due.isoformat(),
            "counted": [
                {"date": d.isoformat(), "reason": f"working day {i}"}
                for i, d in enumerate(self.counted, start=1)
            ],
            "skipped": [{"date": s.day.isoformat(), "reason": s.reason} for s in self.skipped],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Deadline:
        """Rebuild a deadline from :meth:`to_dict` output (e.g. a stored JSON column)."""
        return cls(
            start=datetime.fromisoformat(str(data["start"])),
            working_days=int(data["working_days"]),
            calendar=str(data["calendar"]),
            timezone=str(data["timezone"]),
            counted=tuple(date.fromisoformat(str(c["date"])) for c in data["counted"]),
            skipped=tuple(
                SkippedDay(date.fromisoformat(str(s["date"])), str(s["reason"]))
                for s in data["skipped"]
            ),
            due=datetime.fromisoformat(str(data["due"])),
        )

    def explain(self) -> list[str]:
        """Human-readable proof lines, in calendar order."""
        lines = [f"clock started {self.start.isoformat()} ({self.calendar}, {self.timezone})"]
        numbered = {d: i for i, d in enumerate(self.counted, start=1)}
        skipped = {s.day: s.reason for s in self.skipped}
        for day in sorted([*numbered, *skipped]):
            label = (
                f"working day {numbered[day]}" if day in numbered else f"skipped: {skipped[day]}"
            )
            lines.append(f"{day.isoformat()} {day.strftime('%a')} — {label}")
        lines.append(f"due {self.due.isoformat()}")
        return lines


def working_day_deadline(
    start: datetime, working_days: int, calendar: WorkdayCalendar | None = None
) -> Deadline:
    """The deadline ``working_days`` working days after ``start``, with its proof.

    ``start`` must be timezone-aware; ``working_days`` at least 1.
    """
    cal = calendar or WorkdayCalendar()
    if working_days < 1:
        raise CalendarError("working days must be at least 1", "working_days")
    last = cal.last_day
    try:
        day = cal.local_date(start)
    except OverflowError:  # an aware moment at the very end of year 9999, moved into the zone
        raise _too_late(start, cal) from None
    counted: list[date] = []
    skipped: list[SkippedDay] = []
    limit = day + timedelta(days=min(_MAX_SPAN_DAYS, max((last - day).days, 0)))
    while len(counted) < working_days:
        if day >= last:
            raise _too_late(start, cal)
        day += timedelta(days=1)
        if day > limit:
            raise CalendarError(
                f"no {working_days} working days within {_MAX_SPAN_DAYS} days in {cal.spec}",
                "working_days",
            )
        reason = cal.skip_reason(day)
        if reason is None:
            counted.append(day)
        else:
            skipped.append(SkippedDay(day, reason))
    return Deadline(
        start=start,
        working_days=working_days,
        calendar=cal.spec.code,
        timezone=cal.spec.timezone,
        counted=tuple(counted),
        skipped=tuple(skipped),
        due=cal.end_of_day(counted[-1]),
    )


def _too_late(start: datetime, cal: WorkdayCalendar) -> CalendarError:
    return CalendarError(
        f"cannot count working days from {start.isoformat()}: the deadline would fall after "
        f"{cal.last_day.isoformat()}, the last day whose public holidays are known in {cal.spec.code}",
        "start",
    )


def recompute(deadline: Deadline, calendar: WorkdayCalendar) -> Deadline:
    """The same deadline (same start, same N) counted on another calendar."""
    return working_day_deadline(deadline.start, deadline.working_days, calendar)


def calendar_day_deadline(start: datetime, days: int) -> datetime:
    """``days`` calendar days after ``start`` (calendar time, as service-level clocks run)."""
    if days < 1:
        raise CalendarError("days must be at least 1", "days")
    return _aware(start, "start") + timedelta(days=days)


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CalendarError(f"{name} must be a timezone-aware datetime", name)
    return moment
