"""The simulated IFM event log: realistic volumes and outcomes, reproducible from a seed."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from steward.sla.domain import DEFAULT_CATALOGUE, Month, Result, month_range
from steward.sla.measure import EventLog, monthly_reports
from steward.sla.simulate import format_row, simulate

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def year() -> list[tuple[str, str, str, str, str, int]]:
    return list(simulate(12, 42, now=NOW))


def test_same_seed_same_rows_and_another_seed_differs() -> None:
    assert year() == year()
    assert list(simulate(2, 43, now=NOW)) != list(simulate(2, 42, now=NOW))


def test_volume_categories_and_channels_are_realistic() -> None:
    rows = year()
    received = [r for r in rows if r[4] == "received"]
    per_month = Counter(datetime.fromtimestamp(r[5], UTC).strftime("%Y-%m") for r in received)
    assert sorted(per_month) == [str(m) for m in month_range(Month(2025, 11), Month(2026, 10))]
    assert all(150 <= n <= 250 for n in per_month.values())
    assert {r[2] for r in received} == {"I", "II", "III", "IV", "V", "emergency"}
    channels = Counter(r[3] for r in received)
    assert channels["email"] > 0 and channels["automated"] > 5 * channels["email"]
    events = Counter(r[4] for r in rows)
    assert events["retest_requested"] > 100 and events["supplemental_check_started"] > 50


def test_nothing_is_later_than_now() -> None:
    now = datetime(2026, 10, 20, tzinfo=UTC)
    rows = list(simulate(2, 1, now=now, first=Month(2026, 9)))
    assert max(r[5] for r in rows) <= now.timestamp()
    assert any(r[5] >= datetime(2026, 10, 1, tzinfo=UTC).timestamp() for r in rows)


def test_mostly_met_with_occasional_misses() -> None:
    rows = year()
    log = EventLog.from_rows(
        (rid, cat, chan, event, datetime.fromtimestamp(t, UTC))
        for rid, _tld, cat, chan, event, t in rows
    )
    months = month_range(Month(2025, 11), Month(2026, 10))
    reports = monthly_reports(log, [DEFAULT_CATALOGUE], months, now=NOW)
    results = Counter(m.result for r in reports for m in r.metrics)
    assert results[Result.MET] > 0.85 * sum(results.values())
    assert results[Result.MISSED] >= 1
    assert all(r.summary.with_data >= 9 for r in reports)


def test_format_row_writes_iso_times_with_z() -> None:
    row = ("202610-0000001", "com", "I", "automated", "received", 1_790_000_000)
    assert format_row(row) == ["202610-0000001", "com", "I", "automated", "received",
                               "2026-09-21T14:13:20Z"]  # fmt: skip
