"""Unit tests for the technical-change lifecycle and rules (R-TCH-1, R-TCH-2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steward.changes.domain import (
    Action,
    CommentAnswer,
    CommentLimits,
    CommentPeriod,
    Disposition,
    InvalidInput,
    Origin,
    PlanFacts,
    PlanState,
    TransitionRefused,
    available_actions,
    check_accepts_comments,
    check_can_confirm,
    check_revision,
    check_statement_ready,
    comment_excerpt,
    comment_period,
    disposition_summary,
    effective_state,
    next_state,
    plan_visible,
    unanswered,
    validate_comment,
    validate_response,
)

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
LIMITS = CommentLimits()


def run_flow(origin: Origin) -> list[PlanState]:
    """Drive a plan from draft to implemented, returning the states it passed."""
    period = comment_period(T0, 30)
    facts = PlanFacts(state=PlanState.DRAFT, origin=origin)
    seen = [facts.state]
    steps = [Action.PUBLISH, Action.CLOSE_COMMENTS, Action.ISSUE_STATEMENT]
    if origin.needs_dug_agreement:
        steps.append(Action.RECORD_AGREEMENT)
    steps.append(Action.MARK_IMPLEMENTED)
    now = T0
    for action in steps:
        if action is Action.CLOSE_COMMENTS:
            now = period.closes_at
        state = next_state(facts, action, now=now)
        facts = PlanFacts(state=state, origin=origin, comment_closes_at=period.closes_at)
        seen.append(state)
    return seen


def test_operational_change_goes_through_dug_agreement_r_tch_1() -> None:
    assert run_flow(Origin.OPERATIONAL) == [
        PlanState.DRAFT,
        PlanState.OPEN_FOR_COMMENT,
        PlanState.COMMENTS_CLOSED,
        PlanState.STATEMENT_ISSUED,
        PlanState.AGREED,
        PlanState.IMPLEMENTED,
    ]


def test_policy_driven_change_skips_the_dug_r_tch_1() -> None:
    assert PlanState.AGREED not in run_flow(Origin.POLICY)
    assert run_flow(Origin.POLICY)[-1] is PlanState.IMPLEMENTED


def test_dug_cannot_agree_a_policy_driven_change_r_tch_1() -> None:
    facts = PlanFacts(state=PlanState.STATEMENT_ISSUED, origin=Origin.POLICY)
    with pytest.raises(TransitionRefused, match="outside the DUG's scope"):
        next_state(facts, Action.RECORD_AGREEMENT, now=T0)


def test_operational_change_is_not_implemented_before_dug_agrees_r_tch_1() -> None:
    facts = PlanFacts(state=PlanState.STATEMENT_ISSUED, origin=Origin.OPERATIONAL)
    with pytest.raises(TransitionRefused, match="DUG's agreement"):
        next_state(facts, Action.MARK_IMPLEMENTED, now=T0)
    assert available_actions(facts, now=T0) == [Action.RECORD_AGREEMENT, Action.WITHDRAW]


def test_policy_change_after_statement_offers_implementation_not_agreement() -> None:
    facts = PlanFacts(state=PlanState.STATEMENT_ISSUED, origin=Origin.POLICY)
    assert available_actions(facts, now=T0) == [Action.MARK_IMPLEMENTED, Action.WITHDRAW]


def test_comment_period_cannot_be_closed_early_r_tch_2() -> None:
    period = comment_period(T0, 30)
    facts = PlanFacts(
        state=PlanState.OPEN_FOR_COMMENT,
        origin=Origin.OPERATIONAL,
        comment_closes_at=period.closes_at,
    )
    with pytest.raises(TransitionRefused, match="not ended"):
        next_state(facts, Action.CLOSE_COMMENTS, now=period.closes_at - timedelta(seconds=1))
    assert next_state(facts, Action.CLOSE_COMMENTS, now=period.closes_at) is (
        PlanState.COMMENTS_CLOSED
    )


def test_statement_refused_while_a_comment_is_unanswered_r_tch_2() -> None:
    facts = PlanFacts(
        state=PlanState.COMMENTS_CLOSED, origin=Origin.OPERATIONAL, unanswered_comments=(2, 5)
    )
    with pytest.raises(TransitionRefused, match=r"unanswered: #2, #5"):
        next_state(facts, Action.ISSUE_STATEMENT, now=T0)
    assert Action.ISSUE_STATEMENT not in available_actions(facts, now=T0)


def test_plan_can_be_revised_in_draft_and_after_comments_but_not_during_them() -> None:
    for state in (PlanState.DRAFT, PlanState.COMMENTS_CLOSED):
        facts = PlanFacts(state=state, origin=Origin.OPERATIONAL)
        assert next_state(facts, Action.REVISE, now=T0) is state
    for state in (PlanState.OPEN_FOR_COMMENT, PlanState.STATEMENT_ISSUED, PlanState.AGREED):
        with pytest.raises(TransitionRefused):
            next_state(PlanFacts(state=state, origin=Origin.OPERATIONAL), Action.REVISE, now=T0)


def test_published_plan_keeps_its_origin_r_tch_1() -> None:
    # A draft may be reclassified; a published plan may be revised but not reclassified.
    check_revision(PlanState.DRAFT, None, Origin.POLICY)
    check_revision(PlanState.COMMENTS_CLOSED, Origin.OPERATIONAL, Origin.OPERATIONAL)
    for published, proposed in ((Origin.OPERATIONAL, Origin.POLICY), (Origin.POLICY, Origin.OPERATIONAL)):
        with pytest.raises(TransitionRefused, match=r"published as .*R-TCH-1") as info:
            check_revision(PlanState.COMMENTS_CLOSED, published, proposed)
        assert info.value.field == "origin"
    with pytest.raises(TransitionRefused, match="cannot revise"):
        check_revision(PlanState.OPEN_FOR_COMMENT, Origin.OPERATIONAL, Origin.OPERATIONAL)


def test_statement_with_no_comments_can_be_issued_r_tch_2() -> None:
    facts = PlanFacts(state=PlanState.COMMENTS_CLOSED, origin=Origin.POLICY)
    assert next_state(facts, Action.ISSUE_STATEMENT, now=T0) is PlanState.STATEMENT_ISSUED


def test_long_unanswered_list_is_shortened() -> None:
    with pytest.raises(TransitionRefused, match="and 5 more"):
        check_statement_ready(tuple(range(1, 26)))


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (PlanState.DRAFT, Action.ISSUE_STATEMENT),
        (PlanState.OPEN_FOR_COMMENT, Action.REVISE),
        (PlanState.IMPLEMENTED, Action.WITHDRAW),
        (PlanState.WITHDRAWN, Action.PUBLISH),
        (PlanState.AGREED, Action.RECORD_AGREEMENT),
    ],
)
def test_actions_outside_the_table_are_refused(state: PlanState, action: Action) -> None:
    with pytest.raises(TransitionRefused, match="cannot"):
        next_state(PlanFacts(state=state, origin=Origin.OPERATIONAL), action, now=T0)


def test_terminal_states_offer_nothing() -> None:
    for state in (PlanState.IMPLEMENTED, PlanState.WITHDRAWN):
        assert available_actions(PlanFacts(state=state, origin=Origin.OPERATIONAL), now=T0) == []


def test_default_period_is_thirty_calendar_days_utc_r_tch_2() -> None:
    period = comment_period(T0, 30)
    assert period.closes_at == datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
    assert period.is_open(T0)
    assert period.is_open(period.closes_at - timedelta(microseconds=1))
    assert not period.is_open(period.closes_at)
    assert period.remaining(period.closes_at + timedelta(days=1)) == timedelta(0)


@pytest.mark.parametrize("days", [0, -1, 366])
def test_period_length_outside_bounds_names_the_field(days: int) -> None:
    with pytest.raises(InvalidInput) as info:
        comment_period(T0, days)
    assert info.value.field == "comment_days"


def test_naive_publication_time_is_refused() -> None:
    with pytest.raises(InvalidInput, match="timezone"):
        comment_period(datetime(2026, 1, 1), 30)


def test_closed_comment_period_refuses_comments_r_tch_2() -> None:
    period = comment_period(T0, 30)
    check_accepts_comments(PlanState.OPEN_FOR_COMMENT, period, T0 + timedelta(days=29))
    with pytest.raises(TransitionRefused, match="closed at 2026-04-01 12:00 UTC"):
        check_accepts_comments(PlanState.OPEN_FOR_COMMENT, period, period.closes_at)


@pytest.mark.parametrize(
    "state",
    [PlanState.DRAFT, PlanState.COMMENTS_CLOSED, PlanState.STATEMENT_ISSUED, PlanState.WITHDRAWN],
)
def test_only_open_plans_take_comments(state: PlanState) -> None:
    with pytest.raises(TransitionRefused, match="not open for comment"):
        check_accepts_comments(state, comment_period(T0, 30), T0)


def test_comment_before_period_starts_is_refused() -> None:
    with pytest.raises(TransitionRefused, match="not started"):
        check_accepts_comments(
            PlanState.OPEN_FOR_COMMENT, comment_period(T0, 30), T0 - timedelta(seconds=1)
        )


def test_confirmation_refused_after_link_expiry_or_period_end() -> None:
    period = comment_period(T0, 30)
    expires = T0 + timedelta(hours=48)
    check_can_confirm(PlanState.OPEN_FOR_COMMENT, period, expires, T0 + timedelta(hours=1))
    with pytest.raises(TransitionRefused, match="expired"):
        check_can_confirm(PlanState.OPEN_FOR_COMMENT, period, expires, expires)
    late = period.closes_at + timedelta(minutes=1)
    with pytest.raises(TransitionRefused, match="closed"):
        check_can_confirm(PlanState.OPEN_FOR_COMMENT, period, late + timedelta(days=1), late)


def test_open_plan_past_its_period_reads_as_closed() -> None:
    closes = T0 + timedelta(days=30)
    assert effective_state(PlanState.OPEN_FOR_COMMENT, closes, closes) is PlanState.COMMENTS_CLOSED
    assert effective_state(PlanState.OPEN_FOR_COMMENT, closes, T0) is PlanState.OPEN_FOR_COMMENT
    assert effective_state(PlanState.AGREED, closes, closes) is PlanState.AGREED


def test_drafts_are_internal_but_dug_liaises_on_operational_drafts_r_tch_1() -> None:
    assert plan_visible(False, Origin.POLICY, is_ifm=True, is_dug=False)
    assert plan_visible(False, Origin.OPERATIONAL, is_ifm=False, is_dug=True)
    assert not plan_visible(False, Origin.POLICY, is_ifm=False, is_dug=True)
    assert not plan_visible(False, Origin.OPERATIONAL, is_ifm=False, is_dug=False)


def test_a_published_plan_stays_public_even_when_withdrawn_r_tch_2() -> None:
    assert plan_visible(True, Origin.POLICY, is_ifm=False, is_dug=False)


# --- comment validation (abuse controls) ---


def test_comment_is_trimmed_and_keeps_markup_as_text() -> None:
    draft = validate_comment(
        "  <script>alert(1)</script>\r\nsecond line  ",
        section="timeline",
        known_sections=["overview", "timeline"],
        author_name=" Ana ",
        limits=LIMITS,
    )
    assert draft.body == "<script>alert(1)</script>\nsecond line"
    assert draft.section == "timeline"
    assert draft.author_name == "Ana"


def test_empty_comment_names_the_field() -> None:
    with pytest.raises(InvalidInput) as info:
        validate_comment("   \n ", section=None, known_sections=[], author_name=None, limits=LIMITS)
    assert info.value.field == "body"


def test_oversized_comment_is_refused_with_the_limit() -> None:
    limits = CommentLimits(max_body_chars=50)
    with pytest.raises(InvalidInput, match="51 characters long; the limit is 50"):
        validate_comment("x" * 51, section=None, known_sections=[], author_name=None, limits=limits)


def test_too_many_links_is_refused() -> None:
    body = " ".join(f"https://spam{i}.example" for i in range(11))
    with pytest.raises(InvalidInput, match="11 links"):
        validate_comment(body, section=None, known_sections=[], author_name=None, limits=LIMITS)


def test_control_characters_are_refused_with_the_line() -> None:
    with pytest.raises(InvalidInput) as info:
        validate_comment(
            "fine\nbad \x00 here", section=None, known_sections=[], author_name=None, limits=LIMITS
        )
    assert info.value.line == 2
    assert "U+0000" in str(info.value)


def test_unknown_section_is_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        validate_comment(
            "ok", section="nope", known_sections=["overview"], author_name=None, limits=LIMITS
        )
    assert info.value.field == "section"


def test_blank_section_means_the_whole_plan() -> None:
    draft = validate_comment("ok", section="  ", known_sections=[], author_name=None, limits=LIMITS)
    assert draft.section is None


def test_public_name_must_fit_on_one_line_and_within_limit() -> None:
    with pytest.raises(InvalidInput, match="one line"):
        validate_comment("ok", section=None, known_sections=[], author_name="a\nb", limits=LIMITS)
    with pytest.raises(InvalidInput) as info:
        validate_comment(
            "ok", section=None, known_sections=[], author_name="n" * 121, limits=LIMITS
        )
    assert info.value.field == "name"


@given(st.text(max_size=300))
def test_validated_comment_never_exceeds_limits(text: str) -> None:
    limits = CommentLimits(max_body_chars=200)
    try:
        draft = validate_comment(
            text, section=None, known_sections=[], author_name=None, limits=limits
        )
    except InvalidInput:
        return
    assert 0 < len(draft.body) <= 200
    assert draft.body == draft.body.strip()


# --- dispositions and the statement ---


def test_response_needs_a_known_disposition() -> None:
    with pytest.raises(InvalidInput, match="accepted, partly_accepted, not_accepted, out_of_scope"):
        validate_response("maybe", "text", limits=LIMITS)
    with pytest.raises(InvalidInput) as info:
        validate_response("accepted", "   ", limits=LIMITS)
    assert info.value.field == "response"
    assert validate_response("partly_accepted", " We will. ", limits=LIMITS) == (
        Disposition.PARTLY_ACCEPTED,
        "We will.",
    )


def test_a_comment_needs_both_disposition_and_response_r_tch_2() -> None:
    comments = [
        CommentAnswer(1, Disposition.ACCEPTED, "Done."),
        CommentAnswer(2, Disposition.NOT_ACCEPTED, None),
        CommentAnswer(3, None, "orphan response"),
        CommentAnswer(4, Disposition.OUT_OF_SCOPE, "  "),
    ]
    assert unanswered(comments) == (2, 3, 4)


def test_disposition_summary_counts_every_kind() -> None:
    summary = disposition_summary(
        [Disposition.ACCEPTED, Disposition.ACCEPTED, Disposition.OUT_OF_SCOPE]
    )
    assert list(summary) == list(Disposition)
    assert summary[Disposition.ACCEPTED] == 2
    assert summary[Disposition.PARTLY_ACCEPTED] == 0


def test_excerpt_cuts_at_a_word() -> None:
    assert comment_excerpt("short  text\nhere") == "short text here"
    long = "word " * 100
    excerpt = comment_excerpt(long, limit=22)
    assert excerpt == "word word word word …"


def test_labels_are_human() -> None:
    assert Origin.POLICY.label.startswith("Policy-driven")
    assert PlanState.OPEN_FOR_COMMENT.label == "Open for comment"
    assert Disposition.PARTLY_ACCEPTED.label == "Partly accepted"


def test_comment_period_value_object() -> None:
    period = CommentPeriod(T0, T0 + timedelta(days=1))
    assert period.remaining(T0) == timedelta(days=1)
