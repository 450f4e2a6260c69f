"""The whole dispute ladder in Chromium, each step by the person whose step it is:
lodge → IFM response → DUG facilitation → mediation → IAP → finding → remedy (R-DSP-1…9)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import REPO_SCREENSHOTS, browser_login

pytestmark = pytest.mark.browser


def decide(kind: str, case_id: int) -> None:
    """A passed DUG motion on the dispute (voting is exercised by the governance tests)."""
    from steward.db import session_scope, utcnow
    from steward.governance.models import Motion

    with session_scope() as s:
        s.add(Motion(kind=kind, title=f"{kind} on dispute {case_id}", text="Decided.",
                     subject_type="dispute", subject_id=str(case_id), state="passed", closed_at=utcnow()))


def as_user(page: Any, base: str, user: Any, url: str) -> None:
    page.context.clear_cookies()
    browser_login(page, base, user.email)
    page.wait_for_url("**/home")
    page.goto(url)


def lodge_on_the_page(page: Any, title: str, tlds: str, what_happened: str, negotiation: str) -> None:
    """Fill in the complaint form (already open) and submit it; wait for the case page."""
    page.get_by_label("Title").fill(title)
    page.get_by_label("TLDs concerned", exact=False).fill(tlds)
    page.get_by_label("Service levels concerned", exact=False).fill("released → published 72 h")
    page.get_by_label("What happened").fill(what_happened)
    page.get_by_label("Direct negotiation tried", exact=False).fill(negotiation)
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url("**/disputes/*")


def take(page: Any, action: str, text: str | None = None, **selects: Any) -> None:
    form = page.locator(f'form[data-action="{action}"]')
    if text is not None:
        form.locator("textarea").first.fill(text)
    for name, value in selects.items():
        form.locator(f'select[name="{name}"]').select_option(value)
    form.locator('button[type="submit"]').click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("alert").count() == 0, page.get_by_role("alert").all_inner_texts()


def test_the_whole_ladder_in_the_browser(live_server: Any, page: Any, make: Any) -> None:
    base = live_server.url
    make.org("Public Technical Identifiers", "ifm")
    op_org = make.operator("DENIC eG", tlds=(("de", "country-code"),))
    other = make.operator("SIDN", tlds=(("nl", "country-code"),))
    operator = make.user("operator_staff", org=op_org, name="Olga Operator")
    ifm = make.user("ifm_staff", name="Ivan IFM")
    member = make.user("dug_member", org=other, name="Mia Member")
    chair = make.user("dug_chair", org=other, name="Chandra Chair")
    mediator = make.user("mediator", name="Mo Mediator")
    panelist = make.user("iap_panelist", name="Pat Panelist")

    as_user(page, base, operator, f"{base}/disputes/new")
    lodge_on_the_page(page, "DS update for .de took a week", "de",
                      "Our DS update was published seven days after release.",
                      "Ticket 4711; no fix after two reminders.")
    case_url = page.url
    case_id = int(case_url.rsplit("/", 1)[1])
    assert "Complaint lodged with the DUG" in page.content()

    as_user(page, base, member, case_url)
    take(page, "request_response")
    assert "How this was counted" in page.content()

    as_user(page, base, ifm, f"{base}/disputes")
    assert page.get_by_role("heading", name="IFM queue").is_visible()
    page.goto(case_url)
    form = page.locator('form[data-action="submit_response"]')
    form.locator("textarea").fill("We accept the delay and will explain it.")
    form.locator('input[type="file"]').set_input_files(
        files=[{"name": "response.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7\n%%EOF\n"}]
    )
    form.locator('button[type="submit"]').click()
    page.wait_for_load_state("networkidle")
    assert "SHA-256" in page.content()

    for kind in ("instruct_ifm", "engage_mediator", "engage_iap"):
        decide(kind, case_id)
    as_user(page, base, chair, case_url)
    take(page, "issue_instruction", "Publish pending DS updates within 24 hours.")
    take(page, "engage_mediator", mediator_ids=str(mediator.id))

    as_user(page, base, member, case_url)
    take(page, "file_dug_report", "Facilitation: two calls, no agreement on compensation.")
    as_user(page, base, ifm, case_url)
    take(page, "file_ifm_report", "The IFM's account of the delay.")
    as_user(page, base, operator, case_url)
    take(page, "agree_to_be_bound", "DENIC eG agrees to be bound by the IAP's decision.")
    as_user(page, base, mediator, f"{base}/disputes")
    assert page.get_by_text("DS update for .de").is_visible()
    page.goto(case_url)
    take(page, "declare_mediation_failed", "The parties could not agree.")

    as_user(page, base, chair, case_url)
    take(page, "engage_iap", panelist_ids=[str(panelist.id)])
    as_user(page, base, panelist, case_url)
    assert "Facilitation: two calls" in page.content()  # the panel sees the whole file
    take(page, "find_breach_remediable", "The IFM breached the 72 h level; remediable.")
    assert "Breach capable of remedy" in page.content()

    as_user(page, base, chair, case_url)
    take(page, "confirm_remedy")
    assert "Breach remedied" in page.content()
    assert "archived" in page.content()
    page.screenshot(path=str(REPO_SCREENSHOTS / "dispute-case-remedied.png"), full_page=True)

    page.context.clear_cookies()
    page.goto(f"{base}/disputes/findings")
    row = page.locator("tbody tr").first.inner_text()
    assert "DENIC eG" in row and "Breach remedied" in row
    assert "seven days" not in page.content()
    page.goto(case_url)
    assert "DS update for .de" not in page.content()


def test_an_idn_operator_sees_its_tld_by_name_and_a_label(live_server: Any, page: Any, make: Any) -> None:
    """A right-to-left IDN TLD reads as its U-label, isolated from the text around it, beside the
    A-label the records keep."""
    base = live_server.url
    make.org("Public Technical Identifiers", "ifm")
    org = make.operator("Telecommunications and Digital Government Regulatory Authority",
                        tlds=(("xn--mgbaam7a8h", "country-code"),))
    operator = make.user("operator_staff", org=org, name="Amal Operator")
    as_user(page, base, operator, f"{base}/disputes/new")
    assert page.locator("#tlds-help bdi").inner_text() == ".امارات"
    lodge_on_the_page(page, "NS change for .امارات took five days", "امارات",
                      "Published five days after release.", "Ticket 88.")
    tlds = page.locator("dt:text-is('TLDs') + dd")
    assert tlds.inner_text() == ".امارات (.xn--mgbaam7a8h)"
    assert tlds.locator("bdi").count() == 1
    page.screenshot(path=str(REPO_SCREENSHOTS / "dispute-idn.png"), full_page=True)
