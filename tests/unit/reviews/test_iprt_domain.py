"""Unit tests for the IPRT's pure rules (R-IPRT-1, R-IPRT-2, R-IPRT-3)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steward.reviews.domain import (
    DEFAULT_SEATS,
    Appointee,
    Constituency,
    CycleStatus,
    FindingTopic,
    ReviewError,
    ReviewFacts,
    SeatPlan,
    Stage,
    add_years,
    check_advance,
    check_appointment,
    check_direction,
    comment_period_open,
    composition,
    informing_audits,
    iprt_schedule,
    next_cycle,
    reminders_due,
    scope_guard,
)

TRANSITION = date(2016, 10, 1)
PLAN = SeatPlan()
ORG_KIND = {
    Constituency.registry_customer: "operator",
    Constituency.gac: "so_ac",
    Constituency.alac: "so_ac",
    Constituency.ssac: "so_ac",
    Constituency.rssac: "so_ac",
    Constituency.ietf: "technical_community",
    Constituency.other: "other",
}


def person(i: int, c: Constituency) -> Appointee:
    return Appointee(f"p{i}@example.org", f"Person {i}", c, ORG_KIND[c])


def full_team() -> list[Appointee]:
    team: list[Appointee] = []
    i = 1
    for c, n in DEFAULT_SEATS.items():
        for _ in range(n):
            team.append(person(i, c))
            i += 1
    return team


# ----------------------------------------------------------------- schedule (R-IPRT-2)


def test_first_review_three_years_after_transition_then_every_four() -> None:
    cycles = iprt_schedule(TRANSITION, date(2026, 6, 1))
    assert [c.due for c in cycles] == [date(2019, 10, 1), date(2023, 10, 1), date(2027, 10, 1)]


def test_before_transition_anniversary_nothing_is_overdue() -> None:
    cycles = iprt_schedule(TRANSITION, date(2019, 10, 1))
    assert [(c.due, c.status) for c in cycles] == [
        (date(2019, 10, 1), CycleStatus.upcoming),
        (date(2023, 10, 1), CycleStatus.upcoming),
    ]
    cycles = iprt_schedule(TRANSITION, date(2019, 9, 30))
    assert cycles[0].status is CycleStatus.upcoming


def test_review_not_convened_by_its_due_date_is_overdue() -> None:
    cycles = iprt_schedule(TRANSITION, date(2019, 10, 2))
    assert cycles[0].overdue
    assert cycles[1].due == date(2023, 10, 1) and not cycles[1].overdue


def test_convened_and_completed_reviews_are_not_overdue() -> None:
    cycles = iprt_schedule(TRANSITION, date(2026, 6, 1), {1: (11, True), 2: (12, False)})
    assert [c.status for c in cycles] == [
        CycleStatus.completed,
        CycleStatus.started,
        CycleStatus.upcoming,
    ]
    nxt = next_cycle(cycles)
    assert nxt is not None and nxt.number == 3


def test_schedule_follows_the_transition_setting_including_a_leap_day() -> None:
    cycles = iprt_schedule(date(2020, 2, 29), date(2023, 3, 1))
    assert cycles[0].due == date(2023, 2, 28)
    assert add_years(date(2020, 2, 29), 4) == date(2024, 2, 29)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)))
def test_schedule_always_has_exactly_one_future_cycle(today: date) -> None:
    cycles = iprt_schedule(TRANSITION, today)
    future = [c for c in cycles if c.due > today]
    assert len(future) == 1
    assert all(c.overdue for c in cycles if c.due < today)


# ----------------------------------------------------------------- composition (R-IPRT-1)


def test_full_default_team_is_complete_with_customer_majority() -> None:
    report = composition(full_team(), PLAN)
    assert PLAN.total == 14
    assert report.complete
    assert report.customers == 8 and report.customers_majority


def test_appointments_fill_each_constituency_up_to_its_seats() -> None:
    team: list[Appointee] = []
    for a in full_team():
        check_appointment(team, a, PLAN)
        team.append(a)
    for c in Constituency:
        with pytest.raises(ReviewError, match="seat\\(s\\) are filled") as err:
            check_appointment(team, person(100, c), PLAN)
        assert err.value.rule == "R-IPRT-1"


def test_a_person_is_appointed_once() -> None:
    team = [person(1, Constituency.gac)]
    with pytest.raises(ReviewError, match="already a member"):
        check_appointment(team, person(1, Constituency.registry_customer), PLAN)


def test_constituency_must_match_the_organisation_kind() -> None:
    with pytest.raises(ReviewError, match="kind operator") as err:
        check_appointment(
            [], Appointee("x@example.org", "X", Constituency.registry_customer, "so_ac"), PLAN
        )
    assert err.value.field == "organisation"
    check_appointment([], Appointee("y@example.org", "Y", Constituency.other, None), PLAN)


def test_incomplete_team_lists_vacancies() -> None:
    team = [a for a in full_team() if a.constituency is not Constituency.ssac][2:]
    report = composition(team, PLAN)
    assert not report.complete
    assert report.problems() == [
        "Registry customer (ccTLD / gTLD): 2 seat(s) vacant (R-IPRT-1).",
        "SSAC: 1 seat(s) vacant (R-IPRT-1).",
    ]


def test_customers_must_be_majority_of_the_actual_team() -> None:
    team = [a for a in full_team() if a.constituency is not Constituency.registry_customer]
    team += [person(200 + i, Constituency.registry_customer) for i in range(6)]
    report = composition(team, PLAN)
    assert not report.customers_majority
    assert any("must be the majority" in p for p in report.problems())


def test_a_seat_plan_without_customer_majority_is_refused() -> None:
    seats = dict(DEFAULT_SEATS)
    seats[Constituency.registry_customer] = 6
    with pytest.raises(ReviewError, match="6 of 12 seats") as err:
        SeatPlan(seats)
    assert err.value.rule == "R-IPRT-1"
    seats[Constituency.registry_customer] = 7
    assert SeatPlan(seats).total == 13


# ----------------------------------------------------------------- stages


def facts(stage: Stage, **kw: object) -> ReviewFacts:
    args: dict[str, object] = {"stage": stage, "composition": composition(full_team(), PLAN)}
    args.update(kw)
    return ReviewFacts(**args)  # type: ignore[arg-type]


TODAY = date(2026, 6, 1)


def test_terms_of_reference_need_a_complete_team() -> None:
    incomplete = composition(full_team()[:-1], PLAN)
    with pytest.raises(ReviewError, match="not fully constituted") as err:
        check_advance(
            facts(Stage.convened, composition=incomplete), Stage.terms_of_reference, TODAY
        )
    assert err.value.rule == "R-IPRT-1"
    check_advance(facts(Stage.convened), Stage.terms_of_reference, TODAY)


def test_stages_advance_only_in_order() -> None:
    with pytest.raises(ReviewError, match="cannot move"):
        check_advance(facts(Stage.convened), Stage.draft_report, TODAY)


def test_draft_report_opens_a_comment_period_and_final_waits_for_it() -> None:
    with pytest.raises(ReviewError) as err:
        check_advance(
            facts(Stage.evidence_gathering, draft_report="Draft"), Stage.draft_report, TODAY
        )
    assert err.value.field == "comment_closes"
    closes = date(2026, 7, 1)
    check_advance(
        facts(Stage.evidence_gathering, draft_report="Draft", comment_closes=closes),
        Stage.draft_report,
        TODAY,
    )
    assert comment_period_open(closes, Stage.draft_report, closes)
    assert not comment_period_open(closes, Stage.draft_report, date(2026, 7, 2))
    during = facts(Stage.draft_report, comment_closes=closes, final_report="Final")
    with pytest.raises(ReviewError, match="open until 2026-07-01"):
        check_advance(during, Stage.final_report, closes)
    check_advance(during, Stage.final_report, date(2026, 7, 2))


def test_review_closes_only_when_directions_are_completed() -> None:
    with pytest.raises(ReviewError, match="1 remedial direction") as err:
        check_advance(facts(Stage.final_report, open_directions=1), Stage.closed, TODAY)
    assert err.value.rule == "R-IPRT-3"
    check_advance(facts(Stage.final_report), Stage.closed, TODAY)


# ----------------------------------------------------------------- scope (R-IPRT-3)


def test_operational_service_level_findings_are_referred_to_the_dug() -> None:
    decision = scope_guard(FindingTopic.operational_service_levels)
    assert not decision.in_scope
    assert decision.referred_to == "dug"
    assert "R-IPRT-3" in decision.reason
    for topic in (FindingTopic.due_process, FindingTopic.policy_adherence):
        assert scope_guard(topic).in_scope


def test_directions_go_to_the_dug_or_the_ifm() -> None:
    assert check_direction(Stage.final_report, "ifm", "Publish the escalation log").value == "ifm"
    with pytest.raises(ReviewError) as err:
        check_direction(Stage.final_report, "board", "x")
    assert err.value.field == "target"
    with pytest.raises(ReviewError):
        check_direction(Stage.evidence_gathering, "dug", "x")


def test_latest_published_audit_informs_the_review() -> None:
    audits = [(1, date(2019, 12, 1)), (2, date(2022, 12, 1)), (3, None), (4, date(2027, 1, 1))]
    assert informing_audits(audits, date(2023, 10, 1)) == [2, 1]
    assert informing_audits(audits, date(2023, 10, 1), already={1}) == [2]


def test_reminders_cover_overdue_and_soon_due_cycles() -> None:
    cycles = iprt_schedule(TRANSITION, date(2027, 8, 1), {1: (1, True)})
    assert [c.number for c in reminders_due(cycles, date(2027, 8, 1), 30)] == [2]
    assert [c.number for c in reminders_due(cycles, date(2027, 8, 1), 61)] == [2, 3]
