"""DUG charter, roster, recusal and decisions through the services, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.errors import Conflict, Forbidden, Invalid, NotFound
from steward.events import AuditEvent, Publication
from steward.governance import repository as governance_repo
from steward.governance import service as governance
from steward.governance.domain import CharterText, MotionKind
from steward.outbox import OutboxEmail
from tests.integration.governance.dug_factory import (
    TERM_START,
    TODAY,
    build_dug,
    org,
    pass_motion,
    user,
)


def test_charter_versions_are_numbered_and_published_R_DUG_1(session: Session) -> None:
    dug = build_dug(session)
    admin = dug.chair
    text = CharterText("First point of escalation", "Elected by the members", "Monthly calls")
    v1 = governance.adopt_charter(session, admin, text, date(2016, 10, 1))
    # a later version is the DUG's decision: none yet, so refused and nothing adopted
    with pytest.raises(Conflict, match=r"Adopt a charter version.*charter 2"):
        governance.adopt_charter(session, admin, text, date(2024, 1, 1))
    pass_motion(session, dug, "adopt_charter", "charter", 3)  # a decision on another version
    with pytest.raises(Conflict):
        governance.adopt_charter(session, admin, text, date(2024, 1, 1))
    motion = pass_motion(session, dug, "adopt_charter", "charter", 2)
    v2 = governance.adopt_charter(session, admin, text, date(2024, 1, 1), note="Chair term 2y")
    assert (v1.version, v2.version) == (1, 2)
    event = session.scalars(select(AuditEvent).where(AuditEvent.tag == "charter:adopted")).all()[-1]
    assert event.data["motion_id"] == motion.id
    kinds = session.scalars(select(Publication.kind)).all()
    assert kinds.count("charter") == 2
    with pytest.raises(Invalid) as err:
        governance.adopt_charter(session, admin, CharterText("x", "", "y"), date(2025, 1, 1))
    assert err.value.field == "chair_appointment"


def test_backdated_charter_version_is_refused_and_one_version_is_in_force_R_DUG_1(
    session: Session,
) -> None:
    dug = build_dug(session)
    admin = dug.chair
    text = CharterText("First point of escalation", "Elected by the members", "Monthly calls")
    assert governance.charter_in_force(session, date(2020, 1, 1)) is None
    governance.adopt_charter(session, admin, text, date(2020, 1, 1))
    pass_motion(session, dug, "adopt_charter", "charter", 2)
    with pytest.raises(Invalid, match=r"before version 1, the latest.*2020-01-01.*R-DUG-1") as err:
        governance.adopt_charter(session, admin, text, date(2019, 12, 31))
    assert err.value.field == "effective_from"
    assert [c.version for c in governance_repo.charters(session)] == [1]
    v2 = governance.adopt_charter(session, admin, text, date(2020, 1, 1), note="same day")
    in_force = governance.charter_in_force(session, date(2020, 1, 1))
    assert in_force is not None and in_force.version == v2.version == 2
    assert governance.charter_in_force(session, date(2019, 12, 31)) is None


def test_full_roster_is_complete_and_a_ninth_voter_is_refused_R_DUG_2(session: Session) -> None:
    dug = build_dug(session)
    status = governance.roster_status(session, TODAY)
    assert status.complete
    assert len(status.serving) == 10
    extra_org = org(session, "Registry 99")
    u = user(session, "ninth@dug.test", ["dug_member"], extra_org.id)
    with pytest.raises(Invalid, match="9 voting members"):
        governance.add_member(
            session,
            sysadmin_of(session),
            user_id=u.id,
            seat="voting",
            community="gtld",
            technical_experience="x",
            term_start=TODAY,
        )
    assert dug.chair.user is not None


def sysadmin_of(session: Session):  # type: ignore[no-untyped-def]
    from steward.accounts.principal import Principal

    return Principal.of(user(session, "admin2@test.example", ["sysadmin"]))


def test_incomplete_roster_reports_vacancies(session: Session) -> None:
    build_dug(session, voting=6, liaisons=1)
    status = governance.roster_status(session, TODAY)
    assert [i.message for i in status.issues] == [
        "6 of 8 voting seats are filled (R-DUG-2).",
        "1 liaisons serve; at least 2 are needed (R-DUG-2).",
    ]


def test_a_fourth_liaison_and_a_technical_voter_are_refused_R_DUG_2(session: Session) -> None:
    build_dug(session, liaisons=3)
    admin = sysadmin_of(session)
    u = user(session, "l4@dug.test", ["dug_liaison"])
    with pytest.raises(Invalid, match="at most 3"):
        governance.add_member(
            session,
            admin,
            user_id=u.id,
            seat="liaison",
            community="technical",
            technical_experience="RSSAC",
            term_start=TODAY,
        )
    with pytest.raises(Invalid) as err:
        governance.add_member(
            session,
            admin,
            user_id=u.id,
            seat="voting",
            community="technical",
            technical_experience="RSSAC",
            term_start=TODAY,
        )
    assert err.value.field == "community"


def test_successor_seated_for_the_day_after_a_term_ends(session: Session) -> None:
    dug = build_dug(session)
    admin = sysadmin_of(session)
    leaving = dug.members[dug.voters[7].user_id]  # type: ignore[index]
    governance.change_member(session, admin, leaving.id, term_end=date(2026, 12, 31))
    o = org(session, "Registry Successor")
    u = user(session, "successor@dug.test", ["dug_member"], o.id)
    governance.add_member(
        session,
        admin,
        user_id=u.id,
        seat="voting",
        community="gtld",
        technical_experience="EPP and DNSSEC operations",
        term_start=date(2027, 1, 1),
    )
    assert governance.roster_status(session, date(2027, 1, 1)).complete
    names = [m.name for m in governance.upcoming_term_ends(session, date(2026, 12, 1), 60)]
    assert names == [leaving.name]


def test_only_the_chair_may_manage_the_roster(session: Session) -> None:
    dug = build_dug(session)
    with pytest.raises(Forbidden):
        governance.adopt_charter(session, dug.voters[1], CharterText("a", "b", "c"), TODAY)


def test_motion_passes_by_majority_and_records_votes_and_rule(session: Session) -> None:
    dug = build_dug(session)
    m = governance.propose_motion(
        session,
        dug.voters[1],
        kind="instruct_ifm",
        title="Instruct the IFM to publish",
        text="Publish the backlog report.",
        today=TODAY,
    )
    for i, choice in enumerate(["yes", "yes", "yes", "no", "abstain"]):
        governance.cast_vote(session, dug.voters[i], m.id, choice, today=TODAY)
    closed = governance.close_motion(session, dug.chair, m.id, today=TODAY)
    assert closed.state == "passed"
    assert closed.result_rule.startswith("Passed: 3 of 4 votes cast in favour")
    assert (
        "quorum is more than half of the 8 serving voting members, i.e. 5; 5 took part"
        in closed.result_rule
    )
    assert [v["choice"] for v in closed.result["votes"]] == ["yes", "yes", "yes", "no", "abstain"]
    tags = session.scalars(select(AuditEvent.tag).where(AuditEvent.subject_type == "motion")).all()
    assert tags.count("motion:voted") == 5 and "motion:passed" in tags
    pub = session.scalars(select(Publication).where(Publication.kind == "dug_decision")).one()
    assert pub.content["rule"] == closed.result_rule


def test_no_quorum_fails(session: Session) -> None:
    dug = build_dug(session)
    m = governance.propose_motion(
        session, dug.chair, kind="other", title="t", text="x", today=TODAY
    )
    for i in range(4):
        governance.cast_vote(session, dug.voters[i], m.id, "yes", today=TODAY)
    closed = governance.close_motion(session, dug.chair, m.id, today=TODAY)
    assert closed.state == "failed"
    assert closed.result_rule.startswith("Failed: no quorum")


def test_tie_fails(session: Session) -> None:
    dug = build_dug(session)
    m = governance.propose_motion(
        session, dug.chair, kind="other", title="t", text="x", today=TODAY
    )
    for i, choice in enumerate(["yes", "yes", "yes", "no", "no", "no"]):
        governance.cast_vote(session, dug.voters[i], m.id, choice, today=TODAY)
    closed = governance.close_motion(session, dug.chair, m.id, today=TODAY)
    assert closed.state == "failed"
    assert "a tie is not a majority" in closed.result_rule


def test_liaison_cannot_vote_but_comments(session: Session) -> None:
    dug = build_dug(session)
    m = governance.propose_motion(
        session, dug.chair, kind="other", title="t", text="x", today=TODAY
    )
    with pytest.raises(Forbidden, match="liaisons may comment but not vote"):
        governance.cast_vote(session, dug.liaisons[0], m.id, "yes", today=TODAY)
    c = governance.comment(session, dug.liaisons[0], m.id, "The IETF view is…", today=TODAY)
    assert c.member.seat == "liaison"


def test_recused_member_cannot_vote_nor_see_a_confidential_motion_R_DUG_3(session: Session) -> None:
    dug = build_dug(session)
    party = dug.orgs[3]
    m = governance.propose_motion(
        session,
        dug.chair,
        kind="engage_mediator",
        title="Engage a mediator",
        text="x",
        subject_type="dispute",
        subject_id=7,
        party_organisation_ids=[party.id],
        confidential=True,
        today=TODAY,
    )
    recused = dug.voters[3]
    with pytest.raises(NotFound):
        governance.readable_motion(session, recused, m.id, TODAY)
    with pytest.raises(NotFound):
        governance.cast_vote(session, recused, m.id, "yes", today=TODAY)
    assert m.id not in {x.id for x in governance.list_motions(session, recused, today=TODAY)}
    assert governance.recused_user_ids(session, [party.id], TODAY) == {recused.user_id}
    # the other seven voting all yes closes the motion: the recused member is not awaited
    for i, p in enumerate(dug.voters):
        if i != 3:
            governance.cast_vote(session, p, m.id, "yes", today=TODAY)
    assert m.state == "passed"
    assert m.result["eligible"] == 7
    # confidential: decided, but not published
    assert (
        session.scalars(select(Publication).where(Publication.kind == "dug_decision")).all() == []
    )


def test_a_party_member_sees_the_confidential_motion_but_the_public_does_not(
    session: Session,
) -> None:
    from steward.accounts.principal import Principal

    dug = build_dug(session)
    party = dug.orgs[5]
    m = governance.propose_motion(
        session,
        dug.chair,
        kind="instruct_ifm",
        title="t",
        text="x",
        party_organisation_ids=[party.id],
        confidential=True,
        today=TODAY,
    )
    staff = Principal.of(user(session, "staff@registry5.test", ["operator_staff"], party.id))
    assert governance.readable_motion(session, staff, m.id, TODAY).id == m.id
    with pytest.raises(NotFound):
        governance.readable_motion(session, Principal.anonymous(), m.id, TODAY)


def test_recused_member_cannot_propose_on_own_matter(session: Session) -> None:
    dug = build_dug(session)
    with pytest.raises(Forbidden, match="recused"):
        governance.propose_motion(
            session,
            dug.voters[2],
            kind="other",
            title="t",
            text="x",
            party_organisation_ids=[dug.orgs[2].id],
            today=TODAY,
        )


def test_a_member_whose_term_has_ended_cannot_vote(session: Session) -> None:
    dug = build_dug(session)
    admin = sysadmin_of(session)
    governance.change_member(
        session, admin, dug.members[dug.voters[6].user_id].id, term_end=date(2026, 5, 31)
    )  # type: ignore[index]
    m = governance.propose_motion(
        session, dug.chair, kind="other", title="t", text="x", today=TODAY
    )
    with pytest.raises(Forbidden, match="Only serving DUG members vote"):
        governance.cast_vote(session, dug.voters[6], m.id, "yes", today=TODAY)


def test_require_decision_for_another_context(session: Session) -> None:
    dug = build_dug(session)
    with pytest.raises(Conflict, match="needs a passed DUG decision"):
        governance.require_decision(session, MotionKind.engage_iap, "dispute", 12)
    motion = pass_motion(session, dug, "engage_iap", "dispute", 12)
    assert (
        governance.require_decision(session, MotionKind.engage_iap, "dispute", "12").id == motion.id
    )
    with pytest.raises(Conflict):
        governance.require_decision(session, MotionKind.engage_iap, "dispute", 13)


def test_closing_twice_is_a_conflict(session: Session) -> None:
    dug = build_dug(session)
    m = governance.propose_motion(
        session, dug.chair, kind="other", title="t", text="x", today=TODAY
    )
    governance.close_motion(session, dug.chair, m.id, today=TODAY)
    with pytest.raises(Conflict):
        governance.close_motion(session, dug.chair, m.id, today=TODAY)
    with pytest.raises(Conflict):
        governance.cast_vote(session, dug.voters[1], m.id, "yes", today=TODAY)


def test_proposal_emails_non_recused_members(session: Session) -> None:
    dug = build_dug(session)
    governance.propose_motion(
        session,
        dug.chair,
        kind="other",
        title="Budget",
        text="x",
        party_organisation_ids=[dug.orgs[4].id],
        today=TODAY,
    )
    to = set(session.scalars(select(OutboxEmail.to_address)).all())
    assert "voter4@dug.test" not in to
    assert {"voter0@dug.test", "liaison0@dug.test"} <= to


def test_terms_ending_reminder_is_idempotent(session: Session) -> None:
    from datetime import UTC, datetime

    dug = build_dug(session)
    admin = sysadmin_of(session)
    governance.change_member(
        session, admin, dug.members[dug.voters[2].user_id].id, term_end=date(2026, 7, 15)
    )  # type: ignore[index]
    now = datetime(2026, 6, 1, 9, tzinfo=UTC)
    assert governance.remind_terms_ending(session, now) == "2 term reminder(s) queued"
    assert governance.remind_terms_ending(session, now) == "0 term reminder(s) queued"
    subjects = session.scalars(
        select(OutboxEmail.subject).where(OutboxEmail.subject.like("%Term%"))
    ).all()
    assert subjects == ["[DUG] Term of Voter2 ends on 2026-07-15"] * 2
    assert TERM_START < TODAY


def test_a_back_dated_action_is_recorded_at_noon_utc_of_its_day() -> None:
    from datetime import UTC, datetime

    assert governance.moment(date(2001, 1, 1)) == datetime(2001, 1, 1, 12, tzinfo=UTC)


def test_a_motion_on_a_review_or_a_dispute_takes_its_parties_and_is_confidential_R_DUG_3(
    session: Session,
) -> None:
    """Whatever the proposer names, a motion on an urgent review has its operator concerned as a
    party and one on a dispute its complainant, each the IFM too: their members are recused from it
    (not shown it, not asked to vote, not emailed) and the motion is confidential."""
    from steward.disputes.models import DisputeCase
    from steward.systemic.models import Review, Signal
    from tests.integration.governance.dug_factory import org

    dug = build_dug(session)
    party = dug.orgs[3]
    recused = dug.voters[3]
    ifm = org(session, "PTI", "ifm")
    signal = Signal(kind="proposal", key="proposal:x", summary="Delays", observed_at=governance.moment(TODAY))
    session.add(signal)
    session.flush()
    review = Review(title="Delays", signal_id=signal.id, stage="long_term", operator_org_id=party.id)
    case = DisputeCase(reference="D-2026-0001", title="Slow", complainant_org_id=party.id, stage="assessment",
                       subject="service_level",
                       tlds=[], service_levels=[], what_happened="", negotiation="")
    session.add_all([review, case])
    session.flush()
    for subject_type, subject_id, parties in (("urgent_review", review.id, {party.id, ifm.id}),
                                              ("dispute", case.id, {party.id, ifm.id})):
        m = governance.propose_motion(session, dug.chair, kind="engage_mediator", title="Engage a mediator",
                                      text="x", subject_type=subject_type, subject_id=subject_id, today=TODAY)
        assert m.party_organisation_ids == parties and m.confidential, subject_type
        with pytest.raises(NotFound):
            governance.cast_vote(session, recused, m.id, "yes", today=TODAY)
        told = set(session.scalars(select(OutboxEmail.to_address).where(
            OutboxEmail.subject.contains(f"Motion #{m.id}:"))))
        assert told and recused.user is not None and recused.user.email not in told
