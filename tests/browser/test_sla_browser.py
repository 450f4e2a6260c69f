"""A person in Chromium reads the public performance page: pick a month, read the table and the
twelve-month compliance charts drawn by the server (R-SLA-2)."""

from __future__ import annotations

import pytest

from steward.db import session_scope, utcnow
from steward.sla import service
from steward.sla.domain import Month
from steward.sla.simulate import simulate
from tests.support import REPO_SCREENSHOTS

pytestmark = pytest.mark.browser


def publish_simulated_months(months: int) -> list[Month]:
    """Ingest a simulated event log and publish every complete month of it."""
    now = utcnow()
    rows = ["request_id,tld,category,channel,event,occurred_at"]
    from steward.sla.simulate import format_row

    rows += [",".join(format_row(r)) for r in simulate(months, 11, now=now, tlds=("com", "de"))]
    last = Month.of(now).plus(-1)
    published = [last.plus(-i) for i in range(months)][::-1]
    with session_scope() as db:
        service.ingest_file(db, None, "\n".join(rows) + "\n", source="sim.csv", now=now, fmt="csv")
        for month in published:
            service.publish(db, None, month, now=now)
    return published


def test_public_performance_page_shows_the_table_and_server_drawn_charts(live_server, page, make):
    make.operator("Verisign (test)", tlds=(("com", "generic"),))
    make.operator("DENIC (test)", tlds=(("de", "country-code"),))
    months = publish_simulated_months(3)

    page.goto(f"{live_server.url}/sla")
    assert page.get_by_role("heading", level=1).inner_text() == f"IFM performance: {months[-1]}"
    assert "thresholds met" in page.get_by_test_id("summary").inner_text()
    rows = page.locator("table.sla tbody tr[id]")
    assert rows.count() == 11
    assert (
        "Released → root zone change published" in page.locator("tr#cat1-publication").inner_text()
    )

    page.get_by_label("Month", exact=True).select_option(str(months[0]))
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"**/sla?month={months[0]}")
    assert page.get_by_role("heading", level=1).inner_text() == f"IFM performance: {months[0]}"

    charts = page.locator("ul.charts img")
    assert charts.count() == 11
    chart = page.get_by_alt_text(
        "Chart: monthly compliance of Released → root zone change published", exact=False
    )
    chart.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => [...document.querySelectorAll('ul.charts img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    assert chart.evaluate("i => i.naturalWidth") > 300
    page.screenshot(path=str(REPO_SCREENSHOTS / "sla-performance.png"), full_page=True)

    download = page.get_by_role("link", name="CSV")
    assert download.get_attribute("href") == f"/sla/reports/{months[0]}.csv"


def test_ifm_uploads_a_bad_then_a_good_file_and_publishes(live_server, page, make, tmp_path):
    from tests.support import browser_login

    make.operator("Verisign (test)", tlds=(("com", "generic"),))
    ifm = make.user("ifm_staff", name="Ines IFM")
    month = Month.of(utcnow()).plus(-1)
    day = month.start.strftime("%Y-%m-%d")
    header = "request_id,tld,category,channel,event,occurred_at\n"
    bad = tmp_path / "bad.csv"
    bad.write_text(header + f"R-1,com,I,automated,received,{day}T10:00:00Z\n"
                   f"R-1,com,I,automated,ticket_confirmed,{day}T10:00:30\n"
                   f"R-2,nosuch,I,automated,received,{day}T11:00:00Z\n")  # fmt: skip
    good = tmp_path / "good.csv"
    good.write_text(header + f"R-1,com,I,automated,received,{day}T10:00:00Z\n"
                    f"R-1,com,I,automated,ticket_confirmed,{day}T10:00:30Z\n")  # fmt: skip

    browser_login(page, live_server.url, ifm.email)
    page.wait_for_url("**/home")
    page.goto(f"{live_server.url}/sla/ifm")
    page.get_by_label("Event file").set_input_files(str(bad))
    page.get_by_role("button", name="Upload").click()
    assert "nothing was ingested" in page.get_by_role("alert").inner_text()
    errors = page.locator("table.errors tbody tr")
    assert errors.count() == 2
    assert "has no UTC offset" in errors.nth(0).inner_text() and "3" in errors.nth(0).inner_text()
    assert "unknown TLD 'nosuch'" in errors.nth(1).inner_text()
    page.screenshot(path=str(REPO_SCREENSHOTS / "sla-ifm-upload-errors.png"), full_page=True)

    page.get_by_label("Event file").set_input_files(str(good))
    page.get_by_role("button", name="Upload").click()
    assert "2 of 2 events added" in page.get_by_role("status").inner_text()
    page.get_by_role("link", name="review and publish").click()
    page.get_by_role("button", name=f"Publish and freeze {month}").click()
    page.wait_for_url(f"**/sla?month={month}")
    assert "1 of 1 thresholds met" in page.get_by_test_id("summary").inner_text()
