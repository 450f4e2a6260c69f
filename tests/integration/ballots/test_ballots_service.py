"""R-ESC-1 on a real database (SQLite and PostgreSQL): the consent ballot end to end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from steward.ballots import service
from steward.ballots.models import Vote
from steward.errors import Conflict, Forbidden, Invalid, NotFound
from steward.events import AuditEvent, Publication
from steward.outbox import OutboxEmail
from tests.integration.ballots.factories import eligible_review

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CLOSES = NOW + timedelta(days=10)


@pytest.fixture
def world(make, session):  # type: ignore[no-untyped-def]
    cc = make.operator("CC Registry", tlds=(("aa", "country-code"),))
    g = make.operator("G Registry", tlds=(("example", "generic"),))
    both = make.operator("Both Registry", tlds=(("bb", "country-code"), ("shop", "sponsored")))
    none = make.operator("Test Registry", tlds=(("test", "test"),))
    chair = make.user("dug_chair", "dug_member")
    voters = {
        "cc": make.user("operator_staff", org=cc),
        "g": make.user("operator_staff", org=g),
        "both": make.user("operator_staff", org=both),
        "none": make.user("operator_staff", org=none),
    }
    review = eligible_review(session, NOW)
    session.commit()
    return {"chair": chair, "voters": voters, "review": review, "orgs": (cc, g, both, none)}


def _open(session, world, **kw):  # type: ignore[no-untyped-def]
    return service.open_ballot(
        session, world["chair"].principal(session), matter_type="urgent_review",
        matter_id=world["review"].id, option=kw.pop("option", "golden_bylaw"), closes_at=CLOSES, now=NOW, **kw)


def _vote(session, world, who, choice=None, **kw):  # type: ignore[no-untyped-def]
    return service.cast_vote(session, world["voters"][who].principal(session), kw.pop("ballot_id"),
                             choice=choice, now=kw.pop("now", NOW + timedelta(hours=1)), **kw)


def test_electorate_and_rules_are_fixed_at_opening_R_ESC_1(session, world) -> None:  # type: ignore[no-untyped-def]
    ballot = _open(session, world)
    assert (ballot.electorate_cctld, ballot.electorate_gtld) == (2, 2)
    assert (ballot.quorum_percent, ballot.majority_percent) == (50, 50)
    assert any("50%" in line for line in service.rules_of(ballot).describe())
    event = session.scalar(select(AuditEvent).where(AuditEvent.tag == "ballot:opened"))
    assert event.public and event.data["electorate"] == {"cctld": 2, "gtld": 2}


def test_opening_needs_an_eligible_matter_and_a_dug_decision_R_ESC_1(session, world) -> None:  # type: ignore[no-untyped-def]
    undecided = eligible_review(session, NOW, decided=False)
    with pytest.raises(Conflict, match="passed DUG decision"):
        service.open_ballot(session, world["chair"].principal(session), matter_type="urgent_review",
                            matter_id=undecided.id, option="spill_board", closes_at=CLOSES, now=NOW)
    undecided.outcome = "not_systemic"
    session.flush()
    with pytest.raises(Conflict, match="not eligible"):
        service.open_ballot(session, world["chair"].principal(session), matter_type="urgent_review",
                            matter_id=undecided.id, option="spill_board", closes_at=CLOSES, now=NOW)
    with pytest.raises(Invalid) as err:
        _open(session, world, option="other", description="")
    assert err.value.field == "description"
    with pytest.raises(Forbidden):
        service.open_ballot(session, world["voters"]["cc"].principal(session), matter_type="urgent_review",
                            matter_id=world["review"].id, option="spill_board", closes_at=CLOSES, now=NOW)


def test_a_closing_moment_far_ahead_is_refused_and_opens_nothing(session, world) -> None:  # type: ignore[no-untyped-def]
    far = [datetime(9999, 12, 31, 23, 59, tzinfo=UTC), NOW + timedelta(days=367),
           datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-5)))]  # past the last moment in UTC
    emails = len(session.scalars(select(OutboxEmail.id)).all())
    for closes in far:
        with pytest.raises(Invalid) as err:
            service.open_ballot(session, world["chair"].principal(session), matter_type="urgent_review",
                                matter_id=world["review"].id, option="golden_bylaw", closes_at=closes, now=NOW)
        assert err.value.field == "closes_at", closes
    assert session.scalar(select(AuditEvent).where(AuditEvent.tag == "ballot:opened")) is None
    assert len(session.scalars(select(OutboxEmail.id)).all()) == emails
    assert _open(session, world).closes_at == CLOSES  # within the horizon: opened


def test_open_emails_every_operators_contacts_R_ESC_1(session, world) -> None:  # type: ignore[no-untyped-def]
    _open(session, world)
    to = set(session.scalars(select(OutboxEmail.to_address)))
    voters = world["voters"]
    assert {voters[k].email for k in ("cc", "g", "both")} <= to
    assert voters["none"].email not in to  # not a naming customer


def test_operator_in_both_chambers_votes_in_each_and_changes_its_vote_R_ESC_1(session, world) -> None:  # type: ignore[no-untyped-def]
    ballot = _open(session, world)
    first = _vote(session, world, "both", "yes", ballot_id=ballot.id)
    assert set(first.receipts) == {"cctld", "gtld"} and not first.changed
    second = _vote(session, world, "both", None, chambers={"gtld": "no"}, ballot_id=ballot.id)
    assert second.changed and set(second.receipts) == {"gtld"}
    rows = {v.chamber: v for v in session.scalars(select(Vote).where(Vote.ballot_id == ballot.id))}
    assert rows["cctld"].choice == "yes" and rows["gtld"].choice == "no" and len(rows) == 2
    assert rows["gtld"].receipt == second.receipts["gtld"] != first.receipts["gtld"]
    with pytest.raises(Invalid) as err:
        _vote(session, world, "cc", None, chambers={"gtld": "yes"}, ballot_id=ballot.id)
    assert err.value.field == "chamber"
    with pytest.raises(Invalid, match="electorate"):
        _vote(session, world, "none", "yes", ballot_id=ballot.id)


def test_votes_are_refused_before_opening_and_after_closing_R_ESC_1(session, world) -> None:  # type: ignore[no-untyped-def]
    ballot = service.open_ballot(session, world["chair"].principal(session), matter_type="urgent_review",
                                 matter_id=world["review"].id, option="contract_co",
                                 opens_at=NOW + timedelta(days=1), closes_at=CLOSES, now=NOW)
    with pytest.raises(Invalid, match="not open yet"):
        _vote(session, world, "cc", "yes", ballot_id=ballot.id)
    with pytest.raises(Conflict, match="closed"):
        _vote(session, world, "cc", "yes", ballot_id=ballot.id, now=CLOSES)
    with pytest.raises(Conflict, match="votes are accepted until then"):
        service.close_ballot(session, None, ballot.id, CLOSES - timedelta(seconds=1))
    service.close_ballot(session, None, ballot.id, CLOSES)
    with pytest.raises(Conflict, match="closed"):
        _vote(session, world, "cc", "yes", ballot_id=ballot.id, now=CLOSES - timedelta(hours=1))


def test_tally_receipts_and_publication_at_close_R_ESC_1(session, world) -> None:  # type: ignore[no-untyped-def]
    ballot = _open(session, world)
    receipts = {k: _vote(session, world, k, "yes", ballot_id=ballot.id) for k in ("cc", "g", "both")}
    with pytest.raises(NotFound):
        service.published_leaves(session, ballot)
    with pytest.raises(NotFound):
        service.verify_code(session, ballot, receipts["cc"].code)
    assert service.close_due(session, CLOSES) == "closed 1 ballots"
    assert ballot.closed and ballot.passed
    assert ballot.tally["chambers"][0] == {
        "chamber": "cctld", "electorate": 2, "yes": 2, "no": 0, "abstain": 0, "cast": 2,
        "quorum_needed": 1, "quorum_met": True, "majority_met": True, "passed": True}
    leaves = service.published_leaves(session, ballot)
    assert len(leaves) == 4 and ballot.receipt_count == 4
    assert [x["receipt"] for x in leaves] == sorted(x["receipt"] for x in leaves)
    found = service.verify_code(session, ballot, receipts["both"].code)
    assert {v["leaf"]["chamber"] for v in found} == {"cctld", "gtld"}
    assert all(v["verified"] and v["root_hex"] == ballot.receipt_root for v in found)
    pub = session.scalar(select(Publication).where(Publication.kind == "ballot-result"))
    assert pub.content["passed"] is True and pub.content["receipt_tree"]["size"] == 4
    # the published result names no organisation
    assert "Registry" not in str(pub.content)
    # the audit trail never says how anyone voted
    for e in session.scalars(select(AuditEvent).where(AuditEvent.subject_type == "ballot")):
        assert "choice" not in e.data and not any(r in str(e.data) for r in receipts["cc"].receipts.values())
    closed = session.scalar(select(AuditEvent).where(AuditEvent.tag == "ballot:closed"))
    assert closed.public and closed.data["receipt_root"] == ballot.receipt_root


def test_quorum_fails_in_one_chamber_then_no_execution_R_ESC_1(session, world) -> None:  # type: ignore[no-untyped-def]
    ballot = _open(session, world)
    _vote(session, world, "cc", "yes", ballot_id=ballot.id)
    # gTLD chamber: nobody votes -> no quorum there
    with pytest.raises(Conflict, match="not closed yet"):
        service.execute_option(session, world["chair"].principal(session), ballot.id, "", NOW)
    service.close_ballot(session, None, ballot.id, CLOSES)
    assert ballot.passed is False
    assert ballot.tally["chambers"][1]["quorum_met"] is False
    with pytest.raises(Conflict, match="did not consent"):
        service.execute_option(session, world["chair"].principal(session), ballot.id, "", CLOSES)


def test_execution_after_consent_is_recorded_once_R_ESC_1(session, world) -> None:  # type: ignore[no-untyped-def]
    ballot = _open(session, world, option="spill_board")
    for k in ("cc", "g"):
        _vote(session, world, k, "yes", ballot_id=ballot.id)
    service.close_ballot(session, None, ballot.id, CLOSES)
    service.execute_option(session, world["chair"].principal(session), ballot.id, "Board notified", CLOSES)
    assert ballot.executed_at is not None
    with pytest.raises(Conflict, match="already executed"):
        service.execute_option(session, world["chair"].principal(session), ballot.id, "", CLOSES)


def test_reminder_before_close_is_sent_once(session, world) -> None:  # type: ignore[no-untyped-def]
    ballot = _open(session, world)
    before = session.query(OutboxEmail).count()
    assert service.remind_closing(session, NOW + timedelta(days=1)) == "queued 0 ballot reminders"
    summary = service.remind_closing(session, CLOSES - timedelta(hours=47))
    assert summary == "queued 3 ballot reminders"
    assert service.remind_closing(session, CLOSES - timedelta(hours=46)) == "queued 0 ballot reminders"
    assert session.query(OutboxEmail).count() == before + 3
    assert ballot.reminder_sent


def test_a_dispute_is_eligible_only_after_the_iap_outcome_allows_it_R_DSP_6(session, world) -> None:  # type: ignore[no-untyped-def]
    from steward.disputes.models import DisputeCase
    from tests.integration.ballots.factories import passed_decision

    cc_org = world["orgs"][0]
    case = DisputeCase(reference="D-2026-9", title="Slow DS changes", complainant_org_id=cc_org.id,
                       stage="mediation", subject="performance", lodged_at=NOW)
    session.add(case)
    session.flush()
    passed_decision(session, "proceed_further_escalation", "dispute", case.id)
    chair = world["chair"].principal(session)
    with pytest.raises(Conflict, match="not eligible"):
        service.open_ballot(session, chair, matter_type="dispute", matter_id=case.id, option="contract_co",
                            closes_at=CLOSES, now=NOW)
    case.stage = "not_capable_of_remedy"
    session.flush()
    ballot = service.open_ballot(session, chair, matter_type="dispute", matter_id=case.id, option="contract_co",
                                 closes_at=CLOSES, now=NOW)
    assert service.matter_of(session, ballot)["url"] == f"/disputes/{case.id}"
    with pytest.raises(Conflict, match="still open"):
        service.open_ballot(session, chair, matter_type="dispute", matter_id=case.id, option="contract_co",
                            closes_at=CLOSES, now=NOW)


def test_a_vote_in_flight_holds_off_the_close_then_is_counted(db_url, world) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from steward import db as dbmod

    with dbmod.session_scope() as s:
        ballot_id = _open(s, world).id
    voting = dbmod.new_session()
    closing = dbmod.new_session()
    try:
        service.cast_vote(voting, world["voters"]["cc"].principal(voting), ballot_id, choice="yes",
                          now=NOW + timedelta(hours=1))
        if db_url.startswith("sqlite"):
            # SQLite: the vote's transaction holds the database's write lock
            raw = sqlite3.connect(db_url.split("///", 1)[1], timeout=0.1)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                raw.execute("BEGIN IMMEDIATE")
            raw.close()
        else:
            # PostgreSQL: the vote holds the ballot row shared; the close needs it exclusive
            closing.execute(text("SET lock_timeout = '300ms'"))
            with pytest.raises(OperationalError):
                service.close_ballot(closing, None, ballot_id, CLOSES)
            closing.rollback()
        voting.commit()
        closed = service.close_ballot(closing, None, ballot_id, CLOSES)
        assert closed.tally["chambers"][0]["yes"] == 1
        closing.commit()
    finally:
        voting.close()
        closing.close()


def test_a_chair_whose_organisation_is_a_party_does_not_open_the_ballot_R_DUG_3(session, world, make) -> None:  # type: ignore[no-untyped-def]
    cc = world["orgs"][0]
    recused_chair = make.user("dug_chair", "dug_member", org=cc)
    world["review"].operator_org_id = cc.id  # the review's operator concerned
    session.flush()
    with pytest.raises(Forbidden, match="recused"):
        service.open_ballot(session, recused_chair.principal(session), matter_type="urgent_review",
                            matter_id=world["review"].id, option="golden_bylaw", closes_at=CLOSES, now=NOW)
    ballot = _open(session, world)  # a chair who is not recused does
    for k in ("cc", "g"):
        _vote(session, world, k, "yes", ballot_id=ballot.id)
    with pytest.raises(Forbidden, match="recused"):  # nor closes it by hand (the worker does)
        service.close_ballot(session, recused_chair.principal(session), ballot.id, CLOSES)
    service.close_ballot(session, None, ballot.id, CLOSES)
    with pytest.raises(Forbidden, match="recused"):  # nor executes the option the customers consented to
        service.execute_option(session, recused_chair.principal(session), ballot.id, "", CLOSES)
    assert ballot.executed_at is None


def test_a_member_stands_in_when_every_chair_is_recused_R_DUG_3(session, world, make) -> None:  # type: ignore[no-untyped-def]
    """Opening the ballot and executing the option are the chair's; when every chair's
    organisation is a party to the matter, a DUG member who is not stands in (as on the matter
    itself), so that the chair's recusal cannot block the naming customers' consent."""
    from steward.accounts.models import User

    cc, g = world["orgs"][:2]
    member = make.user("dug_member", org=g)
    recused_member = make.user("dug_member", org=cc)
    world["review"].operator_org_id = cc.id
    session.flush()

    def open_as(user):  # type: ignore[no-untyped-def]
        return service.open_ballot(session, user.principal(session), matter_type="urgent_review",
                                   matter_id=world["review"].id, option="golden_bylaw", closes_at=CLOSES, now=NOW)

    with pytest.raises(Forbidden, match="DUG chair"):  # the chair is not recused: no stand-in
        open_as(member)
    session.get(User, world["chair"].id).organisation_id = cc.id  # now every chair is
    session.flush()
    review = (service.MatterKind.URGENT_REVIEW, world["review"].id)
    assert service.may_manage(session, member.principal(session), review)
    assert not service.may_manage(session, recused_member.principal(session), review)
    assert not service.may_manage(session, world["chair"].principal(session), review)
    with pytest.raises(Forbidden, match="recused"):
        open_as(recused_member)
    ballot = open_as(member)
    assert ballot.opened_by_id == member.id
    for k in ("cc", "g"):
        _vote(session, world, k, "yes", ballot_id=ballot.id)
    service.close_ballot(session, member.principal(session), ballot.id, CLOSES)
    with pytest.raises(Forbidden, match="recused"):
        service.execute_option(session, recused_member.principal(session), ballot.id, "", CLOSES)
    executed = service.execute_option(session, member.principal(session), ballot.id, "Golden bylaw invoked.", CLOSES)
    assert executed.executed_by_id == member.id
