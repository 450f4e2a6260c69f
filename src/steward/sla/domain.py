"""Service levels: the event vocabulary, the versioned catalogue and the monthly report (R-SLA-1, R-SLA-2).

Pure rules only: no database, no web, no files. The measurement engine that turns an event log
into reports lives beside this module in :mod:`steward.sla.measure`; parsing of submitted event
files in :mod:`steward.sla.rows`.

Integer codes of the vocabulary (``EVENTS``, ``CATEGORIES``, ``CHANNELS``) are stored in the
database: append new names at the end, never reorder.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction
from typing import Any, Final

from steward.textfile import spreadsheet_safe


class Event(StrEnum):
    """One step in the life of a root zone change request (domain.md, event vocabulary)."""

    RECEIVED = "received"
    TICKET_CONFIRMED = "ticket_confirmed"
    LODGED = "lodged"
    TECH_CHECK_DONE = "tech_check_done"
    RETEST_REQUESTED = "retest_requested"
    RETEST_DONE = "retest_done"
    CONTACT_CONFIRMATION_SENT = "contact_confirmation_sent"
    CONTACT_RESPONSE = "contact_response"
    CONTACT_AFFIRMED = "contact_affirmed"
    SUPPLEMENTAL_CHECK_STARTED = "supplemental_check_started"
    SUPPLEMENTAL_CHECK_DONE = "supplemental_check_done"
    RELEASED = "released"
    PUBLISHED = "published"
    REQUESTER_NOTIFIED = "requester_notified"
    CLOSED = "closed"

    @property
    def code(self) -> int:
        return EVENT_CODES[self]


class Category(StrEnum):
    """Root zone change request categories I–V and emergency changes."""

    I = "I"  # noqa: E741 - the category's real name
    II = "II"
    III = "III"
    IV = "IV"
    V = "V"
    EMERGENCY = "emergency"

    @property
    def code(self) -> int:
        return CATEGORY_CODES[self]


class Channel(StrEnum):
    """How a request arrived."""

    AUTOMATED = "automated"
    EMAIL = "email"

    @property
    def code(self) -> int:
        return CHANNEL_CODES[self]


class MetricType(StrEnum):
    """Max: met when duration ≤ threshold. Min: met when duration ≥ threshold."""

    MAX = "max"
    MIN = "min"


class Result(StrEnum):
    """A metric's monthly result; "no-data" is neither met nor missed."""

    MET = "met"
    MISSED = "missed"
    NO_DATA = "no-data"


EVENTS: Final[tuple[Event, ...]] = tuple(Event)
CATEGORIES: Final[tuple[Category, ...]] = tuple(Category)
CHANNELS: Final[tuple[Channel, ...]] = tuple(Channel)
EVENT_CODES: Final[dict[str, int]] = {e.value: i for i, e in enumerate(EVENTS)}
CATEGORY_CODES: Final[dict[str, int]] = {c.value: i for i, c in enumerate(CATEGORIES)}
CHANNEL_CODES: Final[dict[str, int]] = {c.value: i for i, c in enumerate(CHANNELS)}
NO_CHANNEL: Final = -1
"""Channel code of a request whose ``received`` event is not (yet) in the data."""

PERIOD_MONTH: Final = "month"


# --- time --------------------------------------------------------------------------------

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
US_PER_S: Final = 1_000_000


def to_us(moment: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime (exact, no float rounding)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * US_PER_S + delta.microseconds


def from_us(us: int) -> datetime:
    """The aware UTC datetime of a count of microseconds since the Unix epoch."""
    seconds, micro = divmod(int(us), US_PER_S)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=micro)


def seconds(us: int) -> int | float:
    """A duration in microseconds as seconds: an int when whole, else a float."""
    whole, rest = divmod(int(us), US_PER_S)
    return whole if rest == 0 else us / US_PER_S


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month in UTC, the reporting period of every metric."""

    year: int
    month: int

    def __post_init__(self) -> None:
        # up to 9999 so that the end of 9998-12 (the first instant of 9999-01) exists
        if not 1 <= self.month <= 12 or not 1 <= self.year <= 9999:
            raise ValueError(f"not a month: {self.year}-{self.month}")

    @classmethod
    def parse(cls, text: str) -> Month:
        """Parse ``YYYY-MM`` (years 0001 to 9998); raises ValueError with the offending text."""
        match = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
        if match is None or not 1 <= int(match.group(2)) <= 12:
            raise ValueError(f"month must look like 2026-10, not {text!r}")
        if not 1 <= int(match.group(1)) <= 9998:
            raise ValueError(f"month must be in the years 0001 to 9998, not {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, moment: datetime) -> Month:
        """The UTC month in which an aware datetime falls."""
        utc = moment.astimezone(UTC)
        return cls(utc.year, utc.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def plus(self, months: int) -> Month:
        """This month shifted by a number of months (negative goes back)."""
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant of the next month (exclusive bound)."""
        return self.plus(1).start

    @property
    def start_us(self) -> int:
        return to_us(self.start)

    @property
    def end_us(self) -> int:
        return to_us(self.end)


def month_range(first: Month, last: Month) -> list[Month]:
    """Every month from ``first`` to ``last`` inclusive."""
    span = (last.year * 12 + last.month) - (first.year * 12 + first.month)
    return [first.plus(i) for i in range(span + 1)]


# --- durations ---------------------------------------------------------------------------

_UNITS: Final[dict[str, int]] = {"d": 86_400, "h": 3_600, "min": 60, "s": 1}
_DURATION_RE: Final = re.compile(
    r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*min)?\s*(?:(\d+)\s*s)?\s*$"
)


def parse_duration(text: str) -> int:
    """Parse a duration such as ``60s``, ``50min``, ``72h``, ``3d`` or ``1h30min`` into seconds."""
    match = _DURATION_RE.match(text)
    if match is None or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration like 60s, 50min, 72h or 3d")
    return sum(int(v) * unit for v, unit in zip(match.groups(), _UNITS.values(), strict=True) if v)


def format_duration(total_seconds: int) -> str:
    """Format whole seconds compactly (``3d``, ``72h`` → ``3d``, ``1h30min``); inverse of parse."""
    if total_seconds == 0:
        return "0s"
    parts = []
    rest = total_seconds
    for unit, size in _UNITS.items():
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def describe_duration(total_seconds: int) -> str:
    """A threshold for people, in the unit the real tables use: ``60 s``, ``10 min``, ``12 h``,
    ``72 h``, ``5 days``."""
    if total_seconds < 120 or total_seconds % 60:
        return f"{total_seconds} s"
    if total_seconds < 7200 or total_seconds % 3600:
        return f"{total_seconds // 60} min"
    if total_seconds <= 72 * 3600 or total_seconds % 86_400:
        return f"{total_seconds // 3600} h"
    return f"{total_seconds // 86_400} days"


# --- catalogue ---------------------------------------------------------------------------


class CatalogueError(ValueError):
    """A catalogue that cannot be used; ``problems`` each name the field (and metric).

    ``fields`` gives, for each problem, the field it names (``None`` when it names none, as for
    a file that is not TOML); ``line`` and ``column`` locate a TOML syntax error in the text."""

    def __init__(
        self,
        problems: Sequence[str],
        *,
        fields: Sequence[str | None] | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.problems = list(problems)
        self.fields: list[str | None] = (
            list(fields) if fields is not None else [None] * len(self.problems)
        )
        self.line = line
        self.column = column
        super().__init__("; ".join(self.problems))


class _Problems(list[str]):
    """The problems of a catalogue as ``"field: reason"`` texts, each field also kept apart so
    that it never has to be guessed back from the text (a metric id or key may hold a colon)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[str] = []

    def add(self, where: str, reason: str) -> None:
        self.append(f"{where}: {reason}")
        self.fields.append(where)


_METRIC_ID_RE: Final = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Metric:
    """One agreed service level: from a start event to an end event within a threshold."""

    id: str
    category: Category
    phase: str
    name: str
    start: Event
    end: Event
    type: MetricType
    threshold_s: int
    target: Decimal
    channel: Channel | None = None
    period: str = PERIOD_MONTH

    def is_met(self, duration_us: int) -> bool:
        """Whether one measured duration meets the threshold (Max: ≤, Min: ≥)."""
        limit = self.threshold_s * US_PER_S
        return duration_us <= limit if self.type is MetricType.MAX else duration_us >= limit

    def result(self, met: int, count: int) -> Result:
        """Met when compliance ≥ target; with no measurements, no data."""
        if count == 0:
            return Result.NO_DATA
        # exact rational comparison: 57/60 against 95% must not depend on float rounding
        return Result.MET if Fraction(met * 100, count) >= Fraction(self.target) else Result.MISSED

    @property
    def pairing_key(self) -> tuple[int, int, int, int]:
        """What decides which durations are measured (threshold and target do not)."""
        channel = NO_CHANNEL if self.channel is None else self.channel.code
        return (self.start.code, self.end.code, self.category.code, channel)

    @property
    def threshold_text(self) -> str:
        return describe_duration(self.threshold_s)

    @property
    def target_text(self) -> str:
        return f"{format_target(self.target)}%"


def format_target(target: Decimal) -> str:
    """95 → ``95``, 99.5 → ``99.5`` (no trailing zeros)."""
    return format(target.normalize(), "f")


def target_number(target: Decimal) -> int | float:
    """A target as a JSON number: int when whole."""
    return int(target) if target == target.to_integral_value() else float(target)


@dataclass(frozen=True)
class CatalogueVersion:
    """A version of the catalogue, in force from its effective date until the next one's."""

    version: str
    effective: date
    metrics: tuple[Metric, ...]
    cause: str | None = None
    description: str | None = None

    def metric(self, metric_id: str) -> Metric:
        for metric in self.metrics:
            if metric.id == metric_id:
                return metric
        raise KeyError(metric_id)


def version_in_force(versions: Iterable[CatalogueVersion], month: Month) -> CatalogueVersion | None:
    """The version in force on the first day of ``month`` (R-SLA-1).

    A version that takes effect in the middle of a month applies from the next month on, so that a
    month is never judged half by one version and half by another. Between two versions with the
    same effective date the one listed last wins (a same-day correction).
    """
    chosen: CatalogueVersion | None = None
    for candidate in versions:
        if candidate.effective <= month.first_day and (
            chosen is None or candidate.effective >= chosen.effective
        ):
            chosen = candidate
    return chosen


def _m(
    metric_id: str,
    phase: str,
    name: str,
    start: Event,
    end: Event,
    threshold_s: int,
    target: str,
    channel: Channel | None = None,
    category: Category = Category.I,
) -> Metric:
    return Metric(
        id=metric_id,
        category=category,
        phase=phase,
        name=name,
        start=start,
        end=end,
        type=MetricType.MAX,
        threshold_s=threshold_s,
        target=Decimal(target),
        channel=channel,
    )


DEFAULT_CATALOGUE: Final = CatalogueVersion(
    version="1",
    # The PTI service level expectations took effect with the transition (2016-10-01); the table
    # itself was last updated on 2 July 2020.
    effective=date(2016, 10, 1),
    cause="PTI Category I service level expectations (table last updated 2 July 2020) "
    "and the 12-hour rule for emergency changes",
    metrics=(
        _m("cat1-ticket-confirmation", "submission",
           "Request received via automated interface → ticket confirmation sent",
           Event.RECEIVED, Event.TICKET_CONFIRMED, 60, "95", Channel.AUTOMATED),
        _m("cat1-email-lodged", "submission",
           "Request received by email → lodged in the system",
           Event.RECEIVED, Event.LODGED, 3 * 86_400, "95", Channel.EMAIL),
        _m("cat1-tech-check", "technical checks",
           "Submission via automated interface → test results returned",
           Event.RECEIVED, Event.TECH_CHECK_DONE, 50 * 60, "95", Channel.AUTOMATED),
        _m("cat1-retest", "technical checks",
           "Retest after failed tests requested → results returned",
           Event.RETEST_REQUESTED, Event.RETEST_DONE, 10 * 60, "95"),
        _m("cat1-contact-request", "contact confirmation",
           "Previous phase completed → authorization contacts asked",
           Event.TECH_CHECK_DONE, Event.CONTACT_CONFIRMATION_SENT, 60, "95"),
        _m("cat1-contact-affirmed", "contact confirmation",
           "Contact response → affirmed",
           Event.CONTACT_RESPONSE, Event.CONTACT_AFFIRMED, 60, "95"),
        _m("cat1-release", "review and processing",
           "All other validations and reviews complete → released for implementation",
           Event.CONTACT_AFFIRMED, Event.RELEASED, 5 * 86_400, "90"),
        _m("cat1-supplemental-check", "supplemental technical checks",
           "Supplemental technical checks started → results",
           Event.SUPPLEMENTAL_CHECK_STARTED, Event.SUPPLEMENTAL_CHECK_DONE, 10 * 60, "95"),
        _m("cat1-publication", "implementation",
           "Released → root zone change published",
           Event.RELEASED, Event.PUBLISHED, 72 * 3_600, "99"),
        _m("cat1-notification", "implementation",
           "Published → requester notified",
           Event.PUBLISHED, Event.REQUESTER_NOTIFIED, 60, "95"),
        _m("emergency-12h", "emergency",
           "Emergency change received → published in the root zone",
           Event.RECEIVED, Event.PUBLISHED, 12 * 3_600, "100", category=Category.EMERGENCY),
    ),
)  # fmt: skip


_METRIC_FIELDS: Final = (
    "id", "category", "phase", "name", "start", "end", "channel", "type", "threshold", "target",
    "period",
)  # fmt: skip
_VERSION_FIELDS: Final = ("version", "effective", "cause", "description", "metrics")


def _choice(value: object, allowed: Iterable[str], where: str, problems: _Problems) -> str | None:
    options = list(allowed)
    if not isinstance(value, str) or value not in options:
        problems.add(where, f"{value!r} is not one of {', '.join(options)}")
        return None
    return value


def catalogue_from_mapping(data: Mapping[str, Any]) -> CatalogueVersion:
    """Build and validate a catalogue version from parsed TOML (or JSON) data.

    Every problem is reported at once, each naming the field and, for metrics, the metric's
    position and id, e.g. ``metrics[3] (cat1-retest).threshold: …``.
    """
    problems = _Problems()
    for key in data:
        if key not in _VERSION_FIELDS:
            problems.add(str(key), f"unknown field (expected {', '.join(_VERSION_FIELDS)})")
    version = data.get("version")
    if isinstance(version, int) and not isinstance(version, bool):
        version = str(version)
    if not isinstance(version, str) or not version.strip():
        problems.add("version", 'required, a short label such as "2"')
        version = ""
    effective = data.get("effective")
    if isinstance(effective, datetime):
        problems.add("effective", "give a date (2027-01-01), not a date and time")
        effective = None
    elif isinstance(effective, str):
        try:
            effective = date.fromisoformat(effective)
        except ValueError:
            problems.add("effective", f"{effective!r} is not a date like 2027-01-01")
            effective = None
    elif not isinstance(effective, date):
        problems.add("effective", "required, a date such as 2027-01-01")
        effective = None
    cause = data.get("cause")
    if cause is not None and not isinstance(cause, str):
        problems.add("cause", "must be text")
        cause = None
    description = data.get("description")
    if description is not None and not isinstance(description, str):
        problems.add("description", "must be text")
        description = None
    raw_metrics = data.get("metrics")
    metrics: list[Metric] = []
    if not isinstance(raw_metrics, list) or not raw_metrics:
        problems.add("metrics", "at least one [[metrics]] table is required")
        raw_metrics = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_metrics, start=1):
        metric = _metric_from_mapping(raw, index, problems)
        if metric is None:
            continue
        if metric.id in seen:
            problems.add(f"metrics[{index}] ({metric.id}).id", "duplicate metric id")
            continue
        seen.add(metric.id)
        metrics.append(metric)
    if problems or effective is None:
        raise CatalogueError(problems, fields=problems.fields)
    return CatalogueVersion(
        version=version.strip(),
        effective=effective,
        metrics=tuple(metrics),
        cause=cause.strip() if cause else None,
        description=description.strip() if description else None,
    )


def _metric_from_mapping(raw: object, index: int, problems: _Problems) -> Metric | None:
    if not isinstance(raw, Mapping):
        problems.add(f"metrics[{index}]", "must be a table of fields")
        return None
    metric_id = raw.get("id")
    where = f"metrics[{index}]" + (f" ({metric_id})" if isinstance(metric_id, str) else "")
    before = len(problems)
    for key in raw:
        if key not in _METRIC_FIELDS:
            problems.add(f"{where}.{key}", f"unknown field (expected {', '.join(_METRIC_FIELDS)})")
    if not isinstance(metric_id, str) or not _METRIC_ID_RE.match(metric_id):
        problems.add(
            f"{where}.id",
            f"required, lower-case letters, digits, '.', '_' or '-' (got {metric_id!r})",
        )
    texts: dict[str, str] = {}
    for key in ("phase", "name"):
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            problems.add(f"{where}.{key}", "required text")
        else:
            texts[key] = value.strip()
    category = _choice(raw.get("category"), CATEGORY_CODES, f"{where}.category", problems)
    start = _choice(raw.get("start"), EVENT_CODES, f"{where}.start", problems)
    end = _choice(raw.get("end"), EVENT_CODES, f"{where}.end", problems)
    if start is not None and start == end:
        problems.add(f"{where}.end", f"must differ from start ({start})")
    channel = raw.get("channel")
    if channel is not None:
        channel = _choice(channel, CHANNEL_CODES, f"{where}.channel", problems)
    metric_type = _choice(raw.get("type"), [t.value for t in MetricType], f"{where}.type", problems)
    period = raw.get("period", PERIOD_MONTH)
    if period != PERIOD_MONTH:
        problems.add(f"{where}.period", 'only "month" (calendar month, UTC) is supported')
    threshold_s: int | None = None
    threshold = raw.get("threshold")
    if isinstance(threshold, bool):
        threshold = None
    if isinstance(threshold, int):
        threshold_s = threshold
    elif isinstance(threshold, str):
        try:
            threshold_s = parse_duration(threshold)
        except ValueError as exc:
            problems.add(f"{where}.threshold", str(exc))
    else:
        problems.add(f"{where}.threshold", 'required, a duration such as "60s", "72h" or "3d"')
    if threshold_s is not None and threshold_s <= 0:
        problems.add(f"{where}.threshold", "must be longer than 0 s")
    target = _target(raw.get("target"), f"{where}.target", problems)
    if len(problems) > before:
        return None
    assert isinstance(metric_id, str) and category and start and end and metric_type
    assert threshold_s is not None and target is not None
    return Metric(
        id=metric_id,
        category=Category(category),
        phase=texts["phase"],
        name=texts["name"],
        start=Event(start),
        end=Event(end),
        type=MetricType(metric_type),
        threshold_s=threshold_s,
        target=target,
        channel=Channel(channel) if isinstance(channel, str) else None,
    )


def _target(value: object, where: str, problems: _Problems) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        problems.add(where, "required, a percentage such as 95 or 99.5")
        return None
    try:
        # repr keeps 99.5 as 99.5 rather than the float's binary expansion
        target = Decimal(repr(value) if isinstance(value, float) else str(value).rstrip("%"))
    except InvalidOperation:
        problems.add(where, f"{value!r} is not a percentage such as 95 or 99.5")
        return None
    if not target.is_finite() or not Decimal(0) < target <= Decimal(100):
        problems.add(where, f"must be more than 0 and at most 100 (got {value!r})")
        return None
    return target


def load_catalogue_toml(text: str) -> CatalogueVersion:
    """Parse and validate a catalogue version written in TOML (format in docs/sla.md)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        reason, line, column = _toml_error_location(str(exc), text)
        where = f"column {column}" if column is not None else "the end of the file"
        raise CatalogueError(
            [f"not valid TOML: {reason} (at {where})"], line=line, column=column
        ) from None
    return catalogue_from_mapping(data)


_TOML_AT_RE: Final = re.compile(r"^(.*) \(at (?:line (\d+), column (\d+)|end of document)\)$", re.S)


def _toml_error_location(message: str, text: str) -> tuple[str, int, int | None]:
    """Split tomllib's message ``"Invalid value (at line 3, column 9)"`` into the reason, the
    line and the column; an error at the end of the document is on the last line, no column."""
    last_line = max(1, len(text.splitlines()))
    match = _TOML_AT_RE.match(message)
    if match is None:
        return message, last_line, None
    reason, line, column = match.groups()
    if line is None:
        return reason, last_line, None
    return reason, int(line), int(column)


def catalogue_to_mapping(version: CatalogueVersion) -> dict[str, Any]:
    """The catalogue as plain data, the same shape that :func:`catalogue_from_mapping` reads."""
    data: dict[str, Any] = {"version": version.version, "effective": version.effective}
    if version.cause:
        data["cause"] = version.cause
    if version.description:
        data["description"] = version.description
    metrics = []
    for metric in version.metrics:
        entry: dict[str, Any] = {
            "id": metric.id,
            "category": metric.category.value,
            "phase": metric.phase,
            "name": metric.name,
            "start": metric.start.value,
            "end": metric.end.value,
        }
        if metric.channel is not None:
            entry["channel"] = metric.channel.value
        entry["type"] = metric.type.value
        entry["threshold"] = format_duration(metric.threshold_s)
        entry["target"] = target_number(metric.target)
        entry["period"] = metric.period
        metrics.append(entry)
    data["metrics"] = metrics
    return data


def dump_catalogue_toml(version: CatalogueVersion) -> str:
    """The catalogue version as TOML that :func:`load_catalogue_toml` reads back unchanged."""
    import tomli_w  # a writer for the format stdlib tomllib reads

    header = (
        "# Steward SLA catalogue version (see docs/sla.md for the format).\n"
        "# Load with: steward sla catalogue load FILE\n"
    )
    return header + str(tomli_w.dumps(catalogue_to_mapping(version)))


# --- reports -----------------------------------------------------------------------------


class Rating(StrEnum):
    """The committee's words for a month: all met is excellent, otherwise satisfactory."""

    EXCELLENT = "Excellent"
    SATISFACTORY = "Satisfactory"
    NO_DATA = "No data"


def nearest_rank(sorted_values: Sequence[int], percentile: int) -> int | None:
    """Nearest-rank percentile: the value at position ⌈p/100 × n⌉ (1-based) of sorted values."""
    n = len(sorted_values)
    if n == 0:
        return None
    return sorted_values[rank(percentile, n) - 1]


def rank(percentile: int, n: int) -> int:
    """⌈percentile/100 × n⌉ in exact integer arithmetic, at least 1."""
    return max(1, -(-percentile * n // 100))


def compliance_percent(met: int, count: int) -> float | None:
    """met ÷ count × 100, truncated (not rounded) to two decimals so that a shown 95.00 always
    means at least 95%: a missed metric never displays its target."""
    if count == 0:
        return None
    return math.floor(Fraction(met * 10_000, count)) / 100


@dataclass(frozen=True)
class MetricResult:
    """One metric's figures for one month."""

    metric: Metric
    count: int
    met: int
    median_us: int | None
    p95_us: int | None
    unpaired_ends: int = 0
    open_starts: int = 0

    @property
    def compliance(self) -> float | None:
        return compliance_percent(self.met, self.count)

    @property
    def result(self) -> Result:
        return self.metric.result(self.met, self.count)

    def as_json(self) -> dict[str, Any]:
        """The published shape: id, count, met, compliance, target, result, median_s, p95_s."""
        return {
            "id": self.metric.id,
            "count": self.count,
            "met": self.met,
            "compliance": self.compliance,
            "target": target_number(self.metric.target),
            "result": self.result.value,
            "median_s": None if self.median_us is None else seconds(self.median_us),
            "p95_s": None if self.p95_us is None else seconds(self.p95_us),
        }


@dataclass(frozen=True)
class OpenOver:
    """A request still open for a metric whose elapsed time already exceeds the threshold."""

    metric_id: str
    request_id: str
    started_at: datetime
    elapsed_us: int
    threshold_s: int


@dataclass(frozen=True)
class Summary:
    """``met`` of ``with_data`` thresholds met; ``total`` counts no-data metrics too."""

    met: int
    with_data: int
    total: int

    @property
    def rating(self) -> Rating:
        if self.with_data == 0:
            return Rating.NO_DATA
        return Rating.EXCELLENT if self.met == self.with_data else Rating.SATISFACTORY

    @property
    def text(self) -> str:
        return f"{self.met} of {self.with_data} thresholds met"

    @property
    def percent(self) -> float | None:
        return None if self.with_data == 0 else round(self.met * 100 / self.with_data, 1)


def summarise(results: Iterable[MetricResult]) -> Summary:
    """Thresholds met out of thresholds with data (domain.md, measurement semantics)."""
    outcomes = [r.result for r in results]
    return Summary(
        met=sum(1 for o in outcomes if o is Result.MET),
        with_data=sum(1 for o in outcomes if o is not Result.NO_DATA),
        total=len(outcomes),
    )


@dataclass(frozen=True)
class MonthlyReport:
    """A month's report, computed from the event data against the catalogue version in force."""

    month: Month
    catalogue_version: str
    metrics: tuple[MetricResult, ...]
    as_of: datetime
    open_over: tuple[OpenOver, ...] = field(default=())

    @property
    def summary(self) -> Summary:
        return summarise(self.metrics)

    def result(self, metric_id: str) -> MetricResult:
        for item in self.metrics:
            if item.metric.id == metric_id:
                return item
        raise KeyError(metric_id)

    @property
    def misses(self) -> list[MetricResult]:
        return [m for m in self.metrics if m.result is Result.MISSED]

    def as_json(self) -> dict[str, Any]:
        """The report as published: ``month``, ``catalogue_version``, ``metrics``, ``summary``,
        plus the rating, the data-quality figures and the requests open and already over."""
        summary = self.summary
        return {
            "month": str(self.month),
            "catalogue_version": self.catalogue_version,
            "metrics": [m.as_json() for m in self.metrics],
            "summary": {"met": summary.met, "with_data": summary.with_data, "total": summary.total},
            "rating": summary.rating.value,
            "data_quality": {
                m.metric.id: {"unpaired_ends": m.unpaired_ends, "open_starts": m.open_starts}
                for m in self.metrics
            },
            "open_over": [
                {
                    "metric": o.metric_id,
                    "request_id": o.request_id,
                    "started_at": o.started_at.isoformat(),
                    "elapsed_s": seconds(o.elapsed_us),
                    "threshold_s": o.threshold_s,
                }
                for o in self.open_over
            ],
            "as_of": self.as_of.isoformat(),
        }


CSV_COLUMNS: Final = (
    "month", "catalogue_version", "id", "name", "count", "met", "compliance", "target", "result",
    "median_s", "p95_s", "unpaired_ends", "open_starts",
)  # fmt: skip


def report_csv(data: Mapping[str, Any], names: Mapping[str, str] | None = None) -> str:
    """A report's JSON (:meth:`MonthlyReport.as_json`, or a frozen published copy) as CSV, one
    row per metric under :data:`CSV_COLUMNS`; ``names`` gives each metric id its name."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    quality = data.get("data_quality", {})
    for item in data["metrics"]:
        dq = quality.get(item["id"], {})
        values = [
            data["month"], data["catalogue_version"], item["id"], (names or {}).get(item["id"], ""),
            item["count"], item["met"], item["compliance"], item["target"], item["result"],
            item["median_s"], item["p95_s"], dq.get("unpaired_ends", ""), dq.get("open_starts", ""),
        ]  # fmt: skip
        writer.writerow(["" if v is None else spreadsheet_safe(v) for v in values])
    return out.getvalue()


# --- DUG review (R-SLA-2) --------------------------------------------------------------------


class Overall(StrEnum):
    """The DUG's overall finding on a month's report."""

    SATISFACTORY = "satisfactory"
    CONCERNS = "concerns"


class Finding(StrEnum):
    """The DUG's finding on one metric of a report."""

    SATISFACTORY = "satisfactory"
    CONCERN = "concern"
    BREACH = "breach"


@dataclass(frozen=True)
class MetricFinding:
    metric_id: str
    finding: Finding
    note: str = ""


def check_review(
    overall: str, findings: Sequence[tuple[str, str, str]], metric_ids: Iterable[str]
) -> tuple[Overall, tuple[MetricFinding, ...]]:
    """Validate a DUG review: the overall finding, and per metric ``(metric_id, finding, note)``.

    Raises ValueError naming the field. A breach or a concern noted on a metric cannot sit under an
    overall "satisfactory": the DUG's record must not contradict itself.
    """
    try:
        verdict = Overall(overall)
    except ValueError:
        raise ValueError(
            f"overall: {overall!r} is not one of {', '.join(o.value for o in Overall)}"
        ) from None
    known = set(metric_ids)
    seen: set[str] = set()
    result = []
    for metric_id, finding, note in findings:
        if metric_id not in known:
            raise ValueError(f"findings.{metric_id}: no such metric in this report")
        if metric_id in seen:
            raise ValueError(f"findings.{metric_id}: given twice")
        seen.add(metric_id)
        try:
            value = Finding(finding)
        except ValueError:
            raise ValueError(
                f"findings.{metric_id}: {finding!r} is not one of "
                f"{', '.join(f.value for f in Finding)}"
            ) from None
        if value is not Finding.SATISFACTORY and verdict is Overall.SATISFACTORY:
            raise ValueError(
                f"overall: cannot be satisfactory with a {value.value} noted on {metric_id}"
            )
        result.append(MetricFinding(metric_id, value, note.strip()))
    return verdict, tuple(result)


def month_is_over(month: Month, now: datetime) -> bool:
    """A month can be reported on (published) only once it has ended, in UTC."""
    return now >= month.end


def human_duration(value: float | None) -> str:
    """A measured duration in seconds for people: ``6 s``, ``6 min 22 s``, ``19 h 51 min``,
    ``3 d 7 h``; ``—`` without data."""
    if value is None:
        return "—"
    total = round(value)
    if total < 60:
        return f"{value:g} s" if value < 10 and value != total else f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
