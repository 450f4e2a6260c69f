"""Disputes over HTTP: the whole ladder through the JSON API, and confidentiality from outside.

R-DSP-1…9, R-DUG-3. Every role, through every route: pages, API, search, attachments, feeds.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support import login, post_form

PDF = b"%PDF-1.7\n% test\n"


@dataclass
class People:
    operator: Any
    ifm: Any
    member: Any
    chair: Any
    liaison: Any
    mediator: Any
    panelist: Any
    recused: Any
    other_operator: Any
    sysadmin: Any
    auditor: Any
    idle_mediator: Any
    expert: Any
    iprt: Any
    tokens: dict[str, str]


@pytest.fixture
def people(make: Any) -> People:
    ifm_org = make.org("Public Technical Identifiers", "ifm")
    op = make.operator("Example Registry", tlds=(("example", "country-code"), ("sample", "generic")))
    other = make.operator("Other Registry", tlds=(("other", "generic"),))
    tech = make.org("IETF", "technical_community")
    p = People(
        operator=make.user("operator_staff", org=op),
        ifm=make.user("ifm_staff", org=ifm_org),
        member=make.user("dug_member", org=other),
        chair=make.user("dug_chair", org=other),
        liaison=make.user("dug_liaison", org=tech),
        mediator=make.user("mediator"),
        panelist=make.user("iap_panelist"),
        recused=make.user("dug_member", org=op),
        other_operator=make.user("operator_staff", org=other),
        sysadmin=make.user("sysadmin"),
        auditor=make.user("auditor"),
        idle_mediator=make.user("mediator"),
        expert=make.user("expert"),
        iprt=make.user("iprt_member"),
        tokens={},
    )
    for name in ("operator", "ifm", "member", "chair", "liaison", "mediator", "panelist",
                 "recused", "other_operator", "sysadmin", "auditor", "idle_mediator", "expert", "iprt"):
        p.tokens[name] = make.token(getattr(p, name))
    return p


def decide(kind: str, case_id: int) -> None:
    """A passed DUG motion on the dispute (the vote itself is tested in governance)."""
    from steward.db import session_scope, utcnow
    from steward.governance.models import Motion

    with session_scope() as s:
        s.add(Motion(kind=kind, title=f"{kind} on dispute {case_id}", text="Decided.",
                     subject_type="dispute", subject_id=str(case_id), state="passed", closed_at=utcnow()))


def h(p: People, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {p.tokens[who]}"}


COMPLAINT = {
    "title": "NS change for .example took nine days",
    "tlds": [".example"],
    "service_levels": ["released → published 72 h"],
    "subject": "service_level",
    "what_happened": "Our NS change was published nine days after release.",
    "negotiation": "Ticket 1234; the IFM acknowledged but did not fix it.",
}


def lodge(client: Any, p: People, **changes: Any) -> dict[str, Any]:
    r = client.post("/api/v1/disputes", json={**COMPLAINT, **changes}, headers=h(p, "operator"))
    assert r.status_code == 201, r.text
    case: dict[str, Any] = r.json()
    assert case == ok(client.get(f"/api/v1/disputes/{case['id']}", headers=h(p, "operator")))
    return case


def act(client: Any, p: People, who: str, case: dict[str, Any], action: str, **body: Any) -> Any:
    body.setdefault("version", case["version"])
    return client.post(f"/api/v1/disputes/{case['id']}/actions/{action}", json=body, headers=h(p, who))


def ok(r: Any) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def step(client: Any, p: People, who: str, case: dict[str, Any], action: str, **body: Any) -> dict[str, Any]:
    """An action whose answer is the case exactly as anyone then reads it back (the answer is made
    from the values the action wrote, not read again)."""
    answer = ok(act(client, p, who, case, action, **body))
    assert answer == ok(client.get(f"/api/v1/disputes/{case['id']}", headers=h(p, who))), action
    return answer


def test_whole_ladder_through_the_api(client: Any, people: People) -> None:
    p = people
    case = lodge(client, p)
    assert case["stage"] == "lodged"
    assert case["documents"][0]["kind"] == "complaint"
    case = step(client, p, "member", case, "request_response")
    assert case["stage"] == "response_requested"
    (deadline,) = [d for d in case["deadlines"] if d["kind"] == "response"]
    assert deadline["working_days"] == 10 and deadline["calendar"] == "US-CA"
    assert len(deadline["counted"]) == 10
    pdf = base64.b64encode(PDF).decode()
    case = ok(act(client, p, "ifm", case, "submit_response", text="We accept the delay.",
                  attachments=[{"filename": "response.pdf", "content_type": "application/pdf",
                                "content_base64": pdf}]))
    assert case["stage"] == "assessment"
    att = case["documents"][-1]["attachments"][0]
    assert att["sha256"] == __import__("hashlib").sha256(PDF).hexdigest()
    got = client.get(att["url"], headers=h(p, "operator"))
    assert got.status_code == 200 and got.content == PDF
    undecided = act(client, p, "chair", case, "engage_mediator", mediator_ids=[p.mediator.id])
    assert undecided.status_code == 409 and "DUG decision" in undecided.json()["detail"]
    decide("instruct_ifm", case["id"])
    decide("engage_mediator", case["id"])
    decide("engage_iap", case["id"])
    case = step(client, p, "chair", case, "issue_instruction", text="Publish within 24 h.")
    case = step(client, p, "chair", case, "engage_mediator", mediator_ids=[p.mediator.id])
    assert "DUG decision #" in case["timeline"][-1]["note"]
    assert case["stage"] == "mediation" and case["mediators"][0]["id"] == p.mediator.id
    case = step(client, p, "member", case, "file_dug_report", text="Our facilitation: ...")
    case = step(client, p, "ifm", case, "file_ifm_report", text="The IFM's view: ...")
    refused = act(client, p, "mediator", case, "engage_iap", panelist_ids=[p.panelist.id])
    assert refused.status_code in (403, 409)
    case = step(client, p, "mediator", case, "declare_mediation_failed", text="No agreement.")
    no_consent = act(client, p, "chair", case, "engage_iap", panelist_ids=[p.panelist.id])
    assert no_consent.status_code == 409
    assert "R-DSP-5" in no_consent.json()["detail"]
    case = step(client, p, "operator", case, "agree_to_be_bound", text="We agree to be bound.")
    case = step(client, p, "chair", case, "engage_iap", panelist_ids=[p.panelist.id])
    assert case["stage"] == "iap"
    panel_view = ok(client.get(f"/api/v1/disputes/{case['id']}", headers=h(p, "panelist")))
    kinds = [d["kind"] for d in panel_view["documents"]]
    assert {"complaint", "ifm_response", "dug_report", "ifm_report", "mediation_outcome"} <= set(kinds)
    case = step(client, p, "panelist", case, "find_breach_remediable", text="Breach; remediable.")
    assert case["stage"] == "remedy_pending" and case["remedy_due"]
    case = step(client, p, "chair", case, "confirm_remedy")
    assert case["stage"] == "remedied" and case["archived"]
    findings = client.get("/api/v1/disputes/findings").json()
    assert findings[0]["operator"] == "Example Registry"
    assert findings[0]["outcome"] == "remedied"
    assert "what_happened" not in findings[0]
    tags = [t["tag"] for t in case["timeline"]]
    assert tags[0] == "dispute:lodged" and tags[-1] == "dispute:remedied"
    # archived: never changes again (R-DSP-9)
    late = act(client, p, "operator", case, "withdraw", text="too late")
    assert late.status_code == 409 and "R-DSP-9" in late.json()["detail"]


def test_stale_version_gets_a_clear_conflict(client: Any, people: People) -> None:
    case = lodge(client, people)
    first = act(client, people, "member", case, "request_response")
    assert first.status_code == 200
    second = act(client, people, "chair", case, "refuse", refusal_ground="policy", text="x")
    assert second.status_code == 409
    assert "changed by someone else" in second.json()["detail"]


def test_policy_complaint_is_refused_with_rule_and_reason(client: Any, people: People) -> None:
    case = lodge(client, people, subject="policy")
    assert case["stage"] == "refused"
    assert case["refusal"]["rule"] == "R-DSP-1"
    assert "Policy matters" in case["refusal"]["reason"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"tlds": []}, "tlds"),
        ({"tlds": ["other"]}, "tlds"),
        ({"tlds": ["nosuchtld"]}, "tlds"),
        ({"negotiation": ""}, "negotiation"),
        ({"what_happened": " "}, "what_happened"),
        ({"subject": "weather"}, "subject"),
        ({"title": ""}, "title"),
    ],
)
def test_bad_complaint_names_the_field_and_creates_nothing(
    client: Any, people: People, changes: dict[str, Any], field: str
) -> None:
    r = client.post("/api/v1/disputes", json={**COMPLAINT, **changes}, headers=h(people, "operator"))
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert client.get("/api/v1/disputes", headers=h(people, "operator")).json() == []


def test_bad_attachment_is_refused_and_nothing_changes(client: Any, people: People) -> None:
    case = lodge(client, people)
    case = ok(act(client, people, "member", case, "request_response"))
    fake = base64.b64encode(b"MZ not a pdf").decode()
    r = act(client, people, "ifm", case, "submit_response", text="resp",
            attachments=[{"filename": "x.pdf", "content_type": "application/pdf", "content_base64": fake}])
    assert r.status_code == 422 and r.json()["field"] == "attachments"  # the API field it came in
    again = ok(client.get(f"/api/v1/disputes/{case['id']}", headers=h(people, "ifm")))
    assert again["stage"] == "response_requested" and again["version"] == case["version"]


def test_api_attachment_over_the_size_limit_is_refused_before_decoding(
    client: Any, people: People, monkeypatch: Any
) -> None:
    from steward.config import get_settings

    monkeypatch.setenv("STEWARD_UPLOAD_MAX_BYTES", "1024")
    get_settings.cache_clear()
    case = ok(act(client, people, "member", lodge(client, people), "request_response"))
    big = base64.b64encode(b"%PDF-1.7\n" + b"0" * 2048).decode()
    r = act(client, people, "ifm", case, "submit_response", text="resp",
            attachments=[{"filename": "big.pdf", "content_type": "application/pdf", "content_base64": big}])
    assert r.status_code == 422 and r.json()["field"] == "attachments"
    assert "big.pdf" in r.json()["detail"] and "1024 bytes" in r.json()["detail"]
    again = ok(client.get(f"/api/v1/disputes/{case['id']}", headers=h(people, "ifm")))
    assert again["version"] == case["version"]
    get_settings.cache_clear()


SEES = ["operator", "ifm", "member", "chair", "liaison"]
BLIND = ["recused", "other_operator", "sysadmin", "auditor", "idle_mediator", "mediator", "panelist",
         "expert", "iprt"]


def test_confidentiality_from_outside_every_role_every_route(client: Any, people: People) -> None:
    """R-DSP-7 / R-DUG-3: 404 for everyone else on API, search, pages, attachments, feeds."""
    p = people
    case = lodge(client, p)
    case = ok(act(client, p, "member", case, "request_response"))
    pdf = base64.b64encode(PDF).decode()
    case = ok(act(client, p, "ifm", case, "submit_response", text="SECRET-RESPONSE",
                  attachments=[{"filename": "r.pdf", "content_type": "application/pdf", "content_base64": pdf}]))
    att_url = case["documents"][-1]["attachments"][0]["url"]
    cid = case["id"]
    for who in SEES:
        assert client.get(f"/api/v1/disputes/{cid}", headers=h(p, who)).status_code == 200, who
        assert [c["id"] for c in client.get("/api/v1/disputes", headers=h(p, who)).json()] == [cid]
        assert client.get(att_url, headers=h(p, who)).status_code == 200
    for who in BLIND:
        assert client.get(f"/api/v1/disputes/{cid}", headers=h(p, who)).status_code == 404, who
        assert client.get("/api/v1/disputes", headers=h(p, who)).json() == [], who
        assert client.get(f"/api/v1/disputes?q={case['reference']}", headers=h(p, who)).json() == []
        assert client.get(att_url, headers=h(p, who)).status_code == 404, who
        r = act(client, p, who, case, "withdraw", text="x")
        assert r.status_code == 404, who
    # anonymous public
    assert client.get(f"/api/v1/disputes/{cid}").status_code in (401, 404)
    assert client.get(att_url).status_code in (401, 404)
    assert client.get(f"/disputes/{cid}").status_code in (401, 404, 303)
    # feeds and public pages never carry the file
    for url in ("/portal/feed.atom", "/disputes/findings", "/api/v1/disputes/findings"):
        r = client.get(url)
        assert "SECRET-RESPONSE" not in r.text and case["reference"] not in r.text, url


def test_pages_show_the_case_only_to_those_the_rules_name(client: Any, people: People) -> None:
    p = people
    case = lodge(client, p)
    pdf = base64.b64encode(PDF).decode()
    case = ok(act(client, p, "operator", case, "agree_to_be_bound", text="We agree.",
                  attachments=[{"filename": "a.pdf", "content_type": "application/pdf", "content_base64": pdf}]))
    cid, ref = case["id"], case["reference"]
    att = case["documents"][-1]["attachments"][0]["id"]
    for who in SEES + BLIND:
        client.cookies.clear()
        login(client, getattr(p, who))
        page = client.get(f"/disputes/{cid}")
        listing = client.get("/disputes").text + client.get("/disputes/board").text
        search = client.get(f"/disputes?q={ref}").text
        download = client.get(f"/disputes/{cid}/attachments/{att}")
        if who in SEES:
            assert page.status_code == 200 and ref in listing and download.status_code == 200, who
            assert "Open (1)" in search, who
            continue
        assert "Open (0)" in search and "Closed and archived (0)" in search, who
        assert page.status_code == 404, who
        assert ref not in listing and "DS update" not in listing, who
        assert download.status_code == 404, who
        assert post_form(client, f"/disputes/{cid}/act", {"action": "withdraw", "text": "x"}).status_code == 404
        assert post_form(client, f"/disputes/{cid}/disclose").status_code == 404, who


def test_engaged_mediator_and_panelist_then_see_it(client: Any, people: People) -> None:
    p = people
    case = lodge(client, p)
    case = ok(act(client, p, "member", case, "request_response"))
    case = ok(act(client, p, "ifm", case, "submit_response", text="r"))
    decide("engage_mediator", case["id"])
    case = ok(act(client, p, "chair", case, "engage_mediator", mediator_ids=[p.mediator.id]))
    assert client.get(f"/api/v1/disputes/{case['id']}", headers=h(p, "mediator")).status_code == 200
    assert client.get(f"/api/v1/disputes/{case['id']}", headers=h(p, "idle_mediator")).status_code == 404
    assert client.get(f"/api/v1/disputes/{case['id']}", headers=h(p, "panelist")).status_code == 404


def test_both_consents_make_the_record_public(client: Any, people: People) -> None:
    p = people
    case = lodge(client, p)
    r = client.post(f"/api/v1/disputes/{case['id']}/disclosure", headers=h(p, "operator"))
    assert r.json()["disclosure_consents"] == ["complainant"] and not r.json()["disclosed"]
    assert client.get(f"/api/v1/disputes/{case['id']}", headers=h(p, "other_operator")).status_code == 404
    dup = client.post(f"/api/v1/disputes/{case['id']}/disclosure", headers=h(p, "operator"))
    assert dup.status_code == 409
    dug = client.post(f"/api/v1/disputes/{case['id']}/disclosure", headers=h(p, "member"))
    assert dug.status_code == 403
    r = client.post(f"/api/v1/disputes/{case['id']}/disclosure", headers=h(p, "ifm"))
    assert r.json()["disclosed"]
    assert client.get(f"/api/v1/disputes/{case['id']}", headers=h(p, "other_operator")).status_code == 200
    public = client.get(f"/disputes/{case['id']}")
    assert public.status_code == 200 and "disclosed by both parties" in public.text
    assert "What you can do" not in public.text


def test_html_ladder_forms_and_conflict_message(client: Any, people: People) -> None:
    p = people
    login(client, p.operator)
    r = post_form(client, "/disputes/new", {
        "title": "Slow publication", "tlds": "example", "service_levels": "released → published",
        "subject": "service_level", "what_happened": "Nine days.", "negotiation": "Ticket 1",
        "mode": "lodge",
    })
    assert r.status_code == 303
    url = r.headers["location"]
    page = client.get(url)
    assert "Complaint lodged with the DUG" in page.text
    bad = post_form(client, "/disputes/new", {"title": "x", "tlds": "", "what_happened": "y", "mode": "lodge"})
    assert bad.status_code == 422 and "TLD" in bad.text
    client.cookies.clear()
    login(client, p.member)
    case_id = int(url.rsplit("/", 1)[1])
    r = post_form(client, f"{url}/act", {"action": "request_response", "version": 1})
    assert r.status_code == 303
    stale = post_form(client, f"{url}/act", {"action": "request_response", "version": 1})
    assert stale.status_code == 409 and "changed by someone else" in stale.text
    board = client.get("/disputes/board")
    assert f"/disputes/{case_id}" in board.text
    page = client.get(url)
    assert "How this was counted" in page.text


def test_direct_negotiation_then_escalation_to_the_dug(client: Any, people: People) -> None:
    """R-DSP-2: the optional first stage; the DUG sees the case only once it is lodged."""
    p = people
    case = lodge(client, p, negotiate_first=True, negotiation="")
    assert case["stage"] == "negotiation"
    kinds = {d["kind"] for d in case["deadlines"]}
    assert kinds == {"acknowledgement", "answer"}
    assert client.get(f"/api/v1/disputes/{case['id']}", headers=h(p, "member")).status_code == 404
    case = ok(act(client, p, "ifm", case, "acknowledge"))
    case = ok(act(client, p, "ifm", case, "answer", text="We are looking into it."))
    assert [d["running"] for d in case["deadlines"]] == [False, False]
    no_account = act(client, p, "operator", case, "escalate",
                     complaint={**COMPLAINT, "negotiation": ""})
    assert no_account.status_code == 422 and no_account.json()["field"] == "negotiation"
    case = ok(act(client, p, "operator", case, "escalate", complaint=COMPLAINT))
    assert case["stage"] == "lodged"
    assert client.get(f"/api/v1/disputes/{case['id']}", headers=h(p, "member")).status_code == 200
    lodged = client.get("/api/v1/disputes?stage=lodged", headers=h(p, "member")).json()
    assert [c["id"] for c in lodged] == [case["id"]]
    assert client.get("/api/v1/disputes?stage=nonsense", headers=h(p, "member")).status_code == 422


def test_settled_in_negotiation_through_the_page(client: Any, people: People) -> None:
    p = people
    login(client, p.operator)
    r = post_form(client, "/disputes/new", {
        "title": "Contact change pending", "tlds": "sample", "what_happened": "Pending for a week.",
        "subject": "service_level", "service_levels": "contact confirmation", "mode": "negotiate",
    })
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    assert "Direct negotiation" in client.get(url).text
    r = post_form(client, f"{url}/act", {"action": "settle", "version": 1})
    assert r.status_code == 303
    page = client.get(url).text
    assert "Settled in direct negotiation" in page and "archived" in page


def test_page_upload_over_the_size_limit_is_refused_and_nothing_changes(
    client: Any, people: People, monkeypatch: Any
) -> None:
    from steward.config import get_settings

    monkeypatch.setenv("STEWARD_UPLOAD_MAX_BYTES", "1024")
    get_settings.cache_clear()
    p = people
    case = lodge(client, p)
    case = ok(act(client, p, "member", case, "request_response"))
    login(client, p.ifm)
    big = b"%PDF-1.7\n" + b"0" * 2048
    r = post_form(client, f"/disputes/{case['id']}/act",
                  {"action": "submit_response", "version": case["version"], "text": "Our response."},
                  files={"files": ("big.pdf", big, "application/pdf")})
    assert r.status_code == 422
    assert "big.pdf" in r.text and "over the limit of 1024 bytes" in r.text
    after = ok(client.get(f"/api/v1/disputes/{case['id']}", headers=h(p, "ifm")))
    assert after["stage"] == "response_requested" and after["version"] == case["version"]
    ok_pdf = b"%PDF-1.7\n%%EOF\n"
    r = post_form(client, f"/disputes/{case['id']}/act",
                  {"action": "submit_response", "version": case["version"], "text": "Our response."},
                  files={"files": ("small.pdf", ok_pdf, "application/pdf")})
    assert r.status_code == 303
    after = ok(client.get(f"/api/v1/disputes/{case['id']}", headers=h(p, "ifm")))
    assert after["documents"][-1]["attachments"][0]["filename"] == "small.pdf"
    get_settings.cache_clear()


def test_an_idn_operator_lodges_naming_its_tld_in_unicode(client: Any, make: Any) -> None:
    make.org("PTI", "ifm")
    org = make.operator("Coordination Center for TLD RU", tlds=(("рф", "country-code"),))
    user = make.user("operator_staff", org=org)
    token = make.token(user)
    r = client.post("/api/v1/disputes", json={**COMPLAINT, "tlds": ["рф"]},
                    headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    assert r.json()["tlds"] == ["xn--p1ai"]
    # pages show the name people read, beside the A-label the API and the root zone use
    page = client.get(f"/disputes/{r.json()['id']}", headers={"Authorization": f"Bearer {token}"})
    assert "<bdi>.рф</bdi> (.xn--p1ai)" in page.text
    assert "<bdi>.рф</bdi> (.xn--p1ai)" in client.get("/disputes/new", headers={"Authorization": f"Bearer {token}"}).text


def test_tld_label_isolates_right_to_left_names_and_leaves_ascii_alone() -> None:
    from steward.web import tld_label

    assert tld_label("example") == ".example"
    assert tld_label("xn--mgbaam7a8h") == "<bdi>.امارات</bdi> (.xn--mgbaam7a8h)"
    assert tld_label("xn--zz") == ".xn--zz"  # not decodable: shown as stored


def test_a_committed_change_whose_answer_fails_says_it_was_saved(client: Any, people: People,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The answer to a state change is made after its commit (outside the write locks): should
    making it fail, the client learns the change stands rather than retrying it blindly."""
    from steward.disputes import api

    def broken(*_args: Any) -> Any:
        raise RuntimeError("answer failed")

    monkeypatch.setattr(api, "case_out", broken)
    r = client.post("/api/v1/disputes", json=COMPLAINT, headers=h(people, "operator"))
    assert r.status_code == 500
    assert "was saved" in r.json()["detail"] and "do not send the change again" in r.json()["detail"]
    monkeypatch.undo()
    cases = client.get("/api/v1/disputes", headers=h(people, "operator")).json()
    assert [c["title"] for c in cases] == [COMPLAINT["title"]]  # lodged once, and it stands


def test_a_request_body_over_the_limit_is_refused_unread_and_changes_nothing(
    client: Any, people: People, monkeypatch: Any
) -> None:
    """STEWARD_REQUEST_MAX_BYTES bounds what any request can make the server hold (413), whether
    its length is declared or not; the event file routes take their own, larger limit."""
    from steward.config import get_settings

    monkeypatch.setenv("STEWARD_REQUEST_MAX_BYTES", "4096")
    get_settings.cache_clear()
    big = {**COMPLAINT, "what_happened": "x" * 8000}
    declared = client.post("/api/v1/disputes", json=big, headers=h(people, "operator"))
    assert declared.status_code == 413, declared.text
    assert declared.headers["content-type"].startswith("application/problem+json")
    assert "4096 bytes" in declared.json()["detail"]
    raw = json.dumps(big).encode()
    chunked = client.post("/api/v1/disputes", content=(raw[i:i + 1000] for i in range(0, len(raw), 1000)),
                          headers={**h(people, "operator"), "content-type": "application/json"})
    assert chunked.status_code == 413, chunked.text
    assert client.get("/api/v1/disputes", headers=h(people, "operator")).json() == []
    small = lodge(client, people)  # under the limit, as before
    assert small["stage"] == "lodged"
    events = client.post("/api/v1/sla/events", content=b"request_id" + b" " * 8000,
                         headers={**h(people, "ifm"), "content-type": "text/csv"})
    assert events.status_code != 413  # the event file routes: STEWARD_SLA_UPLOAD_MAX_BYTES
    login(client, people.operator)
    page = post_form(client, "/disputes/new", {**{k: v for k, v in COMPLAINT.items() if k != "tlds"},
                                                "tlds": "example", "what_happened": "x" * 8000})
    assert page.status_code == 413 and "text/html" in page.headers["content-type"], page.text
    assert "content-security-policy" in page.headers and "4096 bytes" in page.text
    get_settings.cache_clear()


def test_a_write_lock_held_past_the_busy_timeout_answers_503_and_changes_nothing(
    client: Any, people: People, monkeypatch: Any
) -> None:
    """Another process keeping SQLite's write queue (a long import) past the busy timeout: the
    lodging is refused 503 with Retry-After, as problem+json on the API and a page on the site."""
    import fcntl

    from sqlalchemy.engine import make_url

    from steward import db as dbmod
    from steward.config import get_settings

    monkeypatch.setattr(dbmod, "SQLITE_BUSY_TIMEOUT_S", 0.2)
    login(client, people.operator)  # signing in writes too: before the lock is taken
    signed_in = dict(client.cookies)
    client.cookies.clear()  # the API call carries its bearer token only
    other = os.open(str(make_url(get_settings().database_url).database) + "-writelock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(other, fcntl.LOCK_EX)
        r = client.post("/api/v1/disputes", json=COMPLAINT, headers=h(people, "operator"))
        assert r.status_code == 503 and r.headers["retry-after"] == "2", r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "Nothing was saved" in r.json()["detail"]
        client.cookies.update(signed_in)
        page = post_form(client, "/disputes/new", {**{k: v for k, v in COMPLAINT.items() if k != "tlds"},
                                                    "tlds": "example"})
        assert page.status_code == 503 and "text/html" in page.headers["content-type"]
        assert "try again in a moment" in page.text
    finally:
        fcntl.flock(other, fcntl.LOCK_UN)
        os.close(other)
    client.cookies.clear()
    assert client.get("/api/v1/disputes", headers=h(people, "operator")).json() == []
    assert lodge(client, people)["stage"] == "lodged"


def test_only_the_drivers_lock_timeout_answers_503(app: Any) -> None:
    """The 503 is judged on the driver's message: another database error whose statement or values
    happen to contain the words stays a server error (500)."""
    from fastapi.testclient import TestClient
    from sqlalchemy.exc import OperationalError

    def locked() -> None:
        raise OperationalError("INSERT INTO t VALUES (?)", ("x",), sqlite3.OperationalError("database is locked"))

    def disk() -> None:
        raise OperationalError("INSERT INTO t VALUES (?)", ("database is locked",),
                               sqlite3.OperationalError("disk I/O error"))

    app.add_api_route("/test/locked", locked, methods=["POST"])
    app.add_api_route("/test/disk", disk, methods=["POST"])
    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.post("/test/locked", headers={"accept": "application/json"}).status_code == 503
        r = c.post("/test/disk", headers={"accept": "application/json"})
        assert r.status_code == 500 and "retry-after" not in r.headers
