"""A person in Chromium convenes an IPRT review and appoints its 14 members (R-IPRT-1, R-IPRT-2)."""

from __future__ import annotations

import pytest

from tests.support import REPO_SCREENSHOTS, browser_login

pytestmark = pytest.mark.browser


def test_convene_an_iprt_and_appoint_its_members(live_server, page, make):
    iprt = make.user("iprt_member", name="Ivo Reviewer")
    operators = [make.org(f"Registry {i}") for i in range(9)]
    bodies = {acr: make.org(acr, "so_ac", acronym=acr) for acr in ("GAC", "ALAC", "SSAC", "RSSAC")}
    bodies["IETF"] = make.org("IETF", "technical_community")

    browser_login(page, live_server.url, iprt.email)
    page.wait_for_url("**/home")
    page.goto(f"{live_server.url}/reviews")
    first_row = page.locator("table tbody tr").first
    assert "2019-10-01" in first_row.inner_text() and "overdue" in first_row.inner_text()
    page.get_by_role("button", name="Convene review").click()
    page.wait_for_url("**/reviews/*")
    assert "Convened" in page.locator("#stage").inner_text()

    def appoint(name: str, constituency: str, org_id: int | None) -> None:
        page.get_by_label("Name", exact=True).fill(name)
        page.get_by_label("Constituency").select_option(constituency)
        page.get_by_label("Organisation").select_option(str(org_id) if org_id else "")
        page.get_by_role("button", name="Appoint").click()
        page.wait_for_load_state()

    for i in range(8):
        appoint(f"Customer {i}", "registry_customer", operators[i].id)
    assert "Registry customer (ccTLD / gTLD): 0 seat(s) vacant" not in page.content()
    appoint("Ninth Customer", "registry_customer", operators[8].id)
    assert (
        "All 8 Registry customer (ccTLD / gTLD) seat(s) are filled"
        in page.get_by_role("alert").inner_text()
    )
    for acr, org in bodies.items():
        appoint(f"{acr} Representative", acr.lower(), org.id)
    appoint("Independent Counsel", "other", None)

    status = page.locator("#composition-status")
    assert "fully constituted" in status.inner_text()
    assert "8 of 14" in status.inner_text()
    assert page.get_by_role("cell", name="Independent Counsel", exact=True).is_visible()
    page.screenshot(path=str(REPO_SCREENSHOTS / "iprt-appointed.png"), full_page=True)

    page.get_by_role("button", name="Move to: Terms of reference").click()
    page.wait_for_load_state()
    assert page.locator("#stage").inner_text() == "Terms of reference"
