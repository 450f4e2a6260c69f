"""The escalation ladder: every transition, every refused one (R-DSP-1…9)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from steward.disputes.domain import (
    CLOSED_STAGES,
    FURTHER_ESCALATION_ELIGIBLE,
    OPEN_STAGES,
    TRANSITIONS,
    Action,
    Case,
    CaseRole,
    Complaint,
    DeadlineKind,
    DisputePolicy,
    DocumentKind,
    InvalidInput,
    NotPermitted,
    RefusalGround,
    Stage,
    Subject,
    TransitionRefused,
    apply,
    available_actions,
    next_due,
    notices_due,
    overdue,
    recompute_deadlines,
    screen_complaint,
    validate_complaint,
)
from steward.workdays.domain import WorkdayCalendar
from tests.unit.disputes.dispute_builders import (
    ACTOR_FOR,
    DUG_CHAIR,
    DUG_MEMBER,
    IFM,
    LA,
    LADDER_STEPS,
    MEDIATOR,
    OPERATOR,
    PANELIST,
    POLICY,
    STRANGER,
    T0,
    case_at,
    complaint,
    inp,
    walk,
)

EDGES = {(t.source, t.action) for t in TRANSITIONS}


# ---------------------------------------------------------------- the table itself


def test_every_action_appears_in_the_table() -> None:
    assert {t.action for t in TRANSITIONS} == set(Action)


def test_no_row_leaves_a_closed_stage() -> None:
    assert not [t for t in TRANSITIONS if t.source in CLOSED_STAGES]


def test_every_stage_is_reachable_from_start() -> None:
    reached, frontier = {Stage.START}, [Stage.START]
    while frontier:
        here = frontier.pop()
        for t in TRANSITIONS:
            if t.source == here and t.target not in reached:
                reached.add(t.target)
                frontier.append(t.target)
    assert reached == set(Stage)


def test_withdrawal_is_possible_from_every_open_stage_r_dsp_8() -> None:
    sources = {t.source for t in TRANSITIONS if t.action is Action.WITHDRAW}
    assert sources == OPEN_STAGES
    assert all(t.actor is CaseRole.COMPLAINANT for t in TRANSITIONS if t.action is Action.WITHDRAW)


def test_the_only_way_into_the_iap_is_guarded_by_consent_r_dsp_5() -> None:
    into_iap = [t for t in TRANSITIONS if t.target is Stage.IAP and t.source is not Stage.IAP]
    assert len(into_iap) == 1
    assert into_iap[0].source is Stage.MEDIATION_FAILED
    assert into_iap[0].guard_rule == "R-DSP-5"


def test_every_row_has_an_event_tag() -> None:
    assert all(t.event.startswith("dispute:") for t in TRANSITIONS)


# ---------------------------------------------------------------- every transition


@pytest.mark.parametrize("index", range(len(LADDER_STEPS)))
def test_each_step_up_the_ladder_moves_to_the_tables_target(index: int) -> None:
    before = walk(LADDER_STEPS[:index])
    action, actor, extra = LADDER_STEPS[index]
    out = apply(before, action, actor, inp(T0 + timedelta(hours=index), **extra), POLICY)
    assert out.transition.source == before.stage
    assert out.case.stage == out.transition.target
    assert out.transition in TRANSITIONS


@pytest.mark.parametrize("stage", sorted(CLOSED_STAGES))
def test_every_closed_stage_can_be_reached_and_is_archived(stage: Stage) -> None:
    case = case_at(stage)
    assert case.stage is stage
    assert case.archived
    assert case.closed_at is not None


@pytest.mark.parametrize("stage", sorted(OPEN_STAGES))
def test_every_open_stage_can_be_reached(stage: Stage) -> None:
    assert case_at(stage).stage is stage


def test_direct_negotiation_starts_ifm_acknowledgement_and_answer_clocks() -> None:
    case = case_at(Stage.NEGOTIATION)
    assert case.acknowledgement_due is not None and case.answer_due is not None
    # Monday 24 Nov 2025: 1 working day → end of Tue 25; 2 → end of Wed 26.
    assert case.acknowledgement_due.due.date() == date(2025, 11, 26)
    assert case.answer_due.due.date() == date(2025, 11, 27)
    assert not case.lodged
    acked = apply(case, Action.ACKNOWLEDGE, IFM, inp(), POLICY).case
    with pytest.raises(TransitionRefused, match="already acknowledged"):
        apply(acked, Action.ACKNOWLEDGE, IFM, inp(), POLICY)
    answered = apply(acked, Action.ANSWER, IFM, inp(text="We will fix it."), POLICY)
    assert answered.document is DocumentKind.NEGOTIATION_ANSWER
    escalated = apply(
        answered.case, Action.ESCALATE, OPERATOR, inp(complaint=complaint()), POLICY
    ).case
    assert escalated.stage is Stage.LODGED and escalated.lodged


def test_request_response_sets_ten_working_days_across_thanksgiving_r_dsp_3() -> None:
    case = case_at(Stage.RESPONSE_REQUESTED)
    proof = case.response_due
    assert proof is not None and proof.working_days == 10
    assert [s.reason for s in proof.skipped[:2]] == ["Thanksgiving Day", "Day After Thanksgiving"]
    assert proof.due.isoformat() == "2025-12-11T00:00:00-08:00"  # end of Wed 10 Dec


def test_dug_may_proceed_without_response_only_once_overdue() -> None:
    case = case_at(Stage.RESPONSE_REQUESTED)
    assert case.response_due is not None
    with pytest.raises(TransitionRefused) as err:
        apply(case, Action.PROCEED_WITHOUT_RESPONSE, DUG_MEMBER, inp(), POLICY)
    assert err.value.rule == "R-DSP-3"
    later = apply(
        case, Action.PROCEED_WITHOUT_RESPONSE, DUG_MEMBER, inp(case.response_due.due), POLICY
    )
    assert later.case.stage is Stage.ASSESSMENT


def test_mediation_outcome_needs_the_dug_report_r_dsp_4() -> None:
    case = case_at(Stage.MEDIATION)
    assert case.mediator_ids == frozenset({5})
    with pytest.raises(TransitionRefused) as err:
        apply(case, Action.DECLARE_MEDIATION_FAILED, MEDIATOR, inp(text="x"), POLICY)
    assert err.value.rule == "R-DSP-4"
    reported = apply(case, Action.FILE_DUG_REPORT, DUG_MEMBER, inp(text="report"), POLICY)
    assert reported.document is DocumentKind.DUG_REPORT
    with pytest.raises(TransitionRefused, match="already filed"):
        apply(reported.case, Action.FILE_DUG_REPORT, DUG_MEMBER, inp(text="again"), POLICY)


def test_an_agreement_in_mediation_needs_the_ifm_report_too_r_dsp_4() -> None:
    """R-DSP-4: the DUG gives the mediator its report and the IFM gives one too. An agreement
    needs both; a failure only the DUG's, so that the IFM cannot keep the operator from the IAP
    by withholding its report."""
    case = apply(case_at(Stage.MEDIATION), Action.FILE_DUG_REPORT, DUG_MEMBER, inp(text="r"), POLICY).case
    assert not case.ifm_report_filed
    with pytest.raises(TransitionRefused, match="IFM's report") as err:
        apply(case, Action.RECORD_MEDIATION_AGREEMENT, MEDIATOR, inp(text="agreed"), POLICY)
    assert err.value.rule == "R-DSP-4"
    assert apply(case, Action.DECLARE_MEDIATION_FAILED, MEDIATOR, inp(text="x"), POLICY).case.stage is Stage.MEDIATION_FAILED
    both = apply(case, Action.FILE_IFM_REPORT, IFM, inp(text="ifm"), POLICY).case
    agreed = apply(both, Action.RECORD_MEDIATION_AGREEMENT, MEDIATOR, inp(text="agreed"), POLICY)
    assert agreed.case.stage is Stage.REMEDIATION


def test_remedial_actions_are_tracked_to_completion_before_closing_r_dsp_4() -> None:
    case = case_at(Stage.REMEDIATION)
    with pytest.raises(TransitionRefused, match="at least one remedial action"):
        apply(case, Action.CLOSE_REMEDIATION, DUG_CHAIR, inp(), POLICY)
    case = apply(case, Action.ADD_REMEDIAL_ACTION, DUG_MEMBER, inp(text="Fix A"), POLICY).case
    case = apply(case, Action.ADD_REMEDIAL_ACTION, DUG_MEMBER, inp(text="Fix B"), POLICY).case
    case = apply(
        case, Action.COMPLETE_REMEDIAL_ACTION, IFM, inp(text="A done", remedial_action_index=0)
    ).case
    with pytest.raises(TransitionRefused, match="not completed"):
        apply(case, Action.CLOSE_REMEDIATION, DUG_CHAIR, inp(), POLICY)
    with pytest.raises(TransitionRefused, match="already completed"):
        apply(case, Action.COMPLETE_REMEDIAL_ACTION, IFM, inp(text="!", remedial_action_index=0))
    with pytest.raises(TransitionRefused, match="no such"):
        apply(case, Action.COMPLETE_REMEDIAL_ACTION, IFM, inp(text="!", remedial_action_index=7))
    case = apply(
        case, Action.COMPLETE_REMEDIAL_ACTION, IFM, inp(text="B done", remedial_action_index=1)
    ).case
    closed = apply(case, Action.CLOSE_REMEDIATION, DUG_CHAIR, inp(), POLICY).case
    assert closed.stage is Stage.RESOLVED_IN_MEDIATION
    assert [a.completion_note for a in closed.remedial_actions] == ["A done", "B done"]


def test_remediable_breach_gives_the_ifm_thirty_calendar_days_r_dsp_6() -> None:
    case = case_at(Stage.REMEDY_PENDING)
    assert case.finding_at is not None and case.remedy_due is not None
    assert case.remedy_due - case.finding_at == timedelta(days=30)
    assert open_kinds(case) == {DeadlineKind.REMEDY}


def test_remedy_period_is_a_setting() -> None:
    case = walk(LADDER_STEPS[:-1])
    out = apply(
        case,
        Action.FIND_BREACH_REMEDIABLE,
        PANELIST,
        inp(T0, text="Breach"),
        DisputePolicy(remedy_days=45),
    )
    assert out.case.remedy_due == T0 + timedelta(days=45)


def test_remedy_confirmed_in_time_or_declared_not_remedied_after() -> None:
    case = case_at(Stage.REMEDY_PENDING)
    assert case.remedy_due is not None
    with pytest.raises(TransitionRefused) as err:
        apply(case, Action.DECLARE_NOT_REMEDIED, DUG_CHAIR, inp(case.remedy_due - timedelta(1)))
    assert err.value.rule == "R-DSP-6"
    with pytest.raises(TransitionRefused, match="remedy period ended"):
        apply(case, Action.CONFIRM_REMEDY, DUG_CHAIR, inp(case.remedy_due))
    done = apply(case, Action.CONFIRM_REMEDY, DUG_CHAIR, inp(case.remedy_due - timedelta(1)))
    assert done.case.stage is Stage.REMEDIED
    assert not done.case.eligible_for_further_escalation


@pytest.mark.parametrize(
    ("stage", "eligible"),
    [
        (Stage.NOT_REMEDIED, True),
        (Stage.NOT_CAPABLE_OF_REMEDY, True),
        (Stage.NO_BREACH, False),
        (Stage.REMEDIED, False),
        (Stage.WITHDRAWN, False),
    ],
)
def test_further_escalation_eligibility_r_dsp_6(stage: Stage, eligible: bool) -> None:
    assert case_at(stage).eligible_for_further_escalation is eligible
    assert (stage in FURTHER_ESCALATION_ELIGIBLE) is eligible


# ---------------------------------------------------------------- refused transitions


ALL_PAIRS = [(s, a) for s in Stage for a in Action]


@pytest.mark.parametrize(
    ("stage", "action"),
    [(s, a) for s, a in ALL_PAIRS if (s, a) not in EDGES and not s.closed],
)
def test_actions_not_in_the_table_are_refused(stage: Stage, action: Action) -> None:
    case = case_at(stage)
    for actor in ACTOR_FOR.values():
        with pytest.raises(TransitionRefused, match="not possible at stage"):
            apply(case, action, actor, inp(text="t", complaint=complaint()), POLICY)


@pytest.mark.parametrize(("stage", "action"), [(s, a) for s, a in ALL_PAIRS if s.closed])
def test_archived_cases_never_change_r_dsp_9(stage: Stage, action: Action) -> None:
    case = case_at(stage)
    for actor in ACTOR_FOR.values():
        with pytest.raises(TransitionRefused) as err:
            apply(case, action, actor, inp(text="t", complaint=complaint()), POLICY)
        assert err.value.rule == "R-DSP-9"
    assert available_actions(case, DUG_CHAIR, T0) == []


@pytest.mark.parametrize("row", TRANSITIONS, ids=lambda t: f"{t.source}-{t.action}-{t.target}")
def test_every_row_refuses_actors_without_the_relation_or_permission(row: object) -> None:
    from steward.disputes.domain import Transition

    assert isinstance(row, Transition)
    case = case_at(row.source)
    for role, actor in ACTOR_FOR.items():
        if role is row.actor:
            continue
        if any(
            t.actor is role and t.permission in actor.permissions
            for t in TRANSITIONS
            if t.source == row.source and t.action == row.action
        ):
            continue
        with pytest.raises(NotPermitted):
            apply(case, row.action, actor, inp(text="t", complaint=complaint()), POLICY)
    with pytest.raises(NotPermitted):
        apply(case, row.action, STRANGER, inp(text="t", complaint=complaint()), POLICY)


def test_dug_member_without_decide_permission_cannot_engage_mediator() -> None:
    case = case_at(Stage.ASSESSMENT)
    with pytest.raises(NotPermitted):
        apply(case, Action.ENGAGE_MEDIATOR, DUG_MEMBER, inp(mediator_ids=frozenset({5})))


def test_iap_cannot_be_engaged_without_recorded_agreement_to_be_bound_r_dsp_5() -> None:
    steps = [s for s in LADDER_STEPS[:9] if s[0] is not Action.AGREE_TO_BE_BOUND]
    case = walk(steps)
    assert case.stage is Stage.MEDIATION_FAILED and case.bound_agreement_at is None
    with pytest.raises(TransitionRefused) as err:
        apply(case, Action.ENGAGE_IAP, DUG_CHAIR, inp(panelist_ids=frozenset({6})), POLICY)
    assert err.value.rule == "R-DSP-5"
    bound = apply(case, Action.AGREE_TO_BE_BOUND, OPERATOR, inp(text="We agree."), POLICY).case
    with pytest.raises(TransitionRefused, match="already recorded"):
        apply(bound, Action.AGREE_TO_BE_BOUND, OPERATOR, inp(text="Again."), POLICY)
    engaged = apply(bound, Action.ENGAGE_IAP, DUG_CHAIR, inp(panelist_ids=frozenset({6})), POLICY)
    assert engaged.case.stage is Stage.IAP and engaged.case.panelist_ids == frozenset({6})


def test_engaging_iap_needs_a_panelist_and_mediator_needs_a_mediator() -> None:
    with pytest.raises(InvalidInput) as err:
        apply(case_at(Stage.ASSESSMENT), Action.ENGAGE_MEDIATOR, DUG_CHAIR, inp(), POLICY)
    assert err.value.field == "mediator_ids"
    case = walk(LADDER_STEPS[:9])
    with pytest.raises(InvalidInput) as err:
        apply(case, Action.ENGAGE_IAP, DUG_CHAIR, inp(), POLICY)
    assert err.value.field == "panelist_ids"


# ---------------------------------------------------------------- refusals (R-DSP-1)


@pytest.mark.parametrize(
    ("subject", "ground"),
    [
        (Subject.DELEGATION, RefusalGround.DELEGATION),
        (Subject.REDELEGATION, RefusalGround.REDELEGATION),
        (Subject.POLICY, RefusalGround.POLICY),
    ],
)
def test_delegation_redelegation_and_policy_complaints_are_refused_with_rule_and_reason(
    subject: Subject, ground: RefusalGround
) -> None:
    out = apply(Case(), Action.LODGE, OPERATOR, inp(complaint=complaint(subject)), POLICY)
    assert out.case.stage is Stage.REFUSED
    assert out.event == "dispute:refused"
    assert out.case.refusal is not None
    assert out.case.refusal.rule == "R-DSP-1"
    assert out.case.refusal.ground is ground
    assert "excluded" in out.case.refusal.reason or "outside" in out.case.refusal.reason
    assert out.case.archived


def test_escalating_a_policy_matter_from_negotiation_is_refused() -> None:
    case = case_at(Stage.NEGOTIATION)
    out = apply(case, Action.ESCALATE, OPERATOR, inp(complaint=complaint(Subject.POLICY)), POLICY)
    assert out.case.stage is Stage.REFUSED and out.case.refusal is not None


@pytest.mark.parametrize("stage", [Stage.LODGED, Stage.RESPONSE_REQUESTED, Stage.ASSESSMENT])
def test_dug_may_refuse_a_lodged_complaint_with_ground_and_reason(stage: Stage) -> None:
    case = case_at(stage)
    with pytest.raises(InvalidInput) as err:
        apply(case, Action.REFUSE, DUG_CHAIR, inp(text="It is a re-delegation."), POLICY)
    assert err.value.field == "refusal_ground"
    with pytest.raises(InvalidInput) as err:
        apply(case, Action.REFUSE, DUG_CHAIR, inp(refusal_ground=RefusalGround.REDELEGATION))
    assert err.value.field == "reason"
    out = apply(
        case,
        Action.REFUSE,
        DUG_CHAIR,
        inp(text="It is a re-delegation.", refusal_ground=RefusalGround.REDELEGATION),
        POLICY,
    )
    assert out.case.stage is Stage.REFUSED
    assert out.case.refusal is not None and out.case.refusal.rule == "R-DSP-1"
    assert out.case.refusal.reason == "It is a re-delegation."


def test_screen_passes_service_level_complaints() -> None:
    assert screen_complaint(complaint()) is None
    assert screen_complaint(complaint(Subject.PERFORMANCE)) is None


# ---------------------------------------------------------------- complaint content (R-DSP-2)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"tlds": ()}, "tlds"),
        ({"tlds": ("exa mple",)}, "tlds"),
        ({"service_levels": (" ",)}, "service_levels"),
        ({"what_happened": "  "}, "what_happened"),
        ({"negotiation": ""}, "negotiation"),
    ],
)
def test_incomplete_complaint_is_refused_naming_the_field(
    changes: dict[str, object], field: str
) -> None:
    bad = Complaint(**{**complaint().__dict__, **changes})  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as err:
        apply(Case(), Action.LODGE, OPERATOR, inp(complaint=bad), POLICY)
    assert err.value.field == field


def test_complaint_is_normalised() -> None:
    c = validate_complaint(
        Complaint(
            (".EXAMPLE", "example", "xn--p1ai"),
            ("a", "a", "b"),
            Subject.SERVICE_LEVEL,
            " x ",
            " y ",
        )
    )
    assert c.tlds == ("example", "xn--p1ai")
    idn = validate_complaint(Complaint(("рф", ".РФ"), ("a",), Subject.SERVICE_LEVEL, "x", "y"))
    assert idn.tlds == ("xn--p1ai",)
    assert c.service_levels == ("a", "b")
    assert (c.what_happened, c.negotiation) == ("x", "y")


def test_opening_negotiation_does_not_yet_need_the_negotiation_account() -> None:
    draft = Complaint(("example",), ("x",), Subject.SERVICE_LEVEL, "slow", "")
    assert apply(Case(), Action.OPEN_NEGOTIATION, OPERATOR, inp(complaint=draft)).case.complaint


def test_withdrawal_needs_a_reason_r_dsp_8() -> None:
    case = case_at(Stage.IAP)
    with pytest.raises(InvalidInput) as err:
        apply(case, Action.WITHDRAW, OPERATOR, inp(text="  "), POLICY)
    assert err.value.field == "reason"
    out = apply(case, Action.WITHDRAW, OPERATOR, inp(text="Court action filed."), POLICY)
    assert out.case.stage is Stage.WITHDRAWN
    assert out.case.withdrawal_reason == "Court action filed."


def test_naive_now_is_refused() -> None:
    from datetime import datetime

    with pytest.raises(InvalidInput) as err:
        apply(Case(), Action.LODGE, OPERATOR, inp(datetime(2025, 1, 1), complaint=complaint()))
    assert err.value.field == "now"


# ---------------------------------------------------------------- deadlines and notices


def open_kinds(case: Case) -> set[DeadlineKind]:
    from steward.disputes.domain import open_deadlines

    return set(open_deadlines(case))


def test_response_reminder_three_working_days_before_and_overdue_at_due() -> None:
    case = case_at(Stage.RESPONSE_REQUESTED)
    assert case.response_due is not None
    due = case.response_due.due
    remind = case.response_due.remaining_at(3)
    assert notices_due(case, remind - timedelta(seconds=1)) == []
    soon = notices_due(case, remind)
    assert [(n.kind, n.deadline) for n in soon] == [("due_soon", DeadlineKind.RESPONSE)]
    assert soon[0].key == "response:due_soon"
    late = notices_due(case, due)
    assert [(n.kind, n.deadline) for n in late] == [("overdue", DeadlineKind.RESPONSE)]
    assert overdue(case, due) == {DeadlineKind.RESPONSE}
    assert overdue(case, due - timedelta(microseconds=1)) == frozenset()
    assert next_due(case) == due


def test_answered_response_is_no_longer_flagged() -> None:
    case = case_at(Stage.ASSESSMENT)
    assert case.response_due is not None
    assert overdue(case, case.response_due.due + timedelta(days=30)) == frozenset()
    assert next_due(case) is None


def test_remedy_due_soon_and_overdue_notices() -> None:
    case = case_at(Stage.REMEDY_PENDING)
    assert case.remedy_due is not None
    assert notices_due(case, case.remedy_due - timedelta(days=8)) == []
    assert [n.kind for n in notices_due(case, case.remedy_due - timedelta(days=7))] == ["due_soon"]
    assert [n.kind for n in notices_due(case, case.remedy_due)] == ["overdue"]


def test_negotiation_acknowledgement_overdue_until_acknowledged() -> None:
    case = case_at(Stage.NEGOTIATION)
    assert case.answer_due is not None
    late = case.answer_due.due
    assert overdue(case, late) == {DeadlineKind.ACKNOWLEDGEMENT, DeadlineKind.ANSWER}
    acked = apply(case, Action.ACKNOWLEDGE, IFM, inp()).case
    assert overdue(acked, late) == {DeadlineKind.ANSWER}


def test_calendar_change_recomputes_open_deadlines_only() -> None:
    case = case_at(Stage.RESPONSE_REQUESTED)
    london = WorkdayCalendar.from_code("GB-ENG", "Europe/London")
    moved, changed = recompute_deadlines(case, london)
    assert changed == [DeadlineKind.RESPONSE]
    assert moved.response_due is not None and case.response_due is not None
    assert moved.response_due.calendar == "GB-ENG"
    assert moved.response_due.start == case.response_due.start
    assert moved.response_due.due < case.response_due.due  # no Thanksgiving in England
    same, none = recompute_deadlines(moved, london)
    assert none == [] and same is moved
    answered = case_at(Stage.ASSESSMENT)
    assert recompute_deadlines(answered, london) == (answered, [])


def test_available_actions_follow_the_table_and_guards() -> None:
    case = case_at(Stage.RESPONSE_REQUESTED)
    assert available_actions(case, IFM, T0) == [Action.SUBMIT_RESPONSE]
    assert available_actions(case, DUG_MEMBER, T0) == []
    assert case.response_due is not None
    assert available_actions(case, DUG_MEMBER, case.response_due.due) == [
        Action.PROCEED_WITHOUT_RESPONSE
    ]
    assert Action.WITHDRAW in available_actions(case, OPERATOR, T0)
    assert Action.AGREE_TO_BE_BOUND in available_actions(case, OPERATOR, T0)
    assert available_actions(Case(), OPERATOR, T0) == [Action.OPEN_NEGOTIATION, Action.LODGE]


def test_case_times_are_kept_as_given() -> None:
    case = case_at(Stage.LODGED)
    assert case.lodged_at == T0
    assert case.lodged_at.tzinfo is LA


def test_the_diagram_in_the_docs_is_the_table() -> None:
    from pathlib import Path

    from steward.disputes.domain import ladder_mermaid

    doc = Path(__file__).resolve().parents[3] / "docs" / "disputes.md"
    assert f"```mermaid\n{ladder_mermaid()}\n```" in doc.read_text(encoding="utf-8")
