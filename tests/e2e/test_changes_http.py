"""Technical changes over HTTP: pages, forms, the JSON API (R-TCH-1, R-TCH-2)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import select

from steward import db as dbmod
from steward.changes import service
from steward.changes.models import ChangePlan
from steward.db import utcnow
from steward.outbox import OutboxEmail
from tests.integration.governance.dug_factory import Dug, build_dug, pass_motion
from tests.support import login, post_form

BODY = "Retire the legacy zone transfer service.\n\n## Impact\nOperators must use the new endpoint.\n"
XSS = "<script>alert('x')</script>"


def _ifm(make):
    return make.user("ifm_staff", org=make.org("PTI", kind="ifm"), name="Ivy IFM")


def _draft(client, make, **fields):
    ifm = _ifm(make)
    login(client, ifm)
    data = {"title": "Legacy transfer retirement", "origin": "operational", "significance": "significant",
            "affected": "all", "body": BODY, "timeline": "2027-02-01: endpoint switched off"}
    data.update(fields)
    response = post_form(client, "/changes/new", data)
    assert response.status_code == 303, response.text
    return ifm, int(response.headers["location"].rsplit("/", 1)[1])


def _age_period(plan_id: int) -> None:
    """Move a plan's comment period into the past (tests never wait for time to pass)."""
    with dbmod.session_scope() as s:
        plan = s.get(ChangePlan, plan_id)
        assert plan is not None
        shift = plan.comment_closes_at - utcnow() + timedelta(minutes=1)
        plan.comment_opens_at -= shift
        plan.comment_closes_at -= shift


def test_ifm_drafts_publishes_and_public_comments_by_confirmed_email(client, make):
    _ifm_user, plan_id = _draft(client, make)
    page = client.get(f"/changes/{plan_id}")
    assert page.status_code == 200 and "Draft" in page.text
    assert post_form(client, f"/changes/{plan_id}/publish", {"comment_days": ""}).status_code == 303
    client.post("/logout", data={"csrf_token": client.cookies.get("steward_csrf")})
    client.cookies.clear()

    page = client.get(f"/changes/{plan_id}?section=impact")
    assert page.status_code == 200
    assert 'id="s-impact"' in page.text and 'value="impact" selected' in page.text
    response = post_form(client, f"/changes/{plan_id}/comments",
                         {"body": f"Too soon {XSS}", "section": "impact", "name": f"Eve {XSS}", "email": "eve@example.org"})
    assert response.status_code == 200 and "Check your email" in response.text
    with dbmod.session_scope() as s:
        mail = s.scalars(select(OutboxEmail).where(OutboxEmail.to_address == "eve@example.org")).one()
        token = mail.text.split("/changes/confirm/")[1].split()[0]
    assert "Too soon" not in client.get(f"/changes/{plan_id}").text  # not public before confirmation

    confirm = client.get(f"/changes/confirm/{token}")
    assert confirm.status_code == 200 and "Publish my comment" in confirm.text
    assert XSS not in confirm.text
    done = post_form(client, f"/changes/confirm/{token}")
    assert done.status_code == 303 and done.headers["location"].endswith("#comment-1")
    page = client.get(f"/changes/{plan_id}").text
    assert "Too soon" in page and XSS not in page and "&lt;script&gt;" in page
    assert "eve@example.org" not in page
    assert client.get(f"/changes/confirm/{token}").status_code == 404


def test_closed_period_refuses_comments_over_http(client, make):
    _ifm_user, plan_id = _draft(client, make)
    post_form(client, f"/changes/{plan_id}/publish", {"comment_days": "10"})
    _age_period(plan_id)
    response = post_form(client, f"/changes/{plan_id}/comments", {"body": "late"})
    assert response.status_code == 409
    assert "The comment period is closed" in response.text or "comment period closed" in response.text
    assert "Comment period closed" in client.get(f"/changes/{plan_id}").text


def test_statement_refused_until_every_comment_answered_then_published(client, make):
    _ifm_user, plan_id = _draft(client, make)
    post_form(client, f"/changes/{plan_id}/publish", {"comment_days": "30"})
    post_form(client, f"/changes/{plan_id}/comments", {"body": f"IFM staff note {XSS}"})
    _age_period(plan_id)
    refused = post_form(client, f"/changes/{plan_id}/statement", {"text": "Thanks."})
    assert refused.status_code == 409 and "unanswered: #1" in refused.text
    assert client.get(f"/changes/{plan_id}/statement").status_code == 404
    answered = post_form(client, f"/changes/{plan_id}/comments/1/response",
                         {"disposition": "partly_accepted", "response": f"Partly {XSS}"})
    assert answered.status_code == 303
    issued = post_form(client, f"/changes/{plan_id}/statement", {"text": "Our statement."})
    assert issued.status_code == 303
    statement = client.get(f"/changes/{plan_id}/statement")
    assert statement.status_code == 200
    assert "Partly accepted" in statement.text and 'id="dispositions"' in statement.text
    assert XSS not in statement.text and "&lt;script&gt;" in statement.text
    feed = client.get(f"/api/v1/changes/{plan_id}/statement").json()
    assert feed["comments"][0]["disposition"] == "partly_accepted"


def test_drafts_are_404_to_the_public_over_html_and_api(client, make):
    _ifm_user, plan_id = _draft(client, make)
    client.cookies.clear()
    assert client.get(f"/changes/{plan_id}").status_code == 404
    assert client.get(f"/api/v1/changes/{plan_id}").status_code == 404
    assert client.get("/api/v1/changes").json() == []


def test_api_flow_with_token_and_problem_details(client, make):
    ifm = _ifm(make)
    token = make.token(ifm)
    headers = {"Authorization": f"Bearer {token}"}
    bad = client.post("/api/v1/changes", headers=headers, json={
        "title": "T", "origin": "political", "significance": "major", "body": "x"})
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["field"] == "origin"
    bad_timeline = client.post("/api/v1/changes", headers=headers, json={
        "title": "T", "origin": "policy", "significance": "major", "body": "x", "timeline": "2027-01-01: a\nsoon: b"})
    assert bad_timeline.status_code == 422 and bad_timeline.json()["line"] == 2

    created = client.post("/api/v1/changes", headers=headers, json={
        "title": "New root server hints format", "origin": "operational", "significance": "significant",
        "affected": "all", "body": BODY})
    assert created.status_code == 201
    plan_id = created.json()["id"]
    assert created.json()["version"]["sections"][1]["anchor"] == "impact"
    revised = client.post(f"/api/v1/changes/{plan_id}/versions", headers=headers, json={
        "title": "New root server hints format", "origin": "operational", "significance": "significant",
        "body": BODY + "\n## Rollback\nKeep the old file for a year.\n", "note": "rollback"})
    assert revised.status_code == 201 and revised.json()["number"] == 2
    diff = client.get(f"/api/v1/changes/{plan_id}/diff?old=1&new=2", headers=headers).json()
    assert diff["sections_added"] == ["rollback"] and "+## Rollback" in diff["unified"]

    published = client.post(f"/api/v1/changes/{plan_id}/publish", headers=headers, json={"comment_days": 30})
    assert published.json()["state"] == "open_for_comment"
    comment = client.post(f"/api/v1/changes/{plan_id}/comments", json={
        "body": "Looks fine", "name": "Pat", "email": "pat@example.com"})
    assert comment.status_code == 201 and comment.json()["status"] == "pending_confirmation"
    with dbmod.session_scope() as s:
        mail = s.scalars(select(OutboxEmail).where(OutboxEmail.to_address == "pat@example.com")).one()
        confirm_token = mail.text.split("/changes/confirm/")[1].split()[0]
    confirmed = client.post("/api/v1/changes/confirm", json={"token": confirm_token})
    assert confirmed.status_code == 200 and confirmed.json()["number"] == 1
    listed = client.get(f"/api/v1/changes/{plan_id}/comments").json()
    assert listed[0]["author"] == "Pat" and listed[0]["response"] is None and "email" not in listed[0]

    _age_period(plan_id)
    refused = client.post(f"/api/v1/changes/{plan_id}/statement", headers=headers, json={"text": "S"})
    assert refused.status_code == 409 and "#1" in refused.json()["detail"]
    client.put(f"/api/v1/changes/{plan_id}/comments/1/response", headers=headers,
               json={"disposition": "accepted", "response": "Thanks"})
    statement = client.post(f"/api/v1/changes/{plan_id}/statement", headers=headers, json={"text": "S"})
    assert statement.status_code == 200 and statement.json()["summary"]["accepted"] == 1
    assert client.get(f"/api/v1/changes/{plan_id}", headers=headers).json()["actions"] == [
        "record_agreement", "withdraw"]

    no_decision = client.post(f"/api/v1/changes/{plan_id}/agreement", headers=headers)
    assert no_decision.status_code == 403  # IFM staff do not record the DUG's agreement
    with dbmod.session_scope() as s:
        dug = build_dug(s)
        chair = SimpleNamespace(id=dug.chair.user_id)
    chair_headers = {"Authorization": f"Bearer {make.token(chair)}"}
    refused = client.post(f"/api/v1/changes/{plan_id}/agreement", headers=chair_headers)
    assert refused.status_code == 409 and "passed DUG decision" in refused.json()["detail"]
    with dbmod.session_scope() as s:
        motion_id = pass_motion(s, dug_of(s), "agree_technical_plan", "change_plan", plan_id).id
    agreed = client.post(f"/api/v1/changes/{plan_id}/agreement", headers=chair_headers)
    assert agreed.status_code == 200 and agreed.json()["state"] == "agreed"
    assert agreed.json()["agreement_basis"] == f"governance:motion:{motion_id}"
    done = client.post(f"/api/v1/changes/{plan_id}/implemented", headers=headers, json={"note": "live"})
    assert done.json()["state"] == "implemented"


def test_comment_limits_over_the_api(client, make):
    ifm = _ifm(make)
    headers = {"Authorization": f"Bearer {make.token(ifm)}"}
    plan_id = client.post("/api/v1/changes", headers=headers, json={
        "title": "T", "origin": "policy", "significance": "minor", "body": BODY}).json()["id"]
    client.post(f"/api/v1/changes/{plan_id}/publish", headers=headers, json={})
    too_big = client.post(f"/api/v1/changes/{plan_id}/comments", json={
        "body": "x" * 10_001, "name": "Big", "email": "big@example.com"})
    assert too_big.status_code == 422 and too_big.json()["field"] == "body"
    for i in range(5):
        ok = client.post(f"/api/v1/changes/{plan_id}/comments", json={
            "body": f"c{i}", "name": "Fast", "email": "fast@example.com"})
        assert ok.status_code == 201
    limited = client.post(f"/api/v1/changes/{plan_id}/comments", json={
        "body": "again", "name": "Fast", "email": "fast@example.com"})
    assert limited.status_code == 429 and "try again" in limited.json()["detail"]
    assert service.limits().max_body_chars == 10_000


def dug_of(session) -> Dug:
    """The DUG that ``build_dug`` seated, reloaded in ``session``."""
    from steward.accounts import repository as accounts_repo
    from steward.accounts.principal import Principal

    voters = [Principal.of(accounts_repo.user_by_email(session, f"voter{i}@dug.test")) for i in range(8)]
    return Dug(chair=voters[0], voters=voters, liaisons=[])


def test_confirmation_email_reaches_a_real_smtp_server_and_its_link_publishes(client, make, smtp_server):
    from steward import worker

    _ifm_user, plan_id = _draft(client, make)
    post_form(client, f"/changes/{plan_id}/publish", {"comment_days": ""})
    client.cookies.clear()
    post_form(client, f"/changes/{plan_id}/comments",
              {"body": "Count me in.", "name": "Mo", "email": "mo@example.net"})
    worker.run_once()
    [message] = [m for m in smtp_server.messages if m["To"] == "mo@example.net"]
    assert message["Subject"] == 'Confirm your comment on "Legacy transfer retirement"'
    text = message.get_body(("plain",)).get_content()
    path = "/changes/confirm/" + text.split("/changes/confirm/")[1].split()[0]
    assert client.get(path).status_code == 200
    assert post_form(client, path).status_code == 303
    assert "Count me in." in client.get(f"/changes/{plan_id}").text


def test_publications_and_comment_periods_reach_the_portal_feeds(client, make):
    import feedparser
    from icalendar import Calendar

    _ifm_user, draft_id = _draft(client, make, title="Still a draft")
    data = {"title": "Feed-visible plan", "origin": "policy", "significance": "major",
            "affected": "all", "body": BODY, "timeline": ""}
    plan_id = int(post_form(client, "/changes/new", data).headers["location"].rsplit("/", 1)[1])
    post_form(client, f"/changes/{plan_id}/publish", {"comment_days": "30"})
    client.cookies.clear()
    feed = feedparser.parse(client.get("/portal/feed.atom").text)
    titles = [entry.title for entry in feed.entries]
    assert "Implementation plan for comment: Feed-visible plan" in titles
    assert not any("Still a draft" in t for t in titles)
    calendar = Calendar.from_ical(client.get("/portal/calendar.ics").content)
    periods = [e for e in calendar.walk("VEVENT") if str(e.get("summary")).startswith("Comment period")]
    assert [str(e.get("summary")) for e in periods] == ["Comment period: Feed-visible plan"]
    assert (periods[0].decoded("dtend") - periods[0].decoded("dtstart")).days == 30
    assert draft_id != plan_id


def test_markup_in_titles_and_sections_is_escaped_on_every_page_and_feed(client, make):
    body = f"Intro {XSS}\n\n## Heading {XSS}\nText {XSS}\n"
    _ifm_user, plan_id = _draft(client, make, title=f"Plan {XSS}", body=body,
                                timeline=f"2027-01-01: step {XSS}")
    post_form(client, f"/changes/{plan_id}/publish", {"comment_days": ""})
    post_form(client, f"/changes/{plan_id}/comments", {"body": "one", "section": "heading-script-alert-x-script"})
    pages = [
        "/changes", f"/changes/{plan_id}", f"/changes/{plan_id}/edit", f"/changes/{plan_id}/respond",
        f"/changes/{plan_id}/diff?old=1&new=1", "/portal/feed.atom", "/portal",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert XSS not in response.text, path
    assert "&lt;script&gt;" in client.get(f"/changes/{plan_id}").text
    # iCalendar is plain text, never rendered as HTML: the title is kept as typed there.
    assert client.get("/portal/calendar.ics").headers["content-type"].startswith("text/calendar")


def test_home_page_says_what_needs_each_person(client, make):
    _ifm_user, plan_id = _draft(client, make, title="Home-panel plan")
    assert "draft: revise or publish for comment" in client.get("/home").text
    post_form(client, f"/changes/{plan_id}/publish", {"comment_days": "30"})
    operator = make.user("operator_staff", org=make.operator("Some Registry"))
    client.cookies.clear()
    login(client, operator)
    home = client.get("/home").text
    assert "Home-panel plan" in home and "open for comment until" in home


def test_revision_form_leads_to_the_diff_page(client, make):
    _ifm_user, plan_id = _draft(client, make)
    form = client.get(f"/changes/{plan_id}/edit")
    assert form.status_code == 200 and "Saving creates version 2" in form.text
    data = {"title": "Legacy transfer retirement", "origin": "operational", "significance": "significant",
            "affected": "all", "body": BODY.replace("new endpoint", "authenticated endpoint"),
            "timeline": "2027-02-01: endpoint switched off", "note": "say which endpoint"}
    revised = post_form(client, f"/changes/{plan_id}/edit", data)
    assert revised.status_code == 303 and revised.headers["location"].endswith("/diff?old=1&new=2")
    page = client.get(revised.headers["location"]).text
    assert "<del>" in page and "<ins>" in page and "authenticated endpoint" in page
    bad = post_form(client, f"/changes/{plan_id}/edit", {**data, "timeline": "someday: maybe"})
    assert bad.status_code == 422 and "line 1" in bad.text and "someday: maybe" in bad.text


def test_published_plan_cannot_change_origin_on_the_form_or_the_api_r_tch_1(client, make):
    ifm_user, plan_id = _draft(client, make)
    post_form(client, f"/changes/{plan_id}/publish", {"comment_days": "30"})
    _age_period(plan_id)
    assert post_form(client, f"/changes/{plan_id}/close").status_code == 303
    data = {"title": "Legacy transfer retirement", "origin": "policy", "significance": "significant",
            "affected": "all", "body": BODY + "\nRevised.\n", "timeline": "2027-02-01: endpoint switched off",
            "note": "reclassify"}
    page = post_form(client, f"/changes/{plan_id}/edit", data)
    assert page.status_code == 409 and "field &#39;origin&#39;" in page.text and "R-TCH-1" in page.text
    client.cookies.clear()
    headers = {"Authorization": f"Bearer {make.token(ifm_user)}"}
    api = client.post(f"/api/v1/changes/{plan_id}/versions", headers=headers, json=data)
    assert api.status_code == 409 and api.json()["field"] == "origin"
    shown = client.get(f"/api/v1/changes/{plan_id}", headers=headers).json()
    assert shown["origin"] == "operational" and shown["actions"][0] == "revise"


def test_dug_puts_the_plan_to_a_vote_and_the_chair_records_the_passed_decision_r_tch_1(client, make):
    from steward.governance import service as governance

    _ifm_user, plan_id = _draft(client, make)
    post_form(client, f"/changes/{plan_id}/publish", {"comment_days": "30"})
    _age_period(plan_id)
    assert post_form(client, f"/changes/{plan_id}/statement", {"text": "No comments."}).status_code == 303
    with dbmod.session_scope() as s:
        build_dug(s)
    client.cookies.clear()
    login(client, SimpleNamespace(email="voter0@dug.test"))
    page = client.get(f"/changes/{plan_id}").text
    assert "Put the plan to a DUG vote" in page and "The DUG has not yet put this plan to a vote." in page
    proposed = post_form(client, "/governance/motions", {
        "kind": "agree_technical_plan", "subject_type": "change_plan", "subject_id": str(plan_id),
        "title": "Agree the legacy transfer retirement plan", "text": "The DUG agrees the plan."})
    assert proposed.status_code == 303
    motion_id = int(proposed.headers["location"].rsplit("/", 1)[1])
    refused = post_form(client, f"/changes/{plan_id}/agreement")
    assert refused.status_code == 409
    with dbmod.session_scope() as s:
        for voter in dug_of(s).voters:
            if governance.readable_motion(s, voter, motion_id).state == "open":
                governance.cast_vote(s, voter, motion_id, "yes")
    assert post_form(client, f"/changes/{plan_id}/agreement").status_code == 303
    page = client.get(f"/changes/{plan_id}").text
    assert f"DUG decision #{motion_id}" in page and "Agreed by the DUG" in page
