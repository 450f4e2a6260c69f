"""A seeded, realistic generator of IFM performance data (the event vocabulary of domain.md).

About 150–250 root zone change requests a month (times ``scale``) across categories I–V and
emergency, arriving through both channels. Each request walks the real lifecycle: submission,
technical checks, contact confirmation (with retests after failed checks meanwhile), manual
review, occasional supplemental checks, publication and notification; a few are withdrawn or
rejected. Rows are emitted per request, not in time order. Durations are mostly well within the thresholds of the default
catalogue; a few months have an incident (a slow ticketing system, a stuck technical-check
queue, a delayed publication window, a notification outage) that misses targets.

The same ``seed`` always gives the same rows. Events after ``now`` are not emitted, so the last
requests are realistically still open.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from steward.sla.domain import Month, to_us

SimRow = tuple[str, str, str, str, str, int]
"""``(request_id, tld, category, channel, event, occurred_at as epoch seconds)``."""

DEFAULT_TLDS: Final = (
    "com", "net", "org", "de", "uk", "jp", "fr", "nl", "br", "au", "ch", "se", "no", "nz", "ca",
    "it", "es", "pl", "za", "in", "cn", "kr", "info", "xyz", "app", "dev", "xn--p1ai",
)  # fmt: skip

_CATEGORIES: Final = (("I", 0.55), ("II", 0.36), ("III", 0.035), ("IV", 0.02), ("V", 0.01),
                      ("emergency", 0.025))  # fmt: skip
_INCIDENTS: Final = ("ticketing", "tech_checks", "publication", "notification", "review")


@dataclass(frozen=True)
class Incident:
    """A window in which one part of the IFM's pipeline is slow."""

    kind: str
    start: int
    end: int


def _ln(rng: random.Random, median: float, spread: float) -> float:
    """A lognormal duration in seconds with the given median."""
    return median * rng.lognormvariate(0.0, spread)


class _Clock:
    """Emits the events of one request, dropping those after ``now``."""

    __slots__ = ("cat", "chan", "out", "rid", "t", "tld", "until")

    def __init__(
        self, out: list[SimRow], rid: str, tld: str, cat: str, chan: str, t: float, until: int
    ) -> None:
        self.out, self.rid, self.tld, self.cat, self.chan = out, rid, tld, cat, chan
        self.t = t
        self.until = until

    def emit(self, event: str, after: float = 0.0) -> int:
        self.t += max(0.0, after)
        stamp = int(self.t)
        if stamp <= self.until:
            self.out.append((self.rid, self.tld, self.cat, self.chan, event, stamp))
        return stamp


def _slow(incidents: Sequence[Incident], kind: str, t: float) -> bool:
    return any(i.kind == kind and i.start <= t < i.end for i in incidents)


def _request(
    rng: random.Random,
    clock: _Clock,
    incidents: Sequence[Incident],
) -> None:
    """The lifecycle of one request (domain.md: submission → … → notification)."""
    cat, chan = clock.cat, clock.chan
    emit = clock.emit
    emit("received")
    t0 = clock.t
    slow_tickets = _slow(incidents, "ticketing", t0)
    if chan == "automated":
        emit("ticket_confirmed", _ln(rng, 400 if slow_tickets else 6, 0.6))
    else:
        lodging = 600 if cat == "emergency" else 14_000
        emit("lodged", _ln(rng, lodging * (15 if slow_tickets else 1), 0.8))
        emit("ticket_confirmed", _ln(rng, 5, 0.5))
    if cat == "emergency":
        emit("tech_check_done", _ln(rng, 600, 0.5))
        emit("released", _ln(rng, 3_600, 0.6))
        emit("published", _ln(rng, 7_200, 0.5))
        emit("requester_notified", _ln(rng, 8, 0.5))
        emit("closed", _ln(rng, 60, 0.5))
        return
    slow_checks = _slow(incidents, "tech_checks", clock.t)
    # automated submissions are tested from receipt; the check's clock is the submission's
    clock.t = t0 if chan == "automated" else clock.t
    emit("tech_check_done", _ln(rng, 5_400 if slow_checks else 420, 0.6))
    emit("contact_confirmation_sent", _ln(rng, 9, 0.6))
    asked = clock.t
    # failed checks: the requester fixes its servers and asks for retests meanwhile
    retests = 0
    while rng.random() < (0.16 if retests == 0 else 0.2) and retests < 4:
        retests += 1
        emit("retest_requested", _ln(rng, 20_000, 1.2))
        emit("retest_done", _ln(rng, 1_500 if slow_checks else 150, 0.6))
    if retests and rng.random() < 0.1:  # withdrawn after failing checks
        emit("closed", _ln(rng, 86_400, 1.0))
        return
    checks_passed = clock.t
    clock.t = asked
    emit("contact_response", _ln(rng, 30_000, 1.0))
    emit("contact_affirmed", _ln(rng, 8, 0.7))
    clock.t = max(clock.t, checks_passed)
    if rng.random() < 0.03:  # a contact declined: rejected
        emit("closed", _ln(rng, 3_600, 1.0))
        return
    review = {"I": 80_000.0, "II": 60_000.0, "III": 900_000.0, "IV": 1_200_000.0, "V": 300_000.0}
    slow_review = _slow(incidents, "review", clock.t)
    emit_review = _ln(rng, review[cat] * (4 if slow_review else 1), 0.8)
    if rng.random() < 0.12:
        clock.t += emit_review / 2
        emit("supplemental_check_started")
        emit("supplemental_check_done", _ln(rng, 900 if slow_checks else 180, 0.5))
        emit_review /= 2
    emit("released", emit_review)
    if cat == "II":  # no root zone change: done once released
        emit("requester_notified", _ln(rng, 8, 0.5))
        emit("closed", _ln(rng, 60, 0.5))
        return
    slow_pub = _slow(incidents, "publication", clock.t)
    emit("published", _ln(rng, 300_000 if slow_pub else 40_000, 0.45))
    slow_note = _slow(incidents, "notification", clock.t)
    emit("requester_notified", _ln(rng, 900 if slow_note else 7, 0.6))
    emit("closed", _ln(rng, 120, 0.5))


def simulate(
    months: int,
    seed: int,
    *,
    now: datetime,
    first: Month | None = None,
    tlds: Sequence[str] = DEFAULT_TLDS,
    scale: float = 1.0,
    incident_rate: float = 0.12,
) -> Iterator[SimRow]:
    """Yield the events of ``months`` months of requests, month by month.

    ``first`` defaults to the month ``months`` before the month of ``now``, so the last simulated
    month is the previous one. Rows of a month are emitted request by request (not in time
    order), like an IFM export assembled per ticket; nothing later than ``now`` is emitted.
    """
    if months < 1:
        raise ValueError("months must be at least 1")
    if not tlds:
        raise ValueError("at least one TLD is needed")
    rng = random.Random(seed)
    start = first if first is not None else Month.of(now).plus(-months)
    until = to_us(now) // 1_000_000
    names = [c for c, _ in _CATEGORIES]
    weights = [w for _, w in _CATEGORIES]
    serial = 0
    for offset in range(months):
        month = start.plus(offset)
        lo = month.start_us // 1_000_000
        hi = month.end_us // 1_000_000
        if lo > until:
            break
        incidents = []
        if rng.random() < incident_rate:
            begin = rng.uniform(lo, hi - 86_400)
            incidents.append(Incident(rng.choice(_INCIDENTS), int(begin),
                                      int(begin + rng.uniform(0.5, 3) * 86_400)))  # fmt: skip
        count = round(rng.randint(150, 250) * scale)
        arrivals = sorted(rng.uniform(lo, hi) for _ in range(count))
        out: list[SimRow] = []
        for arrival in arrivals:
            serial += 1
            cat = rng.choices(names, weights)[0]
            chan = "automated" if rng.random() < 0.85 else "email"
            rid = f"{month.year}{month.month:02d}-{serial:07d}"
            clock = _Clock(out, rid, rng.choice(tlds), cat, chan, arrival, until)
            _request(rng, clock, incidents)
        yield from out


def format_row(row: SimRow) -> list[str]:
    """A simulated row as the six CSV fields, the time as ISO 8601 with ``Z``."""
    rid, tld, cat, chan, event, stamp = row
    moment = datetime.fromtimestamp(stamp, UTC)
    return [rid, tld, cat, chan, event, moment.strftime("%Y-%m-%dT%H:%M:%SZ")]
