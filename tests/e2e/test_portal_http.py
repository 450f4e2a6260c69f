"""The transparency portal over HTTP, read back with independent parsers: feedparser for Atom,
icalendar for iCal, csv and json for open data (R-DSP-6 and R-AUD-2: findings and results published)."""

from __future__ import annotations

import csv
import io

import feedparser
from icalendar import Calendar

from steward import db as dbmod
from steward.events import record_event, record_publication


def publish() -> None:
    with dbmod.session_scope() as s:
        record_event(s, "dispute:lodged", actor=None, subject_type="dispute", subject_id=1, data={"x": 1})
        record_publication(s, "iap_finding", "IAP finding: breach capable of remedy", "/disputes/1",
                           {"finding": "breach_remediable", "remedy_days": 30}, actor=None, summary="30 days to remedy")
        record_publication(s, "audit_result", "Audit 2026: \"Excellent\", 62 of 65", "/audits/1", {"met": 62}, actor=None)


def test_portal_lists_publications_with_links_to_their_proofs(client):
    publish()
    page = client.get("/portal")
    assert page.status_code == 200
    assert "IAP finding: breach capable of remedy" in page.text
    assert 'href="/archive/entries/1"' in page.text and 'href="/archive/entries/2"' in page.text
    proof_page = client.get("/archive/entries/1")
    assert "IAP finding: breach capable of remedy" in proof_page.text and "Inclusion proof" in proof_page.text
    only = client.get("/portal", params={"kind": "audit_result"})
    assert "Audit 2026" in only.text and "IAP finding: breach" not in only.text
    detail = client.get("/portal/publications/1")
    assert detail.status_code == 200 and "remedy_days" in detail.text
    assert client.get("/portal/publications/99").status_code == 404


def test_atom_feed_reads_back_with_feedparser(client):
    publish()
    response = client.get("/portal/feed.atom")
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo and feed.version == "atom10"
    assert [e.title for e in feed.entries] == ['Audit 2026: "Excellent", 62 of 65', "IAP finding: breach capable of remedy"]
    finding = feed.entries[1]
    assert finding.link.endswith("/disputes/1")
    assert any(link.rel == "related" and link.href.endswith("/archive/entries/1") for link in finding.links)
    assert finding.tags[0].term == "iap_finding"
    only = feedparser.parse(client.get("/portal/feed.atom", params={"kind": "iap_finding"}).content)
    assert len(only.entries) == 1


def test_ical_feed_reads_back_with_icalendar(client):
    response = client.get("/portal/calendar.ics")
    assert response.headers["content-type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    events = list(cal.walk("VEVENT"))
    uids = {str(e["uid"]) for e in events}
    # monthly reporting periods (R-SLA-2), audits every 3 years (R-AUD-1), IPRT reviews (R-IPRT-2)
    assert sum(uid.startswith("sla-month-") for uid in uids) == 16
    assert "audit-1@steward" in uids and "iprt-review-1@steward" in uids
    first_review = next(e for e in events if str(e["uid"]) == "iprt-review-1@steward")
    assert str(first_review.decoded("dtstart")) == "2019-10-01"  # transition 2016-10-01 + 3 years
    assert len(uids) == len(events)


def test_open_data_json_csv_and_api_agree(client):
    publish()
    as_json = client.get("/portal/open-data/publications.json").json()
    as_csv = list(csv.DictReader(io.StringIO(client.get("/portal/open-data/publications.csv").text)))
    api = client.get("/api/v1/portal/publications").json()
    assert api["total"] == 2
    assert [i["title"] for i in as_json] == [r["title"] for r in as_csv] == [i["title"] for i in api["items"]]
    assert as_csv[0]["title"] == 'Audit 2026: "Excellent", 62 of 65'
    assert as_json[1]["log_index"] == 1 and as_csv[1]["proof_url"] == "/archive/entries/1"
    schedule = client.get("/portal/open-data/schedule.json").json()
    assert any(item["uid"] == "audit-1@steward" and item["all_day"] for item in schedule)
    assert client.get("/api/v1/portal/publications", params={"kind": "bad kind!"}).status_code == 422
    assert client.get("/api/v1/portal/publications", params={"kind": "sla-report"}).json()["total"] == 0
