"""``steward systemic …`` as a user runs it: bad evidence refused in one line, nothing stored;
``show`` offers the next steps that would be accepted."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from typer.testing import CliRunner

from steward.cli import app
from steward.db import session_scope, utcnow
from steward.events import AuditEvent
from steward.outbox import OutboxEmail
from steward.systemic import service
from steward.systemic.models import Milestone, Signal
from tests.integration.ballots.factories import passed_decision

runner = CliRunner()


def _count(model: type) -> int:
    with session_scope() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_propose_refuses_evidence_that_does_not_exist(sqlite_db, make) -> None:  # type: ignore[no-untyped-def]
    member = make.user("dug_member")
    before = [_count(m) for m in (Signal, OutboxEmail, AuditEvent)]
    for evidence, said in (("dispute 9999", "line 1 (dispute 9999): no dispute #9999 that you may see"),
                           ("https://example.org/a; audit abc", "line 2: 'abc' is not an audit number"),
                           ("sla_month 2026-13", "line 1: '2026-13' is not a month YYYY-MM")):
        result = runner.invoke(app, ["systemic", "propose", "Publication delays",
                                     "Publication has taken over a week for many operators.",
                                     "--as", member.email, "--evidence", evidence])
        output = " ".join(result.output.split())
        assert result.exit_code == 1 and f"field 'evidence': {said}" in output, output
    assert [_count(m) for m in (Signal, OutboxEmail, AuditEvent)] == before


def test_show_offers_only_the_steps_whose_guards_pass(sqlite_db, make) -> None:  # type: ignore[no-untyped-def]
    chair = make.user("dug_chair", "dug_member")
    with session_scope() as s:
        c = chair.principal(s)
        signal = service.propose(s, c, title="Publication delays",
                                 reasoning="Publication took over a week for many operators.", evidence="", now=utcnow())
        passed_decision(s, "determine_systemic_failure", "systemic-signal", signal.id)
        review = service.open_review(s, c, signal.id, title="Publication delays", now=utcnow())
        review.stage = "remediation"
        s.add(Milestone(review_id=review.id, kind="remediation", title="Fix the cron", due=date(2099, 1, 1)))
        review_id = review.id
    result = runner.invoke(app, ["systemic", "show", str(review_id), "--as", chair.email])
    assert result.exit_code == 0, result.output
    assert "next: complete_milestone" in result.output and "request_advice" not in result.output
