"""R-SYS-1 detection signals and the R-SYS-2 urgent review ladder."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steward.systemic import domain as d
from steward.systemic.domain import (
    Action,
    Expert,
    IapFinding,
    LodgedDispute,
    Milestone,
    MonthResult,
    Outcome,
    ReviewFacts,
    SignalKind,
    Stage,
    SystemicError,
    Thresholds,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
T = Thresholds(dispute_count=5, dispute_window_days=30)


def disputes(n: int, start: datetime, step: timedelta, first_id: int = 1) -> list[LodgedDispute]:
    return [LodgedDispute(first_id + i, start + step * i) for i in range(n)]


# ------------------------------------------------------------------ (a) count in a window


def test_dispute_count_fires_above_K_not_at_K_R_SYS_1() -> None:
    five = disputes(5, NOW - timedelta(days=20), timedelta(days=2))
    assert d.dispute_count_signals(five, T, NOW) == []
    six = disputes(6, NOW - timedelta(days=20), timedelta(days=2))
    [signal] = d.dispute_count_signals(six, T, NOW)
    assert signal.kind is SignalKind.DISPUTE_COUNT
    assert signal.key == "dispute_count:6"
    assert [e.ref for e in signal.evidence] == ["1", "2", "3", "4", "5", "6"]
    assert signal.measures["count"] == 6


def test_dispute_count_window_is_W_days_R_SYS_1() -> None:
    # six disputes spread over 31 days: never more than five within 30 days
    spread = disputes(6, NOW - timedelta(days=31), timedelta(days=6.2))
    assert d.dispute_count_signals(spread, T, NOW) == []


def test_dispute_count_is_one_signal_per_episode_and_stable() -> None:
    burst = disputes(9, NOW - timedelta(days=10), timedelta(days=1))
    again = d.dispute_count_signals(burst, T, NOW)
    assert [s.key for s in again] == ["dispute_count:6"]
    later = burst + disputes(6, NOW + timedelta(days=60), timedelta(hours=1), first_id=100)
    keys = [s.key for s in d.dispute_count_signals(later, T, NOW + timedelta(days=61))]
    assert keys == ["dispute_count:6", "dispute_count:105"]


def test_future_disputes_are_ignored() -> None:
    assert d.dispute_count_signals(disputes(6, NOW + timedelta(days=1), timedelta(hours=1)), T, NOW) == []


@given(st.lists(st.integers(0, 200), max_size=40), st.integers(1, 6), st.integers(1, 20))
def test_count_signals_fire_iff_some_window_exceeds_K(days: list[int], k: int, w: int) -> None:
    t = Thresholds(dispute_count=k, dispute_window_days=w)
    items = [LodgedDispute(i, NOW - timedelta(days=300) + timedelta(days=x)) for i, x in enumerate(days)]
    exceeded = any(
        sum(1 for y in items if x.lodged_at - timedelta(days=w) < y.lodged_at <= x.lodged_at) > k
        for x in items
    )
    assert bool(d.dispute_count_signals(items, t, NOW)) == exceeded


# ------------------------------------------------------------------ (a) EWMA rise


def weekly(counts: list[int], end: datetime) -> list[LodgedDispute]:
    """Disputes per complete 7-day period, the last count in the period just before ``end``'s."""
    current = d.period_start(end.date(), 7)
    out: list[LodgedDispute] = []
    n = 0
    for back, c in enumerate(reversed(counts), 1):
        start = current - timedelta(days=7 * back)
        for j in range(c):
            n += 1
            out.append(LodgedDispute(n, datetime.combine(start, datetime.min.time(), tzinfo=UTC) + timedelta(hours=j)))
    return out


def test_ewma_fires_on_an_unusual_rise_R_SYS_1() -> None:
    chart, signal = d.dispute_rise_signal(weekly([1, 0, 1, 1, 0, 2, 1, 0, 1, 1, 0, 1, 7], NOW), T, NOW)
    assert chart is not None and chart.out_of_control
    assert signal is not None and signal.kind is SignalKind.DISPUTE_RISE
    assert len(signal.evidence) == 7
    assert signal.key == f"dispute_rise:{chart.period_start.isoformat()}"


def test_ewma_threshold_is_the_control_limit_R_SYS_1() -> None:
    base = [1, 0, 1, 1, 0, 2, 1, 0, 1, 1, 0, 1]
    fired = [c for c in range(0, 15) if d.dispute_rise_signal(weekly([*base, c], NOW), T, NOW)[1]]
    assert fired, "a large enough rise must fire"
    first = fired[0]
    assert fired == list(range(first, 15))  # monotone: every count from the threshold up fires
    chart, _ = d.dispute_rise_signal(weekly([*base, first - 1], NOW), T, NOW)
    assert chart is not None and not (chart.out_of_control and chart.count >= T.min_rise_count)


def test_ewma_steady_high_level_does_not_fire() -> None:
    chart, signal = d.dispute_rise_signal(weekly([6, 5, 7, 6, 5, 6, 7, 6, 5, 6, 6, 7, 7], NOW), T, NOW)
    assert chart is not None and signal is None


def test_ewma_needs_a_minimum_rise_count_and_baseline() -> None:
    _chart, signal = d.dispute_rise_signal(weekly([0] * 12 + [2], NOW), T, NOW)
    assert signal is None  # below min_rise_count even against a quiet baseline
    short = Thresholds(baseline_periods=3, min_baseline_periods=3)
    assert d.ewma_chart([1, 2], short, date(2026, 1, 5)) is None


def test_thresholds_are_validated_with_the_field_named() -> None:
    with pytest.raises(SystemicError) as err:
        Thresholds(ewma_lambda=0)
    assert err.value.field == "ewma_lambda"
    with pytest.raises(SystemicError) as err:
        Thresholds(dispute_count=0)
    assert err.value.field == "dispute_count"


# ------------------------------------------------------------------ (b) service levels


def months(metric: str, values: list[float | None], target: float = 95.0) -> list[MonthResult]:
    out = []
    y, m = 2026, 1
    for v in values:
        out.append(MonthResult(metric, date(y, m, 1), v, target, ref=f"{metric}:{y}-{m:02d}"))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def test_sla_streak_fires_at_M_months_in_a_row_not_before_R_SYS_1() -> None:
    t = Thresholds(consecutive_misses=3)
    assert [s for s in d.sla_signals(months("ticket", [90, 91, 99, 92]), t) if s.kind is SignalKind.SLA_STREAK] == []
    [s] = [s for s in d.sla_signals(months("ticket", [99, 90, 91, 92, 93]), t) if s.kind is SignalKind.SLA_STREAK]
    assert s.key == "sla_streak:ticket:2026-02"
    assert [e.ref for e in s.evidence] == ["ticket:2026-02", "ticket:2026-03", "ticket:2026-04"]


def test_sla_streak_is_per_metric_and_broken_by_no_data_or_gaps() -> None:
    t = Thresholds(consecutive_misses=2)
    mixed = months("a", [90, None, 90]) + months("b", [90, 99, 90])
    assert [s for s in d.sla_signals(mixed, t) if s.kind is SignalKind.SLA_STREAK] == []
    gap = [MonthResult("a", date(2026, 1, 1), 90, 95), MonthResult("a", date(2026, 3, 1), 90, 95)]
    assert [s for s in d.sla_signals(gap, t) if s.kind is SignalKind.SLA_STREAK] == []
    dec = [MonthResult("a", date(2025, 12, 1), 90, 95), MonthResult("a", date(2026, 1, 1), 90, 95)]
    assert len([s for s in d.sla_signals(dec, t) if s.kind is SignalKind.SLA_STREAK]) == 1


def test_sla_extreme_event_fires_at_the_gap_not_below_R_SYS_1() -> None:
    t = Thresholds(extreme_gap_points=20, consecutive_misses=5)
    [s] = d.sla_signals(months("publish", [79.0], target=99.0), t)
    assert s.kind is SignalKind.SLA_EXTREME and s.key == "sla_extreme:publish:2026-01"
    assert d.sla_signals(months("publish", [79.1], target=99.0), t) == []


# ------------------------------------------------------------------ (c), (d)


def test_audit_findings_fire_from_the_minimum_severity_R_SYS_1() -> None:
    findings = [d.AuditFinding(i, 1, f"f{i}", NOW, sev) for i, sev in enumerate(d.AUDIT_SEVERITIES)]
    assert [s.key for s in d.audit_signals(findings, "major")] == ["audit_finding:2", "audit_finding:3"]
    assert len(d.audit_signals(findings, "observation")) == 4
    with pytest.raises(SystemicError):
        d.audit_signals(findings, "grave")


def test_audit_finding_is_a_signal_with_links_R_SYS_1() -> None:
    s = d.audit_signal(d.AuditFinding(4, 2, "Change log gaps", NOW))
    assert s.kind is SignalKind.AUDIT_FINDING and s.key == "audit_finding:4"
    assert {(e.kind.value, e.ref) for e in s.evidence} == {("audit_finding", "2/4"), ("audit", "2")}


def test_member_proposal_needs_reasoning_and_cites_evidence_R_SYS_1() -> None:
    with pytest.raises(SystemicError) as err:
        d.proposal_signal(1, "Slow", "too short", [], NOW)
    assert err.value.field == "reasoning"
    ev = d.parse_evidence_refs("dispute #12\n\nhttps://example.org/report\naudit 3")
    s = d.proposal_signal(1, "Publication delays", "Publication has been slow for months now.", ev, NOW)
    assert [e.kind.value for e in s.evidence] == ["proposal", "dispute", "link", "audit"]
    with pytest.raises(SystemicError, match="line 2"):
        d.parse_evidence_refs("dispute 1\nrumour 2")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("audit abc", "line 1: 'abc' is not an audit number"),
        ("dispute 1\ndispute -4", "line 2: '-4' is not a dispute number"),
        ("dispute 99999999999", "is not a dispute number"),
        ("sla_month 2026-13", "line 1: '2026-13' is not a month YYYY-MM"),
        ("sla_month 2026-1", "is not a month YYYY-MM"),
        ("sla_month 2026-10/", "name the metric"),
        ("audit_finding 3", "AUDIT/FINDING"),
        ("audit_finding 3/x", "'x' is not a finding number"),
        ("https://", "is not a URL with a host"),
        ("http://[::1", "line 1: the link 'http://\\[::1' is not a URL"),  # urlsplit's ValueError
        ("dispute 1\nhttp://[zz]/x", "line 2: .* is not a URL with a host"),
    ],
)
def test_cited_evidence_of_the_wrong_form_is_refused_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(SystemicError, match=message) as err:
        d.parse_evidence_lines(text)
    assert err.value.field == "evidence"


def test_cited_evidence_is_normalised_with_its_line() -> None:
    lines = d.parse_evidence_lines("dispute #007\n\nsla_month 2026-10/publish\naudit_finding 3 / 7")
    assert [(n, e.kind.value, e.ref) for n, e in lines] == [
        (1, "dispute", "7"), (3, "sla_month", "2026-10/publish"), (4, "audit_finding", "3/7")]


# ------------------------------------------------------------------ urgent review ladder

EXPERT = Expert("Ada", ("DNS operations",), None)
TODAY = date(2026, 11, 28)


def test_expert_needs_expertise_and_no_conflict_R_SYS_2() -> None:
    with pytest.raises(SystemicError) as err:
        d.check_expert(Expert("Bob", (" ",), None))
    assert err.value.field == "expertise"
    assert d.conflict_of(5, "ifm", False, "") is not None
    assert d.conflict_of(5, "operator", True, "") is not None
    assert d.conflict_of(5, "operator", False, "former PTI staff") == "declared: former PTI staff"
    assert d.conflict_of(5, "operator", False, "") is None
    with pytest.raises(SystemicError, match="conflict"):
        d.check_expert(Expert("Eve", ("DNSSEC",), 5, conflict="works for the IFM"))


def test_an_expert_of_a_party_to_the_review_is_conflicted_R_SYS_2_R_DUG_3() -> None:
    assert d.conflict_of(5, "operator", False, "", party=True) == (
        "the expert's organisation is a party to the review (R-DUG-3)")
    assert d.conflict_of(None, None, False, "", party=True) is None  # no organisation, no party


def test_milestones_parse_and_validate() -> None:
    ms = d.parse_milestones("2026-12-10 Fix the queue\n\n2027-01-15 Report")
    assert ms == [Milestone("Fix the queue", date(2026, 12, 10)), Milestone("Report", date(2027, 1, 15))]
    with pytest.raises(SystemicError, match="line 1"):
        d.parse_milestones("soon Fix it")
    with pytest.raises(SystemicError, match="past"):
        d.check_plan([Milestone("x", date(2026, 1, 1))], TODAY)
    d.check_plan([Milestone("x", d.plan_horizon(TODAY))], TODAY)
    assert d.plan_horizon(TODAY) == date(2031, 11, 28) and d.plan_horizon(date(2028, 2, 29)) == date(2033, 2, 28)
    with pytest.raises(SystemicError, match="milestone 2 is due more than 5 years ahead") as err:
        d.check_plan([Milestone("x", TODAY), Milestone("y", date(9999, 12, 31))], TODAY)
    assert err.value.field == "milestones"
    assert d.overdue(ms, date(2026, 12, 11)) == [ms[0]]


def test_whole_urgent_review_path_to_iap_and_escalation_R_SYS_2() -> None:
    f = ReviewFacts(Stage.DETERMINED)
    with pytest.raises(SystemicError, match="expert"):
        d.transition(f, Action.START_ROOT_CAUSE)
    f = ReviewFacts(Stage.DETERMINED, experts=(EXPERT,))
    assert d.transition(f, Action.START_ROOT_CAUSE) == (Stage.ROOT_CAUSE, None)
    f = ReviewFacts(Stage.ROOT_CAUSE, experts=(EXPERT,))
    with pytest.raises(SystemicError, match="evidence"):
        d.transition(f, Action.RECORD_FINDINGS)
    with pytest.raises(SystemicError, match="findings"):
        d.transition(f, Action.AGREE_REMEDIATION)
    f = ReviewFacts(Stage.ROOT_CAUSE, experts=(EXPERT,), evidence_count=1, findings="Queue starved")
    with pytest.raises(SystemicError, match="milestone"):
        d.transition(f, Action.AGREE_REMEDIATION)
    m = Milestone("Fix", date(2026, 12, 1))
    f = ReviewFacts(Stage.ROOT_CAUSE, experts=(EXPERT,), evidence_count=1, findings="x", milestones=(m,))
    assert d.transition(f, Action.AGREE_REMEDIATION) == (Stage.REMEDIATION, None)
    f = ReviewFacts(Stage.REMEDIATION, milestones=(m,))
    with pytest.raises(SystemicError, match="Fix"):
        d.transition(f, Action.REQUEST_ADVICE)
    f = ReviewFacts(Stage.REMEDIATION, milestones=(Milestone("Fix", m.due, TODAY),))
    assert d.transition(f, Action.REQUEST_ADVICE) == (Stage.ADVICE, None)
    f = ReviewFacts(Stage.ADVICE)
    with pytest.raises(SystemicError) as err:
        d.transition(f, Action.ADVISE)
    assert err.value.field == "critical"
    assert d.transition(f, Action.ADVISE, critical=True) == (Stage.LONG_TERM, None)
    f = ReviewFacts(Stage.LONG_TERM, previous_attempts_report="short")
    with pytest.raises(SystemicError) as err:
        d.transition(f, Action.ENGAGE_MEDIATOR)
    assert err.value.field == "text"  # the form and API field that carries the report
    f = ReviewFacts(Stage.LONG_TERM, previous_attempts_report="Remediation done but the same delays came back.")
    assert d.transition(f, Action.ENGAGE_MEDIATOR) == (Stage.MEDIATION, None)
    assert d.transition(ReviewFacts(Stage.MEDIATION), Action.ENGAGE_IAP) == (Stage.IAP, None)
    stage, outcome = d.transition(ReviewFacts(Stage.IAP), Action.IAP_DECISION, iap_finding=IapFinding.NOT_REMEDIABLE)
    assert (stage, outcome) == (Stage.CLOSED, Outcome.IAP_NOT_REMEDIABLE)
    assert d.escalation_eligible(outcome)
    assert d.bound_parties(False) == ["DUG", "IFM"] and d.bound_parties(True)[-1] == "operator"


def test_not_systemic_advice_closes_without_escalation_R_SYS_2() -> None:
    stage, outcome = d.transition(ReviewFacts(Stage.ADVICE), Action.ADVISE, critical=False)
    assert (stage, outcome) == (Stage.CLOSED, Outcome.NOT_SYSTEMIC)
    assert not d.escalation_eligible(outcome)


def test_long_term_steps_conclude_only_when_all_done() -> None:
    with pytest.raises(SystemicError):
        d.transition(ReviewFacts(Stage.LONG_TERM), Action.CONCLUDE)
    open_step = Milestone("Re-architect", date(2027, 3, 1))
    with pytest.raises(SystemicError, match="Re-architect"):
        d.transition(ReviewFacts(Stage.LONG_TERM, steps=(open_step,)), Action.CONCLUDE)
    done = Milestone("Re-architect", date(2027, 3, 1), TODAY)
    assert d.transition(ReviewFacts(Stage.LONG_TERM, steps=(done,)), Action.CONCLUDE) == (
        Stage.CLOSED, Outcome.LONG_TERM_CHANGES_MADE)


def test_remediable_iap_finding_then_lapse_makes_escalation_eligible_R_DSP_6() -> None:
    assert d.transition(ReviewFacts(Stage.IAP), Action.IAP_DECISION, iap_finding=IapFinding.REMEDIABLE) == (
        Stage.REMEDY_PERIOD, None)
    f = ReviewFacts(Stage.REMEDY_PERIOD, remedy_due=date(2026, 12, 28))
    with pytest.raises(SystemicError, match="runs until"):
        d.transition(f, Action.REMEDY_LAPSED, today=date(2026, 12, 28))
    stage, outcome = d.transition(f, Action.REMEDY_LAPSED, today=date(2026, 12, 29))
    assert stage is Stage.CLOSED and d.escalation_eligible(outcome)
    assert d.transition(f, Action.CONFIRM_REMEDY, today=date(2026, 12, 28)) == (Stage.CLOSED, Outcome.REMEDIED)


def test_no_remedy_confirmed_once_the_period_ended_R_DSP_6() -> None:
    """Closing as remedied after the period would take away the DUG's right to escalate: the
    remedy is confirmed up to the day it is due, lapses from the day after; never both, never
    neither."""
    due = date(2026, 12, 28)
    f = ReviewFacts(Stage.REMEDY_PERIOD, remedy_due=due)
    with pytest.raises(SystemicError, match="the remedy period ended on 2026-12-28"):
        d.transition(f, Action.CONFIRM_REMEDY, today=date(2026, 12, 29))
    with pytest.raises(SystemicError, match="ended"):
        d.transition(f, Action.CONFIRM_REMEDY)  # no date, no confirmation
    for day in (due - timedelta(days=30), due - timedelta(days=1), due, due + timedelta(days=1),
                due + timedelta(days=30)):
        allowed = []
        for action in (Action.CONFIRM_REMEDY, Action.REMEDY_LAPSED):
            try:
                d.transition(f, action, today=day)
                allowed.append(action)
            except SystemicError:
                pass
        assert allowed == [Action.CONFIRM_REMEDY if day <= due else Action.REMEDY_LAPSED], day


def test_steps_offered_are_those_whose_guards_pass_R_SYS_2() -> None:
    open_, done = Milestone("Fix", TODAY), Milestone("Fix", TODAY, TODAY)
    f = ReviewFacts(Stage.REMEDIATION, milestones=(done, open_))
    assert d.blocked(f, Action.REQUEST_ADVICE, TODAY) == "milestones not completed yet: Fix"
    assert d.blocked(f, Action.COMPLETE_MILESTONE, TODAY) is None
    f = ReviewFacts(Stage.REMEDIATION, milestones=(done,))
    assert d.blocked(f, Action.REQUEST_ADVICE, TODAY) is None
    assert d.blocked(f, Action.COMPLETE_MILESTONE, TODAY) == "every milestone is completed"
    # what the step brings itself is taken as given: the plan, the advice, the report, the finding
    assert d.blocked(ReviewFacts(Stage.ROOT_CAUSE, findings="Queue starved"), Action.AGREE_REMEDIATION) is None
    assert d.blocked(ReviewFacts(Stage.ROOT_CAUSE), Action.AGREE_REMEDIATION) == "record the root-cause findings first"
    assert d.blocked(ReviewFacts(Stage.ROOT_CAUSE), Action.RECORD_FINDINGS) is not None
    assert d.blocked(ReviewFacts(Stage.DETERMINED), Action.START_ROOT_CAUSE) is not None
    assert d.blocked(ReviewFacts(Stage.ADVICE), Action.ADVISE) is None
    assert d.blocked(ReviewFacts(Stage.LONG_TERM), Action.ENGAGE_MEDIATOR) is None
    assert d.blocked(ReviewFacts(Stage.LONG_TERM), Action.CONCLUDE) is not None
    assert d.blocked(ReviewFacts(Stage.LONG_TERM), Action.COMPLETE_STEP) is not None
    assert d.blocked(ReviewFacts(Stage.IAP), Action.IAP_DECISION) is None
    period = ReviewFacts(Stage.REMEDY_PERIOD, remedy_due=TODAY)
    assert d.blocked(period, Action.CONFIRM_REMEDY, TODAY) is None
    assert d.blocked(period, Action.REMEDY_LAPSED, TODAY) is not None
    after = TODAY + timedelta(days=1)
    assert d.blocked(period, Action.CONFIRM_REMEDY, after) is not None
    assert d.blocked(period, Action.REMEDY_LAPSED, after) is None


def test_actions_outside_the_table_are_refused() -> None:
    with pytest.raises(SystemicError, match="not possible"):
        d.transition(ReviewFacts(Stage.DETERMINED), Action.ENGAGE_IAP)
    with pytest.raises(SystemicError, match="not possible"):
        d.transition(ReviewFacts(Stage.CLOSED), Action.APPOINT_EXPERT)
    assert d.actor_of(Stage.ADVICE, Action.ADVISE) is d.Actor.EXPERT


@given(st.lists(st.sampled_from(list(Action)), max_size=30))
def test_random_action_sequences_never_leave_the_table(actions: list[Action]) -> None:
    stage = Stage.DETERMINED
    for a in actions:
        facts = ReviewFacts(stage, experts=(EXPERT,), evidence_count=1, findings="f",
                            milestones=(Milestone("m", TODAY, TODAY),), steps=(Milestone("s", TODAY, TODAY),),
                            previous_attempts_report="a long enough report on attempts", remedy_due=TODAY)
        try:
            new, _ = d.transition(facts, a, critical=True, iap_finding=IapFinding.REMEDIABLE,
                                  today=TODAY + timedelta(days=1))
        except SystemicError:
            continue
        assert any(t.source is stage and t.action is a and t.target is new for t in d.TRANSITIONS)
        stage = new
