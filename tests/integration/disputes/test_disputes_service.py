"""Disputes against a real database (SQLite and PostgreSQL): the ladder with injected time,
compare-and-set, visibility in SQL, deadlines, calendar changes, notifications through the
outbox and a real SMTP server.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from steward import worker
from steward.accounts.principal import Principal
from steward.config import get_settings
from steward.db import new_session, session_scope
from steward.disputes import domain, repository, service
from steward.disputes.models import DisputeCase, DisputeTimelineEntry
from steward.errors import Conflict, Forbidden, NotFound
from steward.events import AuditEvent, Publication
from steward.outbox import OutboxEmail

T0 = datetime(2025, 11, 24, 18, 0, tzinfo=UTC)  # Monday 10:00 in Los Angeles


class World:
    def __init__(self, make: Any) -> None:
        self.make = make
        self.ifm_org = make.org("PTI", "ifm")
        self.op_org = make.operator("Example Registry", tlds=(("example", "country-code"),))
        self.other_org = make.operator("Other Registry", tlds=(("other", "generic"),))
        self.users = {
            "operator": make.user("operator_staff", org=self.op_org),
            "ifm": make.user("ifm_staff", org=self.ifm_org),
            "member": make.user("dug_member", org=self.other_org),
            "chair": make.user("dug_chair", org=self.other_org),
            "mediator": make.user("mediator"),
            "panelist": make.user("iap_panelist"),
            "recused": make.user("dug_member", org=self.op_org),
            "recused_ifm": make.user("dug_member", org=self.ifm_org),
            "other_operator": make.user("operator_staff", org=self.other_org),
            "sysadmin": make.user("sysadmin"),
            "auditor": make.user("auditor"),
        }

    def p(self, s: Any, who: str) -> Principal:
        return self.users[who].principal(s)  # type: ignore[no-any-return]


@pytest.fixture
def world(db_url: str, make: Any) -> World:
    return World(make)


FORM = service.ComplaintForm(
    title="Slow NS publication", tlds=["example"], service_levels=["released→published 72 h"],
    subject="service_level", what_happened="Nine days.", negotiation="Ticket 1234.",
)


def decide(kind: str, case_id: int) -> None:
    """A passed DUG motion on the dispute (the vote itself is tested in governance)."""
    from steward.governance.models import Motion

    with session_scope() as s:
        s.add(Motion(kind=kind, title=f"{kind} on dispute {case_id}", text="Decided.",
                     subject_type="dispute", subject_id=str(case_id), state="passed", closed_at=T0))


def lodge(w: World, now: datetime = T0) -> int:
    with session_scope() as s:
        return service.open_case(s, w.p(s, "operator"), FORM, now=now).id


def act(w: World, who: str, case_id: int, action: str, now: datetime, **kw: Any) -> DisputeCase:
    with session_scope() as s:
        row = service.act(s, w.p(s, who), case_id, service.ActionRequest(action=action, **kw), now=now)
        s.expunge(row)
        return row


def test_ladder_to_not_remedied_with_injected_time(world: World) -> None:
    w = world
    cid = lodge(w)
    row = act(w, "member", cid, "request_response", T0)
    proof = domain.Deadline.from_dict(row.response_due or {})
    # Monday 24 Nov 2025 + 10 working days, skipping Thanksgiving and the day after
    assert proof.due.isoformat() == "2025-12-11T00:00:00-08:00"
    assert row.next_due_at == proof.due
    late = proof.due + timedelta(minutes=1)
    act(w, "member", cid, "proceed_without_response", late)
    with pytest.raises(Conflict, match="needs a passed DUG decision"):
        act(w, "chair", cid, "engage_mediator", late, mediator_ids=[w.users["mediator"].id])
    decide("engage_mediator", cid)
    decide("engage_iap", cid)
    act(w, "chair", cid, "engage_mediator", late, mediator_ids=[w.users["mediator"].id])
    act(w, "member", cid, "file_dug_report", late, text="report")
    act(w, "operator", cid, "agree_to_be_bound", late, text="we agree")
    act(w, "mediator", cid, "declare_mediation_failed", late, text="failed")
    act(w, "chair", cid, "engage_iap", late, panelist_ids=[w.users["panelist"].id])
    row = act(w, "panelist", cid, "find_breach_remediable", late, text="breach")
    assert row.remedy_due == late + timedelta(days=30)
    with session_scope() as s:  # the board flags the remedy deadline as the case does
        [listed] = [r for r in repository.board_cases(s, w.p(s, "member"), 10)[0] if r.id == cid]
        assert service.deadlines_of(listed) == {domain.DeadlineKind.REMEDY: late + timedelta(days=30)}
    with pytest.raises(Conflict, match="R-DSP-6"):
        act(w, "chair", cid, "declare_not_remedied", late + timedelta(days=29))
    row = act(w, "chair", cid, "declare_not_remedied", late + timedelta(days=30))
    assert row.stage == "not_remedied"
    with session_scope() as s:
        found = service.published_findings(s)
        assert found[0]["eligible_for_further_escalation"] is True
        assert (found[0]["finding"], found[0]["outcome"]) == ("remedy_pending", "not_remedied")
        pubs = s.scalars(select(Publication).where(Publication.kind == "iap_finding")).all()
        assert len(pubs) == 2  # the finding, then the outcome of the remedy period
        assert all("Nine days" not in str(p.content) for p in pubs)
        tags = [e.tag for e in s.scalars(select(AuditEvent).where(AuditEvent.subject_type == "dispute"))]
        assert "dispute:lodged" in tags and "dispute:not_remedied" in tags


def test_a_finding_stays_published_when_the_operator_withdraws_in_the_remedy_period_r_dsp_6_r_dsp_8(
    world: World,
) -> None:
    w = world
    cid = lodge(w)
    act(w, "member", cid, "request_response", T0)
    act(w, "ifm", cid, "submit_response", T0, text="our response")
    decide("engage_mediator", cid)
    decide("engage_iap", cid)
    act(w, "chair", cid, "engage_mediator", T0, mediator_ids=[w.users["mediator"].id])
    act(w, "member", cid, "file_dug_report", T0, text="report")
    act(w, "ifm", cid, "file_ifm_report", T0, text="the IFM's report")
    act(w, "operator", cid, "agree_to_be_bound", T0, text="we agree")
    act(w, "mediator", cid, "declare_mediation_failed", T0, text="failed")
    act(w, "chair", cid, "engage_iap", T0, panelist_ids=[w.users["panelist"].id])
    act(w, "panelist", cid, "find_breach_remediable", T0, text="breach")
    row = act(w, "operator", cid, "withdraw", T0 + timedelta(days=3), text="Taken to court.")
    assert row.stage == "withdrawn"
    with session_scope() as s:
        [found] = [f for f in service.published_findings(s) if f["reference"] == row.reference]
    assert found["finding"] == "remedy_pending" and found["finding_label"] == "Breach capable of remedy"
    assert found["outcome"] == "withdrawn" and found["eligible_for_further_escalation"] is False
    assert found["remedy_due"] and found["finding_at"]


def test_two_people_acting_at_once_exactly_one_wins(world: World) -> None:
    w = world
    cid = lodge(w)
    s1, s2 = new_session(), new_session()
    try:
        row1 = service.act(s1, w.p(s1, "member"), cid, service.ActionRequest("request_response", version=1), now=T0)
        assert row1.stage == "response_requested"
        s1.commit()
        with pytest.raises(Conflict, match="changed by someone else"):
            service.act(s2, w.p(s2, "chair"), cid, service.ActionRequest("refuse", version=1, refusal_ground="policy", text="x"), now=T0)
        s2.rollback()
    finally:
        s1.close()
        s2.close()


def test_compare_and_set_refuses_a_stale_writer(world: World) -> None:
    cid = lodge(world)
    with session_scope() as s:
        assert repository.compare_and_set(s, cid, 1, {"stage": "response_requested"})
    with session_scope() as s:
        assert not repository.compare_and_set(s, cid, 1, {"stage": "refused"})
        assert s.get(DisputeCase, cid).stage == "response_requested"


def test_concurrent_threads_one_winner(world: World) -> None:
    w = world
    cid = lodge(w)
    results: list[str] = []
    barrier = threading.Barrier(4)

    def go(who: str) -> None:
        s = new_session()
        try:
            barrier.wait()
            service.act(s, w.p(s, who), cid, service.ActionRequest("request_response", version=1), now=T0)
            s.commit()
            results.append("won")
        except Conflict:
            s.rollback()
            results.append("conflict")
        finally:
            s.close()

    threads = [threading.Thread(target=go, args=(who,)) for who in ("member", "chair", "member", "chair")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "conflict", "conflict", "won"]
    with session_scope() as s:
        entries = s.scalars(select(DisputeTimelineEntry).where(DisputeTimelineEntry.case_id == cid)).all()
        assert [e.tag for e in entries] == ["dispute:lodged", "dispute:response_requested"]


def test_sql_visibility_matches_the_domain_rule_for_every_role(world: World) -> None:
    w = world
    cid = lodge(w)
    act(w, "member", cid, "request_response", T0)
    with session_scope() as s:
        row = s.get(DisputeCase, cid)
        parties = repository.parties_of(s, row)
        for who in w.users:
            principal = w.p(s, who)
            in_domain = domain.can_see(service.viewer_of(principal), parties)
            # every read of cases: one case, a list, the DUG board (rows and counts)
            assert (repository.readable_case(s, principal, cid) is not None) == in_domain, who
            assert (cid in {c.id for c in repository.readable_cases(s, principal)}) == in_domain, who
            rows, counts = repository.board_cases(s, principal, 10)
            assert (cid in {r.id for r in rows}) == in_domain, who
            assert sum(counts.values()) == int(in_domain), who
        seen = {who for who in w.users if repository.readable_case(s, w.p(s, who), cid)}
        assert seen == {"operator", "ifm", "member", "chair"}
        with pytest.raises(NotFound):
            service.get_case(s, w.p(s, "recused"), cid)


def test_the_boards_deadlines_are_the_cases_own(world: World) -> None:
    """The board reads of a deadline only the moment it falls due (not its proof): the running
    deadlines it flags are those of the case read whole, on both backends."""
    w = world
    cid = lodge(w)
    act(w, "member", cid, "request_response", T0)
    with session_scope() as s:
        negotiating = service.open_case(s, w.p(s, "operator"), FORM, negotiate_first=True, now=T0).id
    with session_scope() as s:
        for viewer, case_id in (("member", cid), ("ifm", negotiating)):
            rows, _counts = repository.board_cases(s, w.p(s, viewer), 10)
            [row] = [r for r in rows if r.id == case_id]
            whole = domain.open_deadlines(service.to_domain(s.get(DisputeCase, case_id)))
            assert whole and service.deadlines_of(row) == whole, viewer
            later = max(whole.values()) + timedelta(seconds=1)
            assert domain.passed(service.deadlines_of(row), later) == frozenset(whole)
            before = min(whole.values()) - timedelta(seconds=1)
            assert domain.passed(service.deadlines_of(row), before) == frozenset()


def test_the_board_is_one_statement_per_kind_of_viewer_with_no_parameters(world: World) -> None:
    """Kept per kind of viewer (not per person: two DUG members of one organisation share it) and
    sent without parameters, so that PostgreSQL plans it once per connection."""
    w = world
    another_member = w.make.user("dug_member", org=w.other_org)
    with session_scope() as s:
        dialect = s.get_bind().dialect
        kept = {who: repository._board_statement(repository._who(w.p(s, who)), 10, dialect)
                for who in ("member", "chair", "recused", "ifm", "operator", "mediator")}
        extra_member = repository._who(another_member.principal(s))
        assert repository._board_statement(extra_member, 10, dialect) is kept["member"]
        assert len({id(k) for k in kept.values()}) == len(kept)  # member and chair differ by role
        for statement in kept.values():
            assert statement.compile(dialect=dialect).params == {}


@pytest.mark.parametrize("chair_recused", [True, False])
def test_a_member_stands_in_for_a_recused_chair_R_DUG_3(db_url: str, make: Any, chair_recused: bool) -> None:
    """The chair carries out the DUG's decisions on a dispute; when the chair's own organisation is
    a party, a voting member who is not recused does (the decision itself is still a motion)."""
    make.org("PTI", "ifm")
    operator_org = make.operator("Example Registry", tlds=(("example", "country-code"),))
    other = make.operator("Other Registry", tlds=(("other", "generic"),))
    people = {
        "operator": make.user("operator_staff", org=operator_org),
        "member": make.user("dug_member", org=other),
        "chair": make.user("dug_chair", org=operator_org if chair_recused else other),
        "recused": make.user("dug_member", org=operator_org),
        "mediator": make.user("mediator"),
    }
    with session_scope() as s:
        cid = service.open_case(s, people["operator"].principal(s), FORM, now=T0).id
    late = T0 + timedelta(days=30)
    for action, when in (("request_response", T0), ("proceed_without_response", late)):
        with session_scope() as s:
            service.act(s, people["member"].principal(s), cid, service.ActionRequest(action), now=when)
    decide("engage_mediator", cid)
    with session_scope() as s:
        row = s.get(DisputeCase, cid)
        offered = service.available_actions(s, people["member"].principal(s), row, late)
        assert (domain.Action.ENGAGE_MEDIATOR in offered) is chair_recused
    engage = service.ActionRequest("engage_mediator", mediator_ids=[people["mediator"].id])
    if not chair_recused:  # the chair, who is not recused, does it; a member may not
        with pytest.raises(Forbidden), session_scope() as s:
            service.act(s, people["member"].principal(s), cid, engage, now=late)
        return
    with pytest.raises(NotFound), session_scope() as s:  # a recused member never sees it
        service.act(s, people["recused"].principal(s), cid, engage, now=late)
    with session_scope() as s:
        row = service.act(s, people["member"].principal(s), cid, engage, now=late)
        assert row.stage == "mediation"


def test_dug_does_not_see_direct_negotiation(world: World) -> None:
    w = world
    with session_scope() as s:
        cid = service.open_case(s, w.p(s, "operator"), FORM, negotiate_first=True, now=T0).id
    with session_scope() as s:
        assert repository.readable_case(s, w.p(s, "member"), cid) is None
        assert repository.readable_case(s, w.p(s, "ifm"), cid) is not None
        row = s.get(DisputeCase, cid)
        assert row.acknowledgement_due and row.answer_due


def test_response_notices_are_sent_once_through_smtp_by_several_workers(world: World, smtp_server: Any) -> None:
    w = world
    cid = lodge(w)
    row = act(w, "member", cid, "request_response", T0)
    proof = domain.Deadline.from_dict(row.response_due or {})
    with session_scope() as s:
        for m in list(s.scalars(select(OutboxEmail))):
            s.delete(m)
    with session_scope() as s:
        assert "0 notice" in service.run_deadlines(s, proof.remaining_at(3) - timedelta(seconds=1))
    with session_scope() as s:
        summary = service.run_deadlines(s, proof.remaining_at(3))
    assert "4 notice(s)" in summary  # operator, IFM, two DUG members
    with session_scope() as s:
        assert "0 notice" in service.run_deadlines(s, proof.remaining_at(3) + timedelta(hours=1))
    with session_scope() as s:
        assert "4 notice(s)" in service.run_deadlines(s, proof.due)
    settings = get_settings()
    threads = [threading.Thread(target=worker.run_once, args=(settings, f"w{i}")) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    mine = [m for m in smtp_server.messages if str(m["Subject"]).startswith("[D-")]
    subjects = sorted(str(m["Subject"]) for m in mine)
    assert len(subjects) == 8
    assert sum("Due soon" in x for x in subjects) == 4
    assert sum("Overdue" in x for x in subjects) == 4
    recipients = {str(m["To"]) for m in mine}
    assert w.users["recused"].email not in recipients
    assert w.users["other_operator"].email not in recipients


def test_stage_changes_are_emailed_to_those_who_may_see(world: World) -> None:
    w = world
    lodge(w)
    with session_scope() as s:
        to = sorted(m.to_address for m in s.scalars(select(OutboxEmail)))
    expected = sorted(w.users[k].email for k in ("operator", "ifm", "member", "chair"))
    assert to == expected


def test_calendar_change_recomputes_open_deadlines_and_records_it(world: World, monkeypatch: Any) -> None:
    w = world
    cid = lodge(w)
    row = act(w, "member", cid, "request_response", T0)
    before = domain.Deadline.from_dict(row.response_due or {})
    monkeypatch.setenv("STEWARD_WORKDAYS_CALENDAR", "GB-ENG")
    monkeypatch.setenv("STEWARD_WORKDAYS_TIMEZONE", "Europe/London")
    get_settings.cache_clear()
    with session_scope() as s:
        assert service.run_deadlines(s, T0).startswith("1 case(s) recomputed")
    with session_scope() as s:
        row = s.get(DisputeCase, cid)
        after = domain.Deadline.from_dict(row.response_due or {})
        assert after.calendar == "GB-ENG" and after.due < before.due
        entry = s.scalars(select(DisputeTimelineEntry).where(DisputeTimelineEntry.tag == "dispute:deadlines_recomputed")).one()
        assert "US-CA" in entry.note and "GB-ENG" in entry.note
        assert row.version == 3
    with session_scope() as s:
        assert service.run_deadlines(s, T0).startswith("0 case(s) recomputed")


def test_refused_action_changes_nothing(world: World) -> None:
    w = world
    cid = lodge(w)
    with pytest.raises(Conflict, match="not possible"):
        act(w, "chair", cid, "engage_iap", T0, panelist_ids=[w.users["panelist"].id])
    with session_scope() as s:
        row = s.get(DisputeCase, cid)
        assert row.stage == "lodged" and row.version == 1
        assert len(repository.timeline_of(s, cid)) == 1


def test_the_database_layer_never_updates_an_archived_case(world: World) -> None:
    """R-DSP-9, belt and braces: even a writer that skipped the domain cannot alter it."""
    w = world
    with session_scope() as s:
        form = service.ComplaintForm(**{**FORM.__dict__, "subject": "policy"})
        row = service.open_case(s, w.p(s, "operator"), form, now=T0)
        cid, version = row.id, row.version
        assert row.stage == "refused"
    with session_scope() as s:
        assert not repository.compare_and_set(s, cid, version, {"stage": "lodged"})
    with session_scope() as s:
        assert s.get(DisputeCase, cid).stage == "refused"


@pytest.mark.parametrize(
    ("subject", "tlds"),
    [
        ("delegation", ["newtld"]),  # a TLD not in the registry
        ("redelegation", ["nl"]),  # a TLD another operator manages
        ("policy", []),  # a policy matter may concern no TLD at all
    ],
)
def test_an_excluded_complaint_is_refused_with_the_reason_not_rejected_as_input_r_dsp_1(
    world: World, make: Any, subject: str, tlds: list[str]
) -> None:
    """R-DSP-1: a complaint about delegation, re-delegation or policy is refused with the reason,
    whatever TLD it names and without a record of negotiation (R-DSP-2 asks that of disputes the
    DUG takes up)."""
    make.operator("SIDN", tlds=(("nl", "country-code"),))
    w = world
    with session_scope() as s:
        form = service.ComplaintForm(**{**FORM.__dict__, "subject": subject, "tlds": tlds, "negotiation": ""})
        row = service.open_case(s, w.p(s, "operator"), form, now=T0)
        assert row.stage == "refused"
        assert row.refusal_rule == "R-DSP-1" and row.refusal_ground == subject and row.refusal_reason
        assert row.tlds == tlds


def test_several_worker_processes_never_send_a_dispute_notice_twice(world: World, smtp_server: Any) -> None:
    """Three `steward worker --once` processes race over the same outbox and periodic task."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    w = world
    cid = lodge(w)
    act(w, "member", cid, "request_response", T0)  # long overdue by the real clock
    steward = Path(sys.executable).with_name("steward")
    procs = [
        subprocess.Popen([str(steward), "worker", "--once"], env=dict(os.environ),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(3)
    ]
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    worker.run_once(get_settings(), "after")  # anything left over, once more
    mine = [(str(m["To"]), str(m["Subject"])) for m in smtp_server.messages
            if str(m["Subject"]).startswith("[D-")]
    assert len(mine) == len(set(mine))
    overdue = [m for m in mine if "Overdue" in m[1]]
    assert sorted(to for to, _ in overdue) == sorted(
        w.users[k].email for k in ("operator", "ifm", "member", "chair")
    )


def _tags(s: Any, case_id: int) -> list[str]:
    return list(s.scalars(select(AuditEvent.tag).where(
        AuditEvent.subject_type == "dispute", AuditEvent.subject_id == str(case_id)).order_by(AuditEvent.id)))


def test_disclosure_needs_both_parties_consent_then_opens_the_record_R_DSP_7(world: World) -> None:
    case_id = lodge(world)
    with session_scope() as s:
        service.consent_to_disclosure(s, world.p(s, "ifm"), case_id, now=T0)
    with session_scope() as s:
        assert _tags(s, case_id)[-1] == "dispute:disclosure_consented"
        with pytest.raises(NotFound):  # one consent discloses nothing
            service.get_case(s, world.p(s, "other_operator"), case_id)
    with session_scope() as s:
        service.consent_to_disclosure(s, world.p(s, "operator"), case_id, now=T0)
    with session_scope() as s:
        assert _tags(s, case_id)[-1] == "dispute:disclosed"
        row = service.get_case(s, world.p(s, "other_operator"), case_id)
        assert service.parties(s, row).disclosed


def test_both_parties_consenting_at_the_same_moment_disclose_the_record_R_DSP_7(world: World) -> None:
    """The second consent waits for the first (the case's row is locked), so it sees it: the
    record is disclosed, not left with two consents and no disclosure."""
    case_id = lodge(world)
    first = new_session()
    try:
        service.consent_to_disclosure(first, world.p(first, "ifm"), case_id, now=T0)
        first.flush()
        errors: list[BaseException] = []

        def second() -> None:
            try:
                with session_scope() as s:
                    service.consent_to_disclosure(s, world.p(s, "operator"), case_id, now=T0)
            except BaseException as exc:  # reported below
                errors.append(exc)

        other = threading.Thread(target=second)
        other.start()
        other.join(0.5)  # it waits for the first consent's transaction
        first.commit()
    finally:
        first.close()
    other.join(30)
    assert not other.is_alive() and errors == []
    with session_scope() as s:
        assert _tags(s, case_id)[-2:] == ["dispute:disclosure_consented", "dispute:disclosed"]
        assert service.get_case(s, world.p(s, "other_operator"), case_id).id == case_id


def test_both_consents_in_one_transaction_disclose_the_record_R_DSP_7(world: World) -> None:
    """What a transaction read of the case's consents is read again once it records one (the
    repository remembers a case's consents within a transaction)."""
    case_id = lodge(world)
    with session_scope() as s:
        row = service.get_case(s, world.p(s, "operator"), case_id)
        assert not service.parties(s, row).disclosed
        service.consent_to_disclosure(s, world.p(s, "ifm"), case_id, now=T0)
        assert not service.parties(s, row).disclosed
        service.consent_to_disclosure(s, world.p(s, "operator"), case_id, now=T0)
        assert service.parties(s, row).disclosed
        assert _tags(s, case_id)[-2:] == ["dispute:disclosure_consented", "dispute:disclosed"]


def test_an_ifm_organisation_created_in_the_transaction_counts_at_once(world: World, make: Any) -> None:
    """The IFM's organisations, remembered within a transaction, are read again after a change."""
    from steward.registry import service as registry

    with session_scope() as s:
        before = repository.ifm_org_ids(s)
        assert repository.ifm_org_ids(s) == before
        org = registry.create_organisation(s, None, name="Second IFM", kind="ifm")
        s.flush()
        assert repository.ifm_org_ids(s) == before | {org.id}


def test_a_consent_rolled_back_with_its_savepoint_is_forgotten_R_DSP_7(world: World) -> None:
    case_id = lodge(world)
    with session_scope() as s:
        row = service.get_case(s, world.p(s, "operator"), case_id)
        service.consent_to_disclosure(s, world.p(s, "ifm"), case_id, now=T0)
        savepoint = s.begin_nested()
        service.consent_to_disclosure(s, world.p(s, "operator"), case_id, now=T0)
        assert service.parties(s, row).disclosed
        savepoint.rollback()
        assert not service.parties(s, row).disclosed
    with session_scope() as s:
        assert _tags(s, case_id)[-1] == "dispute:disclosure_consented"


def test_cases_are_numbered_in_turn_and_a_rolled_back_lodging_uses_no_number(world: World) -> None:
    """D-<year>-NNNN, taken last in the lodging (on PostgreSQL under a lock held to its commit): a
    lodging that does not commit leaves no gap."""
    w = world
    first = lodge(w)
    s = new_session()
    try:
        row = service.open_case(s, w.p(s, "operator"), FORM, now=T0)
        assert row.reference == "D-2025-0002"
        s.rollback()
    finally:
        s.close()
    second = lodge(w)
    with session_scope() as s:
        assert [s.get(DisputeCase, c).reference for c in (first, second)] == ["D-2025-0001", "D-2025-0002"]
        assert not s.scalars(select(DisputeCase).where(DisputeCase.reference.not_like("D-%"))).all()
        # the notices name the number, taken before them
        subjects = s.scalars(select(OutboxEmail.subject)).all()
        assert subjects and all(x.startswith(("[D-2025-0001]", "[D-2025-0002]")) for x in subjects)
