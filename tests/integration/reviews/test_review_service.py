"""IPRT reviews through the services (R-IPRT-1…3), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.accounts.principal import Principal
from steward.audits import service as audits
from steward.audits.service import FindingInput
from steward.errors import Conflict, Forbidden, Invalid
from steward.events import AuditEvent
from steward.outbox import OutboxEmail
from steward.reviews import service as reviews
from steward.reviews.domain import CycleStatus
from tests.integration.governance.dug_factory import build_dug, org, pass_motion, user

CONVENED = date(2019, 10, 15)


def manager(session: Session) -> Principal:
    return Principal.of(user(session, "iprt@review.test", ["iprt_member"]))


def bodies(session: Session) -> dict[str, Any]:
    out: dict[str, Any] = {"ops": [org(session, f"Operator {i}") for i in range(9)]}
    for acr in ("GAC", "ALAC", "SSAC", "RSSAC"):
        out[acr] = org(session, acr, "so_ac", acronym=acr)
    out["IETF"] = org(session, "IETF", "technical_community")
    return out


def appoint_full_team(
    session: Session, actor: Principal, review_id: int, b: dict[str, Any]
) -> None:
    for i in range(8):
        reviews.appoint(
            session,
            actor,
            review_id,
            name=f"Customer {i}",
            constituency="registry_customer",
            email=f"c{i}@ops.test",
            organisation_id=b["ops"][i].id,
            today=CONVENED,
        )
    for acr in ("GAC", "ALAC", "SSAC", "RSSAC", "IETF"):
        reviews.appoint(
            session,
            actor,
            review_id,
            name=f"{acr} rep",
            constituency=acr.lower(),
            organisation_id=b[acr].id,
            today=CONVENED,
        )
    reviews.appoint(
        session, actor, review_id, name="Independent Counsel", constituency="other", today=CONVENED
    )


def test_schedule_around_the_transition_date_R_IPRT_2(session: Session) -> None:
    before = reviews.schedule(session, date(2019, 9, 30))
    assert [(c.due, c.status) for c in before] == [(date(2019, 10, 1), CycleStatus.upcoming)]
    after = reviews.schedule(session, date(2019, 10, 2))
    assert after[0].status is CycleStatus.overdue
    assert after[1].due == date(2023, 10, 1)


def test_schedule_follows_the_transition_setting(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from steward.config import get_settings

    monkeypatch.setenv("STEWARD_TRANSITION_DATE", "2018-01-15")
    get_settings.cache_clear()
    try:
        assert reviews.schedule(session, date(2021, 1, 1))[0].due == date(2021, 1, 15)
    finally:
        monkeypatch.delenv("STEWARD_TRANSITION_DATE")
        get_settings.cache_clear()


def test_convening_fills_the_overdue_cycle_and_only_one_runs(session: Session) -> None:
    actor = manager(session)
    review = reviews.convene(session, actor, today=CONVENED)
    assert (review.cycle, review.due_on) == (1, date(2019, 10, 1))
    assert reviews.schedule(session, CONVENED)[0].status is CycleStatus.started
    with pytest.raises(Conflict, match="already in progress"):
        reviews.convene(session, actor, today=CONVENED)
    with pytest.raises(Forbidden):
        reviews.convene(
            session, Principal.of(user(session, "op@x.test", ["operator_staff"])), today=CONVENED
        )


def test_composition_valid_and_invalid_rosters_R_IPRT_1(session: Session) -> None:
    actor = manager(session)
    b = bodies(session)
    review = reviews.convene(session, actor, today=CONVENED)
    appoint_full_team(session, actor, review.id, b)
    comp = reviews.composition_of(review)
    assert comp.complete and comp.customers == 8 and comp.total == 14
    with pytest.raises(Invalid, match="All 8 Registry customer") as err:
        reviews.appoint(
            session,
            actor,
            review.id,
            name="Ninth",
            constituency="registry_customer",
            organisation_id=b["ops"][8].id,
            today=CONVENED,
        )
    assert err.value.field == "constituency"
    with pytest.raises(Invalid, match="All 1 GAC"):
        reviews.appoint(
            session,
            actor,
            review.id,
            name="Second GAC",
            constituency="gac",
            organisation_id=b["GAC"].id,
            today=CONVENED,
        )


def test_an_appointee_email_that_is_not_an_address_is_refused(session: Session) -> None:
    actor = manager(session)
    b = bodies(session)
    review = reviews.convene(session, actor, today=CONVENED)
    with pytest.raises(Invalid, match="not a valid email") as err:
        reviews.appoint(session, actor, review.id, name="Joe", constituency="registry_customer",
                        organisation_id=b["ops"][0].id, email="not-an-email", today=CONVENED)
    assert err.value.field == "email"
    assert reviews.composition_of(review).total == 0


def test_wrong_organisation_kind_and_duplicate_person_are_refused(session: Session) -> None:
    actor = manager(session)
    b = bodies(session)
    review = reviews.convene(session, actor, today=CONVENED)
    with pytest.raises(Invalid, match="kind operator") as err:
        reviews.appoint(
            session,
            actor,
            review.id,
            name="X",
            constituency="registry_customer",
            organisation_id=b["GAC"].id,
            today=CONVENED,
        )
    assert err.value.field == "organisation"
    reviews.appoint(
        session,
        actor,
        review.id,
        name="Ana",
        constituency="gac",
        email="ana@gac.test",
        organisation_id=b["GAC"].id,
        today=CONVENED,
    )
    with pytest.raises(Invalid, match="already a member"):
        reviews.appoint(
            session,
            actor,
            review.id,
            name="Ana B.",
            constituency="other",
            email="ANA@gac.test",
            today=CONVENED,
        )


def test_terms_of_reference_wait_for_a_complete_team(session: Session) -> None:
    actor = manager(session)
    b = bodies(session)
    review = reviews.convene(session, actor, today=CONVENED)
    reviews.appoint(
        session, actor, review.id, name="Only one", constituency="other", today=CONVENED
    )
    with pytest.raises(Invalid, match="not fully constituted") as err:
        reviews.advance(session, actor, review.id, "terms_of_reference", today=CONVENED)
    assert "8 seat(s) vacant" in err.value.message
    only = review.members[0]
    reviews.remove_member(session, actor, review.id, only.id)
    appoint_full_team(session, actor, review.id, b)
    reviews.advance(session, actor, review.id, "terms_of_reference", today=CONVENED)
    with pytest.raises(Conflict):
        reviews.appoint(
            session, actor, review.id, name="Late", constituency="other", today=CONVENED
        )


def test_stages_scope_guard_and_directions_to_completion_R_IPRT_3(session: Session) -> None:
    actor = manager(session)
    b = bodies(session)
    review = reviews.convene(session, actor, today=CONVENED)
    appoint_full_team(session, actor, review.id, b)
    reviews.advance(session, actor, review.id, "terms_of_reference", today=CONVENED)
    reviews.record_text(
        session, actor, review.id, "terms_of_reference", "Review due process since 2016."
    )
    reviews.advance(session, actor, review.id, "evidence_gathering", today=CONVENED)
    referred = reviews.add_finding(
        session,
        actor,
        review.id,
        "operational_service_levels",
        "Root zone changes took 80 hours at p95.",
    )
    kept = reviews.add_finding(
        session, actor, review.id, "due_process", "Escalations were not logged."
    )
    assert referred.referred_to == "dug" and kept.referred_to is None
    tags = session.scalars(select(AuditEvent.tag).where(AuditEvent.subject_type == "review")).all()
    assert "review:finding_referred" in tags
    reviews.record_text(session, actor, review.id, "draft_report", "Draft.")
    with pytest.raises(Invalid) as err:
        reviews.advance(session, actor, review.id, "draft_report", today=date(2020, 2, 1))
    assert err.value.field == "comment_closes"
    reviews.advance(
        session,
        actor,
        review.id,
        "draft_report",
        comment_closes=date(2020, 3, 1),
        today=date(2020, 2, 1),
    )
    reviews.add_public_comment(
        session, Principal.anonymous(), review.id, "A registrant", "Agree.", today=date(2020, 3, 1)
    )
    with pytest.raises(Conflict):
        reviews.add_public_comment(
            session, Principal.anonymous(), review.id, "Late", "x", today=date(2020, 3, 2)
        )
    d = reviews.add_direction(
        session, actor, review.id, "ifm", "Log every escalation publicly.", date(2020, 9, 1)
    )
    reviews.record_text(session, actor, review.id, "final_report", "Final.")
    with pytest.raises(Invalid, match="open until 2020-03-01"):
        reviews.advance(session, actor, review.id, "final_report", today=date(2020, 3, 1))
    reviews.advance(session, actor, review.id, "final_report", today=date(2020, 3, 2))
    with pytest.raises(Invalid, match="1 remedial direction"):
        reviews.advance(session, actor, review.id, "closed", today=date(2020, 3, 2))
    dug_chair = Principal.of(user(session, "chair@dug.test", ["dug_chair"]))
    with pytest.raises(Forbidden):
        reviews.complete_direction(session, dug_chair, d.id, "done", today=date(2020, 8, 1))
    ifm = Principal.of(user(session, "staff@ifm.test", ["ifm_staff"]))
    reviews.complete_direction(
        session, ifm, d.id, "Escalation log published.", today=date(2020, 8, 1)
    )
    closed = reviews.advance(session, actor, review.id, "closed", today=date(2020, 8, 2))
    assert closed.stage == "closed"
    assert reviews.schedule(session, date(2020, 8, 2))[0].status is CycleStatus.completed


def test_published_audit_is_linked_from_the_next_review_R_AUD_2(session: Session) -> None:
    dug = build_dug(session, term_start=date(2016, 10, 1))
    firm = org(session, "Northbridge", "audit_firm")
    auditor = Principal.of(user(session, "a@nb.test", ["auditor"], firm.id))
    pass_motion(session, dug, "commission_audit", "audit_cycle", 1, date(2019, 3, 1))
    audit = audits.commission(
        session, dug.chair, firm_id=firm.id, declaration="Independent.", today=date(2019, 3, 1)
    )
    audits.submit_report(session, auditor, audit.id, "Report", [FindingInput("f")])
    pass_motion(session, dug, "publish_findings", "audit", audit.id, date(2019, 9, 1))
    audits.publish(session, dug.chair, audit.id, date(2019, 10, 1), today=date(2019, 9, 1))
    review = reviews.convene(session, manager(session), today=CONVENED)
    assert [a.id for a in reviews.linked_audits(session, review)] == [audit.id]


def _publish_audit(session: Session, dug: Any, firm: Any, auditor: Principal, cycle: int, on: date) -> int:
    pass_motion(session, dug, "commission_audit", "audit_cycle", cycle, on)
    audit = audits.commission(session, dug.chair, firm_id=firm.id, declaration="Independent.", today=on)
    audits.submit_report(session, auditor, audit.id, f"Report {cycle}", [FindingInput("f")])
    pass_motion(session, dug, "publish_findings", "audit", audit.id, on)
    audits.publish(session, dug.chair, audit.id, on, today=on)
    return audit.id


def test_audit_published_while_a_review_runs_informs_it_and_not_the_next_R_AUD_2_R_IPRT_3(
    session: Session,
) -> None:
    from steward.reviews.api import review_out

    dug = build_dug(session, term_start=date(2016, 10, 1))
    firm = org(session, "Northbridge", "audit_firm")
    auditor = Principal.of(user(session, "a@nb.test", ["auditor"], firm.id))
    actor = manager(session)
    first = _publish_audit(session, dug, firm, auditor, 1, date(2019, 9, 1))
    review = reviews.convene(session, actor, today=CONVENED)
    # published while review 1 runs: linked to it at once, on the page and in the API
    second = _publish_audit(session, dug, firm, auditor, 2, date(2020, 1, 10))
    assert [a.id for a in reviews.linked_audits(session, review)] == [second, first]
    assert sorted(review_out(review).audits) == sorted([first, second])
    event = session.scalars(select(AuditEvent).where(AuditEvent.tag == "review:audit_linked")).one()
    assert event.data == {"cycle": 1, "audit_id": second} and event.public
    # a closed review takes no more audits; the next review is informed by the audits since
    review.stage, review.closed_on = "closed", date(2020, 8, 2)
    session.flush()
    third = _publish_audit(session, dug, firm, auditor, 3, date(2023, 1, 10))
    assert [a.id for a in reviews.linked_audits(session, review)] == [second, first]
    following = reviews.convene(session, actor, today=date(2023, 10, 15))
    assert [a.id for a in reviews.linked_audits(session, following)] == [third]


def test_review_reminder_when_due_soon(session: Session) -> None:
    user(session, "iprt@review.test", ["iprt_member"])
    now = datetime(2019, 9, 1, tzinfo=UTC)
    assert reviews.remind_next_review(session, now) == (
        "1 review reminder(s), 0 overdue direction reminder(s) queued"
    )
    assert reviews.remind_next_review(session, now) == (
        "0 review reminder(s), 0 overdue direction reminder(s) queued"
    )
    subject = session.scalars(select(OutboxEmail.subject)).one()
    assert subject == "[IPRT] Review 1 is due (2019-10-01)"


def test_an_overdue_direction_reminds_its_addressee_once(session: Session) -> None:
    actor = manager(session)
    b = bodies(session)
    review = reviews.convene(session, actor, today=CONVENED)
    appoint_full_team(session, actor, review.id, b)
    reviews.advance(session, actor, review.id, "terms_of_reference", today=CONVENED)
    reviews.record_text(session, actor, review.id, "terms_of_reference", "Due process.")
    reviews.advance(session, actor, review.id, "evidence_gathering", today=CONVENED)
    reviews.record_text(session, actor, review.id, "draft_report", "Draft.")
    reviews.advance(
        session, actor, review.id, "draft_report", comment_closes=date(2020, 3, 1), today=CONVENED
    )
    reviews.add_direction(session, actor, review.id, "dug", "Publish minutes.", date(2020, 6, 30))
    user(session, "chair@dug.test", ["dug_chair"])
    user(session, "staff@ifm.test", ["ifm_staff"])
    on_time = datetime(2020, 6, 30, tzinfo=UTC)
    assert reviews.remind_next_review(session, on_time).endswith(
        "0 overdue direction reminder(s) queued"
    )
    late = datetime(2020, 7, 1, tzinfo=UTC)
    assert reviews.remind_next_review(session, late).endswith(
        "1 overdue direction reminder(s) queued"
    )
    assert reviews.remind_next_review(session, late).endswith(
        "0 overdue direction reminder(s) queued"
    )
    to = session.scalars(
        select(OutboxEmail.to_address).where(OutboxEmail.subject.like("%direction%"))
    ).all()
    assert to == ["chair@dug.test"]
