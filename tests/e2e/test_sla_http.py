"""Service levels over HTTP: the IFM's token ingest, publication, public report downloads and
charts, the DUG's review (R-SLA-1, R-SLA-2)."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from steward.db import utcnow
from steward.sla.domain import Month
from tests.support import login, post_form

HEADER = "request_id,tld,category,channel,event,occurred_at\n"
MONTH = Month.of(utcnow()).plus(-2)  # a month that is over, whatever today is


def at(day: int, seconds: int = 0) -> str:
    moment = MONTH.start + timedelta(days=day - 1, hours=9, seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


EVENTS = HEADER + "".join(
    f"{line}\n"
    for line in [
        f"R-1,com,I,automated,received,{at(3)}",
        f"R-1,com,I,automated,ticket_confirmed,{at(3, 20)}",
        f"R-2,com,I,automated,received,{at(4)}",
        f"R-2,com,I,automated,ticket_confirmed,{at(4, 300)}",  # 5 min: a miss
        f"R-3,com,emergency,email,received,{at(5)}",
        f"R-3,com,emergency,email,published,{at(5, 3600)}",
    ]
)


def setup_ifm(make):  # type: ignore[no-untyped-def]
    make.operator("Verisign (test)", tlds=(("com", "generic"),))
    ifm_org = make.org("PTI (test)", "ifm")
    ifm = make.user("ifm_staff", org=ifm_org)
    return ifm, make.token(ifm)


def test_ifm_token_ingests_csv_idempotently_and_bad_files_list_every_line(client, make):
    _ifm, token = setup_ifm(make)
    auth = {"Authorization": f"Bearer {token}"}
    first = client.post(
        "/api/v1/sla/events", content=EVENTS, headers=auth | {"content-type": "text/csv"}
    )
    assert first.status_code == 200, first.text
    assert first.json()["added"] == 6
    again = client.post(
        "/api/v1/sla/events", files={"file": ("events.csv", EVENTS, "text/csv")}, headers=auth
    )
    assert again.json()["added"] == 0 and "already recorded" in again.json()["message"]
    bad = HEADER + f"R-9,nosuch,I,automated,received,{at(6)}\nR-9,com,I,pigeon,received,{at(6)}\n"
    refused = client.post(
        "/api/v1/sla/events", content=bad, headers=auth | {"content-type": "text/csv"}
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    problems = refused.json()["errors"]
    assert [(p["line"], p["field"]) for p in problems] == [(2, "tld"), (3, "channel")]
    items = [
        {
            "request_id": "J-1",
            "tld": "com",
            "category": "I",
            "channel": "automated",
            "event": "published",
            "occurred_at": at(7),
        }
    ]
    as_json = client.post(
        "/api/v1/sla/events",
        content=json.dumps(items),
        headers=auth | {"content-type": "application/json"},
    )
    assert as_json.json()["added"] == 1


def test_ingest_needs_an_ifm_token(client, make):
    operator = make.user("operator_staff")
    token = make.token(operator)
    denied = client.post(
        "/api/v1/sla/events",
        content=EVENTS,
        headers={"Authorization": f"Bearer {token}", "content-type": "text/csv"},
    )
    assert denied.status_code == 403
    assert (
        client.post(
            "/api/v1/sla/events", content=EVENTS, headers={"content-type": "text/csv"}
        ).status_code
        == 401
    )


def test_publish_then_public_report_json_csv_chart_and_dug_review(client, make):
    _ifm, token = setup_ifm(make)
    auth = {"Authorization": f"Bearer {token}"}
    client.post("/api/v1/sla/events", content=EVENTS, headers=auth | {"content-type": "text/csv"})
    month = str(MONTH)
    assert (
        client.get(f"/api/v1/sla/reports/{month}").status_code == 404
    )  # not published: not public
    draft = client.get(f"/api/v1/sla/drafts/{month}", headers=auth).json()
    assert draft["summary"] == {"met": 1, "with_data": 2, "total": 11}
    published = client.post(
        f"/api/v1/sla/reports/{month}/publish",
        headers=auth,
        json={"explanations": {"cat1-ticket-confirmation": "Ticketing outage on day 4."}},
    )
    assert published.status_code == 201, published.text
    assert (
        client.post(f"/api/v1/sla/reports/{month}/publish", headers=auth, json={}).status_code
        == 409
    )

    public = client.get(f"/api/v1/sla/reports/{month}").json()
    assert public["catalogue_version"] == "1" and public["rating"] == "Satisfactory"
    assert public["explanations"] == {"cat1-ticket-confirmation": "Ticketing outage on day 4."}
    ack = next(m for m in public["metrics"] if m["id"] == "cat1-ticket-confirmation")
    assert ack == {
        "id": "cat1-ticket-confirmation",
        "count": 2,
        "met": 1,
        "compliance": 50.0,
        "target": 95,
        "result": "missed",
        "median_s": 20,
        "p95_s": 300,
    }
    assert "open_over" not in public

    rows = list(csv.DictReader(io.StringIO(client.get(f"/sla/reports/{month}.csv").text)))
    assert (
        len(rows) == 11
        and rows[0]["id"] == "cat1-ticket-confirmation"
        and rows[0]["result"] == "missed"
    )
    assert client.get(f"/sla/reports/{month}.json").json()["month"] == month
    chart = client.get(f"/sla/charts/{month}/cat1-ticket-confirmation.svg")
    assert chart.status_code == 200 and chart.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in chart.content
    page = client.get(f"/sla?month={month}")
    assert "1 of 2 thresholds met" in page.text and "Ticketing outage on day 4." in page.text

    member = make.user("dug_member")
    chair = make.user("dug_chair", "dug_member")
    login(client, member)
    assert f"Comment on {month}" in client.get("/home").text
    assert (
        post_form(
            client, f"/sla/review/{month}/comment", {"text": "Why the ticketing outage?"}
        ).status_code
        == 303
    )
    review_page = client.get(f"/sla/review/{month}")
    assert "Why the ticketing outage?" in review_page.text
    assert (
        post_form(client, f"/sla/review/{month}/record", {"overall": "concerns"}).status_code == 403
    )
    client.cookies.clear()
    login(client, chair)
    contradiction = post_form(
        client,
        f"/sla/review/{month}/record",
        {
            "overall": "satisfactory",
            "finding-cat1-ticket-confirmation": "breach",
        },
    )
    assert contradiction.status_code == 422 and "cannot be satisfactory" in contradiction.text
    recorded = post_form(
        client,
        f"/sla/review/{month}/record",
        {
            "overall": "concerns",
            "summary": "One miss, explained.",
            "finding-cat1-ticket-confirmation": "breach",
            "note-cat1-ticket-confirmation": "Outage of 1 day",
            "finding-emergency-12h": "satisfactory",
            "advice": "Report ticketing outages in the month they happen.",
        },
    )
    assert recorded.status_code == 303
    client.cookies.clear()
    review = client.get(f"/api/v1/sla/reports/{month}").json()["review"]  # public once recorded
    assert review["overall"] == "concerns"
    assert review["findings"] == [
        {"metric": "cat1-ticket-confirmation", "finding": "breach", "note": "Outage of 1 day"}
    ]
    assert review["advice"].startswith("Report ticketing outages")
    assert "One miss, explained." in client.get(f"/sla?month={month}").text


def test_ifm_upload_page_lists_every_bad_line(client, make):
    ifm, _token = setup_ifm(make)
    login(client, ifm)
    bad = (
        HEADER
        + f"R-1,com,I,automated,received,{at(3)}\nR-1,com,I,automated,received,2026-01-01T00:00\n"
    )
    page = post_form(client, "/sla/ifm/upload", files={"file": ("bad.csv", bad, "text/csv")})
    assert page.status_code == 422
    assert "nothing was ingested" in page.text and "has no UTC offset" in page.text
    ok = post_form(client, "/sla/ifm/upload", files={"file": ("good.csv", EVENTS, "text/csv")})
    assert ok.status_code == 200 and "6 of 6 events added" in ok.text
    assert "review and publish" in client.get("/sla/ifm").text
    assert f"Publish the report for {MONTH}" in client.get("/home").text


def test_public_performance_page_without_reports(client):
    page = client.get("/sla")
    assert page.status_code == 200 and "No monthly report has been published yet" in page.text
    assert client.get("/sla/catalogue").status_code == 200
    assert client.get("/sla/ifm").status_code in (303, 401)


def test_api_refuses_bad_input_by_line_and_changes_nothing(client, make):
    """A row with an extra field, an empty month's publication and a catalogue that is not UTF-8
    or not TOML: 422 naming the line (or the month), nothing stored."""
    _ifm, token = setup_ifm(make)
    auth = {"Authorization": f"Bearer {token}"}
    extra = EVENTS + f"R-4,com,I,automated,received,{at(8)},surplus\n"
    refused = client.post(
        "/api/v1/sla/events", content=extra, headers=auth | {"content-type": "text/csv"}
    )
    assert refused.status_code == 422
    assert [(p["line"], p["field"]) for p in refused.json()["errors"]] == [(8, None)]
    assert "expected 6 fields, found 7" in refused.json()["errors"][0]["reason"]
    draft = client.get(f"/api/v1/sla/drafts/{MONTH}", headers=auth).json()
    assert draft["summary"]["with_data"] == 0  # nothing was stored

    empty = client.post(f"/api/v1/sla/reports/{MONTH}/publish", headers=auth, json={})
    assert empty.status_code == 422 and empty.json()["field"] == "month"
    assert f"there is no data for {MONTH}" in empty.json()["detail"]
    assert client.get(f"/api/v1/sla/reports/{MONTH}").status_code == 404

    chair = make.user("dug_chair", "dug_member")
    chair_auth = {"Authorization": f"Bearer {make.token(chair)}", "content-type": "text/plain"}
    latin1 = client.post(
        "/api/v1/sla/catalogue",
        content=b'version = "2"\neffective = 2027-01-01\ncause = "Caf\xe9"\n',
        headers=chair_auth,
    )
    assert latin1.status_code == 422 and latin1.json()["line"] == 3
    assert "not UTF-8 text (byte 0xe9 at offset 49)" in latin1.json()["detail"]
    not_toml = client.post(
        "/api/v1/sla/catalogue", content=b'version = "2"\nx = @\n', headers=chair_auth
    )
    assert not_toml.status_code == 422
    assert (not_toml.json()["line"], not_toml.json().get("field")) == (2, None)
    assert [v["version"] for v in client.get("/api/v1/sla/catalogue").json()] == ["1"]
