"""The measurement engine: monthly reports from an event log, exactly as domain.md states.

Semantics (domain.md, "Measurement semantics"):

* within one request events are taken in time order, ties in the order received;
* for a metric each end event closes the earliest still-open start event (FIFO); an end with
  nothing open is *unpaired* (a data-quality figure) and otherwise ignored; a start never closed
  is *open*;
* a channel filter applies to the request's channel, that of its first ``received`` event;
  the request's category is the one its rows carry (ingest keeps it consistent);
* a measurement belongs to the UTC calendar month of its end event;
* Max is met when duration ≤ threshold, Min when duration ≥ threshold; compliance is
  met ÷ measurements × 100 and the metric is met when compliance ≥ target; no measurements is
  "no data";
* median and 95th percentile use the nearest rank ⌈p/100 × n⌉.

The log is columnar (numpy arrays of small integer codes and epoch microseconds) and is sorted
once by (request, time, order received). FIFO pairing is then done for every request at once:
with S and E the running counts of starts and ends inside a request, the number of unpaired ends
so far is U = max(0, max(E − S)) (a running maximum reset per request); an end is unpaired exactly
where U grows, and the k-th paired end of a request closes its k-th start.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import numpy as np
import numpy.typing as npt

from steward.sla.domain import (
    EVENT_CODES,
    NO_CHANNEL,
    CatalogueVersion,
    Metric,
    MetricResult,
    MetricType,
    Month,
    MonthlyReport,
    OpenOver,
    from_us,
    rank,
    to_us,
    version_in_force,
)

I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
Bools = npt.NDArray[np.bool_]

_RECEIVED: Final = EVENT_CODES["received"]
_CLOSED: Final = EVENT_CODES["closed"]
_NEVER: Final = np.iinfo(np.int64).max
"""End time of a start that was never closed."""


@dataclass(frozen=True)
class EventLog:
    """Events as parallel arrays, in the order received (``seq`` ascending breaks time ties).

    ``req`` indexes ``request_ids`` and ``request_category``; ``event`` and ``channel`` are the
    codes of :mod:`steward.sla.domain`; ``t`` is microseconds since the epoch, UTC.
    """

    request_ids: Sequence[str]
    request_category: I8
    req: I64
    event: I8
    channel: I8
    t: I64
    seq: I64

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str, str, str, datetime]]) -> EventLog:
        """Build a log from ``(request_id, category, channel, event, occurred_at)`` rows listed in
        the order received. Convenient for tests and small data; bulk loaders build arrays."""
        from steward.sla.domain import CATEGORY_CODES, CHANNEL_CODES

        index: dict[str, int] = {}
        categories: list[int] = []
        req: list[int] = []
        event: list[int] = []
        channel: list[int] = []
        t: list[int] = []
        for request_id, category, chan, name, moment in rows:
            number = index.get(request_id)
            if number is None:
                number = index[request_id] = len(index)
                categories.append(CATEGORY_CODES[category])
            req.append(number)
            event.append(EVENT_CODES[name])
            channel.append(CHANNEL_CODES[chan])
            t.append(to_us(moment))
        return cls(
            request_ids=list(index),
            request_category=np.asarray(categories, dtype=np.int8),
            req=np.asarray(req, dtype=np.int64),
            event=np.asarray(event, dtype=np.int8),
            channel=np.asarray(channel, dtype=np.int8),
            t=np.asarray(t, dtype=np.int64),
            seq=np.arange(len(req), dtype=np.int64),
        )

    def __len__(self) -> int:
        return int(self.req.shape[0])


@dataclass(frozen=True)
class Pairing:
    """Every measurement of one pairing key over the whole log.

    ``end_t``/``duration`` hold the paired measurements; ``unpaired_t`` the times of ends that
    closed nothing; ``open_t``/``open_req`` the starts never closed. ``start_t``/``start_req``/
    ``stop_t`` list every start with its closing time (``_NEVER`` when open), for the
    "open, already over" list.
    """

    end_t: I64
    duration: I64
    unpaired_t: I64
    open_t: I64
    start_t: I64
    start_req: I64
    stop_t: I64


class PreparedLog:
    """An :class:`EventLog` sorted once, ready for any number of metrics and months."""

    def __init__(self, log: EventLog) -> None:
        self.request_ids = log.request_ids
        self.request_category = log.request_category
        n = len(log)
        order = _sort_order(log.req, log.t, log.seq)
        self.req: I64 = log.req[order]
        self.t: I64 = log.t[order]
        event: I8 = log.event[order]
        self.event: I8 = event
        channel: I8 = log.channel[order]
        # positions of each event code, each list in (request, time, seq) order
        by_code = np.argsort(event, kind="stable")
        counts = np.bincount(event.astype(np.int64), minlength=len(EVENT_CODES))
        bounds = np.concatenate(([0], np.cumsum(counts)))
        self.positions: list[I64] = [
            by_code[bounds[c] : bounds[c + 1]].astype(np.int64) for c in range(len(EVENT_CODES))
        ]
        # a request's channel is that of its first received event (events are sorted)
        self.request_channel: I8 = np.full(len(log.request_ids), NO_CHANNEL, dtype=np.int8)
        received = self.positions[_RECEIVED]
        if received.size:
            rreq = self.req[received]
            first = np.ones(received.size, dtype=np.bool_)
            first[1:] = rreq[1:] != rreq[:-1]
            self.request_channel[rreq[first]] = channel[received[first]]
        # when a request ended (its first closed event): it is then no longer "open, already over"
        self.request_closed: I64 = np.full(len(log.request_ids), _NEVER, dtype=np.int64)
        closed = self.positions[_CLOSED]
        if closed.size:
            creq = self.req[closed]
            first = np.ones(closed.size, dtype=np.bool_)
            first[1:] = creq[1:] != creq[:-1]
            self.request_closed[creq[first]] = self.t[closed[first]]
        self._cache: dict[tuple[int, int, int, int], Pairing] = {}
        self.size = n

    def pairing(self, metric: Metric) -> Pairing:
        """FIFO pairing of ``metric``'s start and end events in every request (cached)."""
        key = metric.pairing_key
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._pair(*key)
        return found

    def _pair(self, start: int, end: int, category: int, channel: int) -> Pairing:
        wanted = self.request_category == category
        if channel != NO_CHANNEL:
            wanted &= self.request_channel == channel
        pos = np.concatenate((self.positions[start], self.positions[end]))
        pos.sort(kind="stable")  # two sorted runs: a merge
        pos = pos[wanted[self.req[pos]]]
        req = self.req[pos]
        t = self.t[pos]
        is_start = self.event[pos] == start
        n = pos.size
        if n == 0:
            empty = np.zeros(0, dtype=np.int64)
            return Pairing(empty, empty, empty, empty, empty, empty, empty)
        new_group = np.ones(n, dtype=np.bool_)
        new_group[1:] = req[1:] != req[:-1]
        group = np.cumsum(new_group) - 1
        group_first = np.flatnonzero(new_group)
        starts = is_start.astype(np.int64)
        s_all = np.cumsum(starts)
        e_all = np.arange(1, n + 1, dtype=np.int64) - s_all
        s_before = (s_all - starts)[group_first][group]  # starts in earlier requests
        e_before = (e_all - (1 - starts))[group_first][group]
        s_in = s_all - s_before
        e_in = e_all - e_before
        # running max of E − S reset per request: offset each request above all earlier ones
        span = 2 * n + 1
        offset = group * span
        running = np.maximum.accumulate((e_in - s_in) + offset) - offset
        unpaired = np.maximum(running, 0)
        previous = np.zeros(n, dtype=np.int64)
        previous[1:] = unpaired[:-1]
        previous[new_group] = 0
        is_end = ~is_start
        grew = unpaired > previous
        paired_end = is_end & ~grew
        unpaired_end = is_end & grew
        # the k-th paired end of a request closes its k-th start
        start_idx = np.flatnonzero(is_start)
        end_idx = np.flatnonzero(paired_end)
        k = (e_in - unpaired)[end_idx] - 1 + s_before[end_idx]
        closing = start_idx[k]
        stop_t = np.full(start_idx.size, _NEVER, dtype=np.int64)
        stop_t[k] = t[end_idx]
        start_t = t[start_idx]
        return Pairing(
            end_t=t[end_idx],
            duration=t[end_idx] - t[closing],
            unpaired_t=t[unpaired_end],
            open_t=start_t[stop_t == _NEVER],
            start_t=start_t,
            start_req=req[start_idx],
            stop_t=stop_t,
        )


def _sort_order(req: I64, t: I64, seq: I64) -> I64:
    """Indices that sort events by (request, time, order received); free when already sorted."""
    n = req.shape[0]
    if n < 2:
        return np.arange(n, dtype=np.int64)
    dr = np.diff(req)
    dt = np.diff(t)
    ds = np.diff(seq)
    if bool(np.all((dr > 0) | ((dr == 0) & ((dt > 0) | ((dt == 0) & (ds > 0)))))):
        return np.arange(n, dtype=np.int64)
    return np.lexsort((seq, t, req)).astype(np.int64)


@dataclass(frozen=True)
class _MonthFigures:
    count: I64
    met: I64
    median: I64
    p95: I64
    unpaired: I64
    open_starts: I64


def _figures(pairing: Pairing, metric: Metric, bounds: I64) -> _MonthFigures:
    """Per-month figures of one metric for the months delimited by ``bounds`` (epoch µs)."""
    months = bounds.size - 1
    month = np.searchsorted(bounds, pairing.end_t, side="right") - 1
    inside = (month >= 0) & (month < months)
    month = month[inside]
    duration = pairing.duration[inside]
    limit = metric.threshold_s * 1_000_000
    met_mask = duration <= limit if metric.type is MetricType.MAX else duration >= limit
    count = np.bincount(month, minlength=months).astype(np.int64)
    met = np.bincount(month[met_mask], minlength=months).astype(np.int64)
    # one sort gives every month's sorted durations: key = month, then duration
    ordered = np.sort(month.astype(np.int64) << 50 | duration) & ((1 << 50) - 1)
    first = np.concatenate(([0], np.cumsum(count)[:-1]))
    median = np.full(months, -1, dtype=np.int64)
    p95 = np.full(months, -1, dtype=np.int64)
    has = count > 0
    if has.any():
        median[has] = ordered[first[has] + (-(-50 * count[has] // 100)) - 1]
        p95[has] = ordered[first[has] + (-(-95 * count[has] // 100)) - 1]
    return _MonthFigures(
        count=count,
        met=met,
        median=median,
        p95=p95,
        unpaired=_per_month(pairing.unpaired_t, bounds),
        open_starts=_per_month(pairing.open_t, bounds),
    )


def _per_month(times: I64, bounds: I64) -> I64:
    months = bounds.size - 1
    month = np.searchsorted(bounds, times, side="right") - 1
    month = month[(month >= 0) & (month < months)]
    return np.bincount(month, minlength=months).astype(np.int64)


@dataclass(frozen=True)
class _Overdue:
    """Starts whose eventual duration exceeds a Max threshold (or that never closed): the only
    ones that can be "open, already over" at some moment."""

    start_t: I64
    stop_t: I64
    closed_t: I64
    req: I64


def _overdue(prepared: PreparedLog, pairing: Pairing, metric: Metric) -> _Overdue:
    limit = metric.threshold_s * 1_000_000
    late = pairing.stop_t - pairing.start_t > limit
    req = pairing.start_req[late]
    return _Overdue(
        start_t=pairing.start_t[late],
        stop_t=pairing.stop_t[late],
        closed_t=prepared.request_closed[req],
        req=req,
    )


def _open_over(
    prepared: PreparedLog, overdue: _Overdue, metric: Metric, as_of: int
) -> list[OpenOver]:
    """Starts of requests still open at ``as_of`` (neither the metric's end nor the request's
    ``closed`` event has happened) whose elapsed time already exceeds the Max threshold."""
    limit = metric.threshold_s * 1_000_000
    over = (
        (overdue.start_t < as_of - limit) & (overdue.stop_t >= as_of) & (overdue.closed_t >= as_of)
    )
    return [
        OpenOver(
            metric_id=metric.id,
            request_id=prepared.request_ids[req],
            started_at=from_us(start),
            elapsed_us=as_of - start,
            threshold_s=metric.threshold_s,
        )
        for start, req in zip(
            overdue.start_t[over].tolist(), overdue.req[over].tolist(), strict=True
        )
    ]


def monthly_reports(
    log: EventLog | PreparedLog,
    versions: Sequence[CatalogueVersion],
    months: Sequence[Month],
    *,
    now: datetime,
) -> list[MonthlyReport]:
    """The reports of ``months`` (consecutive or not), each against the catalogue version in
    force for it. Requests open past a threshold are listed as of the month's end, or ``now``
    for a month not yet over. Raises LookupError for a month no version covers."""
    prepared = log if isinstance(log, PreparedLog) else PreparedLog(log)
    if not months:
        return []
    ordered = sorted(set(months))
    # bounds of every month from the first to the last; months not asked for are skipped later
    span = [ordered[0].plus(i) for i in range(_months_between(ordered[0], ordered[-1]) + 1)]
    bounds = np.asarray([m.start_us for m in span] + [span[-1].end_us], dtype=np.int64)
    position = {m: i for i, m in enumerate(span)}
    chosen: dict[Month, CatalogueVersion] = {}
    for month in ordered:
        version = version_in_force(versions, month)
        if version is None:
            raise LookupError(f"no catalogue version is in force for {month}")
        chosen[month] = version
    figures: dict[tuple[str, str], _MonthFigures] = {}
    overdue: dict[tuple[str, str], _Overdue] = {}
    now_us = to_us(now)
    reports = []
    for month in months:
        version = chosen[month]
        at = position[month]
        as_of = min(now_us, month.end_us)
        results = []
        open_over: list[OpenOver] = []
        for metric in version.metrics:
            key = (version.version, metric.id)
            fig = figures.get(key)
            pairing = prepared.pairing(metric)
            if fig is None:
                fig = figures[key] = _figures(pairing, metric, bounds)
            count = int(fig.count[at])
            results.append(
                MetricResult(
                    metric=metric,
                    count=count,
                    met=int(fig.met[at]),
                    median_us=int(fig.median[at]) if count else None,
                    p95_us=int(fig.p95[at]) if count else None,
                    unpaired_ends=int(fig.unpaired[at]),
                    open_starts=int(fig.open_starts[at]),
                )
            )
            if metric.type is MetricType.MAX:
                late = overdue.get(key)
                if late is None:
                    late = overdue[key] = _overdue(prepared, pairing, metric)
                open_over.extend(_open_over(prepared, late, metric, as_of))
        reports.append(
            MonthlyReport(
                month=month,
                catalogue_version=version.version,
                metrics=tuple(results),
                as_of=from_us(as_of),
                open_over=tuple(open_over),
            )
        )
    return reports


def _months_between(first: Month, last: Month) -> int:
    return (last.year * 12 + last.month) - (first.year * 12 + first.month)


def monthly_report(
    log: EventLog | PreparedLog,
    versions: Sequence[CatalogueVersion],
    month: Month,
    *,
    now: datetime,
) -> MonthlyReport:
    """One month's report (see :func:`monthly_reports`)."""
    return monthly_reports(log, versions, [month], now=now)[0]


def durations_by_month(log: EventLog | PreparedLog, metric: Metric) -> Mapping[Month, list[int]]:
    """Every measured duration (µs) of a metric grouped by the month of its end event; for
    inspection and tests."""
    prepared = log if isinstance(log, PreparedLog) else PreparedLog(log)
    pairing = prepared.pairing(metric)
    grouped: dict[Month, list[int]] = {}
    for end, duration in zip(pairing.end_t.tolist(), pairing.duration.tolist(), strict=True):
        grouped.setdefault(Month.of(from_us(end)), []).append(duration)
    return grouped


__all__ = [
    "EventLog",
    "Pairing",
    "PreparedLog",
    "durations_by_month",
    "monthly_report",
    "monthly_reports",
    "rank",
]
