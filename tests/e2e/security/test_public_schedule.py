"""The public schedule on the demo (issue 5 point 6: report dates, audits, reviews, comment
periods): besides the reporting months, audits and IPRT reviews, the feed carries the comment
and feedback periods, the consent ballots' voting periods and the IAP's remedy deadlines."""

from __future__ import annotations

from typing import Any

from icalendar import Calendar


def test_the_calendar_carries_every_public_period_and_deadline(demo_env: Any) -> None:
    anonymous = demo_env.client("anonymous", signed_in=False)
    cal = Calendar.from_ical(anonymous.get("/portal/calendar.ics").content)
    events = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    uids = set(events)
    assert any(u.startswith("change-") and u.endswith("-comments@steward") for u in uids)  # R-TCH-2
    assert any(u.startswith("audit-") and u.endswith("-feedback@steward") for u in uids), uids  # R-AUD-2
    assert any(u.startswith("ballot-") for u in uids), uids  # R-ESC-1
    remedy = [e for u, e in events.items() if u.startswith("dispute-") and u.endswith("-remedy@steward")]
    assert remedy and "Remedy due: IAP finding D-" in str(remedy[0]["summary"])  # R-DSP-6
    schedule = anonymous.get("/portal/open-data/schedule.json").json()
    assert {i["uid"] for i in schedule} == uids
    for text in (str(e.get("summary", "")) + str(e.get("description", "")) for e in events.values()):
        assert not any(marker in text for marker in demo_env.markers.values())
