"""Systemic failures over HTTP (R-SYS-1, R-SYS-2): signals for the DUG only, urgent reviews hidden
(404) from those the rules do not name, every step through pages and the API."""

from __future__ import annotations

from steward import db as dbmod
from steward.db import utcnow
from steward.disputes.models import DisputeCase
from steward.systemic.models import Review
from tests.integration.ballots.factories import eligible_review, passed_decision
from tests.support import login, post_form


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_proposal_signal_review_and_steps_through_pages(client, make):
    chair = make.user("dug_chair", "dug_member")
    expert = make.user("expert")
    operator = make.user("operator_staff", org=make.operator())
    complainant = make.operator("Complaining Registry", tlds=(("example2", "country-code"),))
    with dbmod.session_scope() as s:
        case = DisputeCase(reference="D-1", title="Slow change", complainant_org_id=complainant.id,
                           stage="lodged", subject="performance", lodged_at=utcnow())
        s.add(case)
        s.flush()
        dispute = case.id
    login(client, chair)
    r = post_form(client, "/systemic/signals", {"title": "Publication delays", "reasoning": "short", "evidence": ""})
    assert r.status_code == 422 and "explain the proposal (at least 20 characters)" in r.text
    reasoning = "Publication has taken over a week for many operators."
    r = post_form(client, "/systemic/signals", {"title": "Publication delays", "reasoning": reasoning,
                                                "evidence": "https://example.org/report\ndispute 9999"})
    assert r.status_code == 422 and "field &#39;evidence&#39;: line 2 (dispute 9999): no dispute #9999" in r.text
    r = post_form(client, "/systemic/signals", {
        "title": "Publication delays", "reasoning": reasoning,
        "evidence": f"dispute {dispute}\nhttps://example.org/report"})
    assert r.status_code == 303
    signal_id = int(r.headers["location"].rsplit("/", 1)[1])
    page = client.get(f"/systemic/signals/{signal_id}")
    assert f'href="/disputes/{dispute}"' in page.text and 'href="https://example.org/report"' in page.text
    refused = post_form(client, f"/systemic/signals/{signal_id}/review", {"title": "Publication delays"})
    assert refused.status_code == 409 and "passed DUG decision" in refused.text
    with dbmod.session_scope() as s:
        passed_decision(s, "determine_systemic_failure", "systemic-signal", signal_id)
    r = post_form(client, f"/systemic/signals/{signal_id}/review", {"title": "Publication delays"})
    assert r.status_code == 303
    review_id = int(r.headers["location"].rsplit("/", 1)[1])
    with dbmod.session_scope() as s:
        passed_decision(s, "appoint_experts", "urgent_review", review_id)
    r = post_form(client, f"/systemic/reviews/{review_id}/act",
                  {"action": "appoint_expert", "name": "Ada", "expertise": "DNS operations", "user_email": expert.email})
    assert r.status_code == 303
    r = post_form(client, f"/systemic/reviews/{review_id}/act", {"action": "agree_remediation", "milestones": "x"})
    assert r.status_code == 409  # not possible at this stage
    assert post_form(client, f"/systemic/reviews/{review_id}/act", {"action": "start_root_cause"}).status_code == 303
    page = client.get(f"/systemic/reviews/{review_id}")
    assert "Root-cause engagement with the IFM" in page.text and "Ada" in page.text

    # the expert acts through the API; operators see neither signals nor reviews
    token = make.token(expert)
    client.cookies.clear()  # API clients carry a bearer token, not the browser's session
    r = client.post(f"/api/v1/systemic/reviews/{review_id}/act", headers=_h(token),
                    json={"action": "add_evidence", "text": "Queue metrics show starvation"})
    assert r.status_code == 200 and "record_findings" in r.json()["actions"]
    op = make.token(operator)
    assert client.get(f"/api/v1/systemic/reviews/{review_id}", headers=_h(op)).status_code == 404
    assert client.get("/api/v1/systemic/signals", headers=_h(op)).status_code == 403
    assert client.get("/api/v1/systemic/reviews", headers=_h(op)).json() == []
    assert client.get(f"/api/v1/systemic/reviews/{review_id}").status_code == 404


def test_detection_via_api_is_idempotent(client, make):
    chair = make.user("dug_chair", "dug_member")
    token = make.token(chair)
    first = client.post("/api/v1/systemic/detect", headers=_h(token))
    assert first.status_code == 200 and first.json()["summary"] == "no new signal"
    assert client.get("/api/v1/systemic/signals", headers=_h(token)).json() == []


def test_out_of_range_ids_are_not_found_on_pages(client, make):
    login(client, make.user("dug_chair", "dug_member"))
    for path in ("/ballots/99999999999999999999", "/systemic/reviews/99999999999999999999",
                 "/systemic/signals/99999999999999999999"):
        assert client.get(path).status_code == 404, path
    r = post_form(client, "/ballots/new", {"matter_type": "dispute", "matter_id": "99999999999999999999",
                                          "option": "golden_bylaw", "closes_at": "2099-01-01T00:00"})
    assert r.status_code == 422 and "matter_id" in r.text


def test_a_step_on_a_stale_page_is_refused(client, make):
    chair = make.user("dug_chair", "dug_member")
    login(client, chair)
    r = post_form(client, "/systemic/signals", {"title": "Delays", "reasoning": "Publication has been slow for weeks."})
    signal_id = int(r.headers["location"].rsplit("/", 1)[1])
    with dbmod.session_scope() as s:
        passed_decision(s, "determine_systemic_failure", "systemic-signal", signal_id)
    r = post_form(client, f"/systemic/signals/{signal_id}/review", {"title": "Delays"})
    review_id = int(r.headers["location"].rsplit("/", 1)[1])
    with dbmod.session_scope() as s:
        passed_decision(s, "appoint_experts", "urgent_review", review_id)
    page = client.get(f"/systemic/reviews/{review_id}")
    assert 'name="version" value="1"' in page.text
    form = {"action": "appoint_expert", "name": "Ada", "expertise": "DNS", "version": "1"}
    assert post_form(client, f"/systemic/reviews/{review_id}/act", form).status_code == 303
    assert post_form(client, f"/systemic/reviews/{review_id}/act",
                     {"action": "start_root_cause", "version": "1"}).status_code == 303
    stale = post_form(client, f"/systemic/reviews/{review_id}/act", {**form, "name": "Bob", "version": "1"})
    assert stale.status_code == 409 and "changed by someone else" in stale.text


def test_only_the_mediator_and_panelists_engaged_see_the_review_R_SYS_2_R_DSP_7(client, make):
    """The DUG engages the mediator (on the page) and the IAP panelists (through the API) by name;
    the other mediators and panelists see nothing of the review, on pages or the API."""
    chair = make.user("dug_chair", "dug_member")
    mediator, other_mediator = make.user("mediator"), make.user("mediator")
    panelist, other_panelist = make.user("iap_panelist"), make.user("iap_panelist")
    with dbmod.session_scope() as s:
        review = eligible_review(s, decided=False)
        review.stage, review.outcome, review.iap_finding, review.closed_at = "long_term", None, None, None
        review_id = review.id
        passed_decision(s, "engage_mediator", "urgent_review", review_id)
        passed_decision(s, "engage_iap", "urgent_review", review_id)
    login(client, chair)
    page = client.get(f"/systemic/reviews/{review_id}")
    assert f'<option value="{mediator.id}">{mediator.name}</option>' in page.text
    report = "The remediation held for a month, then the delays came back."
    missing = post_form(client, f"/systemic/reviews/{review_id}/act", {"action": "engage_mediator", "text": report})
    assert missing.status_code == 422 and "name the mediator engaged" in missing.text
    r = post_form(client, f"/systemic/reviews/{review_id}/act",
                  {"action": "engage_mediator", "text": report, "mediator_ids": str(mediator.id)})
    assert r.status_code == 303
    assert f"<dt>Mediator</dt><dd>{mediator.name}</dd>" in client.get(f"/systemic/reviews/{review_id}").text
    chair_token = make.token(chair)
    client.cookies.clear()
    wrong = client.post(f"/api/v1/systemic/reviews/{review_id}/act", headers=_h(chair_token),
                        json={"action": "engage_iap", "panelist_ids": [other_mediator.id]})
    assert wrong.status_code == 422 and "not an active iap panelist" in wrong.text
    r = client.post(f"/api/v1/systemic/reviews/{review_id}/act", headers=_h(chair_token),
                    json={"action": "engage_iap", "panelist_ids": [panelist.id]})
    assert r.status_code == 200, r.text
    assert r.json()["panelists"] == [{"id": panelist.id, "name": panelist.name}]
    assert r.json()["mediators"] == [{"id": mediator.id, "name": mediator.name}]
    for user in (mediator, panelist):
        token = make.token(user)
        assert client.get(f"/api/v1/systemic/reviews/{review_id}", headers=_h(token)).status_code == 200
        assert [x["id"] for x in client.get("/api/v1/systemic/reviews", headers=_h(token)).json()] == [review_id]
    for user in (other_mediator, other_panelist):
        token = make.token(user)
        assert client.get(f"/api/v1/systemic/reviews/{review_id}", headers=_h(token)).status_code == 404
        assert client.get("/api/v1/systemic/reviews", headers=_h(token)).json() == []
        decided = client.post(f"/api/v1/systemic/reviews/{review_id}/act", headers=_h(token),
                              json={"action": "iap_decision", "finding": "no_breach", "text": "Not engaged here."})
        assert decided.status_code == 404 and report not in decided.text
        client.cookies.clear()
        login(client, user)
        page = client.get(f"/systemic/reviews/{review_id}")
        assert page.status_code == 404 and report not in page.text
        assert report not in client.get("/systemic").text
        client.cookies.clear()


def test_the_cli_engages_the_mediator_by_email_R_SYS_2(client, make):
    from typer.testing import CliRunner

    from steward.cli import app

    chair, mediator = make.user("dug_chair", "dug_member"), make.user("mediator")
    with dbmod.session_scope() as s:
        review = eligible_review(s, decided=False)
        review.stage, review.outcome, review.iap_finding, review.closed_at = "long_term", None, None, None
        review_id = review.id
        passed_decision(s, "engage_mediator", "urgent_review", review_id)
    args = ["systemic", "act", str(review_id), "engage_mediator", "--as", chair.email,
            "--text", "Two attempts at remediation failed; the delays came back."]
    unknown = CliRunner().invoke(app, [*args, "--mediator", "nobody@example.org"])
    assert unknown.exit_code == 1 and "no user nobody@example.org" in unknown.output
    done = CliRunner().invoke(app, [*args, "--mediator", mediator.email])
    assert done.exit_code == 0 and "External mediation" in done.output
    with dbmod.session_scope() as s:
        assert [(p.user_id, p.role) for p in s.get(Review, review_id).participants] == [(mediator.id, "mediator")]


def test_a_dug_member_of_the_operator_concerned_sees_nothing_of_the_review_R_DUG_3(client, make):
    denic = make.operator("DENIC eG", tlds=(("de", "country-code"),))
    make.user("dug_chair", "dug_member", org=make.operator("SIDN", tlds=(("nl", "country-code"),)))
    recused = make.user("dug_member", org=denic)
    member = make.user("dug_member", org=make.operator("CIRA", tlds=(("ca", "country-code"),)))
    with dbmod.session_scope() as s:
        review = eligible_review(s, decided=False)
        review.title, review.operator_org_id = "DENIC's DS changes stall", denic.id
        review.stage, review.outcome, review.iap_finding, review.closed_at = "long_term", None, None, None
        review_id = review.id
        passed_decision(s, "engage_mediator", "urgent_review", review_id)
    token = make.token(recused)
    assert client.get(f"/api/v1/systemic/reviews/{review_id}", headers=_h(token)).status_code == 404
    assert client.get("/api/v1/systemic/reviews", headers=_h(token)).json() == []
    login(client, recused)
    assert client.get(f"/systemic/reviews/{review_id}").status_code == 404
    assert "DS changes stall" not in client.get("/systemic").text
    client.cookies.clear()
    # a member who is not recused sees it, but the chair (not recused) takes the DUG's steps
    other = make.token(member)
    seen = client.get(f"/api/v1/systemic/reviews/{review_id}", headers=_h(other))
    assert seen.status_code == 200 and "engage_mediator" not in seen.json()["actions"]
    r = client.post(f"/api/v1/systemic/reviews/{review_id}/act", headers=_h(other),
                    json={"action": "add_step", "milestones": "2027-06-01 Re-architect"})
    assert r.status_code == 403


def test_a_member_stands_in_for_the_recused_chair_on_the_page_and_the_api_R_DUG_3(client, make):
    """The chair's organisation is the operator concerned: a member who is not recused opens the
    review from the signal's page (offered that operator only) or the API; the recused members see
    neither the review nor the signal's link to it."""
    denic = make.operator("DENIC eG", tlds=(("de", "country-code"),))
    make.user("dug_chair", "dug_member", org=denic)
    recused = make.user("dug_member", org=denic)
    member = make.user("dug_member", org=make.operator("CIRA", tlds=(("ca", "country-code"),)))
    login(client, member)
    signal_ids = []
    for title in ("DENIC's DS changes stall", "DENIC's NS changes stall"):
        r = post_form(client, "/systemic/signals", {"title": title,
                                                    "reasoning": "Every change for .de took over a week since October."})
        signal_ids.append(int(r.headers["location"].rsplit("/", 1)[1]))
    with dbmod.session_scope() as s:
        for signal_id in signal_ids:
            passed_decision(s, "determine_systemic_failure", "systemic-signal", signal_id, parties=(denic.id,))
    page = client.get(f"/systemic/signals/{signal_ids[0]}")
    assert f'<option value="{denic.id}">DENIC eG</option>' in page.text and "CIRA" not in page.text
    r = post_form(client, f"/systemic/signals/{signal_ids[0]}/review",
                  {"title": "DENIC delays", "operator_org_id": str(denic.id)})
    assert r.status_code == 303, r.text
    review_id = int(r.headers["location"].rsplit("/", 1)[1])
    client.cookies.clear()
    token = make.token(member)
    r = client.post("/api/v1/systemic/reviews", headers=_h(token),
                    json={"signal_id": signal_ids[1], "title": "DENIC NS delays", "operator_org_id": denic.id})
    assert r.status_code == 201, r.text
    assert "appoint_expert" in client.get(f"/api/v1/systemic/reviews/{review_id}", headers=_h(token)).json()["actions"]
    theirs = make.token(recused)
    signal = client.get(f"/api/v1/systemic/signals/{signal_ids[0]}", headers=_h(theirs)).json()
    assert signal["review_id"] is None
    login(client, recused)
    assert f"/systemic/reviews/{review_id}" not in client.get(f"/systemic/signals/{signal_ids[0]}").text


def test_the_api_gives_the_report_on_previous_attempts_as_the_page_does_R_SYS_2(client, make):
    """The mediator engaged (and later the panelists) get the DUG's report on the previous
    attempts from the API as on the page; those who may not read the review get neither."""
    chair = make.user("dug_chair", "dug_member")
    mediator, other_mediator = make.user("mediator"), make.user("mediator")
    with dbmod.session_scope() as s:
        review = eligible_review(s, decided=False)
        review.stage, review.outcome, review.iap_finding, review.closed_at = "long_term", None, None, None
        review_id = review.id
        passed_decision(s, "engage_mediator", "urgent_review", review_id)
        passed_decision(s, "engage_iap", "urgent_review", review_id)
    panelist = make.user("iap_panelist")
    report = "Remediation held for a month; the delays came back in March."
    chair_token = make.token(chair)
    r = client.post(f"/api/v1/systemic/reviews/{review_id}/act", headers=_h(chair_token),
                    json={"action": "engage_mediator", "text": report, "mediator_ids": [mediator.id]})
    assert r.status_code == 200, r.text
    assert r.json()["previous_attempts_report"] == report
    r = client.post(f"/api/v1/systemic/reviews/{review_id}/act", headers=_h(chair_token),
                    json={"action": "engage_iap", "panelist_ids": [panelist.id]})
    assert r.status_code == 200, r.text
    for user in (mediator, panelist):
        seen = client.get(f"/api/v1/systemic/reviews/{review_id}", headers=_h(make.token(user)))
        assert seen.status_code == 200 and seen.json()["previous_attempts_report"] == report
        login(client, user)
        assert report in client.get(f"/systemic/reviews/{review_id}").text  # what the page shows
        client.cookies.clear()
    other = make.token(other_mediator)
    hidden = client.get(f"/api/v1/systemic/reviews/{review_id}", headers=_h(other))
    assert hidden.status_code == 404 and report not in hidden.text
    assert client.get("/api/v1/systemic/reviews", headers=_h(other)).json() == []


def test_the_api_refuses_a_proposal_citing_a_missing_record_and_stores_nothing(client, make):
    member = make.user("dug_member")
    token = make.token(member)
    body = {"title": "Publication delays", "reasoning": "Publication has taken over a week for many operators."}
    for evidence, item in (("dispute 9999", "no dispute #9999 that you may see"), ("audit abc", "'abc' is not an audit"),
                           ("sla_month 2026-13", "'2026-13' is not a month")):
        r = client.post("/api/v1/systemic/signals", headers=_h(token), json={**body, "evidence": evidence})
        assert r.status_code == 422 and r.json()["field"] == "evidence" and item in r.json()["detail"], r.json()
    assert client.get("/api/v1/systemic/signals", headers=_h(token)).json() == []
