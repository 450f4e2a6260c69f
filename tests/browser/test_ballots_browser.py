"""In Chromium: an operator in both chambers votes on a consent ballot, keeps the receipt code,
and after the close checks that its votes are in the published tally (R-ESC-1)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from steward import db as dbmod
from steward.ballots import service
from steward.ballots.models import Ballot
from steward.db import utcnow
from tests.integration.ballots.factories import eligible_review
from tests.support import REPO_SCREENSHOTS, browser_login

pytestmark = pytest.mark.browser


def test_vote_then_check_the_receipt_after_the_close(live_server, page, make):
    both = make.operator("Both Registry", tlds=(("bb", "country-code"), ("shop", "generic")))
    make.operator("G Registry", tlds=(("example", "generic"),))
    voter = make.user("operator_staff", org=both)
    chair = make.user("dug_chair", "dug_member")
    with dbmod.session_scope() as s:
        review = eligible_review(s)
        ballot = service.open_ballot(s, chair.principal(s), matter_type="urgent_review", matter_id=review.id,
                                     option="golden_bylaw", closes_at=utcnow() + timedelta(days=7), now=utcnow())
        ballot_id = ballot.id

    browser_login(page, live_server.url, voter.email)
    page.goto(f"{live_server.url}/ballots")
    page.get_by_role("link", name=f"#{ballot_id}").click()
    page.get_by_role("group", name="ccTLD chamber").get_by_label("yes").check()
    page.get_by_role("group", name="gTLD chamber").get_by_label("no").check()
    page.get_by_role("button", name="Vote").click()
    code = page.locator("#receipt-code").inner_text().strip()
    assert len(code) == 43
    page.screenshot(path=str(REPO_SCREENSHOTS / "ballot-receipt.png"))
    page.goto(f"{live_server.url}/ballots/{ballot_id}")
    assert "It voted in cctld" in page.content()
    assert page.locator("#ballot-result").count() == 0  # nothing of the tally before the close

    with dbmod.session_scope() as s:
        b = s.get(Ballot, ballot_id)
        assert b is not None
        service.close_ballot(s, None, ballot_id, b.closes_at)

    page.goto(f"{live_server.url}/ballots/{ballot_id}")
    page.get_by_label("Receipt code").fill(code)
    page.get_by_role("button", name="Check").click()
    verified = page.locator("#verified")
    verified.wait_for()
    text = verified.inner_text()
    assert "cctld vote (“yes”)" in text and "gtld vote (“no”)" in text
    page.screenshot(path=str(REPO_SCREENSHOTS / "ballot-verified.png"), full_page=True)
