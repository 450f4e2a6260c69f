"""In Chromium: the DUG chair engages a named mediator on an urgent review (R-SYS-2); the mediator
engaged sees the review, another mediator does not (as R-DSP-7 has it for disputes)."""

from __future__ import annotations

import pytest

from steward import db as dbmod
from tests.integration.ballots.factories import eligible_review, passed_decision
from tests.support import REPO_SCREENSHOTS, browser_login

pytestmark = pytest.mark.browser


def test_the_chair_engages_a_named_mediator_R_SYS_2(live_server, page, make):
    chair = make.user("dug_chair", "dug_member")
    mediator = make.user("mediator", name="Mia Mediator")
    other = make.user("mediator", name="Otto Other")
    with dbmod.session_scope() as s:
        review = eligible_review(s, decided=False)
        review.stage, review.outcome, review.iap_finding, review.closed_at = "long_term", None, None, None
        review_id = review.id
        passed_decision(s, "engage_mediator", "urgent_review", review_id)

    browser_login(page, live_server.url, chair.email)
    page.goto(f"{live_server.url}/systemic/reviews/{review_id}")
    form = page.locator("form.action", has=page.get_by_role("heading", name="Engage mediator"))
    form.get_by_label("Mediator (only they").select_option(label="Mia Mediator")
    form.get_by_label("Report to the mediator on previous attempts").fill(
        "Remediation and a long-term step were agreed; the delays came back twice.")
    form.get_by_role("button", name="Engage mediator").click()
    assert page.locator("#review-stage").inner_text() == "External mediation"
    facts = page.locator("dl").first.inner_text()
    assert "Mediator" in facts and "Mia Mediator" in facts and "Otto Other" not in facts
    page.screenshot(path=str(REPO_SCREENSHOTS / "urgent-review-mediator.png"), full_page=True)

    page.context.clear_cookies()
    browser_login(page, live_server.url, other.email)
    assert page.goto(f"{live_server.url}/systemic/reviews/{review_id}").status == 404
    page.context.clear_cookies()
    browser_login(page, live_server.url, mediator.email)
    page.goto(f"{live_server.url}/systemic/reviews/{review_id}")
    assert page.get_by_role("heading", name="Mediation agreed").count() == 1
