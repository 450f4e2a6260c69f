"""Unit tests for the DUG's pure rules (R-DUG-1, R-DUG-2, R-DUG-3)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steward.governance.domain import (
    Ballot,
    CharterText,
    Choice,
    Community,
    CompositionRules,
    DecisionRef,
    DecisionRules,
    GovernanceError,
    Member,
    MotionKind,
    MotionState,
    QuorumBase,
    SeatKind,
    Threshold,
    all_eligible_have_voted,
    charter_in_force,
    check_can_comment,
    check_can_vote,
    check_change,
    check_charter_effective,
    completeness_issues,
    eligible_voters,
    find_authorising,
    hard_issues,
    next_charter_version,
    recused_members,
    tally,
    terms_ending,
    validate_charter,
    validate_member,
)

START = date(2025, 1, 1)
TODAY = date(2026, 6, 1)
RULES = CompositionRules()


def voting(i: int, org: int | None = None, chair: bool = False, **kw: object) -> Member:
    args: dict[object, object] = {
        "id": i,
        "person_id": i,
        "name": f"Voter {i}",
        "organisation_id": org if org is not None else 100 + i,
        "seat": SeatKind.voting,
        "community": Community.cctld if i % 2 else Community.gtld,
        "technical_experience": "Ran a TLD registry's DNS for 10 years",
        "term_start": START,
        "is_chair": chair,
    }
    args.update(kw)
    return Member(**args)  # type: ignore[arg-type]


def liaison(i: int, **kw: object) -> Member:
    args: dict[object, object] = {
        "id": i,
        "person_id": i,
        "name": f"Liaison {i}",
        "organisation_id": 900 + i,
        "seat": SeatKind.liaison,
        "community": Community.technical,
        "technical_experience": "IETF DNSOP working group chair",
        "term_start": START,
    }
    args.update(kw)
    return Member(**args)  # type: ignore[arg-type]


def full_roster(liaisons: int = 2) -> list[Member]:
    return [voting(i, chair=(i == 1)) for i in range(1, 9)] + [
        liaison(50 + j) for j in range(liaisons)
    ]


# ----------------------------------------------------------------- charter (R-DUG-1)


def test_charter_needs_role_chair_appointment_and_communication_lines() -> None:
    ok = validate_charter(CharterText("  Escalation body  ", "Elected yearly", "Monthly calls"))
    assert ok.role == "Escalation body"
    for missing in ("role", "chair_appointment", "communication_lines"):
        parts = {"role": "r", "chair_appointment": "c", "communication_lines": "l"}
        parts[missing] = "   "
        with pytest.raises(GovernanceError) as err:
            validate_charter(CharterText(**parts))
        assert err.value.field == missing
        assert err.value.rule == "R-DUG-1"


def test_charter_versions_number_up_and_the_latest_effective_is_in_force() -> None:
    assert next_charter_version([]) == 1
    assert next_charter_version([1, 3, 2]) == 4
    versions = [(1, date(2016, 10, 1)), (2, date(2020, 1, 1)), (3, date(2027, 1, 1))]
    assert charter_in_force(versions, date(2016, 9, 30)) is None
    assert charter_in_force(versions, date(2019, 12, 31)) == 1
    assert charter_in_force(versions, TODAY) == 2
    assert charter_in_force([(1, START), (2, START)], START) == 2


def test_a_new_charter_version_cannot_take_effect_before_the_latest_R_DUG_1() -> None:
    versions = [(1, date(2016, 10, 1)), (2, date(2020, 1, 1))]
    check_charter_effective([], date(2016, 10, 1))
    check_charter_effective(versions, date(2020, 1, 1))  # same day: supersedes version 2
    check_charter_effective(versions, date(2024, 1, 1))
    with pytest.raises(GovernanceError, match=r"before version 2, the latest.*2020-01-01") as err:
        check_charter_effective(versions, date(2019, 12, 31))
    assert (err.value.field, err.value.rule) == ("effective_from", "R-DUG-1")


@given(st.lists(st.integers(min_value=0, max_value=3000), min_size=1, max_size=6), st.integers(0, 3000))
def test_versions_adopted_under_the_rule_leave_one_charter_in_force_R_DUG_1(
    offsets: list[int], day: int
) -> None:
    # whatever dates are tried, those accepted make the highest version effective by a day the one in force
    accepted: list[tuple[int, date]] = []
    for offset in offsets:
        effective = date.fromordinal(START.toordinal() + offset)
        try:
            check_charter_effective(accepted, effective)
        except GovernanceError:
            continue
        accepted.append((next_charter_version(n for n, _ in accepted), effective))
    on = date.fromordinal(START.toordinal() + day)
    highest = max((n for n, eff in accepted if eff <= on), default=None)
    assert charter_in_force(accepted, on) == highest


# ----------------------------------------------------------------- composition (R-DUG-2)


def test_a_full_default_roster_has_no_issues() -> None:
    roster = full_roster()
    assert hard_issues(roster, RULES) == []
    assert completeness_issues(roster, RULES, TODAY) == []
    assert completeness_issues(full_roster(3), RULES, TODAY) == []


def test_ninth_voting_member_is_refused_with_seat_count() -> None:
    roster = full_roster()
    with pytest.raises(GovernanceError, match=r"9 voting members.*8 voting seats") as err:
        check_change(roster, [*roster, voting(9)], RULES)
    assert err.value.rule == "R-DUG-2"


def test_fourth_liaison_is_refused() -> None:
    roster = full_roster(3)
    with pytest.raises(GovernanceError, match="4 liaisons; at most 3"):
        check_change(roster, [*roster, liaison(60)], RULES)


def test_a_successor_whose_term_starts_after_the_predecessor_ends_is_accepted() -> None:
    roster = full_roster()
    ending = voting(8, term_end=date(2026, 12, 31))
    roster = [m if m.id != 8 else ending for m in roster]
    successor = voting(9, term_start=date(2027, 1, 1))
    check_change(roster, [*roster, successor], RULES)
    overlapping = voting(10, term_start=date(2026, 12, 31))
    with pytest.raises(GovernanceError, match="On 2026-12-31 there would be 9 voting"):
        check_change(roster, [*roster, overlapping], RULES)


def test_settings_change_the_seat_counts() -> None:
    rules = CompositionRules(voting_seats=10, liaisons_min=1, liaisons_max=2)
    roster = [voting(i, chair=(i == 1)) for i in range(1, 11)] + [liaison(50)]
    check_change([], roster, rules)
    assert completeness_issues(roster, rules, TODAY) == []
    assert [i.code for i in completeness_issues(full_roster(), rules, TODAY)] == [
        "voting_seats_vacant"
    ]


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(GovernanceError):
        CompositionRules(voting_seats=0)
    with pytest.raises(GovernanceError):
        CompositionRules(liaisons_min=3, liaisons_max=2)


def test_voting_seat_must_come_from_registry_community() -> None:
    with pytest.raises(GovernanceError, match="ccTLD or gTLD") as err:
        validate_member(voting(1, community=Community.technical))
    assert err.value.field == "community"


def test_liaison_must_come_from_technical_community() -> None:
    with pytest.raises(GovernanceError, match="technical community") as err:
        validate_member(liaison(50, community=Community.gtld))
    assert err.value.rule == "R-DUG-2"


def test_technical_experience_is_required() -> None:
    with pytest.raises(GovernanceError) as err:
        validate_member(voting(1, technical_experience="  "))
    assert err.value.field == "technical_experience"


def test_term_cannot_end_before_it_starts() -> None:
    with pytest.raises(GovernanceError) as err:
        validate_member(voting(1, term_end=date(2024, 12, 31)))
    assert err.value.field == "term_end"


def test_only_one_chair_and_the_chair_votes() -> None:
    roster = full_roster()
    second_chair = [m if m.id != 2 else voting(2, chair=True) for m in roster]
    with pytest.raises(GovernanceError, match="one chair") as err:
        check_change(roster, second_chair, RULES)
    assert err.value.rule == "R-DUG-1"
    with pytest.raises(GovernanceError, match="voting seat"):
        validate_member(liaison(50, is_chair=True))


def test_same_person_cannot_hold_two_overlapping_seats() -> None:
    roster = full_roster()[:3]
    twin = voting(20, person_id=2)
    with pytest.raises(GovernanceError, match="already holds a seat"):
        check_change(roster, [*roster, twin], RULES)
    later = voting(21, person_id=3, term_start=date(2030, 1, 1))
    roster_with_end = [m if m.id != 3 else voting(3, term_end=date(2029, 12, 31)) for m in roster]
    check_change(roster_with_end, [*roster_with_end, later], RULES)


def test_an_incomplete_roster_is_reported_not_refused() -> None:
    roster = [voting(i) for i in range(1, 6)] + [liaison(50)]
    check_change([], roster, RULES)
    codes = {i.code: i.message for i in completeness_issues(roster, RULES, TODAY)}
    assert codes["voting_seats_vacant"] == "5 of 8 voting seats are filled (R-DUG-2)."
    assert "too_few_liaisons" in codes
    assert "no_chair" in codes


def test_an_overfull_roster_from_older_settings_may_still_shrink() -> None:
    roster = full_roster()
    smaller = CompositionRules(voting_seats=6)
    check_change(roster, roster[1:], smaller)


def test_terms_ending_within_window() -> None:
    roster = [
        voting(1, term_end=date(2026, 6, 30)),
        voting(2, term_end=date(2026, 9, 1)),
        voting(3, term_end=date(2026, 5, 31)),
        voting(4),
    ]
    assert [m.id for m in terms_ending(roster, TODAY, 30)] == [1]
    assert [m.id for m in terms_ending(roster, TODAY, 92)] == [1, 2]


# ----------------------------------------------------------------- recusal (R-DUG-3)


def test_member_of_a_party_organisation_is_recused_everywhere() -> None:
    roster = full_roster()
    parties = {103, 905}
    party_liaison = liaison(5, organisation_id=905)
    roster.append(party_liaison)
    assert {m.id for m in recused_members(roster, parties, TODAY)} == {3, 5}
    assert 3 not in {m.id for m in eligible_voters(roster, parties, TODAY)}
    with pytest.raises(GovernanceError) as err:
        check_can_comment(party_liaison, parties, TODAY)
    assert err.value.rule == "R-DUG-3"


def test_member_without_organisation_is_never_recused() -> None:
    m = voting(1, organisation_id=None)
    assert recused_members([m], {101}, TODAY) == []


# ----------------------------------------------------------------- votes


def test_liaisons_cannot_vote_but_may_comment() -> None:
    li = liaison(50)
    with pytest.raises(GovernanceError, match="liaisons may comment but not vote") as err:
        check_can_vote(li, set(), set(), TODAY)
    assert err.value.rule == "R-DUG-2"
    check_can_comment(li, set(), TODAY)


def test_recused_member_cannot_vote() -> None:
    with pytest.raises(GovernanceError, match="recused") as err:
        check_can_vote(voting(3), {103}, set(), TODAY)
    assert err.value.rule == "R-DUG-3"


def test_member_votes_once_and_only_while_serving() -> None:
    with pytest.raises(GovernanceError, match="already voted"):
        check_can_vote(voting(1), set(), {1}, TODAY)
    with pytest.raises(GovernanceError, match="not serving"):
        check_can_vote(voting(1, term_end=date(2026, 1, 1)), set(), set(), TODAY)
    check_can_vote(voting(1), set(), set(), TODAY)


def ballots(yes: int, no: int, abstain: int = 0, first: int = 1) -> list[Ballot]:
    out = []
    ids = iter(range(first, 100))
    out += [Ballot(next(ids), Choice.yes) for _ in range(yes)]
    out += [Ballot(next(ids), Choice.no) for _ in range(no)]
    out += [Ballot(next(ids), Choice.abstain) for _ in range(abstain)]
    return out


def test_motion_passes_with_majority_of_votes_cast_and_states_the_rule() -> None:
    result = tally(ballots(4, 1), full_roster(), set(), DecisionRules(), TODAY)
    assert result.state is MotionState.passed
    assert result.quorum_needed == 5
    assert result.rule == (
        "Passed: 4 of 5 votes cast in favour; a motion passes with more than half of the "
        "votes cast, i.e. 3; quorum is more than half of the 8 serving voting members, "
        "i.e. 5; 5 took part."
    )


def test_no_quorum_fails_whatever_the_votes() -> None:
    result = tally(ballots(4, 0), full_roster(), set(), DecisionRules(), TODAY)
    assert result.state is MotionState.failed
    assert not result.quorum_met
    assert result.rule.startswith("Failed: no quorum")
    assert "i.e. 5; 4 took part" in result.rule


def test_abstentions_count_for_quorum_but_are_not_votes_cast() -> None:
    result = tally(ballots(2, 1, abstain=2), full_roster(), set(), DecisionRules(), TODAY)
    assert result.quorum_met
    assert result.cast == 3
    assert result.state is MotionState.passed


def test_a_tie_fails() -> None:
    result = tally(ballots(3, 3), full_roster(), set(), DecisionRules(), TODAY)
    assert result.state is MotionState.failed
    assert "a tie is not a majority" in result.rule


def test_liaison_and_recused_ballots_are_ignored_in_the_count() -> None:
    roster = full_roster()
    stray = [Ballot(50, Choice.yes), Ballot(3, Choice.yes)]
    result = tally([*stray, *ballots(2, 2, first=4)], roster, {103}, DecisionRules(), TODAY)
    assert (result.yes, result.no) == (2, 2)
    assert result.eligible == 7
    assert result.state is MotionState.failed


def test_quorum_base_and_thresholds_are_settings() -> None:
    roster = full_roster()
    parties = {101, 102, 103}
    eligible_base = DecisionRules(quorum_base=QuorumBase.eligible_voters)
    # 3 recused: 5 eligible; 3 participants is a quorum of the eligible but not of all 8.
    b = ballots(3, 0, first=4)
    assert tally(b, roster, parties, eligible_base, TODAY).state is MotionState.passed
    assert tally(b, roster, parties, DecisionRules(), TODAY).state is MotionState.failed
    two_thirds = DecisionRules(majority=Threshold(Fraction(2, 3), inclusive=True))
    r = tally(ballots(4, 2), roster, set(), two_thirds, TODAY)
    assert r.state is MotionState.passed
    assert "at least two thirds of the votes cast, i.e. 4" in r.rule
    assert tally(ballots(3, 2), roster, set(), two_thirds, TODAY).state is MotionState.failed


def test_all_eligible_have_voted() -> None:
    roster = full_roster()
    assert not all_eligible_have_voted(ballots(6, 0), roster, set(), TODAY)
    assert all_eligible_have_voted(ballots(6, 1, first=2), roster, {101}, TODAY)


@given(
    st.integers(min_value=0, max_value=8),
    st.integers(min_value=0, max_value=8),
    st.integers(min_value=0, max_value=8),
)
def test_tally_properties(yes: int, no: int, abstain: int) -> None:
    if yes + no + abstain > 8:
        return
    result = tally(ballots(yes, no, abstain), full_roster(), set(), DecisionRules(), TODAY)
    assert result.quorum_met == (yes + no + abstain >= 5)
    assert (result.state is MotionState.passed) == (result.quorum_met and yes > no)
    assert result.rule.startswith("Passed" if result.state is MotionState.passed else "Failed")


@given(st.fractions(min_value=0, max_value=1), st.booleans(), st.integers(0, 50))
def test_threshold_minimum_is_the_least_count_that_meets(
    fraction: Fraction, inclusive: bool, base: int
) -> None:
    t = Threshold(fraction, inclusive)
    m = t.minimum(base)
    assert t.met(m, base)
    assert m == 0 or not t.met(m - 1, base)


def test_only_a_passed_decision_of_that_kind_on_that_subject_authorises() -> None:
    decisions = [
        DecisionRef(MotionKind.engage_mediator, "dispute", "7", MotionState.failed),
        DecisionRef(MotionKind.engage_iap, "dispute", "7", MotionState.passed),
        DecisionRef(MotionKind.engage_mediator, "dispute", "8", MotionState.passed),
    ]
    assert find_authorising(decisions, MotionKind.engage_mediator, "dispute", "7") is None
    found = find_authorising(decisions, MotionKind.engage_mediator, "dispute", "8")
    assert found is not None and found.subject_id == "8"
