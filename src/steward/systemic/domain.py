"""Systemic failures: detection signals (R-SYS-1) and the urgent review ladder (R-SYS-2).

Pure rules over plain inputs, no I/O.

Detection raises a "possible systemic failure" signal for the DUG from:

(a) complaints — more than ``K`` disputes lodged within any ``W`` days (a sliding window), or an
    unusual rise of the weekly count against the trailing baseline, detected with an EWMA
    control chart (method below);
(b) service-level data — the same metric missed ``M`` months in a row, or one month's compliance
    at least ``extreme_gap_points`` percentage points below its target (an extreme event);
(c) an audit finding;
(d) a DUG member's proposal.

Every signal carries its evidence (typed references the service turns into links) and a stable
``key``: running detection again over the same data yields the same keys, so the service stores
each signal once however often the periodic task runs.

EWMA method (Roberts 1959; Montgomery, *Introduction to Statistical Quality Control*, §9.2),
applied to counts of disputes lodged per period of ``period_days`` days, periods aligned on
Monday 1970-01-05 so that they do not move with the moment of the run. Only complete periods
are judged. For the latest complete period ``t``:

* baseline: the ``baseline_periods`` periods before it; mean ``mu`` and variance
  ``s2 = max(sample variance, mu, min_variance)`` — counts are at least Poisson-dispersed, and
  the floor keeps a quiet baseline (all zeros) from flagging a single dispute;
* statistic: ``z_0 = mu``, ``z_i = lam * x_i + (1 - lam) * z_{i-1}`` over the baseline periods
  and then period ``t``;
* upper control limit after ``n`` steps:
  ``mu + L * sqrt(s2 * lam / (2 - lam) * (1 - (1 - lam) ** (2 * n)))``;
* the signal fires when ``z_t`` exceeds the limit *and* period ``t`` has at least
  ``min_rise_count`` disputes (a rise must be more than noise in absolute terms too).

Defaults: ``lam = 0.3``, ``L = 3.0``, 7-day periods, 12 baseline periods, at least 4 of them
(fewer: no judgement), ``min_variance = 1.0``, ``min_rise_count = 3``.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit


class SystemicError(ValueError):
    """A rule refused an action; ``field`` names the input at fault, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# ============================================================================ detection


class SignalKind(StrEnum):
    DISPUTE_COUNT = "dispute_count"
    DISPUTE_RISE = "dispute_rise"
    SLA_STREAK = "sla_streak"
    SLA_EXTREME = "sla_extreme"
    AUDIT_FINDING = "audit_finding"
    PROPOSAL = "proposal"

    @property
    def label(self) -> str:
        return SIGNAL_LABELS[self]


SIGNAL_LABELS: dict[SignalKind, str] = {
    SignalKind.DISPUTE_COUNT: "Many disputes lodged in a short window",
    SignalKind.DISPUTE_RISE: "Unusual rise in disputes (EWMA)",
    SignalKind.SLA_STREAK: "Service level missed month after month",
    SignalKind.SLA_EXTREME: "Extreme service-level miss",
    SignalKind.AUDIT_FINDING: "Audit finding",
    SignalKind.PROPOSAL: "DUG member's proposal",
}


class EvidenceKind(StrEnum):
    DISPUTE = "dispute"
    SLA_MONTH = "sla_month"
    AUDIT = "audit"
    AUDIT_FINDING = "audit_finding"
    PROPOSAL = "proposal"
    LINK = "link"


@dataclass(frozen=True)
class Evidence:
    """A reference to what a signal rests on; the service turns ``(kind, ref)`` into a link."""

    kind: EvidenceKind
    ref: str
    label: str


@dataclass(frozen=True)
class Signal:
    """A possible systemic failure, for the DUG to consider."""

    kind: SignalKind
    key: str
    summary: str
    observed_at: datetime
    evidence: tuple[Evidence, ...]
    measures: Mapping[str, float | int | str] = field(default_factory=dict)


@dataclass(frozen=True)
class Thresholds:
    """Detection thresholds (settings ``STEWARD_SYSTEMIC_*``)."""

    dispute_count: int = 5
    dispute_window_days: int = 30
    ewma_lambda: float = 0.3
    ewma_width: float = 3.0
    period_days: int = 7
    baseline_periods: int = 12
    min_baseline_periods: int = 4
    min_variance: float = 1.0
    min_rise_count: int = 3
    consecutive_misses: int = 3
    extreme_gap_points: float = 20.0

    def __post_init__(self) -> None:
        if self.dispute_count < 1:
            raise SystemicError("must be at least 1", "dispute_count")
        if self.dispute_window_days < 1:
            raise SystemicError("must be at least 1 day", "dispute_window_days")
        if not 0 < self.ewma_lambda <= 1:
            raise SystemicError("must be in (0, 1]", "ewma_lambda")
        if self.ewma_width <= 0:
            raise SystemicError("must be positive", "ewma_width")
        if self.period_days < 1 or self.baseline_periods < 2:
            raise SystemicError("need at least 1-day periods and 2 baseline periods", "baseline_periods")
        if not 2 <= self.min_baseline_periods <= self.baseline_periods:
            raise SystemicError("must be between 2 and baseline_periods", "min_baseline_periods")
        if self.consecutive_misses < 1:
            raise SystemicError("must be at least 1", "consecutive_misses")
        if not 0 < self.extreme_gap_points <= 100:
            raise SystemicError("must be in (0, 100]", "extreme_gap_points")


@dataclass(frozen=True)
class LodgedDispute:
    """A dispute lodged with the DUG (R-DSP-3): its id and the moment it was lodged (UTC)."""

    id: int
    lodged_at: datetime


def _dispute_evidence(d: LodgedDispute) -> Evidence:
    return Evidence(EvidenceKind.DISPUTE, str(d.id), f"Dispute #{d.id} lodged {d.lodged_at:%Y-%m-%d}")


def dispute_count_signals(
    disputes: Iterable[LodgedDispute], t: Thresholds, now: datetime
) -> list[Signal]:
    """(a) More than ``K`` disputes within any ``W`` days, as episodes.

    An episode starts at the dispute that brings the count in the trailing window above ``K``
    and lasts while it stays above; its key names that dispute, so re-running finds the same
    episode. Evidence: the disputes in the window at the start of the episode.
    """
    ordered = sorted((d for d in disputes if d.lodged_at <= now), key=lambda d: (d.lodged_at, d.id))
    window = timedelta(days=t.dispute_window_days)
    signals: list[Signal] = []
    start = 0
    for i, d in enumerate(ordered):
        while ordered[start].lodged_at <= d.lodged_at - window:
            start += 1
        count = i - start + 1
        # a new episode begins only when this dispute takes the window from K or fewer above K
        if count > t.dispute_count >= count - 1:
            in_window = ordered[start : i + 1]
            signals.append(Signal(
                kind=SignalKind.DISPUTE_COUNT,
                key=f"dispute_count:{d.id}",
                summary=(f"{count} disputes lodged within {t.dispute_window_days} days "
                         f"(threshold: more than {t.dispute_count})"),
                observed_at=d.lodged_at,
                evidence=tuple(_dispute_evidence(x) for x in in_window),
                measures={"count": count, "window_days": t.dispute_window_days,
                          "threshold": t.dispute_count},
            ))
    return signals


_EPOCH = date(1970, 1, 5)  # a Monday: periods start on Mondays when period_days is a multiple of 7


def period_start(day: date, period_days: int) -> date:
    """The first day of the fixed period containing ``day``."""
    return _EPOCH + timedelta(days=((day - _EPOCH).days // period_days) * period_days)


@dataclass(frozen=True)
class Ewma:
    """The EWMA chart's state for the judged period (see the module docstring)."""

    period_start: date
    count: int
    baseline_mean: float
    baseline_variance: float
    statistic: float
    upper_limit: float

    @property
    def out_of_control(self) -> bool:
        return self.statistic > self.upper_limit


def ewma_chart(counts: Sequence[int], t: Thresholds, judged_start: date) -> Ewma | None:
    """Judge the last of ``counts`` against the ones before it; None if the baseline is too short."""
    baseline, current = list(counts[:-1]), counts[-1] if counts else 0
    if len(baseline) < t.min_baseline_periods:
        return None
    mu = statistics.fmean(baseline)
    s2 = max(statistics.variance(baseline), mu, t.min_variance)
    lam = t.ewma_lambda
    z = mu
    for x in [*baseline, current]:
        z = lam * x + (1 - lam) * z
    n = len(baseline) + 1
    limit = mu + t.ewma_width * math.sqrt(s2 * lam / (2 - lam) * (1 - (1 - lam) ** (2 * n)))
    return Ewma(judged_start, current, mu, s2, z, limit)


def dispute_rise_signal(
    disputes: Iterable[LodgedDispute], t: Thresholds, now: datetime
) -> tuple[Ewma | None, Signal | None]:
    """(a) An unusual rise of disputes per period against the trailing baseline (EWMA).

    Judges the latest complete period before ``now``; returns the chart (for display) and the
    signal if it fires. The key names the period, so one period raises at most one signal.
    """
    length = timedelta(days=t.period_days)
    current_start = period_start(now.date(), t.period_days)
    judged = current_start - length
    first = judged - length * t.baseline_periods
    buckets: dict[date, list[LodgedDispute]] = defaultdict(list)
    for d in disputes:
        day = d.lodged_at.date()
        if first <= day < current_start:
            buckets[period_start(day, t.period_days)].append(d)
    starts = [first + length * i for i in range(t.baseline_periods + 1)]
    counts = [len(buckets.get(s, [])) for s in starts]
    chart = ewma_chart(counts, t, judged)
    if chart is None or not chart.out_of_control or chart.count < t.min_rise_count:
        return chart, None
    in_period = sorted(buckets.get(judged, []), key=lambda d: (d.lodged_at, d.id))
    signal = Signal(
        kind=SignalKind.DISPUTE_RISE,
        key=f"dispute_rise:{judged.isoformat()}",
        summary=(f"{chart.count} disputes in the {t.period_days} days from {judged:%Y-%m-%d}; "
                 f"EWMA {chart.statistic:.2f} above its control limit {chart.upper_limit:.2f} "
                 f"(baseline mean {chart.baseline_mean:.2f} per period)"),
        observed_at=datetime.combine(current_start, datetime.min.time(), tzinfo=now.tzinfo),
        evidence=tuple(_dispute_evidence(d) for d in in_period),
        measures={"count": chart.count, "ewma": round(chart.statistic, 4),
                  "upper_limit": round(chart.upper_limit, 4),
                  "baseline_mean": round(chart.baseline_mean, 4), "lambda": t.ewma_lambda,
                  "width": t.ewma_width},
    )
    return chart, signal


@dataclass(frozen=True)
class MonthResult:
    """One metric's compliance in one month (R-SLA-1); ``compliance`` None means no data."""

    metric: str
    month: date
    compliance: float | None
    target: float
    ref: str = ""

    @property
    def missed(self) -> bool:
        return self.compliance is not None and self.compliance < self.target

    def evidence(self) -> Evidence:
        shown = "no data" if self.compliance is None else f"{self.compliance:.1f}%"
        return Evidence(EvidenceKind.SLA_MONTH, self.ref or f"{self.metric}:{self.month:%Y-%m}",
                        f"{self.metric} {self.month:%Y-%m}: {shown} (target {self.target:g}%)")


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def sla_signals(results: Iterable[MonthResult], t: Thresholds) -> list[Signal]:
    """(b) Per metric: ``M`` missed months in a row (no-data months and gaps break a run), one
    signal per run keyed by its first month; and each month at least ``extreme_gap_points``
    below target (an extreme event), keyed by metric and month."""
    by_metric: dict[str, list[MonthResult]] = defaultdict(list)
    for r in results:
        by_metric[r.metric].append(r)
    signals: list[Signal] = []
    for metric, rows in sorted(by_metric.items()):
        rows.sort(key=lambda r: r.month)
        run: list[MonthResult] = []
        for r in rows:
            if run and (not r.missed or _next_month(run[-1].month) != r.month):
                run = []
            if r.missed:
                run.append(r)
                if len(run) == t.consecutive_misses:
                    signals.append(Signal(
                        kind=SignalKind.SLA_STREAK,
                        key=f"sla_streak:{metric}:{run[0].month:%Y-%m}",
                        summary=(f"{metric} missed its target {len(run)} months in a row "
                                 f"({run[0].month:%Y-%m} to {r.month:%Y-%m})"),
                        observed_at=datetime.combine(_next_month(r.month), datetime.min.time(), tzinfo=UTC),
                        evidence=tuple(x.evidence() for x in run),
                        measures={"months": len(run), "threshold": t.consecutive_misses},
                    ))
            compliance = r.compliance
            if compliance is not None and r.target - compliance >= t.extreme_gap_points:
                signals.append(Signal(
                    kind=SignalKind.SLA_EXTREME,
                    key=f"sla_extreme:{metric}:{r.month:%Y-%m}",
                    summary=(f"{metric} in {r.month:%Y-%m}: {compliance:.1f}% against a target "
                             f"of {r.target:g}% ({r.target - compliance:.1f} points below; "
                             f"extreme from {t.extreme_gap_points:g})"),
                    observed_at=datetime.combine(_next_month(r.month), datetime.min.time(), tzinfo=UTC),
                    evidence=(r.evidence(),),
                    measures={"compliance": compliance, "target": r.target,
                              "gap_points": round(r.target - compliance, 4)},
                ))
    return signals


AUDIT_SEVERITIES: tuple[str, ...] = ("observation", "minor", "major", "critical")


@dataclass(frozen=True)
class AuditFinding:
    """A finding of a periodic audit (R-AUD-1/2) with its severity (``AUDIT_SEVERITIES``)."""

    id: int
    audit_id: int
    title: str
    recorded_at: datetime
    severity: str = "major"


def audit_signals(findings: Iterable[AuditFinding], min_severity: str) -> list[Signal]:
    """(c) Every audit finding at least as severe as ``min_severity`` is a signal."""
    if min_severity not in AUDIT_SEVERITIES:
        raise SystemicError(f"severity must be one of {', '.join(AUDIT_SEVERITIES)}", "audit_min_severity")
    floor = AUDIT_SEVERITIES.index(min_severity)
    return [audit_signal(f) for f in findings
            if f.severity in AUDIT_SEVERITIES and AUDIT_SEVERITIES.index(f.severity) >= floor]


def audit_signal(finding: AuditFinding) -> Signal:
    """(c) An audit finding is a signal; evidence: the finding and its audit."""
    return Signal(
        kind=SignalKind.AUDIT_FINDING,
        key=f"audit_finding:{finding.id}",
        summary=f"Audit #{finding.audit_id} finding ({finding.severity}): {finding.title}",
        observed_at=finding.recorded_at,
        evidence=(
            Evidence(EvidenceKind.AUDIT_FINDING, f"{finding.audit_id}/{finding.id}", finding.title),
            Evidence(EvidenceKind.AUDIT, str(finding.audit_id), f"Audit #{finding.audit_id}"),
        ),
    )


def proposal_signal(
    proposal_id: int, title: str, reasoning: str, evidence: Sequence[Evidence], now: datetime
) -> Signal:
    """(d) A DUG member's proposal; it must say why and may cite evidence."""
    title = " ".join(title.split())
    if not title:
        raise SystemicError("give the proposal a title", "title")
    if len(title) > 200:
        raise SystemicError("the title is longer than 200 characters", "title")
    if len(reasoning.strip()) < 20:
        raise SystemicError("explain the proposal (at least 20 characters)", "reasoning")
    return Signal(
        kind=SignalKind.PROPOSAL,
        key=f"proposal:{proposal_id}",
        summary=title,
        observed_at=now,
        evidence=(Evidence(EvidenceKind.PROPOSAL, str(proposal_id), title), *evidence),
    )


def parse_evidence_refs(text: str) -> list[Evidence]:
    """Parse cited evidence, one per line: ``dispute 12``, ``audit 3``, ``sla_month <ref>`` or a
    URL. Raises :class:`SystemicError` naming the line."""
    return [e for _, e in parse_evidence_lines(text)]


def parse_evidence_lines(text: str) -> list[tuple[int, Evidence]]:
    """:func:`parse_evidence_refs` with each item's line number, for the service to name the line
    whose reference it cannot find."""
    found: list[tuple[int, Evidence]] = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if line.startswith(("https://", "http://")):
            try:
                host = urlsplit(line).hostname
            except ValueError:  # e.g. an unclosed IPv6 bracket
                host = None
            if not host:
                raise SystemicError(f"line {n}: the link {line!r} is not a URL with a host", "evidence")
            found.append((n, Evidence(EvidenceKind.LINK, line, line)))
            continue
        kind, _, ref = line.partition(" ")
        try:
            ek = EvidenceKind(kind.lower())
        except ValueError:
            raise SystemicError(
                f"line {n}: '{kind}' is not dispute, audit, audit_finding, sla_month or a URL",
                "evidence") from None
        ref = ref.strip().lstrip("#")
        if not ref:
            raise SystemicError(f"line {n}: give the id after '{kind}'", "evidence")
        ref = _evidence_ref(n, ek, ref)
        found.append((n, Evidence(ek, ref, f"{ek.value.replace('_', ' ')} {ref}")))
    return found


_MONTH = re.compile(r"(\d{4})-(\d{2})")


def _evidence_ref(n: int, kind: EvidenceKind, ref: str) -> str:
    """The reference's form checked (numbers for records, ``YYYY-MM[/metric]`` for a month) and
    normalised (``dispute 007`` is dispute 7); whether the record exists is the service's check."""
    def number(text: str, what: str) -> int:
        if not text.isascii() or not text.isdigit() or not 0 < int(text) <= MAX_REF_ID:
            raise SystemicError(f"line {n}: {text!r} is not {what} number", "evidence")
        return int(text)

    numbered = {EvidenceKind.DISPUTE: "a dispute", EvidenceKind.AUDIT: "an audit", EvidenceKind.PROPOSAL: "a signal"}
    if kind in numbered:
        return str(number(ref, numbered[kind]))
    if kind is EvidenceKind.AUDIT_FINDING:
        audit, slash, finding = ref.partition("/")
        if not slash:
            raise SystemicError(f"line {n}: cite an audit finding as AUDIT/FINDING, e.g. 3/7", "evidence")
        return f"{number(audit.strip(), 'an audit')}/{number(finding.strip(), 'a finding')}"
    if kind is EvidenceKind.SLA_MONTH:
        month, slash, metric = ref.partition("/")
        m = _MONTH.fullmatch(month.strip())
        if m is None or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1:
            raise SystemicError(f"line {n}: {month.strip()!r} is not a month YYYY-MM (e.g. 2026-10)", "evidence")
        if slash and not metric.strip():
            raise SystemicError(f"line {n}: name the metric after '{month.strip()}/'", "evidence")
        return m.group(0) + (f"/{metric.strip()}" if slash else "")
    return ref


MAX_REF_ID = 2**31 - 1  # record ids are 32-bit integers


class SignalState(StrEnum):
    OPEN = "open"
    DISMISSED = "dismissed"
    REVIEW = "review"


# ============================================================================ urgent review

# The subject type of urgent reviews in audit events and in the DUG decisions they need (the same
# name ballots use for the matter).
REVIEW_SUBJECT = "urgent_review"


class Stage(StrEnum):
    """The urgent review ladder (R-SYS-2), in order."""

    DETERMINED = "determined"
    ROOT_CAUSE = "root_cause"
    REMEDIATION = "remediation"
    ADVICE = "advice"
    LONG_TERM = "long_term"
    MEDIATION = "mediation"
    IAP = "iap"
    REMEDY_PERIOD = "remedy_period"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return STAGE_LABELS[self]


STAGE_LABELS: dict[Stage, str] = {
    Stage.DETERMINED: "Failure determined by the DUG; appointing experts",
    Stage.ROOT_CAUSE: "Root-cause engagement with the IFM",
    Stage.REMEDIATION: "Remediation agreed and under way",
    Stage.ADVICE: "Experts advising: critical or systemic?",
    Stage.LONG_TERM: "Long-term change steps",
    Stage.MEDIATION: "External mediation",
    Stage.IAP: "Independent Appeals Panel",
    Stage.REMEDY_PERIOD: "IFM remedying the breach the IAP found",
    Stage.CLOSED: "Closed",
}


class Actor(StrEnum):
    """Who may take an action; the service maps actors to permissions."""

    DUG = "dug"
    EXPERT = "expert"
    MEDIATOR = "mediator"
    IAP = "iap"


class Action(StrEnum):
    APPOINT_EXPERT = "appoint_expert"
    START_ROOT_CAUSE = "start_root_cause"
    ADD_EVIDENCE = "add_evidence"
    RECORD_FINDINGS = "record_findings"
    AGREE_REMEDIATION = "agree_remediation"
    COMPLETE_MILESTONE = "complete_milestone"
    REQUEST_ADVICE = "request_advice"
    ADVISE = "advise"
    ADD_STEP = "add_step"
    COMPLETE_STEP = "complete_step"
    CONCLUDE = "conclude"
    ENGAGE_MEDIATOR = "engage_mediator"
    MEDIATION_AGREED = "mediation_agreed"
    ENGAGE_IAP = "engage_iap"
    IAP_DECISION = "iap_decision"
    CONFIRM_REMEDY = "confirm_remedy"
    REMEDY_LAPSED = "remedy_lapsed"


class Outcome(StrEnum):
    NOT_SYSTEMIC = "not_systemic"
    LONG_TERM_CHANGES_MADE = "long_term_changes_made"
    MEDIATED = "mediated"
    IAP_NO_BREACH = "iap_no_breach"
    REMEDIED = "remedied"
    IAP_NOT_REMEDIABLE = "iap_not_remediable"
    REMEDY_LAPSED = "remedy_lapsed"


class IapFinding(StrEnum):
    """R-DSP-6's three findings, which the IAP also makes in an urgent review."""

    NO_BREACH = "no_breach"
    REMEDIABLE = "remediable"
    NOT_REMEDIABLE = "not_remediable"


@dataclass(frozen=True)
class Expert:
    name: str
    expertise: tuple[str, ...]
    organisation_id: int | None
    conflict: str | None = None


@dataclass(frozen=True)
class Milestone:
    title: str
    due: date
    done_on: date | None = None

    def overdue(self, today: date) -> bool:
        return self.done_on is None and today > self.due


@dataclass(frozen=True)
class ReviewFacts:
    """What the guards look at; the service builds it from the stored review."""

    stage: Stage
    experts: tuple[Expert, ...] = ()
    evidence_count: int = 0
    findings: str = ""
    milestones: tuple[Milestone, ...] = ()
    critical: bool | None = None
    steps: tuple[Milestone, ...] = ()
    previous_attempts_report: str = ""
    remedy_due: date | None = None


@dataclass(frozen=True)
class Transition:
    source: Stage
    action: Action
    target: Stage
    actor: Actor
    guard: str


# The explicit ladder. Actions whose target equals the source record something without moving.
TRANSITIONS: tuple[Transition, ...] = (
    Transition(Stage.DETERMINED, Action.APPOINT_EXPERT, Stage.DETERMINED, Actor.DUG,
               "expertise recorded; no conflict of interest"),
    Transition(Stage.DETERMINED, Action.START_ROOT_CAUSE, Stage.ROOT_CAUSE, Actor.DUG,
               "at least one expert appointed"),
    Transition(Stage.ROOT_CAUSE, Action.APPOINT_EXPERT, Stage.ROOT_CAUSE, Actor.DUG,
               "expertise recorded; no conflict of interest"),
    Transition(Stage.ROOT_CAUSE, Action.ADD_EVIDENCE, Stage.ROOT_CAUSE, Actor.EXPERT, ""),
    Transition(Stage.ROOT_CAUSE, Action.RECORD_FINDINGS, Stage.ROOT_CAUSE, Actor.EXPERT,
               "at least one piece of evidence"),
    Transition(Stage.ROOT_CAUSE, Action.AGREE_REMEDIATION, Stage.REMEDIATION, Actor.DUG,
               "root-cause findings recorded; a plan with at least one milestone, each with a due date"),
    Transition(Stage.REMEDIATION, Action.COMPLETE_MILESTONE, Stage.REMEDIATION, Actor.DUG, ""),
    Transition(Stage.REMEDIATION, Action.REQUEST_ADVICE, Stage.ADVICE, Actor.DUG,
               "every milestone completed"),
    Transition(Stage.ADVICE, Action.ADVISE, Stage.LONG_TERM, Actor.EXPERT,
               "the experts advise it is a critical or systemic failure"),
    Transition(Stage.ADVICE, Action.ADVISE, Stage.CLOSED, Actor.EXPERT,
               "the experts advise it is not a critical or systemic failure"),
    Transition(Stage.LONG_TERM, Action.ADD_STEP, Stage.LONG_TERM, Actor.DUG, ""),
    Transition(Stage.LONG_TERM, Action.COMPLETE_STEP, Stage.LONG_TERM, Actor.DUG, ""),
    Transition(Stage.LONG_TERM, Action.CONCLUDE, Stage.CLOSED, Actor.DUG,
               "at least one step, every step completed"),
    Transition(Stage.LONG_TERM, Action.ENGAGE_MEDIATOR, Stage.MEDIATION, Actor.DUG,
               "a report on the previous attempts for the mediator"),
    Transition(Stage.MEDIATION, Action.ENGAGE_MEDIATOR, Stage.MEDIATION, Actor.DUG,
               "another mediator named (the one engaged left or needs help)"),
    Transition(Stage.MEDIATION, Action.MEDIATION_AGREED, Stage.CLOSED, Actor.MEDIATOR, ""),
    Transition(Stage.MEDIATION, Action.ENGAGE_IAP, Stage.IAP, Actor.DUG, ""),
    Transition(Stage.IAP, Action.ENGAGE_IAP, Stage.IAP, Actor.DUG, "more panelists named"),
    Transition(Stage.IAP, Action.IAP_DECISION, Stage.CLOSED, Actor.IAP,
               "finding: no breach, or not capable of remedy"),
    Transition(Stage.IAP, Action.IAP_DECISION, Stage.REMEDY_PERIOD, Actor.IAP,
               "finding: capable of remedy (the IFM has N days)"),
    Transition(Stage.REMEDY_PERIOD, Action.CONFIRM_REMEDY, Stage.CLOSED, Actor.DUG,
               "within the remedy period (until the day the remedy is due)"),
    Transition(Stage.REMEDY_PERIOD, Action.REMEDY_LAPSED, Stage.CLOSED, Actor.DUG,
               "the remedy period has ended (from the day after the remedy was due)"),
)


def actions_from(stage: Stage) -> list[Transition]:
    """The transitions available from ``stage`` (for pages and the API)."""
    return [t for t in TRANSITIONS if t.source is stage]


def _find(stage: Stage, action: Action) -> list[Transition]:
    found = [t for t in TRANSITIONS if t.source is stage and t.action is action]
    if not found:
        raise SystemicError(f"'{action.value}' is not possible at stage '{stage.label}'")
    return found


def check_expert(expert: Expert) -> None:
    """An expert has named expertise and no conflict of interest (R-SYS-2)."""
    if not expert.name.strip():
        raise SystemicError("give the expert's name", "name")
    if not [e for e in expert.expertise if e.strip()]:
        raise SystemicError("record the expert's technical expertise", "expertise")
    if expert.conflict:
        raise SystemicError(f"conflict of interest: {expert.conflict}", "conflict")


def conflict_of(
    organisation_id: int | None,
    organisation_kind: str | None,
    affiliated_with_ifm: bool,
    declared: str,
    party: bool = False,
) -> str | None:
    """Why an expert is conflicted, or None: working for the IFM or an organisation affiliated
    with it, or for a party to the review (``party``, R-DUG-3), or a declared conflict."""
    if organisation_kind == "ifm":
        return "the expert works for the IFM, whose performance is under review"
    if organisation_id is not None and affiliated_with_ifm:
        return "the expert's organisation is affiliated with the IFM"
    if organisation_id is not None and party:
        return "the expert's organisation is a party to the review (R-DUG-3)"
    if declared.strip():
        return f"declared: {declared.strip()}"
    return None


# The furthest ahead a milestone or long-term step may be due: a plan is for the review, not for
# a far future (a date in 9999 is a typing error, and it would never show as overdue).
PLAN_HORIZON_YEARS = 5


def plan_horizon(today: date) -> date:
    """The last day a milestone or step may be due, ``PLAN_HORIZON_YEARS`` ahead of ``today``."""
    try:
        return today.replace(year=today.year + PLAN_HORIZON_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year + PLAN_HORIZON_YEARS, day=28)


def check_plan(milestones: Sequence[Milestone], today: date) -> None:
    """A remediation plan (or a set of long-term steps) has at least one milestone, each titled,
    none due in the past nor more than ``PLAN_HORIZON_YEARS`` ahead."""
    if not milestones:
        raise SystemicError("a remediation plan needs at least one milestone", "milestones")
    horizon = plan_horizon(today)
    for i, m in enumerate(milestones, 1):
        if not m.title.strip():
            raise SystemicError(f"milestone {i} has no title", "milestones")
        if m.due < today:
            raise SystemicError(f"milestone {i} is due in the past ({m.due})", "milestones")
        if m.due > horizon:
            raise SystemicError(f"milestone {i} is due more than {PLAN_HORIZON_YEARS} years ahead ({m.due}); "
                                f"give a date up to {horizon}", "milestones")


def parse_milestones(text: str) -> list[Milestone]:
    """Parse ``YYYY-MM-DD title`` lines; raises naming the line."""
    found: list[Milestone] = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        day, _, title = line.partition(" ")
        try:
            due = date.fromisoformat(day)
        except ValueError:
            raise SystemicError(f"line {n}: start with a due date YYYY-MM-DD", "milestones") from None
        if not title.strip():
            raise SystemicError(f"line {n}: give the milestone a title after the date", "milestones")
        found.append(Milestone(title.strip(), due))
    return found


def transition(
    facts: ReviewFacts,
    action: Action,
    *,
    critical: bool | None = None,
    iap_finding: IapFinding | None = None,
    today: date | None = None,
) -> tuple[Stage, Outcome | None]:
    """Apply ``action`` to a review: the guard is checked, the new stage and, when the review
    closes, its outcome are returned. Raises :class:`SystemicError` saying why not."""
    options = _find(facts.stage, action)
    if action is Action.START_ROOT_CAUSE and not facts.experts:
        raise SystemicError("appoint at least one expert first")
    if action is Action.RECORD_FINDINGS and facts.evidence_count == 0:
        raise SystemicError("record the evidence the findings rest on first")
    if action is Action.AGREE_REMEDIATION:
        if not facts.findings.strip():
            raise SystemicError("record the root-cause findings first")
        if not facts.milestones:
            raise SystemicError("a remediation plan needs at least one milestone", "milestones")
    if action is Action.REQUEST_ADVICE:
        open_ = [m.title for m in facts.milestones if m.done_on is None]
        if open_:
            raise SystemicError(f"milestones not completed yet: {', '.join(open_)}")
    if action is Action.ADVISE:
        if critical is None:
            raise SystemicError("say whether it is a critical or systemic failure", "critical")
        return (Stage.LONG_TERM, None) if critical else (Stage.CLOSED, Outcome.NOT_SYSTEMIC)
    if action is Action.CONCLUDE:
        if not facts.steps:
            raise SystemicError("add the long-term change steps first")
        open_ = [s.title for s in facts.steps if s.done_on is None]
        if open_:
            raise SystemicError(f"steps not completed yet: {', '.join(open_)}")
        return Stage.CLOSED, Outcome.LONG_TERM_CHANGES_MADE
    if action is Action.ENGAGE_MEDIATOR and len(facts.previous_attempts_report.strip()) < 20:
        raise SystemicError("give the mediator a report on the previous attempts (at least 20 characters)",
                            "text")
    if action is Action.MEDIATION_AGREED:
        return Stage.CLOSED, Outcome.MEDIATED
    if action is Action.IAP_DECISION:
        if iap_finding is None:
            raise SystemicError("choose the IAP's finding", "finding")
        if iap_finding is IapFinding.NO_BREACH:
            return Stage.CLOSED, Outcome.IAP_NO_BREACH
        if iap_finding is IapFinding.NOT_REMEDIABLE:
            return Stage.CLOSED, Outcome.IAP_NOT_REMEDIABLE
        return Stage.REMEDY_PERIOD, None
    if action is Action.CONFIRM_REMEDY:
        # R-DSP-6 as applied to reviews: a remedy confirmed after the period came too late, and
        # the DUG keeps its right to escalate; the period ends where remedy_lapsed begins
        if facts.remedy_due is not None and (today is None or today > facts.remedy_due):
            raise SystemicError(f"the remedy period ended on {facts.remedy_due}")
        return Stage.CLOSED, Outcome.REMEDIED
    if action is Action.REMEDY_LAPSED:
        if today is None or facts.remedy_due is None or today <= facts.remedy_due:
            raise SystemicError(f"the remedy period runs until {facts.remedy_due}")
        return Stage.CLOSED, Outcome.REMEDY_LAPSED
    return options[0].target, None


def blocked(facts: ReviewFacts, action: Action, today: date | None = None) -> str | None:
    """Why ``action`` cannot be taken now whatever is given with it, or None when it can: the
    guards of :func:`transition` on the review's state, with what the step itself brings taken as
    given (a remediation plan's milestones, the experts' answer, the mediator's report, the IAP's
    finding). The steps offered on pages, the API and the CLI are those it lets through."""
    if action is Action.COMPLETE_MILESTONE and not [m for m in facts.milestones if m.done_on is None]:
        return "every milestone is completed"
    if action is Action.COMPLETE_STEP and not [m for m in facts.steps if m.done_on is None]:
        return "every step is completed"
    given = facts
    if action is Action.AGREE_REMEDIATION and not facts.milestones:
        given = replace(given, milestones=(Milestone("the plan given", date.max),))
    if action is Action.ENGAGE_MEDIATOR:
        given = replace(given, previous_attempts_report="the report given " * 2)
    try:
        transition(given, action, critical=True, iap_finding=IapFinding.NO_BREACH, today=today)
    except SystemicError as err:
        return err.message
    return None


def actor_of(stage: Stage, action: Action) -> Actor:
    """Who takes ``action`` at ``stage``."""
    return _find(stage, action)[0].actor


ESCALATION_OUTCOMES = frozenset({Outcome.IAP_NOT_REMEDIABLE, Outcome.REMEDY_LAPSED})


def escalation_eligible(outcome: Outcome | None) -> bool:
    """After an IAP finding of a breach not capable of remedy, or a remedy not made in time, the
    DUG may proceed to the Further Escalation Options (R-DSP-6 applied to R-SYS-2)."""
    return outcome in ESCALATION_OUTCOMES


def bound_parties(operator_involved: bool) -> list[str]:
    """Whom the IAP's decision binds (R-SYS-2): the DUG and the IFM, and the operator where
    applicable."""
    return ["DUG", "IFM", *(["operator"] if operator_involved else [])]


def overdue(items: Iterable[Milestone], today: date) -> list[Milestone]:
    """Milestones or steps past their due date and not done."""
    return [m for m in items if m.overdue(today)]
