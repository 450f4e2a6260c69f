"""Validation of submitted performance data: CSV or JSON event rows (domain.md, event vocabulary).

Each row is ``request_id, tld, category, channel, event, occurred_at``. A valid row becomes a plain
tuple of integer codes (:data:`Row`) so that millions can be checked and inserted quickly; an
invalid one becomes a :class:`RowError` naming the line (or JSON item), the field and the reason.
Whether a TLD exists in the registry is checked by the caller with :func:`unknown_tlds`.
"""

from __future__ import annotations

import csv
import gc
import io
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, Final

import idna

from steward.sla.domain import (
    CATEGORIES,
    CATEGORY_CODES,
    CHANNEL_CODES,
    CHANNELS,
    EVENT_CODES,
    to_us,
)

COLUMNS: Final = ("request_id", "tld", "category", "channel", "event", "occurred_at")
MAX_REQUEST_ID: Final = 100
MAX_ERRORS: Final = 500
"""Errors listed per file; past this the parse stops (the file is refused anyway)."""

Row = tuple[int, str, str, int, int, int, int]
"""``(line, request_id, tld, category, channel, event, occurred_at_us)``; codes as in domain."""

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_CLOSED: Final = EVENT_CODES["closed"]
_ALLOWED_TLD: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


@dataclass(frozen=True)
class RowError:
    """Why one row was refused. ``line`` is the file's line number (1 is the CSV header) or,
    for JSON, the 1-based position of the item; ``unit`` says which."""

    line: int
    field: str | None
    reason: str
    unit: str = "line"

    def __str__(self) -> str:
        where = f"{self.unit} {self.line}"
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


@dataclass
class ParsedEvents:
    """The outcome of parsing one file: valid rows and the errors (all or nothing is ingested)."""

    rows: list[Row] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    truncated: bool = False
    """More errors than :data:`MAX_ERRORS` were found; only the first are listed."""
    unit: str = "line"
    """What row numbers count: CSV ``line`` or JSON ``item``."""
    requests: dict[str, list[Any]] = field(default_factory=dict)
    """Per request id: ``[tld, category, first line, earliest time, earliest closed time,
    latest time]``."""

    @property
    def ok(self) -> bool:
        return not self.errors


def normalise_tld(raw: str) -> str:
    """The A-label of a TLD as reported: trimmed, lower case, without the leading dot.

    Raises ValueError with the reason when it is not an A-label (a U-label gets its A-label
    suggested)."""
    text = raw.strip().lower()
    if text.startswith("."):
        text = text[1:]
    if not text:
        raise ValueError("required")
    if not set(text) <= _ALLOWED_TLD:
        try:
            suggestion = idna.encode(text).decode("ascii")
        except idna.IDNAError:
            raise ValueError(f"{raw!r} is not a TLD A-label") from None
        raise ValueError(f"{raw!r} is not an A-label; write {suggestion!r}")
    if len(text) > 63 or text.startswith("-") or text.endswith("-"):
        raise ValueError(f"{raw!r} is not a TLD A-label")
    return text


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of small tuples are built: they hold no
    cycles, and the collector's repeated scans of them would cost a third of the time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Checker:
    """Row validation shared by the CSV and JSON readers; keeps per-file state."""

    def __init__(self, now: datetime, unit: str) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        self.now_us = to_us(now)
        self.unit = unit
        self.result = ParsedEvents(unit=unit)
        self.tlds: dict[str, str | ValueError] = {}
        self.requests = self.result.requests

    def error(self, line: int, column: str | None, reason: str) -> bool:
        """Record an error; False once there are too many to go on."""
        errors = self.result.errors
        if len(errors) >= MAX_ERRORS:
            self.result.truncated = True
            return False
        errors.append(RowError(line, column, reason, self.unit))
        return True

    def check(
        self,
        line: int,
        request_id: object,
        tld: object,
        category: object,
        channel: object,
        event: object,
        occurred_at: object,
    ) -> bool:
        """Validate one row and keep it; returns False when parsing should stop."""
        bad = False
        if not isinstance(request_id, str) or not (request_id := request_id.strip()):
            bad = True
            if not self.error(line, "request_id", "required"):
                return False
        elif len(request_id) > MAX_REQUEST_ID:
            bad = True
            if not self.error(line, "request_id", f"longer than {MAX_REQUEST_ID} characters"):
                return False
        category_code = CATEGORY_CODES.get(category) if isinstance(category, str) else None
        if category_code is None:
            bad = True
            reason = f"unknown category {category!r} (one of {', '.join(CATEGORIES)})"
            if not self.error(line, "category", reason):
                return False
        channel_code = CHANNEL_CODES.get(channel) if isinstance(channel, str) else None
        if channel_code is None:
            bad = True
            reason = f"unknown channel {channel!r} (one of {', '.join(CHANNELS)})"
            if not self.error(line, "channel", reason):
                return False
        event_code = EVENT_CODES.get(event) if isinstance(event, str) else None
        if event_code is None:
            bad = True
            if not self.error(line, "event", f"unknown event {event!r}"):
                return False
        normal = self.tlds.get(tld) if isinstance(tld, str) else None
        if normal is None:
            try:
                if not isinstance(tld, str):
                    raise ValueError("required")
                normal = normalise_tld(tld)
            except ValueError as exc:
                normal = exc
            if isinstance(tld, str):
                self.tlds[tld] = normal
        if isinstance(normal, ValueError):
            bad = True
            if not self.error(line, "tld", str(normal)):
                return False
        micros = 0
        try:
            if not isinstance(occurred_at, str):
                raise ValueError
            moment = datetime.fromisoformat(occurred_at)
        except ValueError:
            bad = True
            reason = f"{occurred_at!r} is not an ISO 8601 time such as 2026-10-01T12:00:00Z"
            if not self.error(line, "occurred_at", reason):
                return False
        else:
            if moment.tzinfo is None:
                bad = True
                reason = f"{occurred_at!r} has no UTC offset (add Z or +00:00)"
                if not self.error(line, "occurred_at", reason):
                    return False
            else:
                delta = moment - _EPOCH
                micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
                if micros > self.now_us:
                    bad = True
                    if not self.error(line, "occurred_at", f"{occurred_at!r} is in the future"):
                        return False
        if bad:
            return True
        assert isinstance(request_id, str) and isinstance(normal, str)
        assert category_code is not None and channel_code is not None and event_code is not None
        known = self.requests.get(request_id)
        if known is None:
            closed = micros if event_code == _CLOSED else None
            self.requests[request_id] = [normal, category_code, line, micros, closed, micros]
        elif known[0] != normal:
            return self.error(
                line, "tld", f"{normal!r} differs from {known[0]!r} given for request "
                f"{request_id!r} on {self.unit} {known[2]}",
            )  # fmt: skip
        elif known[1] != category_code:
            return self.error(
                line, "category", f"{category!r} differs from {CATEGORIES[known[1]].value!r} "
                f"given for request {request_id!r} on {self.unit} {known[2]}",
            )  # fmt: skip
        else:
            if micros < known[3]:
                known[3] = micros
            elif micros > known[5]:
                known[5] = micros
            if event_code == _CLOSED and (known[4] is None or micros < known[4]):
                known[4] = micros
        self.result.rows.append(
            (line, request_id, normal, category_code, channel_code, event_code, micros)
        )
        return True


def parse_csv(source: str | Iterable[str], *, now: datetime) -> ParsedEvents:
    """Parse CSV (the whole text, or an iterable of lines such as an open file) with a header row
    naming the six columns in any order. Line numbers count the header as line 1."""
    if isinstance(source, str):
        # Without quotes, and with \n or \r\n line ends only, a CSV line is its fields joined by
        # commas: split it directly (several times faster than the csv module on millions of
        # rows); anything else goes through the csv module.
        if '"' not in source and source.count("\r") == source.count("\r\n"):
            with paused_gc():
                return _parse_plain(source, now)
        source = io.StringIO(source, newline="")
    checker = _Checker(now, "line")
    reader = csv.reader(source)
    try:
        header = next(reader, None)
        idx = _header(checker, header)
        if idx is None:
            return checker.result
        width = len(header or ())  # every row has exactly the header's fields
        i0, i1, i2, i3, i4, i5 = idx
        check = checker.check
        for values in reader:
            if len(values) != width:
                if not values or values == [""]:
                    continue  # blank line
                if not checker.error(reader.line_num, None, _field_count(width, len(values))):
                    break
                continue
            if not check(
                reader.line_num, values[i0], values[i1], values[i2], values[i3], values[i4],
                values[i5],
            ):  # fmt: skip
                break
    except csv.Error as exc:
        checker.error(reader.line_num, None, f"not valid CSV: {exc}")
    except UnicodeDecodeError:
        checker.error(reader.line_num + 1, None, "not UTF-8 text")
    return checker.result


def _field_count(expected: int, found: int) -> str:
    return (
        f"expected {expected} fields, found {found} "
        f"({'more' if found > expected else 'fewer'} than the header row)"
    )


def _header(checker: _Checker, header: list[str] | None) -> list[int] | None:
    """Column positions of the six fields, or None after recording what is wrong."""
    if header is None or header == [] or header == [""]:
        checker.error(
            1, None, "the file is empty (expected a header row: " + ",".join(COLUMNS) + ")"
        )
        return None
    names = [h.strip().lower() for h in header]
    missing = [c for c in COLUMNS if c not in names]
    for column in missing:
        checker.error(1, column, "missing column in the header row")
    return None if missing else [names.index(c) for c in COLUMNS]


def _parse_plain(text: str, now: datetime) -> ParsedEvents:
    """The fast path of :func:`parse_csv` for quote-free text. Plainly valid rows are checked
    inline; any other row goes through the full check, which names each problem."""
    checker = _Checker(now, "line")
    lines = text.split("\n")
    header = lines[0].removesuffix("\r").split(",")
    idx = _header(checker, header)
    if idx is None:
        return checker.result
    width = len(header)  # every row has exactly the header's fields
    pick = itemgetter(*idx)
    categories, channels, events = CATEGORY_CODES, CHANNEL_CODES, EVENT_CODES
    tlds = checker.tlds
    requests = checker.requests
    append = checker.result.rows.append
    now_us = checker.now_us
    parse_time = datetime.fromisoformat
    epoch = _EPOCH
    closed_code = _CLOSED
    check = checker.check
    for number in range(1, len(lines)):
        raw = lines[number]
        if raw.endswith("\r"):
            raw = raw[:-1]
        if not raw:
            continue  # blank line
        values = raw.split(",")
        line = number + 1
        if len(values) != width:
            if not checker.error(line, None, _field_count(width, len(values))):
                break
            continue
        rid, tld_raw, cat_raw, chan_raw, ev_raw, at_raw = pick(values)
        rid = rid.strip()
        cat = categories.get(cat_raw)
        chan = channels.get(chan_raw)
        ev = events.get(ev_raw)
        tld = tlds.get(tld_raw)
        if (
            cat is not None and chan is not None and ev is not None and type(tld) is str
            and rid and len(rid) <= MAX_REQUEST_ID
        ):  # fmt: skip
            try:
                # a time without offset is naive: subtracting it from the aware epoch fails
                delta = parse_time(at_raw) - epoch
            except (ValueError, TypeError):
                pass
            else:
                micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
                if micros <= now_us:
                    known = requests.get(rid)
                    if known is None:
                        closed = micros if ev == closed_code else None
                        requests[rid] = [tld, cat, line, micros, closed, micros]
                        append((line, rid, tld, cat, chan, ev, micros))
                        continue
                    if known[0] == tld and known[1] == cat:
                        if micros < known[3]:
                            known[3] = micros
                        elif micros > known[5]:
                            known[5] = micros
                        if ev == closed_code and (known[4] is None or micros < known[4]):
                            known[4] = micros
                        append((line, rid, tld, cat, chan, ev, micros))
                        continue
        if not check(line, rid, tld_raw, cat_raw, chan_raw, ev_raw, at_raw):
            break
    return checker.result


def parse_json(data: Any, *, now: datetime) -> ParsedEvents:
    """Parse decoded JSON: a list of event objects, or an object with such a list under
    ``events``. Errors count items from 1."""
    checker = _Checker(now, "item")
    items = data.get("events") if isinstance(data, dict) else data
    if not isinstance(items, list):
        checker.error(1, None, 'expected a list of events, or {"events": [...]}')
        return checker.result
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            if not checker.error(number, None, "expected an object with " + ", ".join(COLUMNS)):
                break
            continue
        missing = [c for c in COLUMNS if c not in item]
        if missing:
            stop = False
            for column in missing:
                if not checker.error(number, column, "required"):
                    stop = True
                    break
            if stop:
                break
            continue
        if not checker.check(
            number, item["request_id"], item["tld"], item["category"], item["channel"],
            item["event"], item["occurred_at"],
        ):  # fmt: skip
            break
    return checker.result


def unknown_tlds(parsed: ParsedEvents, known: Collection[str]) -> list[RowError]:
    """Errors for rows whose TLD is not in the registry (one per row, in file order)."""
    return [
        RowError(row[0], "tld", f"unknown TLD {row[2]!r} (not in the registry)", parsed.unit)
        for row in parsed.rows
        if row[2] not in known
    ]


def conflicting_requests(
    parsed: ParsedEvents, existing: Mapping[str, tuple[str, int]]
) -> list[RowError]:
    """Errors for rows whose TLD or category differ from what earlier files gave the request.

    ``existing`` maps a request id already stored to its ``(tld, category code)``."""
    errors = []
    for line, request_id, tld, category, _channel, _event, _t in parsed.rows:
        known = existing.get(request_id)
        if known is None:
            continue
        if known[0] != tld:
            errors.append(RowError(
                line, "tld", f"{tld!r} differs from {known[0]!r} stored for request {request_id!r}",
                parsed.unit,
            ))  # fmt: skip
        elif known[1] != category:
            errors.append(RowError(
                line, "category", f"{CATEGORIES[category].value!r} differs from "
                f"{CATEGORIES[known[1]].value!r} stored for request {request_id!r}", parsed.unit,
            ))  # fmt: skip
    return errors
