"""Benchmark: ten years of IFM events (about 5,000,000) — ingest, 120 monthly reports, one month
from the database — against a straightforward pandas implementation run in the same process.

    .venv/bin/python bench/sle_report.py [--events 5000000] [--seed 7]

The pandas baseline below implements the same semantics as :mod:`steward.sla.measure` the way an
analyst would (group by request, cumulative counts, a merge of ends onto starts, group by month).
Its results must equal Steward's: the bench stops with an error before printing any ratio if not.
Goals (issue 3): ingest ≥ 200,000 events/s on SQLite; all 120 reports ≥ 5× faster than pandas;
one month's report from the database in under 100 ms.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from steward.sla.domain import (
    CatalogueVersion,
    Metric,
    MetricType,
    Month,
    compliance_percent,
    seconds,
    summarise,
    target_number,
    version_in_force,
)
from steward.sla.domain import MetricResult as _Result


def prepare(df: pd.DataFrame) -> pd.DataFrame:
    """Sort by request, time, order received; add each request's channel (its first received)."""
    df = df.sort_values(["request_id", "occurred_at", "seq"], kind="stable")
    received = df[df["event"] == "received"].groupby("request_id", sort=False)["channel"].first()
    df = df.assign(request_channel=df["request_id"].map(received))
    return df


def _pairs(df: pd.DataFrame, metric: Metric) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Paired measurements (end time, duration), unpaired end times and open start times."""
    sub = df[(df["category"] == metric.category.value)
             & df["event"].isin([metric.start.value, metric.end.value])]  # fmt: skip
    if metric.channel is not None:
        sub = sub[sub["request_channel"] == metric.channel.value]
    is_start = sub["event"] == metric.start.value
    is_end = ~is_start
    by_request = sub["request_id"]
    starts_so_far = is_start.astype("int64").groupby(by_request).cumsum()
    ends_so_far = is_end.astype("int64").groupby(by_request).cumsum()
    # ends with nothing open so far: running max of (ends − starts), never below 0
    unpaired = (ends_so_far - starts_so_far).groupby(by_request).cummax().clip(lower=0)
    before = unpaired.groupby(by_request).shift(1, fill_value=0)
    unpaired_end = is_end & (unpaired > before)
    paired_end = is_end & ~unpaired_end
    ends = pd.DataFrame({
        "request_id": by_request[paired_end],
        "k": (ends_so_far - unpaired)[paired_end],
        "end_t": sub["occurred_at"][paired_end],
    })  # fmt: skip
    starts = pd.DataFrame({
        "request_id": by_request[is_start],
        "k": starts_so_far[is_start],
        "start_t": sub["occurred_at"][is_start],
    })  # fmt: skip
    merged = starts.merge(ends, on=["request_id", "k"], how="left")
    closed = merged["end_t"].notna()
    pairs = pd.DataFrame({
        "end_t": merged["end_t"][closed],
        "duration": merged["end_t"][closed] - merged["start_t"][closed],
    })  # fmt: skip
    return pairs, sub["occurred_at"][unpaired_end], merged["start_t"][~closed]


def _month_key(times: pd.Series) -> pd.Series:
    return times.dt.year * 100 + times.dt.month


def reports(
    df: pd.DataFrame, versions: Sequence[CatalogueVersion], months: Sequence[Month]
) -> list[dict[str, Any]]:
    """Every month's report in the published JSON shape, plus the data-quality figures."""
    df = prepare(df)
    per_metric: dict[tuple[str, str], dict[str, Any]] = {}
    out = []
    for month in months:
        version = version_in_force(versions, month)
        assert version is not None
        key_month = month.year * 100 + month.month
        results = []
        for metric in version.metrics:
            key = (version.version, metric.id)
            if key not in per_metric:
                per_metric[key] = _per_month(df, metric)
            table = per_metric[key]
            count, met, median, p95 = table["figures"].get(key_month, (0, 0, None, None))
            results.append(
                _Result(
                    metric=metric,
                    count=count,
                    met=met,
                    median_us=median,
                    p95_us=p95,
                    unpaired_ends=int(table["unpaired"].get(key_month, 0)),
                    open_starts=int(table["open"].get(key_month, 0)),
                )
            )
        summary = summarise(results)
        out.append({
            "month": str(month),
            "catalogue_version": version.version,
            "metrics": [{
                "id": r.metric.id, "count": r.count, "met": r.met,
                "compliance": compliance_percent(r.met, r.count),
                "target": target_number(r.metric.target), "result": r.result.value,
                "median_s": None if r.median_us is None else seconds(r.median_us),
                "p95_s": None if r.p95_us is None else seconds(r.p95_us),
            } for r in results],
            "summary": {"met": summary.met, "with_data": summary.with_data, "total": summary.total},
            "data_quality": {r.metric.id: {"unpaired_ends": r.unpaired_ends,
                                           "open_starts": r.open_starts} for r in results},
        })  # fmt: skip
    return out


def _per_month(df: pd.DataFrame, metric: Metric) -> dict[str, Any]:
    pairs, unpaired_t, open_t = _pairs(df, metric)
    limit = pd.Timedelta(seconds=metric.threshold_s)
    micros = pairs["duration"] // pd.Timedelta(microseconds=1)
    frame = pd.DataFrame({
        "month": _month_key(pairs["end_t"]),
        "us": micros.astype("int64"),
        "met": pairs["duration"] <= limit if metric.type is MetricType.MAX
        else pairs["duration"] >= limit,
    })  # fmt: skip
    figures: dict[int, tuple[int, int, int | None, int | None]] = {}
    for month, group in frame.groupby("month"):
        values = np.sort(group["us"].to_numpy())
        n = len(values)
        figures[int(month)] = (
            n,
            int(group["met"].sum()),
            int(values[math.ceil(n * 50 / 100) - 1]),
            int(values[math.ceil(n * 95 / 100) - 1]),
        )
    return {
        "figures": figures,
        "unpaired": _month_key(unpaired_t).value_counts().to_dict(),
        "open": _month_key(open_t).value_counts().to_dict(),
    }


# --- the benchmark ---------------------------------------------------------------------------


def _log_to_frame(log: Any) -> pd.DataFrame:
    """The same events as the analyst's DataFrame: names as text, times as UTC datetimes."""
    from steward.sla.domain import CATEGORIES, CHANNELS, EVENTS

    names = np.asarray(log.request_ids, dtype=object)
    categories = np.asarray([c.value for c in CATEGORIES], dtype=object)
    return pd.DataFrame({
        "request_id": names[log.req],
        "category": categories[log.request_category[log.req]],
        "channel": np.asarray([c.value for c in CHANNELS], dtype=object)[log.channel],
        "event": np.asarray([e.value for e in EVENTS], dtype=object)[log.event],
        "occurred_at": pd.to_datetime(log.t, unit="us", utc=True),
        "seq": log.seq,
    })  # fmt: skip


def main() -> int:
    import argparse
    import csv
    import os
    import statistics
    import tempfile
    import time
    from datetime import UTC, datetime
    from pathlib import Path

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5_000_000, help="about how many events")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="keep the CSV and the database in this folder")
    args = parser.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="steward-sle-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["STEWARD_DATA_DIR"] = str(folder)
    os.environ["STEWARD_DATABASE_URL"] = f"sqlite:///{folder / 'bench.db'}"
    os.environ.setdefault("STEWARD_ENVIRONMENT", "development")

    from steward.db import session_scope
    from steward.migrate import upgrade
    from steward.registry.models import Tld
    from steward.sla import repository, service
    from steward.sla.domain import DEFAULT_CATALOGUE, month_range
    from steward.sla.measure import PreparedLog, monthly_reports
    from steward.sla.simulate import DEFAULT_TLDS, format_row, simulate

    now = datetime.now(UTC).replace(microsecond=0)
    last = Month.of(now).plus(-1)
    first = last.plus(-119)
    months = month_range(first, last)
    # a scale-1 decade has about 240k events: scale the request volume to the target
    probe = sum(1 for _ in simulate(120, args.seed, now=now, first=first))
    scale = args.events / probe
    print(f"Simulating 120 months ({first}…{last}) at {scale:.1f}× the real volume …", flush=True)
    started = time.perf_counter()
    path = folder / "events.csv"
    count = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["request_id", "tld", "category", "channel", "event", "occurred_at"])
        for row in simulate(120, args.seed, now=now, first=first, scale=scale):
            writer.writerow(format_row(row))
            count += 1
    print(f"  {count:,} events, {path.stat().st_size / 2**20:.0f} MiB CSV "
          f"({time.perf_counter() - started:.1f} s, not measured)")  # fmt: skip

    upgrade()
    with session_scope() as db:
        for label in DEFAULT_TLDS:
            db.add(Tld(a_label=label, u_label=label, type="generic"))
    data = path.read_bytes()

    started, cpu = time.perf_counter(), time.process_time()
    with session_scope() as db:
        result = service.ingest_file(db, None, data, source=path.name, now=now, fmt="csv")
    ingest_s, ingest_cpu = time.perf_counter() - started, time.process_time() - cpu
    rate = result.added / ingest_s
    print(f"Ingest (parse, validate, store, commit): {ingest_s:.1f} s = {rate:,.0f} events/s "
          f"[goal ≥ 200,000: {'met' if rate >= 200_000 else 'MISSED'}]; "
          f"CPU {ingest_cpu:.1f} s = {result.added / ingest_cpu:,.0f} events per CPU-second "
          f"(os.getloadavg: {os.getloadavg()[0]:.1f})")  # fmt: skip
    started = time.perf_counter()
    with session_scope() as db:
        again = service.ingest_file(db, None, data, source=path.name, now=now, fmt="csv")
    print(f"  the same file again: {again.message} ({time.perf_counter() - started:.1f} s)")

    with session_scope() as db:
        started = time.perf_counter()
        log = repository.full_log(db)
        load_s = time.perf_counter() - started
    frame = _log_to_frame(log)
    print(f"Loaded {len(log):,} events from the database ({load_s:.1f} s, not in the ratio)")

    started = time.perf_counter()
    ours = monthly_reports(PreparedLog(log), [DEFAULT_CATALOGUE], months, now=now)
    steward_s = time.perf_counter() - started
    started = time.perf_counter()
    theirs = reports(frame, [DEFAULT_CATALOGUE], months)
    pandas_s = time.perf_counter() - started
    mine = [{k: v for k, v in r.as_json().items() if k in theirs[0]} for r in ours]
    if mine != theirs:
        bad = next(i for i, (a, b) in enumerate(zip(mine, theirs, strict=True)) if a != b)
        print(f"RESULTS DIFFER for {months[bad]}:\n  steward {mine[bad]}\n  pandas  {theirs[bad]}")
        return 1
    ratio = pandas_s / steward_s
    print(f"120 monthly reports: Steward {steward_s:.2f} s, pandas {pandas_s:.2f} s — "
          f"{ratio:.1f}× faster, identical results [goal ≥ 5×: "
          f"{'met' if ratio >= 5 else 'MISSED'}]")  # fmt: skip

    timings, cpu_timings = [], []
    with session_scope() as db:
        service.compute_month(db, months[-7], now=now)  # warm the page cache once
        for month in months[-6:]:
            started, cpu = time.perf_counter(), time.process_time()
            service.compute_month(db, month, now=now)
            timings.append(time.perf_counter() - started)
            cpu_timings.append(time.process_time() - cpu)
    worst, median = max(timings) * 1000, statistics.median(timings) * 1000
    print(f"One month's report from the database: median {median:.0f} ms, worst {worst:.0f} ms "
          f"[goal < 100 ms: {'met' if worst < 100 else 'MISSED'}]; CPU median "
          f"{statistics.median(cpu_timings) * 1000:.0f} ms (os.getloadavg: {os.getloadavg()[0]:.1f})")  # fmt: skip
    print(f"RATIOS ingest_events_per_s={rate:.0f} reports_speedup_vs_pandas={ratio:.2f} "
          f"month_from_db_ms={median:.1f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
