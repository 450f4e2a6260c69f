"""Measurement semantics exactly as domain.md states them, against hand-computed fixtures and,
for arbitrary logs, against a slow and obvious reference implementation."""

from __future__ import annotations

import math
from collections import deque
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from steward.sla.domain import (
    DEFAULT_CATALOGUE,
    CatalogueVersion,
    Category,
    Channel,
    Event,
    Metric,
    MetricType,
    Month,
    Rating,
    Result,
    compliance_percent,
    nearest_rank,
    to_us,
)
from steward.sla.measure import EventLog, monthly_report, monthly_reports

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
OCT = Month(2026, 10)
T0 = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
ROW = tuple[str, str, str, str, datetime]


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def metric(
    start: Event,
    end: Event,
    threshold_s: int = 600,
    *,
    metric_type: MetricType = MetricType.MAX,
    target: str = "95",
    channel: Channel | None = None,
    category: Category = Category.I,
    metric_id: str = "m",
) -> Metric:
    return Metric(metric_id, category, "phase", "name", start, end, metric_type, threshold_s,
                  Decimal(target), channel)  # fmt: skip


def catalogue(*metrics: Metric) -> list[CatalogueVersion]:
    return [CatalogueVersion("t", datetime(2016, 1, 1).date(), tuple(metrics))]


RETEST = metric(Event.RETEST_REQUESTED, Event.RETEST_DONE, 600)


def report(rows: list[ROW], *metrics: Metric, month: Month = OCT, now: datetime = NOW):  # type: ignore[no-untyped-def]
    return monthly_report(EventLog.from_rows(rows), catalogue(*metrics), month, now=now)


def ev(rid: str, name: str, at: datetime, channel: str = "automated", cat: str = "I") -> ROW:
    return (rid, cat, channel, name, at)


def test_retests_pair_first_in_first_out() -> None:
    """Two retests asked before either result: the first result closes the first request."""
    rows = [
        ev("R1", "retest_requested", T0),
        ev("R1", "retest_requested", T0 + s(60)),
        ev("R1", "retest_done", T0 + s(300)),  # closes T0: 300 s
        ev("R1", "retest_done", T0 + s(1000)),  # closes T0+60: 940 s (> 600, missed)
    ]
    item = report(rows, RETEST).result("m")
    assert (item.count, item.met) == (2, 1)
    assert (item.median_us, item.p95_us) == (300_000_000, 940_000_000)
    assert item.result is Result.MISSED and item.compliance == 50.0


def test_end_with_nothing_open_is_unpaired_and_ignored() -> None:
    rows = [
        ev("R1", "retest_done", T0),  # nothing open
        ev("R1", "retest_requested", T0 + s(10)),
        ev("R1", "retest_done", T0 + s(70)),
        ev("R1", "retest_done", T0 + s(80)),  # nothing open again
        ev("R1", "retest_requested", T0 + s(90)),  # never closed
    ]
    item = report(rows, RETEST).result("m")
    assert (item.count, item.met, item.median_us) == (1, 1, 60_000_000)
    assert (item.unpaired_ends, item.open_starts) == (2, 1)


def test_rows_out_of_order_are_taken_in_time_order() -> None:
    rows = [
        ev("R1", "retest_done", T0 + s(500)),
        ev("R1", "retest_done", T0 + s(200)),
        ev("R1", "retest_requested", T0 + s(100)),
        ev("R1", "retest_requested", T0),
    ]
    item = report(rows, RETEST).result("m")
    # T0 → T0+200 (200 s), T0+100 → T0+500 (400 s)
    assert (item.count, item.met, item.median_us, item.p95_us) == (2, 2, 200_000_000, 400_000_000)
    assert item.unpaired_ends == 0


def test_ties_are_taken_in_the_order_received() -> None:
    end_first = [ev("R1", "retest_done", T0), ev("R1", "retest_requested", T0)]
    start_first = [ev("R1", "retest_requested", T0), ev("R1", "retest_done", T0)]
    a = report(end_first, RETEST).result("m")
    b = report(start_first, RETEST).result("m")
    assert (a.count, a.unpaired_ends, a.open_starts) == (0, 1, 1)
    assert (b.count, b.unpaired_ends, b.open_starts, b.median_us) == (1, 0, 0, 0)


def test_pairing_never_crosses_requests() -> None:
    rows = [ev("R1", "retest_requested", T0), ev("R2", "retest_done", T0 + s(5))]
    item = report(rows, RETEST).result("m")
    assert (item.count, item.unpaired_ends, item.open_starts) == (0, 1, 1)


def test_measurement_belongs_to_the_utc_month_of_its_end() -> None:
    plus_two = timezone(timedelta(hours=2))
    rows = [
        # starts in September, ends 31 Oct 23:59:59 UTC: an October measurement
        ev("R1", "retest_requested", datetime(2026, 9, 30, 23, 58, tzinfo=UTC)),
        ev("R1", "retest_done", datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC)),
        # 1 Nov 01:00 at +02:00 is 31 Oct 23:00 UTC: October too
        ev("R2", "retest_requested", datetime(2026, 11, 1, 0, 55, tzinfo=plus_two)),
        ev("R2", "retest_done", datetime(2026, 11, 1, 1, 0, tzinfo=plus_two)),
        # 1 Nov 00:00:00 UTC exactly: November
        ev("R3", "retest_requested", datetime(2026, 10, 31, 23, 55, tzinfo=UTC)),
        ev("R3", "retest_done", datetime(2026, 11, 1, 0, 0, tzinfo=UTC)),
    ]
    log = EventLog.from_rows(rows)
    sep, oct_, nov = monthly_reports(
        log, catalogue(RETEST), [Month(2026, 9), OCT, Month(2026, 11)], now=NOW
    )
    assert sep.result("m").count == 0 and sep.result("m").result is Result.NO_DATA
    assert (oct_.result("m").count, oct_.result("m").met) == (2, 1)
    assert (nov.result("m").count, nov.result("m").met) == (1, 1)


def test_channel_filter_uses_the_channel_of_the_received_event() -> None:
    ack = metric(Event.RECEIVED, Event.TICKET_CONFIRMED, 60, channel=Channel.AUTOMATED)
    rows = [
        ev("R1", "received", T0, "automated"),
        ev("R1", "ticket_confirmed", T0 + s(30), "email"),  # row channel does not matter
        ev("R2", "received", T0, "email"),
        ev("R2", "ticket_confirmed", T0 + s(30), "automated"),
        ev("R3", "ticket_confirmed", T0 + s(30), "automated"),  # no received: channel unknown
    ]
    item = report(rows, ack).result("m")
    assert (item.count, item.met, item.unpaired_ends) == (1, 1, 0)


def test_category_filter_keeps_other_categories_out() -> None:
    emergency = metric(Event.RECEIVED, Event.PUBLISHED, 12 * 3600, category=Category.EMERGENCY,
                       target="100")  # fmt: skip
    rows = [
        ev("E1", "received", T0, cat="emergency"),
        ev("E1", "published", T0 + s(11 * 3600), cat="emergency"),
        ev("E2", "received", T0, cat="emergency"),
        ev("E2", "published", T0 + s(13 * 3600), cat="emergency"),
        ev("R1", "received", T0),
        ev("R1", "published", T0 + s(60)),
    ]
    item = report(rows, emergency).result("m")
    assert (item.count, item.met, item.result) == (2, 1, Result.MISSED)


def test_min_type_is_met_at_or_above_the_threshold() -> None:
    wait = metric(Event.CONTACT_AFFIRMED, Event.RELEASED, 3600, metric_type=MetricType.MIN,
                  target="50")  # fmt: skip
    rows = [
        ev("R1", "contact_affirmed", T0), ev("R1", "released", T0 + s(3600)),
        ev("R2", "contact_affirmed", T0), ev("R2", "released", T0 + s(3599)),
        ev("R3", "contact_affirmed", T0), ev("R3", "released", T0 + s(7200)),
    ]  # fmt: skip
    item = report(rows, wait).result("m")
    assert (item.count, item.met, item.result) == (3, 2, Result.MET)


def test_empty_month_has_no_data_for_every_metric() -> None:
    rows = [ev("R1", "received", T0), ev("R1", "ticket_confirmed", T0 + s(1))]
    empty = monthly_report(EventLog.from_rows(rows), [DEFAULT_CATALOGUE], Month(2026, 8), now=NOW)
    assert all(m.result is Result.NO_DATA for m in empty.metrics)
    assert all(m.compliance is None and m.median_us is None for m in empty.metrics)
    assert (empty.summary.met, empty.summary.with_data, empty.summary.total) == (0, 0, 11)
    assert empty.summary.rating is Rating.NO_DATA
    assert empty.as_json()["metrics"][0]["result"] == "no-data"


def test_empty_log_gives_no_data() -> None:
    empty = monthly_report(EventLog.from_rows([]), [DEFAULT_CATALOGUE], OCT, now=NOW)
    assert empty.summary.with_data == 0


def test_no_data_metrics_do_not_count_in_the_summary() -> None:
    rows = [
        ev("R1", "received", T0), ev("R1", "ticket_confirmed", T0 + s(5)),
        ev("R2", "received", T0), ev("R2", "ticket_confirmed", T0 + s(61)),
        ev("R1", "published", T0 + s(3600)), ev("R1", "requester_notified", T0 + s(3610)),
    ]  # fmt: skip
    rep = monthly_report(EventLog.from_rows(rows), [DEFAULT_CATALOGUE], OCT, now=NOW)
    assert rep.result("cat1-ticket-confirmation").result is Result.MISSED
    assert rep.result("cat1-notification").result is Result.MET
    assert rep.summary.text == "1 of 2 thresholds met"
    assert rep.summary.total == 11
    assert rep.summary.rating is Rating.SATISFACTORY


def test_all_thresholds_met_is_excellent() -> None:
    rows = [ev("R1", "published", T0), ev("R1", "requester_notified", T0 + s(3))]
    rep = monthly_report(EventLog.from_rows(rows), [DEFAULT_CATALOGUE], OCT, now=NOW)
    assert rep.summary.rating is Rating.EXCELLENT and rep.summary.text == "1 of 1 thresholds met"


def test_nearest_rank_median_and_p95_of_twenty_durations() -> None:
    rows = []
    for i in range(20):
        rows.append(ev(f"R{i}", "retest_requested", T0))
        rows.append(ev(f"R{i}", "retest_done", T0 + s(10 * (i + 1))))  # 10, 20, … 200 s
    item = report(rows, RETEST).result("m")
    assert item.median_us == 100_000_000  # position ⌈0.5 × 20⌉ = 10
    assert item.p95_us == 190_000_000  # position ⌈0.95 × 20⌉ = 19
    assert nearest_rank([5], 95) == 5 and nearest_rank([1, 2, 3], 50) == 2
    assert nearest_rank([], 50) is None


def test_compliance_is_truncated_so_a_miss_never_shows_its_target() -> None:
    assert compliance_percent(19999, 20001) == 99.99
    assert compliance_percent(94_999, 100_000) == 94.99
    assert compliance_percent(2, 3) == 66.66
    assert compliance_percent(0, 0) is None


def test_open_already_over_lists_requests_open_past_a_threshold_at_month_end() -> None:
    rows = [
        ev("R1", "retest_requested", datetime(2026, 10, 31, 23, 0, tzinfo=UTC)),  # 60 min open
        ev("R2", "retest_requested", datetime(2026, 10, 31, 23, 55, tzinfo=UTC)),  # 5 min: not over
        ev("R3", "retest_requested", datetime(2026, 10, 31, 22, 0, tzinfo=UTC)),
        ev("R3", "retest_done", datetime(2026, 11, 1, 2, 0, tzinfo=UTC)),  # closed only in Nov
        ev("R4", "retest_requested", datetime(2026, 10, 30, 22, 0, tzinfo=UTC)),
        ev("R4", "closed", datetime(2026, 10, 31, 0, 0, tzinfo=UTC)),  # withdrawn: not open
    ]
    rep = report(rows, RETEST)
    assert rep.as_of == datetime(2026, 11, 1, tzinfo=UTC)
    assert sorted(o.request_id for o in rep.open_over) == ["R1", "R3"]
    r1 = next(o for o in rep.open_over if o.request_id == "R1")
    assert r1.elapsed_us == 3600 * 1_000_000 and r1.threshold_s == 600


def test_open_already_over_in_the_current_month_is_as_of_now() -> None:
    now = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
    rows = [ev("R1", "retest_requested", now - s(601)), ev("R2", "retest_requested", now - s(599))]
    rep = report(rows, RETEST, month=Month(2026, 11), now=now)
    assert rep.as_of == now
    assert [o.request_id for o in rep.open_over] == ["R1"]


def test_min_metrics_list_nothing_as_already_over() -> None:
    wait = metric(Event.CONTACT_AFFIRMED, Event.RELEASED, 60, metric_type=MetricType.MIN)
    rep = report([ev("R1", "contact_affirmed", T0)], wait)
    assert rep.open_over == ()


def test_report_json_has_the_published_shape() -> None:
    rows = [ev("R1", "retest_requested", T0), ev("R1", "retest_done", T0 + s(1.5))]
    data = report(rows, RETEST).as_json()
    assert data["month"] == "2026-10" and data["catalogue_version"] == "t"
    assert data["metrics"] == [
        {"id": "m", "count": 1, "met": 1, "compliance": 100.0, "target": 95, "result": "met",
         "median_s": 1.5, "p95_s": 1.5}
    ]  # fmt: skip
    assert data["summary"] == {"met": 1, "with_data": 1, "total": 1}
    assert data["rating"] == "Excellent"


def test_each_month_uses_the_catalogue_version_in_force() -> None:
    strict = metric(Event.RETEST_REQUESTED, Event.RETEST_DONE, 60)
    v1 = CatalogueVersion("1", datetime(2016, 10, 1).date(), (RETEST,))
    v2 = CatalogueVersion("2", datetime(2026, 11, 1).date(), (strict,))
    rows = [
        ev("R1", "retest_requested", T0), ev("R1", "retest_done", T0 + s(120)),
        ev("R2", "retest_requested", T0 + s(40 * 86400)),
        ev("R2", "retest_done", T0 + s(40 * 86400 + 120)),
    ]  # fmt: skip
    oct_, nov = monthly_reports(EventLog.from_rows(rows), [v1, v2], [OCT, Month(2026, 11)], now=NOW)
    assert (oct_.catalogue_version, oct_.result("m").result) == ("1", Result.MET)
    assert (nov.catalogue_version, nov.result("m").result) == ("2", Result.MISSED)


# --- against a reference implementation ------------------------------------------------------


def reference(
    rows: list[ROW], m: Metric, month: Month
) -> tuple[int, int, int | None, int | None, int, int]:
    """The semantics written as plainly as possible, one request and one event at a time."""
    by_request: dict[str, list[tuple[int, int, str, str]]] = {}
    for seq, (rid, _cat, chan, name, at) in enumerate(rows):
        by_request.setdefault(rid, []).append((to_us(at), seq, name, chan))
    categories = {rid: cat for rid, cat, _c, _n, _a in rows}
    durations = []
    unpaired = opened = 0
    for rid, events in by_request.items():
        events.sort()
        if categories[rid] != m.category.value:
            continue
        received = [chan for _t, _s, name, chan in events if name == "received"]
        if m.channel is not None and (not received or received[0] != m.channel.value):
            continue
        queue: deque[int] = deque()
        for t, _seq, name, _chan in events:
            in_month = month.start_us <= t < month.end_us
            if name == m.start.value:
                queue.append(t)
            elif name == m.end.value:
                if queue:
                    start = queue.popleft()
                    if in_month:
                        durations.append(t - start)
                elif in_month:
                    unpaired += 1
        opened += sum(1 for t in queue if month.start_us <= t < month.end_us)
    durations.sort()
    n = len(durations)
    met = sum(1 for d in durations if m.is_met(d))
    median = durations[math.ceil(0.5 * n) - 1] if n else None
    p95 = durations[max(1, math.ceil(0.95 * n)) - 1] if n else None
    return n, met, median, p95, unpaired, opened


EVENT_NAMES = ["received", "retest_requested", "retest_done", "ticket_confirmed"]
row_strategy = st.tuples(
    st.sampled_from(["A", "B", "C"]),
    st.sampled_from(["automated", "email"]),
    st.sampled_from(EVENT_NAMES),
    st.integers(min_value=0, max_value=40),  # hours after 30 Sep 20:00: crosses into October
)


@settings(max_examples=300, deadline=None)
@given(st.lists(row_strategy, max_size=40), st.booleans())
def test_engine_equals_the_reference_on_arbitrary_logs(raw: list[tuple[str, str, str, int]],
                                                       with_channel: bool) -> None:  # fmt: skip
    base = datetime(2026, 9, 30, 20, 0, tzinfo=UTC)
    rows = [(rid, "emergency" if rid == "C" else "I", chan, name, base + timedelta(hours=h))
            for rid, chan, name, h in raw]  # fmt: skip
    metrics = [
        metric(Event.RETEST_REQUESTED, Event.RETEST_DONE, 3 * 3600, metric_id="retest"),
        metric(Event.RECEIVED, Event.TICKET_CONFIRMED, 2 * 3600, metric_id="ack",
               channel=Channel.EMAIL if with_channel else None),
        metric(Event.RECEIVED, Event.RETEST_DONE, 5 * 3600, metric_id="min",
               metric_type=MetricType.MIN),
    ]  # fmt: skip
    log = EventLog.from_rows(rows)
    for month in (Month(2026, 9), OCT):
        rep = monthly_report(log, catalogue(*metrics), month, now=NOW)
        for m in metrics:
            got = rep.result(m.id)
            assert (got.count, got.met, got.median_us, got.p95_us, got.unpaired_ends,
                    got.open_starts) == reference(rows, m, month)  # fmt: skip
