"""Technical changes end to end through the services, on SQLite and PostgreSQL (R-TCH-1, R-TCH-2)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from steward.accounts.principal import Principal
from steward.changes import repository, service
from steward.changes.domain import PlanState
from steward.changes.models import ChangeComment
from steward.db import new_session, utcnow
from steward.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from steward.events import AuditEvent, Publication
from steward.outbox import OutboxEmail
from tests.integration.governance.dug_factory import build_dug, pass_motion

BODY = """Introduce a new DNSSEC signing algorithm for the root zone.

## Scope
Every TLD with DS records in the root zone.

## Roll-out
Phase one publishes the new keys; phase two switches signatures.
"""


def plan_input(**overrides: str) -> service.PlanInput:
    fields = {
        "title": "Root zone algorithm rollover",
        "origin": "operational",
        "significance": "major",
        "affected": "all",
        "body": BODY,
        "timeline": "2027-01-10: keys published\n2027-03-01: signatures switched",
    }
    fields.update(overrides)
    return service.PlanInput(**fields)


@pytest.fixture
def people(make, db_url):
    ifm_org = make.org("Public Technical Identifiers", kind="ifm")
    operator = make.operator("Example Registry", tlds=(("example1", "country-code"),))
    return {
        "ifm": make.user("ifm_staff", org=ifm_org),
        "chair": make.user("dug_chair", org=operator),
        "dug": make.user("dug_member"),
        "operator": make.user("operator_staff", org=operator, name="Olga Operator"),
    }


def as_(session, ref) -> Principal:
    return ref.principal(session)


def published_plan(session, people, *, origin="operational", now=None):
    ifm = as_(session, people["ifm"])
    plan = service.create_plan(session, ifm, plan_input(origin=origin))
    service.publish_plan(session, ifm, plan.id, now=now or utcnow())
    session.commit()
    return plan


def test_whole_flow_of_an_operational_change_r_tch_1_r_tch_2(session, people):
    ifm, chair = as_(session, people["ifm"]), as_(session, people["chair"])
    operator = as_(session, people["operator"])
    start = utcnow()

    plan = service.create_plan(session, ifm, plan_input())
    revised = service.revise_plan(
        session, ifm, plan.id, plan_input(body=BODY + "\n## Fallback\nRoll back within 24 hours.\n"),
        note="added a fallback",
    )
    assert revised.number == 2
    assert service.diff(session, ifm, plan.id, 1, 2).sections_added == ("fallback",)

    service.publish_plan(session, ifm, plan.id, now=start)
    assert plan.state == "open_for_comment"
    assert plan.comment_closes_at == start + timedelta(days=30)
    assert plan.published_version == 2

    mine = service.submit_comment(
        session, operator, plan.id, service.CommentInput(body="Please give 90 days' notice.", section="roll-out"),
        now=start + timedelta(days=1),
    )
    assert (mine.number, mine.status, mine.author_name) == (1, "published", "Olga Operator")
    assert mine.author_organisation == "Example Registry"

    public = service.submit_comment(
        session, Principal.anonymous(), plan.id,
        service.CommentInput(body="What about <b>resolvers</b>?", name="Ana", email="Ana@Example.org"),
        client="192.0.2.1", now=start + timedelta(days=2),
    )
    assert public.status == "pending_confirmation" and public.number is None
    mail = session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == "ana@example.org")).one()
    token = mail.text.split("/changes/confirm/")[1].split()[0]
    assert "<b>resolvers</b>" in mail.text  # plain text part keeps the text as typed
    assert "&lt;b&gt;resolvers&lt;/b&gt;" in (mail.html or "")  # the HTML part escapes it
    confirmed = service.confirm_comment(session, token, now=start + timedelta(days=2, hours=1))
    assert confirmed.number == 2 and confirmed.status == "published"
    with pytest.raises(NotFound):
        service.confirm_comment(session, token, now=start + timedelta(days=2, hours=2))

    service.respond(session, ifm, plan.id, 1, disposition="accepted", response="We will give 90 days.")
    closes = plan.comment_closes_at
    session.commit()
    with pytest.raises(Conflict, match=r"unanswered: #2"):
        service.issue_statement(session, ifm, plan.id, "Thank you.", now=closes + timedelta(hours=1))
    session.rollback()

    service.respond(session, ifm, plan.id, 2, disposition="out_of_scope", response="Resolvers are not in scope.")
    service.issue_statement(session, ifm, plan.id, "The IFM thanks the commenters.", now=closes + timedelta(hours=1))
    session.commit()
    assert plan.state == "statement_issued"
    rows = service.statement_rows(session, plan)
    assert [(r.number, r.disposition.value, r.section_heading) for r in rows] == [
        (1, "accepted", "Roll-out"),
        (2, "out_of_scope", None),
    ]

    with pytest.raises(Conflict, match="DUG's agreement"):
        service.mark_implemented(session, ifm, plan.id, note="done")
    session.rollback()
    with pytest.raises(Forbidden):
        service.record_agreement(session, operator, plan.id)
    with pytest.raises(Conflict, match="needs a passed DUG decision"):
        service.record_agreement(session, chair, plan.id)
    session.rollback()
    # The DUG's agreement is a DUG decision (governance): a motion carried by the members.
    dug = build_dug(session)
    motion = pass_motion(session, dug, "agree_technical_plan", "change_plan", plan.id)
    service.record_agreement(session, dug.chair, plan.id)
    assert plan.state == "agreed" and plan.agreement_basis == f"governance:motion:{motion.id}"
    service.mark_implemented(session, ifm, plan.id, note="Rolled over on 2027-03-01")
    session.commit()
    assert plan.state == "implemented"

    kinds = list(session.scalars(select(Publication.kind).order_by(Publication.id)))
    assert kinds == ["consultation", "consultation_statement", "dug_decision", "change_agreement",
                     "change_implemented"]
    statement = session.scalars(select(Publication).where(Publication.kind == "consultation_statement")).one()
    assert [c["disposition"] for c in statement.content["comments"]] == ["accepted", "out_of_scope"]
    tags = set(session.scalars(select(AuditEvent.tag).where(AuditEvent.subject_type == "change_plan")))
    assert {"change:drafted", "change:revised", "change:published", "change:commented",
            "change:comment-answered", "change:comments-closed", "change:statement-issued",
            "change:agreed", "change:implemented"} <= tags
    # The confirmed public commenter hears about the statement; the address is never published.
    assert session.scalar(
        select(func.count(OutboxEmail.id)).where(OutboxEmail.key == f"change-statement:{plan.id}:2")
    ) == 1
    assert "ana@example.org" not in str(statement.content)


def test_policy_driven_change_skips_the_dug_r_tch_1(session, people):
    ifm, chair = as_(session, people["ifm"]), as_(session, people["chair"])
    start = utcnow()
    plan = published_plan(session, people, origin="policy", now=start)
    after = plan.comment_closes_at + timedelta(minutes=1)
    service.issue_statement(session, ifm, plan.id, "No comments were received.", now=after)
    session.commit()
    with pytest.raises(Conflict, match="outside the DUG's scope"):
        service.record_agreement(session, chair, plan.id)
    session.rollback()
    service.mark_implemented(session, ifm, plan.id, note="implemented as policy requires")
    session.commit()
    assert plan.state == "implemented" and plan.agreed_at is None
    statement = session.scalars(select(Publication).where(Publication.kind == "consultation_statement")).one()
    assert statement.content["next_step"] == "implementation"


def test_closed_comment_period_refuses_comments_r_tch_2(session, people):
    plan = published_plan(session, people)
    operator = as_(session, people["operator"])
    with pytest.raises(Conflict, match="comment period closed") as info:
        service.submit_comment(session, operator, plan.id, service.CommentInput(body="late"),
                               now=plan.comment_closes_at)
    assert info.value.field == "body"
    session.rollback()
    assert service.effective_state(plan, plan.comment_closes_at) is PlanState.COMMENTS_CLOSED
    assert session.scalar(select(func.count(ChangeComment.id))) == 0


def test_public_comment_cannot_be_confirmed_after_the_period_closes(session, people):
    start = utcnow()
    plan = published_plan(session, people, now=start)
    late = plan.comment_closes_at - timedelta(minutes=5)
    service.submit_comment(session, Principal.anonymous(), plan.id,
                           service.CommentInput(body="last minute", name="Bo", email="bo@example.net"), now=late)
    mail = session.scalars(select(OutboxEmail)).one()
    token = mail.text.split("/changes/confirm/")[1].split()[0]
    with pytest.raises(Conflict, match="closed"):
        service.confirm_comment(session, token, now=plan.comment_closes_at + timedelta(minutes=1))


def test_statement_refused_while_comment_unanswered_names_it(session, people):
    ifm, operator = as_(session, people["ifm"]), as_(session, people["operator"])
    start = utcnow()
    plan = published_plan(session, people, now=start)
    for body in ("one", "two", "three"):
        service.submit_comment(session, operator, plan.id, service.CommentInput(body=body), now=start)
    service.respond(session, ifm, plan.id, 2, disposition="partly_accepted", response="In part.")
    session.commit()
    with pytest.raises(Conflict, match=r"unanswered: #1, #3"):
        service.issue_statement(session, ifm, plan.id, "Statement.", now=plan.comment_closes_at)
    session.rollback()
    assert repository.plan_by_id(session, plan.id).statement_issued_at is None


def test_public_commenters_are_rate_limited(session, people):
    start = utcnow()
    plan = published_plan(session, people, now=start)
    anonymous = Principal.anonymous()
    for i in range(5):
        service.submit_comment(session, anonymous, plan.id,
                               service.CommentInput(body=f"c{i}", name="Spammer", email="s@example.com"),
                               client="198.51.100.7", now=start + timedelta(minutes=i))
    session.commit()
    with pytest.raises(service.RateLimited, match="try again in 55 minutes"):
        service.submit_comment(session, anonymous, plan.id,
                               service.CommentInput(body="c5", name="Spammer", email="s@example.com"),
                               client="198.51.100.8", now=start + timedelta(minutes=5))
    session.rollback()
    # One address from many "people": the per-client limit applies.
    for i in range(15):
        service.submit_comment(session, anonymous, plan.id,
                               service.CommentInput(body=f"d{i}", name=f"P{i}", email=f"p{i}@example.com"),
                               client="198.51.100.7", now=start + timedelta(minutes=10))
    with pytest.raises(service.RateLimited):
        service.submit_comment(session, anonymous, plan.id,
                               service.CommentInput(body="x", name="Q", email="q@example.com"),
                               client="198.51.100.7", now=start + timedelta(minutes=11))


def test_oversized_and_malformed_comments_change_nothing(session, people):
    plan = published_plan(session, people)
    operator = as_(session, people["operator"])
    with pytest.raises(Invalid) as info:
        service.submit_comment(session, operator, plan.id, service.CommentInput(body="x" * 10_001))
    assert info.value.field == "body"
    with pytest.raises(Invalid) as info:
        service.submit_comment(session, Principal.anonymous(), plan.id,
                               service.CommentInput(body="fine", name="N", email="not-an-address"))
    assert info.value.field == "email"
    with pytest.raises(Invalid) as info:
        service.submit_comment(session, operator, plan.id, service.CommentInput(body="ok", section="nope"))
    assert info.value.field == "section"
    session.rollback()
    assert session.scalar(select(func.count(ChangeComment.id))) == 0


def test_drafts_are_hidden_from_the_public_and_policy_drafts_from_the_dug(session, people):
    ifm = as_(session, people["ifm"])
    operational = service.create_plan(session, ifm, plan_input())
    policy = service.create_plan(session, ifm, plan_input(origin="policy", title="Policy change"))
    session.commit()
    dug, operator = as_(session, people["dug"]), as_(session, people["operator"])
    anonymous = Principal.anonymous()
    for who in (anonymous, operator):
        for plan in (operational, policy):
            with pytest.raises(NotFound):
                service.get_plan(session, who, plan.id)
        assert service.list_plans(session, who) == []
    assert service.get_plan(session, dug, operational.id).id == operational.id
    with pytest.raises(NotFound):
        service.get_plan(session, dug, policy.id)
    assert {p.id for p in service.list_plans(session, ifm)} == {operational.id, policy.id}
    # Withdrawn before publication: still internal.
    service.withdraw(session, ifm, policy.id, reason="superseded")
    session.commit()
    with pytest.raises(NotFound):
        service.get_plan(session, anonymous, policy.id)


def test_only_ifm_staff_draft_and_publish(session, people):
    operator = as_(session, people["operator"])
    with pytest.raises(Forbidden):
        service.create_plan(session, operator, plan_input())
    with pytest.raises(Unauthenticated):
        service.create_plan(session, Principal.anonymous(), plan_input())


def test_unknown_affected_tld_is_refused(session, people):
    ifm = as_(session, people["ifm"])
    with pytest.raises(Invalid, match=r"not in the registry: .nosuchtld") as info:
        service.create_plan(session, ifm, plan_input(affected="example1, nosuchtld"))
    assert info.value.field == "affected"
    plan = service.create_plan(session, ifm, plan_input(affected=".EXAMPLE1"))
    version = service.shown_version(session, ifm, plan.id)
    assert version.affected_tlds == ["example1"] and not version.affected_all


def test_revision_after_comments_is_published_with_the_statement(session, people):
    ifm, operator = as_(session, people["ifm"]), as_(session, people["operator"])
    start = utcnow()
    plan = published_plan(session, people, now=start)
    service.submit_comment(session, operator, plan.id, service.CommentInput(body="Give more notice."), now=start)
    session.commit()
    with pytest.raises(Conflict):
        service.revise_plan(session, ifm, plan.id, plan_input(body=BODY + "\nmore"))
    session.rollback()
    closes = plan.comment_closes_at
    service.close_comments(session, ifm, plan.id, now=closes)
    service.revise_plan(session, ifm, plan.id, plan_input(body=BODY.replace("Phase one", "After 90 days' notice, phase one")),
                        note="90 days' notice (comment #1)")
    anonymous = Principal.anonymous()
    assert [v.number for v in service.plan_versions(session, anonymous, plan.id)] == [1]
    service.respond(session, ifm, plan.id, 1, disposition="accepted", response="Plan revised: version 2.")
    service.issue_statement(session, ifm, plan.id, "Revised as comment #1 asked.", now=closes + timedelta(hours=1))
    session.commit()
    assert [v.number for v in service.plan_versions(session, anonymous, plan.id)] == [1, 2]
    changed = service.diff(session, anonymous, plan.id, 1, 2)
    assert "roll-out" in changed.sections_changed


def test_published_operational_plan_cannot_be_reclassified_to_skip_the_dug_r_tch_1(session, people):
    ifm = as_(session, people["ifm"])
    draft = service.create_plan(session, ifm, plan_input())
    service.revise_plan(session, ifm, draft.id, plan_input(origin="policy"), note="never published: allowed")
    assert draft.origin == "policy"

    start = utcnow()
    plan = published_plan(session, people, now=start)
    closes = plan.comment_closes_at
    service.close_comments(session, ifm, plan.id, now=closes)
    session.commit()
    with pytest.raises(Conflict, match=r"published as .*Operational / technical.*R-TCH-1") as info:
        service.revise_plan(session, ifm, plan.id, plan_input(origin="policy", body=BODY + "\nmore"))
    assert info.value.field == "origin"
    session.rollback()
    session.refresh(plan)
    assert (plan.origin, plan.current_version) == ("operational", 1)

    service.revise_plan(session, ifm, plan.id, plan_input(body=BODY + "\nmore"), note="same origin")
    service.issue_statement(session, ifm, plan.id, "No comments.", now=closes + timedelta(hours=1))
    session.commit()
    with pytest.raises(Conflict, match="DUG's agreement"):
        service.mark_implemented(session, ifm, plan.id)
    session.rollback()
    session.refresh(plan)
    assert plan.state == "statement_issued" and plan.agreed_at is None


def test_worker_closes_due_periods_and_drops_expired_unconfirmed_comments(session, people):
    start = utcnow()
    plan = published_plan(session, people, now=start)
    service.submit_comment(session, Principal.anonymous(), plan.id,
                           service.CommentInput(body="never confirmed", name="X", email="x@example.com"), now=start)
    session.commit()
    assert "0 comment periods closed, 0" in service.periodic(session, start + timedelta(hours=1))
    summary = service.periodic(session, plan.comment_closes_at)
    session.commit()
    assert summary == "1 comment periods closed, 1 unconfirmed comments expired, 0 DUG agreements recorded"
    session.refresh(plan)
    assert plan.state == "comments_closed"
    assert session.scalar(select(func.count(ChangeComment.id))) == 0
    assert service.periodic(session, plan.comment_closes_at).startswith("0 comment periods closed")


def test_two_concurrent_publications_cannot_both_win(session, people, db_url):
    ifm = as_(session, people["ifm"])
    plan = service.create_plan(session, ifm, plan_input())
    session.commit()
    other = new_session()
    try:
        other_ifm = people["ifm"].principal(other)
        stale = repository.plan_by_id(other, plan.id)
        assert stale is not None and stale.state == "draft"
        other.commit()  # keeps the stale object (expire_on_commit is off), releases SQLite's lock
        service.publish_plan(session, ifm, plan.id)
        session.commit()
        with pytest.raises(Conflict):
            service.withdraw(other, other_ifm, plan.id, reason="changed my mind")
        other.rollback()
    finally:
        other.close()
    session.refresh(plan)
    assert plan.state == "open_for_comment"


def test_worker_records_the_dug_agreement_once_the_motion_passed_r_tch_1(session, people):
    ifm = as_(session, people["ifm"])
    plan = published_plan(session, people)
    service.issue_statement(session, ifm, plan.id, "No comments.", now=plan.comment_closes_at)
    later = plan.comment_closes_at + timedelta(days=1)
    assert service.periodic(session, later).endswith("0 DUG agreements recorded")
    pass_motion(session, build_dug(session), "agree_technical_plan", "change_plan", plan.id)
    assert service.periodic(session, later).endswith("1 DUG agreements recorded")
    session.commit()
    session.refresh(plan)
    assert plan.state == "agreed" and plan.agreement_basis.startswith("governance:motion:")
    assert service.periodic(session, later).endswith("0 DUG agreements recorded")


def test_a_revision_after_the_period_ended_closes_it_first_as_the_worker_would_r_tch_2(session, people):
    """The worker closes ended periods; until it has run, a revision is not refused as 'open for
    comment': the period is closed first (as the statement does), in the same transaction."""
    ifm = as_(session, people["ifm"])
    plan = published_plan(session, people, now=utcnow() - timedelta(days=400))
    assert plan.state == PlanState.OPEN_FOR_COMMENT.value and plan.comment_closes_at < utcnow()
    with pytest.raises(Invalid, match="nothing changed"):  # refused: the period stays as it was
        service.revise_plan(session, ifm, plan.id, plan_input())
    session.rollback()
    session.refresh(plan)
    assert plan.state == PlanState.OPEN_FOR_COMMENT.value

    version = service.revise_plan(session, ifm, plan.id, plan_input(body=BODY + "\nmore"), note="after the comments")
    session.commit()
    assert version.number == 2 and plan.state == PlanState.COMMENTS_CLOSED.value
    tags = session.scalars(select(AuditEvent.tag).where(AuditEvent.subject_type == "change_plan")
                           .order_by(AuditEvent.id)).all()
    assert tags[-2:] == ["change:comments-closed", "change:revised"]
