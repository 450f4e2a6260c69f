"""Unit tests for the periodic audit's pure rules (R-AUD-1, R-AUD-2)."""

from __future__ import annotations

from datetime import date

import pytest

from steward.audits.domain import (
    AuditError,
    AuditFacts,
    Declaration,
    Stage,
    audit_schedule,
    check_examine,
    check_independence,
    check_publish,
    check_submit_report,
    feedback_open,
)
from steward.reviews.domain import CycleStatus

TRANSITION = date(2016, 10, 1)
DECL = Declaration("We have no financial or contractual ties to the IFM.")


def test_audit_every_three_years_from_the_transition() -> None:
    cycles = audit_schedule(TRANSITION, date(2026, 6, 1), {1: (1, True), 2: (2, True)})
    assert [c.due for c in cycles] == [
        date(2019, 10, 1),
        date(2022, 10, 1),
        date(2025, 10, 1),
        date(2028, 10, 1),
    ]
    assert cycles[2].status is CycleStatus.overdue
    assert cycles[3].status is CycleStatus.upcoming


def test_independent_audit_firm_is_accepted() -> None:
    check_independence(7, "audit_firm", DECL, {1})


def test_firm_affiliated_with_the_ifm_is_refused() -> None:
    for kwargs in (
        {"declaration": Declaration("ok", frozenset({1}))},
        {"declaration": DECL, "affiliated_with_ifm": True},
    ):
        with pytest.raises(AuditError, match="affiliated with the IFM") as err:
            check_independence(7, "audit_firm", ifm_organisation_ids={1}, **kwargs)  # type: ignore[arg-type]
        assert err.value.rule == "R-AUD-1"


def test_only_audit_firms_with_a_declaration_are_commissioned() -> None:
    with pytest.raises(AuditError, match="kind audit firm") as err:
        check_independence(7, "operator", DECL, {1})
    assert err.value.field == "firm"
    with pytest.raises(AuditError) as err:
        check_independence(7, "audit_firm", Declaration("  "), {1})
    assert err.value.field == "declaration"


def test_report_is_submitted_once_with_findings() -> None:
    facts = AuditFacts(Stage.commissioned)
    with pytest.raises(AuditError) as err:
        check_submit_report(facts, "Report", 0)
    assert err.value.field == "findings"
    with pytest.raises(AuditError) as err:
        check_submit_report(facts, " ", 2)
    assert err.value.field == "report"
    check_submit_report(facts, "Report", 2)
    with pytest.raises(AuditError, match="already"):
        check_submit_report(AuditFacts(Stage.report_submitted), "Report", 2)


def test_publication_opens_feedback_and_examination_waits_for_it() -> None:
    today = date(2026, 6, 1)
    closes = date(2026, 7, 1)
    check_publish(AuditFacts(Stage.report_submitted), closes, today)
    with pytest.raises(AuditError):
        check_publish(AuditFacts(Stage.commissioned), closes, today)
    with pytest.raises(AuditError) as err:
        check_publish(AuditFacts(Stage.report_submitted), date(2026, 5, 31), today)
    assert err.value.field == "feedback_closes"
    published = AuditFacts(Stage.published, feedback_closes=closes)
    assert feedback_open(published, closes)
    assert not feedback_open(published, date(2026, 7, 2))
    with pytest.raises(AuditError, match="open until 2026-07-01") as err:
        check_examine(published, "Examined", closes)
    assert err.value.rule == "R-AUD-2"
    check_examine(published, "Examined", date(2026, 7, 2))
    with pytest.raises(AuditError) as err:
        check_examine(published, "", date(2026, 7, 2))
    assert err.value.field == "examination"
