"""A person in Chromium: sign in as two roles, search the registry for an IDN, a failed sign-in."""

from __future__ import annotations

import pytest

from tests.support import REPO_SCREENSHOTS, browser_login

pytestmark = pytest.mark.browser


def test_two_roles_each_see_their_home_page(live_server, page, make):
    org = make.operator("DENIC eG", tlds=(("de", "country-code"),))
    operator = make.user("operator_staff", org=org, name="Olga Operator")
    chair = make.user("dug_chair", "dug_member", name="Chandra Chair")

    browser_login(page, live_server.url, operator.email)
    page.wait_for_url("**/home")
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome, Olga Operator"
    assert page.get_by_role("heading", name="Registry operator staff").is_visible()
    assert page.get_by_text("DENIC eG").first.is_visible()
    page.screenshot(path=str(REPO_SCREENSHOTS / "home-operator.png"), full_page=True)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(live_server.url + "/")

    browser_login(page, live_server.url, chair.email)
    page.wait_for_url("**/home")
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome, Chandra Chair"
    assert page.get_by_role("heading", name="DUG chair").is_visible()
    assert page.get_by_role("heading", name="DUG member").is_visible()
    assert not page.get_by_role("heading", name="Registry operator staff").is_visible()


def test_search_the_registry_for_an_idn_by_its_unicode_name(live_server, page, make):
    make.operator("Coordination Center for TLD RU", tlds=(("рф", "country-code"), ("ru", "country-code")))
    make.operator("VeriSign Sarl", tlds=(("コム", "generic"),))
    page.goto(f"{live_server.url}/registry")
    page.get_by_label("Search by A-label, U-label or operator").fill("рф")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("table.tlds tbody tr")
    assert rows.count() == 1
    text = rows.first.inner_text()
    assert ".рф" in text and ".xn--p1ai" in text and "Coordination Center for TLD RU" in text
    page.screenshot(path=str(REPO_SCREENSHOTS / "registry-idn-search.png"), full_page=True)


def test_a_failed_sign_in_shows_a_clear_message(live_server, page, make):
    user = make.user()
    browser_login(page, live_server.url, user.email, password="definitely-wrong")
    alert = page.get_by_role("alert")
    assert "Email or password is incorrect" in alert.inner_text()
    assert page.get_by_label("Email").input_value() == user.email
    page.screenshot(path=str(REPO_SCREENSHOTS / "login-failed.png"), full_page=True)
