"""DUG, IPRT and audit pages and API over HTTP (no mocks of Steward's own code)."""

from __future__ import annotations

from datetime import date
from typing import Any

from steward import db as dbmod
from steward.accounts import repository as accounts_repo
from steward.accounts.principal import Principal
from steward.governance import service as governance
from tests.support import login, post_form

TERM = date(2020, 1, 1)


def seat(user: Any, seat: str = "voting", community: str = "cctld", chair: bool = False) -> None:
    with dbmod.session_scope() as s:
        admin = accounts_repo.user_by_email(s, "root@test.example")
        assert admin is not None
        governance.add_member(
            s,
            Principal.of(admin),
            user_id=user.id,
            seat=seat,
            community=community,
            technical_experience="Runs an authoritative DNS platform",
            term_start=TERM,
            is_chair=chair,
        )


def dug(make: Any, voting: int = 8, liaisons: int = 2) -> dict[str, Any]:
    make.user("sysadmin", email="root@test.example")
    orgs = [make.org(f"Registry {i}") for i in range(voting)]
    voters = []
    for i, o in enumerate(orgs):
        roles = ("dug_member", "dug_chair") if i == 0 else ("dug_member",)
        u = make.user(*roles, org=o, email=f"v{i}@dug.test", name=f"Voter {i}")
        seat(u, chair=(i == 0), community="gtld" if i % 2 else "cctld")
        voters.append(u)
    ietf = make.org("IETF", "technical_community")
    ls = []
    for j in range(liaisons):
        u = make.user("dug_liaison", org=ietf, email=f"l{j}@dug.test", name=f"Liaison {j}")
        seat(u, seat="liaison", community="technical")
        ls.append(u)
    return {"voters": voters, "liaisons": ls, "orgs": orgs}


def bearer(make: Any, user: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {make.token(user)}"}


def test_public_pages_show_members_schedules_and_decisions(client, make):
    d = dug(make)
    page = client.get("/governance")
    assert page.status_code == 200
    assert "The DUG is fully constituted" in page.text
    assert "Voter 0" in page.text and "chair" in page.text
    assert "Runs an authoritative DNS platform" in page.text
    reviews = client.get("/reviews")
    assert reviews.status_code == 200 and "2019-10-01" in reviews.text and "overdue" in reviews.text
    audits = client.get("/audits")
    assert audits.status_code == 200 and "2022-10-01" in audits.text
    roster = client.get("/api/v1/governance/members").json()
    assert roster["complete"] is True and len(roster["members"]) == 10
    schedule = client.get("/api/v1/reviews/schedule").json()
    assert schedule[0] == {
        "number": 1,
        "due": "2019-10-01",
        "status": "overdue",
        "overdue": True,
        "record_id": None,
    }
    assert d["voters"]


def test_composition_error_is_shown_on_the_form_and_changes_nothing(client, make):
    d = dug(make)
    extra = make.user("dug_member", org=make.org("Registry X"), email="x@dug.test")
    login(client, d["voters"][0])
    response = post_form(
        client,
        "/governance/members",
        {
            "user_id": extra.id,
            "seat": "voting",
            "community": "gtld",
            "technical_experience": "DNSSEC",
            "term_start": "2026-01-01",
        },
    )
    assert response.status_code == 422
    assert "9 voting members" in response.text and "8 voting seats" in response.text
    assert len(client.get("/api/v1/governance/members").json()["members"]) == 10


def test_backdated_charter_is_refused_on_the_form_and_the_page_shows_the_version_in_force_R_DUG_1(
    client, make
):
    from steward.governance.domain import CharterText
    from steward.governance.models import DugCharter

    d = dug(make)
    with dbmod.session_scope() as s:
        admin = accounts_repo.user_by_email(s, "root@test.example")
        assert admin is not None
        text = CharterText("Escalation body", "Elected", "Monthly calls")
        governance.adopt_charter(s, Principal.of(admin), text, date(2020, 1, 1))
    login(client, d["voters"][0])
    form = {"role": "r", "chair_appointment": "c", "communication_lines": "l", "effective_from": "2019-06-01"}
    refused = post_form(client, "/governance/charter", form)
    assert refused.status_code == 422
    assert "effective_from" in refused.text and "before version 1, the latest" in refused.text
    assert len(client.get("/api/v1/governance/charter").json()) == 1
    client.cookies.clear()
    api = client.post("/api/v1/governance/charter", headers=bearer(make, d["voters"][0]),
                      json={**form, "note": ""})
    assert api.status_code == 422 and api.json()["field"] == "effective_from"
    # A version backdated before the rule existed: the page follows charter_in_force, the
    # latest effective date wins, not the highest version number.
    with dbmod.session_scope() as s:
        s.add(DugCharter(version=2, role="r", chair_appointment="c", communication_lines="l",
                         effective_from=date(2016, 10, 1), note="legacy"))
    page = client.get("/governance").text
    assert "Version 1 is in force since 2020-01-01" in page


def test_motion_vote_over_the_api_states_the_rule(client, make):
    d = dug(make)
    chair = bearer(make, d["voters"][0])
    created = client.post(
        "/api/v1/governance/motions",
        headers=chair,
        json={
            "kind": "agree_technical_plan",
            "title": "Agree the DNSSEC algorithm roll plan",
            "text": "As circulated.",
        },
    )
    assert created.status_code == 201, created.text
    mid = created.json()["id"]
    liaison = client.post(
        f"/api/v1/governance/motions/{mid}/votes",
        headers=bearer(make, d["liaisons"][0]),
        json={"choice": "yes"},
    )
    assert liaison.status_code == 403
    assert liaison.headers["content-type"].startswith("application/problem+json")
    comment = client.post(
        f"/api/v1/governance/motions/{mid}/comments",
        headers=bearer(make, d["liaisons"][0]),
        json={"text": "IETF supports."},
    )
    assert comment.status_code == 201
    for i, choice in enumerate(["yes", "yes", "no", "yes", "abstain"]):
        r = client.post(
            f"/api/v1/governance/motions/{mid}/votes",
            headers=bearer(make, d["voters"][i]),
            json={"choice": choice},
        )
        assert r.status_code == 201, r.text
    closed = client.post(f"/api/v1/governance/motions/{mid}/close", headers=chair)
    body = closed.json()
    assert body["state"] == "passed"
    assert body["result_rule"].startswith("Passed: 3 of 4 votes cast in favour")
    assert [v["member"] for v in body["votes"]] == [f"Voter {i}" for i in range(5)]
    page = client.get(f"/governance/motions/{mid}")
    assert "Passed: 3 of 4 votes cast in favour" in page.text and "IETF supports." in page.text


def test_confidential_motion_is_404_to_the_recused_and_the_public(client, make):
    d = dug(make)
    party = d["orgs"][2]
    created = client.post(
        "/api/v1/governance/motions",
        headers=bearer(make, d["voters"][0]),
        json={
            "kind": "engage_mediator",
            "title": "Engage a mediator",
            "text": "Facilitation failed.",
            "subject_type": "dispute",
            "subject_id": "3",
            "party_organisation_ids": [party.id],
            "confidential": True,
        },
    )
    mid = created.json()["id"]
    recused = bearer(make, d["voters"][2])
    assert client.get(f"/api/v1/governance/motions/{mid}", headers=recused).status_code == 404
    assert (
        client.post(
            f"/api/v1/governance/motions/{mid}/votes", headers=recused, json={"choice": "yes"}
        ).status_code
        == 404
    )
    assert client.get(f"/api/v1/governance/motions/{mid}").status_code == 404
    assert (
        client.get(
            f"/api/v1/governance/motions/{mid}", headers=bearer(make, d["voters"][1])
        ).status_code
        == 200
    )
    assert "Engage a mediator" not in client.get("/governance").text


def test_review_convene_and_appoint_with_forms(client, make):
    iprt = make.user("iprt_member", email="iprt@test.example")
    gac = make.org("Governmental Advisory Committee", "so_ac")
    login(client, iprt)
    convened = post_form(client, "/reviews", {"title": ""})
    assert convened.status_code == 303
    url = convened.headers["location"]
    ok = post_form(
        client,
        f"{url}/members",
        {"name": "Gita GAC", "constituency": "gac", "organisation_id": gac.id},
    )
    assert ok.status_code == 303
    refused = post_form(
        client,
        f"{url}/members",
        {"name": "Second GAC", "constituency": "gac", "organisation_id": gac.id},
    )
    assert refused.status_code == 422 and "All 1 GAC seat(s) are filled" in refused.text
    page = client.get(url)
    assert "Gita GAC" in page.text and "8 seat(s) vacant" in page.text
    early = post_form(client, f"{url}/stage", {"stage": "terms_of_reference"})
    assert early.status_code == 422 and "not fully constituted" in early.text


def test_commissioning_an_audit_needs_a_dug_decision(client, make):
    d = dug(make)
    firm = make.org("Northbridge Assurance", "audit_firm")
    response = client.post(
        "/api/v1/audits",
        headers=bearer(make, d["voters"][0]),
        json={
            "firm_id": firm.id,
            "declaration": "No ties to the IFM.",
        },
    )
    assert response.status_code == 409
    assert "Commission the periodic audit" in response.json()["detail"]
    assert (
        client.post(
            "/api/v1/audits",
            headers=bearer(make, d["voters"][1]),
            json={
                "firm_id": firm.id,
                "declaration": "x",
            },
        ).status_code
        == 403
    )


def test_home_page_lists_motions_awaiting_my_vote_but_not_those_i_am_recused_from(client, make):
    d = dug(make)
    chair = bearer(make, d["voters"][0])
    client.post(
        "/api/v1/governance/motions",
        headers=chair,
        json={"kind": "other", "title": "Open budget", "text": "x"},
    )
    client.post(
        "/api/v1/governance/motions",
        headers=chair,
        json={
            "kind": "instruct_ifm",
            "title": "Registry 4 matter",
            "text": "x",
            "party_organisation_ids": [d["orgs"][4].id],
            "confidential": True,
        },
    )
    login(client, d["voters"][4])
    home = client.get("/home").text
    assert "Open budget" in home and "awaiting your vote" in home
    assert "Registry 4 matter" not in home


def test_audit_examination_creates_a_catalogue_version_that_cites_it_R_AUD_2(client, make):
    from steward.audits import service as audits
    from steward.audits.service import FindingInput

    d = dug(make)
    firm = make.org("Northbridge Assurance", "audit_firm")
    auditor = make.user("auditor", org=firm, email="auditor@nb.test")
    tokens = [bearer(make, v) for v in d["voters"]]

    def decide(kind: str, subject_type: str, subject_id: int) -> int:
        m = client.post(
            "/api/v1/governance/motions",
            headers=tokens[0],
            json={
                "kind": kind,
                "title": f"{kind} {subject_id}",
                "text": "Moved.",
                "subject_type": subject_type,
                "subject_id": str(subject_id),
            },
        ).json()
        for t in tokens:
            client.post(
                f"/api/v1/governance/motions/{m['id']}/votes", headers=t, json={"choice": "yes"}
            )
        return int(m["id"])

    decide("commission_audit", "audit_cycle", 1)
    with dbmod.session_scope() as s:
        chair = Principal.of(accounts_repo.user_by_email(s, "v0@dug.test"))
        audit = audits.commission(
            s, chair, firm_id=firm.id, declaration="Independent.", today=date(2020, 2, 3)
        )
        audit_id = audit.id
        audits.submit_report(
            s,
            Principal.of(accounts_repo.user_by_email(s, auditor.email)),
            audit_id,
            "Report",
            [FindingInput("Slow implementation", "", "major")],
        )
    decide("publish_findings", "audit", audit_id)
    with dbmod.session_scope() as s:
        chair = Principal.of(accounts_repo.user_by_email(s, "v0@dug.test"))
        audits.publish(s, chair, audit_id, date(2020, 7, 1), today=date(2020, 6, 1))
    page = client.get(f"/audits/{audit_id}", headers=tokens[0])
    assert "Slow implementation" in page.text
    refused = client.post(
        f"/api/v1/audits/{audit_id}/examination",
        headers=tokens[0],
        json={"examination": "Refine.", "refine": True, "catalogue_toml": "x"},
    )
    assert refused.status_code == 409
    motion_id = decide("refine_service_levels", "audit", audit_id)
    with dbmod.session_scope() as s:
        template = audits.catalogue_template(s, audits.get(s, audit_id), date(2026, 1, 1))
    done = client.post(
        f"/api/v1/audits/{audit_id}/examination",
        headers=tokens[0],
        json={
            "examination": "Implementation is measured against 60 hours.",
            "refine": True,
            "catalogue_toml": template.replace('threshold = "3d"', 'threshold = "60h"'),
        },
    )
    assert done.status_code == 200, done.text
    assert done.json()["catalogue_version"] == "audit-1"
    from steward.sla import service as sla

    with dbmod.session_scope() as s:
        version = sla.catalogue_version(s, "audit-1")
    assert f"/audits/{audit_id}" in (version.cause or "") and f"#{motion_id}" in (
        version.cause or ""
    )
    assert "SLA catalogue version audit-1" in client.get(f"/audits/{audit_id}").text


def test_a_link_prefills_the_proposal_and_a_refused_proposal_keeps_the_input(client, make):
    d = dug(make)
    party = d["orgs"][3]
    login(client, d["voters"][1])
    page = client.get(
        f"/governance/motions?kind=engage_mediator&subject_type=dispute&subject_id=9"
        f"&party={party.id}&confidential=true&title=Engage+a+mediator"
    ).text
    assert '<option value="engage_mediator" selected>' in page
    assert 'value="dispute"' in page and 'value="9"' in page and "checked" in page
    assert f'<option value="{party.id}" selected>' in page
    refused = post_form(
        client,
        "/governance/motions",
        {
            "kind": "engage_mediator",
            "title": "Engage a mediator",
            "text": "",
            "subject_type": "dispute",
            "subject_id": "9",
        },
    )
    assert refused.status_code == 422
    assert (
        "A motion needs its text." in refused.text and 'value="Engage a mediator"' in refused.text
    )


def _commissioned_audit(make):  # type: ignore[no-untyped-def]
    """An audit commissioned by the DUG's decision from a firm; (its id, the firm's auditor)."""
    from steward.audits import service as audits
    from steward.governance.domain import MotionKind

    dug(make)
    firm = make.org("Northbridge Assurance", "audit_firm")
    auditor = make.user("auditor", org=firm, email="auditor@nb.test")
    with dbmod.session_scope() as s:
        chair = Principal.of(accounts_repo.user_by_email(s, "v0@dug.test"))
        motion = governance.propose_motion(
            s,
            chair,
            kind=MotionKind.commission_audit.value,
            title="Commission",
            text="x",
            subject_type="audit_cycle",
            subject_id=1,
        )
        for i in range(8):
            voter = Principal.of(accounts_repo.user_by_email(s, f"v{i}@dug.test"))
            if motion.state == "open":
                governance.cast_vote(s, voter, motion.id, "yes")
        audit_id = audits.commission(s, chair, firm_id=firm.id, declaration="Independent.").id
    return audit_id, auditor


def test_auditor_uploads_the_report_document_hidden_until_published(client, make):
    import hashlib

    audit_id, auditor = _commissioned_audit(make)
    login(client, auditor)
    pdf = b"%PDF-1.4 audit report\n"
    token = client.cookies.get("steward_csrf")
    too_big = client.post(
        f"/audits/{audit_id}/report",
        data={
            "report": "Summary",
            "findings": "major | Slow changes | p95 80 h",
            "csrf_token": token,
        },
        files={"report_file": ("big.pdf", b"x" * (5 * 1024 * 1024 + 1), "application/pdf")},
    )
    assert too_big.status_code == 422 and "larger than" in too_big.text
    ok = client.post(
        f"/audits/{audit_id}/report",
        data={
            "report": "Summary",
            "findings": "major | Slow changes | p95 80 h",
            "csrf_token": token,
        },
        files={"report_file": ("../audit report.pdf", pdf, "application/pdf")},
    )
    assert ok.status_code == 303, ok.text
    own = client.get(f"/audits/{audit_id}/report-document")
    assert own.status_code == 200 and own.content == pdf
    assert 'filename="audit report.pdf"' in own.headers["content-disposition"]
    assert own.headers["x-report-sha256"] == hashlib.sha256(pdf).hexdigest()
    client.cookies.clear()
    assert client.get(f"/audits/{audit_id}/report-document").status_code == 404
    assert client.get(f"/api/v1/audits/{audit_id}").json()["report_document"] is None


def test_auditor_submits_the_report_document_through_the_api_R_AUD_1(client, make):
    import base64
    import hashlib

    audit_id, auditor = _commissioned_audit(make)
    auth = {"Authorization": f"Bearer {make.token(auditor)}"}
    pdf = b"%PDF-1.4 audit report\n"
    body = {"report": "Summary", "findings": [{"title": "Slow changes", "severity": "major"}]}
    bad = client.post(f"/api/v1/audits/{audit_id}/report", headers=auth, json={
        **body, "document": {"filename": "r.pdf", "content_type": "application/pdf", "content_base64": "%%%"}})
    assert bad.status_code == 422 and bad.json()["field"] == "document", bad.text
    not_a_pdf = client.post(f"/api/v1/audits/{audit_id}/report", headers=auth, json={
        **body, "document": {"filename": "r.pdf", "content_type": "application/pdf",
                             "content_base64": base64.b64encode(b"MZ not a pdf").decode()}})
    # refused by the service, after decoding: the same field named as by the API's own check
    assert not_a_pdf.status_code == 422 and not_a_pdf.json()["field"] == "document", not_a_pdf.text
    before = client.get(f"/api/v1/audits/{audit_id}", headers=auth).json()
    assert before["report"] == "" and before["findings"] == [] and before["stage"] == "commissioned"
    done = client.post(f"/api/v1/audits/{audit_id}/report", headers=auth, json={
        **body, "document": {"filename": "report.pdf", "content_type": "application/pdf",
                             "content_base64": base64.b64encode(pdf).decode()}})
    assert done.status_code == 200, done.text
    document = done.json()["report_document"]
    assert document["sha256"] == hashlib.sha256(pdf).hexdigest() and document["size"] == len(pdf)
    assert client.get(document["url"], headers=auth).content == pdf
