"""R-SYS-1 detection over real rows and the R-SYS-2 urgent review path, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from steward.audits.models import Audit, AuditFinding
from steward.disputes.models import DisputeCase
from steward.errors import Conflict, Forbidden, Invalid, NotFound
from steward.events import AuditEvent, Publication
from steward.outbox import OutboxEmail
from steward.sla.models import SlaReport
from steward.systemic import repository, service
from steward.systemic.models import Milestone, Signal
from steward.systemic.service import ActInput
from tests.integration.ballots.factories import passed_decision

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _disputes(session, org_id: int, n: int, start: datetime, step: timedelta, stage: str = "lodged",  # type: ignore[no-untyped-def]
              closed_after: timedelta | None = None) -> list[int]:
    ids = []
    for i in range(n):
        lodged = start + step * i
        case = DisputeCase(reference=f"D-{start:%j}-{stage[:3]}{i}", title="Slow change", complainant_org_id=org_id,
                           stage=stage, subject="performance", lodged_at=lodged,
                           closed_at=None if closed_after is None else lodged + closed_after)
        session.add(case)
        session.flush()
        ids.append(case.id)
    return ids


def test_dispute_count_signal_fires_above_threshold_with_links_R_SYS_1(session, make) -> None:  # type: ignore[no-untyped-def]
    org = make.operator("Complaining Registry")
    dug = make.user("dug_member")
    _disputes(session, org.id, 5, NOW - timedelta(days=20), timedelta(days=3))
    assert service.detect(session, NOW) == "no new signal"
    ids = _disputes(session, org.id, 1, NOW - timedelta(days=1), timedelta(0))
    assert service.detect(session, NOW) == "1 new signals"
    assert service.detect(session, NOW) == "no new signal"  # idempotent
    [signal] = repository.signals(session, dug.principal(session))
    assert signal.kind == "dispute_count" and len(signal.evidence) == 6
    assert service.evidence_link(signal.evidence[-1]["kind"], signal.evidence[-1]["ref"]) == f"/disputes/{ids[0]}"
    assert session.scalar(select(OutboxEmail.to_address).where(OutboxEmail.to_address == dug.email))


def test_complaints_refused_at_the_door_are_no_sign_of_a_service_level_breach_R_SYS_1_R_DSP_1(session, make) -> None:  # type: ignore[no-untyped-def]
    org = make.operator("Complaining Registry")
    _disputes(session, org.id, 5, NOW - timedelta(days=20), timedelta(days=3))
    # refused as they were lodged (a delegation or policy matter): never an open complaint
    _disputes(session, org.id, 3, NOW - timedelta(days=2), timedelta(hours=1), stage="refused",
              closed_after=timedelta(0))
    assert service.detect(session, NOW) == "no new signal"
    _disputes(session, org.id, 1, NOW - timedelta(days=1), timedelta(0), stage="withdrawn",
              closed_after=timedelta(hours=2))  # still a complaint about the service levels
    assert service.detect(session, NOW) == "1 new signals"
    [signal] = session.scalars(select(Signal)).all()
    assert len(signal.evidence) == 6


def test_a_complaint_the_dug_refuses_later_does_not_move_a_signalled_episode_R_SYS_1(session, make) -> None:  # type: ignore[no-untyped-def]
    org = make.operator("Complaining Registry")
    ids = _disputes(session, org.id, 6, NOW - timedelta(days=20), timedelta(days=3))
    assert service.detect(session, NOW) == "1 new signals"
    _disputes(session, org.id, 1, NOW - timedelta(hours=1), timedelta(0))
    refused = session.get(DisputeCase, ids[1])
    refused.stage, refused.closed_at = "refused", NOW - timedelta(hours=2)  # by the DUG, days after lodging
    session.flush()
    assert service.detect(session, NOW) == "no new signal"  # the same burst is not signalled twice


def test_sla_and_audit_signals_R_SYS_1(session, make) -> None:  # type: ignore[no-untyped-def]
    for month, compliance in (("2026-07", 90.0), ("2026-08", 91.0), ("2026-09", 60.0)):
        session.add(SlaReport(month=month, catalogue_version="1", met=0, with_data=1, total=1,
                                    rating="satisfactory", published_at=NOW,
                                    content={"metrics": [{"id": "publish", "compliance": compliance, "target": 99}]}))
    firm = make.org("Audit Firm", "audit_firm")
    audit = Audit(cycle=1, due_on=date(2026, 1, 1), firm_id=firm.id, declaration="independent",
                  declared_on=date(2026, 1, 1), commissioned_on=date(2026, 1, 1), submitted_at=NOW)
    session.add(audit)
    session.flush()
    session.add(AuditFinding(audit_id=audit.id, title="Change log gaps", severity="major"))
    session.add(AuditFinding(audit_id=audit.id, title="All thresholds met", severity="observation"))
    session.flush()
    service.detect(session, NOW)
    kinds = sorted(s.kind for s in session.scalars(select(Signal)))
    assert kinds == ["audit_finding", "sla_extreme", "sla_streak"]
    streak = session.scalar(select(Signal).where(Signal.kind == "sla_streak"))
    assert [service.evidence_link(e["kind"], e["ref"]) for e in streak.evidence] == [
        "/sla?month=2026-07", "/sla?month=2026-08", "/sla?month=2026-09"]


def test_signals_are_for_the_dug_only(session, make) -> None:  # type: ignore[no-untyped-def]
    member = make.user("dug_member")
    operator = make.user("operator_staff", org=make.operator())
    complainant = make.operator("Complaining Registry", tlds=(("example2", "country-code"),))
    [dispute] = _disputes(session, complainant.id, 1, NOW - timedelta(days=2), timedelta(0))
    row = service.propose(session, member.principal(session), title="Root zone publication delays",
                          reasoning="Three operators report publication taking over a week.",
                          evidence=f"dispute {dispute}\nhttps://example.org/report", now=NOW)
    assert row.key == f"proposal:{row.id}" and row.evidence[1] == {
        "kind": "dispute", "ref": str(dispute), "label": f"dispute {dispute}"}
    with pytest.raises(NotFound):
        service.get_signal(session, operator.principal(session), row.id)
    with pytest.raises(Forbidden):
        service.propose(session, operator.principal(session), title="x", reasoning="y" * 30, evidence="", now=NOW)
    with pytest.raises(Invalid) as err:
        service.propose(session, member.principal(session), title="t", reasoning="short", evidence="", now=NOW)
    assert err.value.field == "reasoning"


def _counts(session) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    return tuple(len(session.scalars(select(model.id)).all()) for model in (Signal, OutboxEmail, AuditEvent))


def test_cited_evidence_must_exist_and_be_visible_to_the_proposer_R_SYS_1_R_DUG_3_R_DSP_7(session, make) -> None:  # type: ignore[no-untyped-def]
    """A proposal citing what does not exist is refused naming the evidence line, and stores,
    archives and emails nothing; a dispute the proposer may not see is answered exactly as one
    that does not exist."""
    denic = make.operator("DENIC eG", tlds=(("de", "country-code"),))
    member = make.user("dug_member", org=make.operator("SIDN", tlds=(("nl", "country-code"),)))
    recused = make.user("dug_member", org=denic)  # DENIC's disputes are not theirs to see (R-DUG-3)
    firm = make.org("Audit Firm", "audit_firm")
    [lodged] = _disputes(session, denic.id, 1, NOW - timedelta(days=3), timedelta(0))
    unlodged = DisputeCase(reference="D-draft", title="Draft", complainant_org_id=denic.id, stage="negotiation",
                           subject="performance")  # between the parties: not the DUG's (R-DSP-7)
    audit, other = (Audit(cycle=c, due_on=date(2026, 1, 1), firm_id=firm.id, declaration="independent",
                          declared_on=date(2026, 1, 1), commissioned_on=date(2026, 1, 1)) for c in (1, 2))
    session.add_all([unlodged, audit, other])
    session.flush()
    finding = AuditFinding(audit_id=audit.id, title="Change log gaps", severity="major")
    session.add(finding)
    session.flush()

    def propose(who, evidence):  # type: ignore[no-untyped-def]
        return service.propose(session, who.principal(session), title="Publication delays",
                               reasoning="Publication has taken over a week for many operators.",
                               evidence=evidence, now=NOW)

    def refused(who, evidence):  # type: ignore[no-untyped-def]
        before = _counts(session)
        with pytest.raises(Invalid) as err:
            propose(who, evidence)
        assert err.value.field == "evidence", evidence
        assert _counts(session) == before and not session.new, evidence  # nothing stored, archived or emailed
        return err.value.message

    missing = refused(member, "https://example.org/report\ndispute 99999")
    assert missing == "line 2 (dispute 99999): no dispute #99999 that you may see"
    hidden = refused(recused, f"https://example.org/report\ndispute {lodged}")
    assert hidden == missing.replace("99999", str(lodged))  # not told apart from a missing dispute
    assert refused(member, f"dispute {unlodged.id}") == f"line 1 (dispute {unlodged.id}): no dispute #{unlodged.id} that you may see"
    assert "no audit #99999" in refused(member, "audit 99999")
    assert "'abc' is not an audit number" in refused(member, "audit abc")
    assert f"no finding #{finding.id} of audit #{other.id}" in refused(member, f"audit_finding {other.id}/{finding.id}")
    assert "'2026-13' is not a month" in refused(member, "sla_month 2026-13")
    assert "the month 2026-12 has not begun" in refused(member, "sla_month 2026-12/publish")
    assert "no signal #99999" in refused(member, "proposal 99999")

    first = propose(member, "")
    row = propose(member, f"dispute #{lodged}\naudit {audit.id}\naudit_finding {audit.id}/{finding.id}\n"
                          f"sla_month 2026-11/publish\nproposal {first.id}\nhttps://example.org/report")
    assert [(e["kind"], e["ref"]) for e in row.evidence[1:]] == [
        ("dispute", str(lodged)), ("audit", str(audit.id)), ("audit_finding", f"{audit.id}/{finding.id}"),
        ("sla_month", "2026-11/publish"), ("proposal", str(first.id)), ("link", "https://example.org/report")]


def test_milestones_and_steps_due_too_far_ahead_are_refused_R_SYS_2(session, make) -> None:  # type: ignore[no-untyped-def]
    chair = make.user("dug_chair", "dug_member")
    review = _root_cause_review(session, chair)
    review.stage = "long_term"
    session.flush()
    c = chair.principal(session)
    for far in ("9999-12-31 Re-architect the pipeline", "2026-12-01 Plan\n2031-11-29 Re-architect the pipeline"):
        with pytest.raises(Invalid, match="more than 5 years ahead") as err:
            service.act(session, c, review.id, "add_step", ActInput(milestones=far), NOW)
        assert err.value.field == "milestones"
        assert review.milestones == [] and not session.new
    service.act(session, c, review.id, "add_step", ActInput(milestones="2031-11-28 Re-architect the pipeline"), NOW)
    assert [m.due for m in review.milestones] == [date(2031, 11, 28)]


def test_the_next_steps_offered_are_those_whose_guards_pass_R_SYS_2(session, make) -> None:  # type: ignore[no-untyped-def]
    chair = make.user("dug_chair", "dug_member")
    review = _root_cause_review(session, chair)
    review.stage = "remediation"
    session.add_all([Milestone(review_id=review.id, kind="remediation", title=t, due=date(2026, 12, 10))
                     for t in ("Fix the cron", "Add monitoring")])
    session.flush()
    session.refresh(review)
    c = chair.principal(session)

    def offered() -> list[str]:
        return [a.value for a in service.available_actions(session, chair.principal(session), review, now=NOW)]

    assert offered() == ["complete_milestone"]  # not request_advice, which would be refused
    with pytest.raises(Invalid, match="not completed"):
        service.act(session, c, review.id, "request_advice", ActInput(), NOW)
    for m in list(review.milestones):
        service.act(session, c, review.id, "complete_milestone", ActInput(milestone_id=m.id), NOW)
    assert offered() == ["request_advice"]  # nothing left to complete
    service.act(session, c, review.id, "request_advice", ActInput(), NOW)
    assert review.stage == "advice"


def test_the_whole_urgent_review_path_R_SYS_2(session, make) -> None:  # type: ignore[no-untyped-def]
    chair = make.user("dug_chair", "dug_member")
    expert_user = make.user("expert")
    mediator = make.user("mediator")
    other_mediator = make.user("mediator")
    panelist = make.user("iap_panelist")
    other_panelist = make.user("iap_panelist")
    ifm_org = make.org("PTI", "ifm")
    ifm = make.user("ifm_staff", org=ifm_org)
    operator = make.user("operator_staff", org=make.operator())
    outsider = make.user("expert")
    c = chair.principal(session)
    signal = service.propose(session, c, title="Publication delays",
                             reasoning="Publication took over a week for many operators.", evidence="", now=NOW)
    with pytest.raises(Conflict, match="passed DUG decision"):
        service.open_review(session, c, signal.id, title="Publication delays", now=NOW)
    passed_decision(session, "determine_systemic_failure", "systemic-signal", signal.id)
    review = service.open_review(session, c, signal.id, title="Publication delays", now=NOW)
    assert review.stage == "determined" and signal.state == "review"

    def act(who, action, now=NOW, **kw):  # type: ignore[no-untyped-def]
        return service.act(session, who.principal(session), review.id, action, ActInput(**kw), now)

    with pytest.raises(Conflict, match="Appoint a team of technical experts"):
        act(chair, "appoint_expert", name="Ada", expertise="DNS operations")
    passed_decision(session, "appoint_experts", "urgent_review", review.id)
    with pytest.raises(Invalid, match="conflict of interest"):
        act(chair, "appoint_expert", name="Pat", expertise="DNS", organisation_id=ifm_org.id)
    with pytest.raises(Invalid) as err:
        act(chair, "appoint_expert", name="Bob", expertise=" ")
    assert err.value.field == "expertise"
    act(chair, "appoint_expert", name="Ada", expertise="DNS operations, DNSSEC", user_email=expert_user.email)
    act(chair, "start_root_cause")
    act(ifm, "add_evidence", text="Queue metrics for October", ref="https://example.org/q")
    act(expert_user, "record_findings", text="The publication queue was starved by a cron failure.")
    with pytest.raises(NotFound):
        act(operator, "add_evidence", text="nope")  # operators cannot see the review at all
    act(chair, "agree_remediation", milestones="2026-12-10 Fix the cron\n2027-01-15 Add monitoring")
    assert [m.title for m in review.milestones] == ["Fix the cron", "Add monitoring"]
    # overdue milestone: one reminder
    assert service.remind_due(session, datetime(2026, 12, 11, tzinfo=UTC)) == "1 overdue reminders"
    assert service.remind_due(session, datetime(2026, 12, 12, tzinfo=UTC)) == "0 overdue reminders"
    with pytest.raises(Invalid, match="not completed"):
        act(chair, "request_advice")
    for m in list(review.milestones):
        act(chair, "complete_milestone", milestone_id=m.id)
    act(chair, "request_advice")
    with pytest.raises(NotFound):  # an expert not appointed to this review does not even see it
        act(outsider, "advise", critical=True, text="Not appointed, may not advise")
    act(expert_user, "advise", critical=True, text="A systemic failure of the publication pipeline.")
    assert review.stage == "long_term"
    act(chair, "add_step", milestones="2027-03-01 Re-architect the pipeline")
    passed_decision(session, "engage_mediator", "urgent_review", review.id)
    report = "Remediation done, but the same delays came back in March."
    with pytest.raises(Invalid) as err:  # the mediator is engaged by name
        act(chair, "engage_mediator", text=report)
    assert err.value.field == "mediator_ids" and review.stage == "long_term"
    with pytest.raises(Invalid, match="not an active mediator") as err:
        act(chair, "engage_mediator", text=report, mediator_ids=(panelist.id,))
    assert err.value.field == "mediator_ids"
    with pytest.raises(Invalid) as err:  # the report is checked before anyone is engaged
        act(chair, "engage_mediator", text="short", mediator_ids=(mediator.id,))
    assert err.value.field == "text" and not session.new and review.participants == []
    act(chair, "engage_mediator", text=report, mediator_ids=(mediator.id,))
    assert review.stage == "mediation"
    assert service.get_review(session, mediator.principal(session), review.id).id == review.id
    # R-SYS-2 (as R-DSP-7): a mediator not engaged on this review does not see it
    with pytest.raises(NotFound):
        service.get_review(session, other_mediator.principal(session), review.id)
    assert repository.reviews(session, other_mediator.principal(session)) == []
    # the DUG may engage another mediator during mediation (the first one left): the report stays
    version = review.version
    act(chair, "engage_mediator", mediator_ids=(other_mediator.id,))
    assert (review.stage, review.previous_attempts_report, review.version) == ("mediation", report, version + 1)
    assert service.get_review(session, other_mediator.principal(session), review.id).id == review.id
    passed_decision(session, "engage_iap", "urgent_review", review.id)
    with pytest.raises(NotFound):  # nor does a panelist before the IAP is engaged
        service.get_review(session, panelist.principal(session), review.id)
    with pytest.raises(Invalid) as err:
        act(chair, "engage_iap")
    assert err.value.field == "panelist_ids"
    act(chair, "engage_iap", panelist_ids=(panelist.id,))
    assert {p.user_id for p in review.participants} == {mediator.id, other_mediator.id, panelist.id}
    with pytest.raises(NotFound):  # a panelist not engaged neither sees the review nor decides
        act(other_panelist, "iap_decision", finding="no_breach", text="Not engaged, may not decide.")
    act(chair, "engage_iap", panelist_ids=(other_panelist.id,))  # more panelists, at the IAP
    assert review.stage == "iap"
    assert service.get_review(session, other_panelist.principal(session), review.id).id == review.id
    assert service.get_review(session, mediator.principal(session), review.id).id == review.id  # still
    act(panelist, "iap_decision", finding="not_remediable", text="The breach cannot be remedied by the IFM.")
    assert (review.stage, review.outcome) == ("closed", "iap_not_remediable")
    assert service.escalation_eligible(review)
    pub = session.scalar(select(Publication).where(Publication.kind == "iap_finding"))  # as disputes' (R-DSP-6)
    assert pub.content["binds"] == ["DUG", "IFM"] and pub.content["finding"] == "not_remediable"
    assert pub.url == f"/disputes/findings#review-{review.id}"  # a public page: the review itself is not
    [listed] = [f for f in service.published_findings(session) if f["review"] == review.id]
    assert listed["finding_label"] == "Breach not capable of remedy" and listed["eligible_for_further_escalation"]
    assert listed["decision"] == "The breach cannot be remedied by the IFM."
    tags = [e.tag for e in repository.timeline(session, review.id)]
    assert tags[0] == "urgent-review:opened" and tags[-1] == "urgent-review:iap-decision"
    public = session.scalars(select(AuditEvent.tag).where(AuditEvent.public, AuditEvent.subject_type == "urgent_review"))
    assert list(public) == ["urgent-review:iap-decision"]


def test_not_systemic_advice_closes_the_review(session, make) -> None:  # type: ignore[no-untyped-def]
    chair = make.user("dug_chair", "dug_member")
    expert = make.user("expert")
    c = chair.principal(session)
    signal = service.propose(session, c, title="One-off outage", reasoning="A single long outage in October.",
                             evidence="", now=NOW)
    passed_decision(session, "determine_systemic_failure", "systemic-signal", signal.id)
    passed_decision(session, "appoint_experts", "urgent_review", 1)
    review = service.open_review(session, c, signal.id, title="Outage", now=NOW)
    if review.id != 1:
        passed_decision(session, "appoint_experts", "urgent_review", review.id)
    steps = [(chair, "appoint_expert", {"name": "Ada", "expertise": "DNS", "user_email": expert.email}),
             (chair, "start_root_cause", {}), (expert, "add_evidence", {"text": "Outage report"}),
             (expert, "record_findings", {"text": "A single hardware failure."}),
             (chair, "agree_remediation", {"milestones": "2026-12-01 Replace the disk"})]
    for who, action, kw in steps:
        service.act(session, who.principal(session), review.id, action, ActInput(**kw), NOW)
    service.act(session, c, review.id, "complete_milestone", ActInput(milestone_id=review.milestones[0].id), NOW)
    service.act(session, c, review.id, "request_advice", ActInput(), NOW)
    service.act(session, expert.principal(session), review.id, "advise",
                ActInput(critical=False, text="Not systemic: one disk, fixed."), NOW)
    assert (review.stage, review.outcome) == ("closed", "not_systemic")
    assert not service.escalation_eligible(review)
    with pytest.raises(Conflict):
        service.act(session, c, review.id, "engage_iap", ActInput(), NOW)


def test_dug_members_of_a_party_are_recused_R_DUG_3(session, make) -> None:  # type: ignore[no-untyped-def]
    """A review's parties are its operator concerned and the IFM (the IAP's decision binds both):
    the DUG members they employ neither see it nor are told of it; when every chair is recused, a
    member who is not stands in for the chair."""
    denic = make.operator("DENIC eG", tlds=(("de", "country-code"),))
    chair = make.user("dug_chair", "dug_member", org=denic)
    recused_member = make.user("dug_member", org=denic)
    member = make.user("dug_member", org=make.operator("SIDN", tlds=(("nl", "country-code"),)))
    pti = make.org("PTI", "ifm")
    ifm = make.user("ifm_staff", org=pti)
    ifm_member = make.user("dug_member", org=pti)  # a DUG member employed by the IFM: always a party
    lab = make.org("Some lab", "technical_community")
    signal = service.propose(session, member.principal(session), title="DENIC's changes stall",
                             reasoning="Every DS change for .de took over a week since October.", evidence="", now=NOW)
    undecided = passed_decision(session, "determine_systemic_failure", "systemic-signal", signal.id)
    with pytest.raises(Invalid, match="does not name") as err:  # the DUG names the operator concerned…
        service.open_review(session, member.principal(session), signal.id, title="DENIC delays",
                            operator_org_id=denic.id, now=NOW)
    assert err.value.field == "operator_org_id"
    undecided.state = "withdrawn"
    passed_decision(session, "determine_systemic_failure", "systemic-signal", signal.id, parties=(denic.id,))
    with pytest.raises(Invalid, match="no TLD registry operator"):  # … and it is an operator
        service.open_review(session, chair.principal(session), signal.id, title="x",
                            operator_org_id=lab.id, now=NOW)
    with pytest.raises(Forbidden, match="recused"):  # the chair (of DENIC) cannot open one on DENIC…
        service.open_review(session, chair.principal(session), signal.id, title="DENIC delays",
                            operator_org_id=denic.id, now=NOW)
    review = service.open_review(session, member.principal(session), signal.id, title="DENIC delays",
                                 operator_org_id=denic.id, now=NOW)  # … a member not recused stands in
    with pytest.raises(NotFound):  # the signals too are the IFM's possible failures
        service.get_signal(session, ifm_member.principal(session), signal.id)
    for recused in (chair, recused_member, ifm_member):
        with pytest.raises(NotFound):
            service.get_review(session, recused.principal(session), review.id)
        assert repository.reviews(session, recused.principal(session)) == []
    assert service.get_review(session, ifm.principal(session), review.id).id == review.id
    told = set(session.scalars(select(OutboxEmail.to_address).where(OutboxEmail.subject.contains("DENIC delays"))))
    assert member.email in told and not told & {chair.email, recused_member.email, ifm_member.email}
    passed_decision(session, "appoint_experts", "urgent_review", review.id)
    assert service.available_actions(session, member.principal(session), review)[:1] == [service.Action.APPOINT_EXPERT]
    service.act(session, member.principal(session), review.id, "appoint_expert",
                ActInput(name="Ada", expertise="DNSSEC"), NOW)
    assert [e.name for e in review.experts] == ["Ada"]


def _root_cause_review(session, chair, operator_org=None):  # type: ignore[no-untyped-def]
    """An urgent review open on a fresh signal, the DUG's decision to appoint experts passed."""
    c = chair.principal(session)
    signal = service.propose(session, c, title="Publication delays",
                             reasoning="Publication took over a week for many operators.", evidence="", now=NOW)
    parties = (operator_org.id,) if operator_org is not None else ()
    passed_decision(session, "determine_systemic_failure", "systemic-signal", signal.id, parties=parties)
    review = service.open_review(session, c, signal.id, title="Publication delays",
                                 operator_org_id=operator_org.id if operator_org is not None else None, now=NOW)
    passed_decision(session, "appoint_experts", "urgent_review", review.id)
    return review


def test_an_experts_own_organisation_is_checked_for_conflicts_R_SYS_2_R_DUG_3(session, make) -> None:  # type: ignore[no-untyped-def]
    """The account's organisation counts as much as the one named: an IFM employee, or a member
    of the operator concerned, is no independent expert; with none named, the account's is recorded."""
    chair = make.user("dug_chair", "dug_member")
    denic = make.operator("DENIC eG", tlds=(("de", "country-code"),))
    lab = make.org("Some lab", "technical_community")
    ifm_expert = make.user("expert", org=make.org("PTI", "ifm"))
    affiliated_expert = make.user("expert", org=make.org("PTI Holdings", "technical_community",
                                                         affiliated_with_ifm=True))
    party_expert = make.user("expert", org=denic)
    lab_expert = make.user("expert", org=lab)
    review = _root_cause_review(session, chair, operator_org=denic)

    def appoint(user, **kw):  # type: ignore[no-untyped-def]
        return service.act(session, chair.principal(session), review.id, "appoint_expert",
                           ActInput(name="Ada", expertise="DNS operations", user_email=user.email, **kw), NOW)

    for user, why in ((ifm_expert, "works for the IFM"), (affiliated_expert, "affiliated with the IFM"),
                      (party_expert, "a party to the review")):
        for kw in ({}, {"organisation_id": lab.id}):  # naming an independent organisation does not help
            with pytest.raises(Invalid, match=why) as err:
                appoint(user, **kw)
            assert err.value.field == "conflict" and review.experts == []
    with pytest.raises(Invalid, match="a party to the review") as err:  # nor does naming the party
        service.act(session, chair.principal(session), review.id, "appoint_expert",
                    ActInput(name="Bob", expertise="DNS", organisation_id=denic.id), NOW)
    assert err.value.field == "conflict"
    appoint(lab_expert)
    assert [(e.user_id, e.organisation_id) for e in review.experts] == [(lab_expert.id, lab.id)]


def test_a_refused_remediation_plan_writes_nothing_R_SYS_2(session, make) -> None:  # type: ignore[no-untyped-def]
    chair = make.user("dug_chair", "dug_member")
    expert = make.user("expert")
    review = _root_cause_review(session, chair)
    c = chair.principal(session)
    service.act(session, c, review.id, "appoint_expert", ActInput(name="Ada", expertise="DNS", user_email=expert.email), NOW)
    service.act(session, c, review.id, "start_root_cause", ActInput(), NOW)
    session.flush()
    with pytest.raises(Invalid, match="record the root-cause findings first"):
        service.act(session, c, review.id, "agree_remediation", ActInput(milestones="2026-12-10 Fix the cron"), NOW)
    assert not session.new and review.milestones == [] and review.stage == "root_cause"


def test_a_remedy_is_confirmed_only_within_the_remedy_period_R_DSP_6(session, make) -> None:  # type: ignore[no-untyped-def]
    """Up to the day the remedy is due the DUG confirms it; from the day after, only the lapse
    (which keeps the DUG's right to the Further Escalation Options) is open."""
    chair = make.user("dug_chair", "dug_member")
    due = date(2026, 12, 28)
    reviews = []
    for _ in range(2):
        review = _root_cause_review(session, chair)
        review.stage, review.iap_finding, review.remedy_due = "remedy_period", "remediable", due
        reviews.append(review)
    session.flush()
    late, on_time = reviews
    c = chair.principal(session)
    day_after = datetime(2026, 12, 29, 0, 0, tzinfo=UTC)
    with pytest.raises(Invalid, match="the remedy period ended on 2026-12-28"):
        service.act(session, c, late.id, "confirm_remedy", ActInput(), day_after)
    assert late.stage == "remedy_period"
    service.act(session, c, late.id, "remedy_lapsed", ActInput(), day_after)
    assert late.outcome == "remedy_lapsed" and service.escalation_eligible(late)
    last_moment = datetime(2026, 12, 28, 23, 59, tzinfo=UTC)
    with pytest.raises(Invalid, match="runs until"):
        service.act(session, c, on_time.id, "remedy_lapsed", ActInput(), last_moment)
    service.act(session, c, on_time.id, "confirm_remedy", ActInput(), last_moment)
    assert on_time.outcome == "remedied" and not service.escalation_eligible(on_time)


def test_overdue_reminders_go_to_the_dug_not_the_experts_R_SYS_2(session, make) -> None:  # type: ignore[no-untyped-def]
    chair = make.user("dug_chair", "dug_member")
    expert = make.user("expert")
    review = _root_cause_review(session, chair)
    steps = [(chair, "appoint_expert", {"name": "Ada", "expertise": "DNS", "user_email": expert.email}),
             (chair, "start_root_cause", {}), (expert, "add_evidence", {"text": "Queue metrics"}),
             (expert, "record_findings", {"text": "The publication queue was starved."}),
             (chair, "agree_remediation", {"milestones": "2026-12-10 Fix the cron"})]
    for who, action, kw in steps:
        service.act(session, who.principal(session), review.id, action, ActInput(**kw), NOW)
    assert service.remind_due(session, datetime(2026, 12, 11, tzinfo=UTC)) == "1 overdue reminders"
    told = set(session.scalars(select(OutboxEmail.to_address).where(OutboxEmail.subject.contains("Overdue"))))
    assert told == {chair.email}
