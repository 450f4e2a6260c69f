"""In Chromium: a member of the public comments on a plan, confirms by email, then reads the
IFM's statement with its disposition table (R-TCH-2)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from steward import db as dbmod
from steward.changes import service
from steward.changes.models import ChangePlan
from steward.outbox import OutboxEmail

pytestmark = pytest.mark.browser

BODY = "Move the root zone to a new signing algorithm.\n\n## Timing\nTwo phases, a quarter apart.\n"


def test_public_comment_then_statement_in_the_browser(live_server, page, make):
    ifm_ref = make.user("ifm_staff", org=make.org("PTI", kind="ifm"))
    with dbmod.session_scope() as s:
        ifm = ifm_ref.principal(s)
        plan = service.create_plan(s, ifm, service.PlanInput(
            title="Algorithm rollover", origin="operational", significance="major", affected="all", body=BODY))
        service.publish_plan(s, ifm, plan.id)
        plan_id = plan.id

    page.goto(f"{live_server.url}/changes")
    page.get_by_role("link", name="Algorithm rollover").click()
    page.get_by_role("link", name="Comment on “Timing”").click()
    assert page.get_by_label("Section").input_value() == "timing"
    page.get_by_label("Your name").fill("Rosa <b>Resolver</b>")
    page.get_by_label("Your email address (never shown)").fill("rosa@example.org")
    page.get_by_label("Comment", exact=True).fill("A quarter is too short for <em>our</em> validators.")
    page.get_by_role("button", name="Send comment").click()
    page.get_by_role("heading", name="Check your email").wait_for()

    with dbmod.session_scope() as s:
        mail = s.scalars(select(OutboxEmail).where(OutboxEmail.to_address == "rosa@example.org")).one()
        token = mail.text.split("/changes/confirm/")[1].split()[0]
    page.goto(f"{live_server.url}/changes/confirm/{token}")
    page.get_by_role("button", name="Publish my comment").click()
    comment = page.locator("#comment-1")
    comment.wait_for()
    assert "Rosa <b>Resolver</b>" in comment.inner_text()  # shown as text, not markup
    assert comment.locator("b").count() == 0

    with dbmod.session_scope() as s:
        ifm = ifm_ref.principal(s)
        stored = s.get(ChangePlan, plan_id)
        assert stored is not None
        service.respond(s, ifm, plan_id, 1, disposition="partly_accepted",
                        response="Phase two moves by one month.")
        service.issue_statement(s, ifm, plan_id, "The IFM thanks everyone who commented.",
                                now=stored.comment_closes_at + timedelta(minutes=1))

    page.goto(f"{live_server.url}/changes/{plan_id}")
    page.get_by_role("link", name="The IFM's statement").click()
    page.get_by_role("heading", name="The IFM's statement on “Algorithm rollover”").wait_for()
    row = page.locator("#dispositions #row-1")
    assert "Partly accepted" in row.inner_text()
    assert "Phase two moves by one month." in row.inner_text()
    assert "Timing" in row.inner_text()
    assert page.locator("#dispositions em").count() == 0
    shots = Path(__file__).resolve().parents[2] / "var" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "changes-statement.png"), full_page=True)
