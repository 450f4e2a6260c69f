"""Authorization matrix, checked by content: every GET route of the app (pages and API, path
parameters filled from real ids in the demo data) as every role, anonymous, a second operator that
is not a party, a DUG member recused by organisation and the system administrator.

Unique markers are planted in a confidential dispute's title, complaint, attachment and IFM
response, in the DUG's report of a case before the IAP, in the two demo urgent reviews, in a sealed
archive entry's content, and in a ballot vote's receipt. They must never reach anyone the rules don't
name (R-DSP-7, R-DUG-3, R-SYS-2, R-DSP-9, R-ESC-1), and those who are named must see the dispute and
review content.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from steward import db as dbmod
from tests.e2e.security.conftest import ROLES, DemoEnv
from tests.e2e.security.routes import all_routes, urls_for

# one worker per module: its demo copy and crawls are module-scoped
pytestmark = pytest.mark.xdist_group("security-matrix")

# who the rules name for the planted dispute (in mediation; the demo mediator engaged) — R-DSP-7
NAMED_CASE = {"operator_party", "ifm", "dug_chair", "dug_member", "dug_liaison", "mediator"}
# … and for the demo case decided by the IAP (remedy pending): the engaged panelist too (R-DSP-5)
NAMED_IAP_CASE = NAMED_CASE | {"panelist"}
CASE_MARKERS = ("DSPTITLE", "DSPTEXT", "DSPDOC", "DSPIFM")

# who the rules name for the demo's urgent review in remediation, whose operator concerned is DENIC
# (docs/systemic.md "Who sees what"): the DUG less DENIC's member (R-DUG-3), the IFM and the
# appointed expert …
NAMED_REVIEW = {"dug_chair", "dug_member", "dug_liaison", "ifm", "expert"}
# … and for the one that reached the IAP (no operator concerned): the whole DUG, and the mediator
# and the panelist engaged on it by name
NAMED_IAP_REVIEW = NAMED_REVIEW | {"dug_member_recused", "mediator", "panelist"}

# routes whose GET has a side effect or needs a one-time secret; checked elsewhere
SKIP = {"/logout", "/changes/confirm/{token}"}


def _crawl(env: DemoEnv, role: str, urls: list[str], *, api_token: bool = False) -> dict[str, str]:
    """Every URL as the role; the body and headers of each answer (server errors fail)."""
    client = env.api_client(role) if api_token else env.client(role)
    seen: dict[str, str] = {}
    for url in urls:
        r = client.get(url)
        assert r.status_code < 500, (role, url, r.status_code, r.text[:300])
        seen[url] = f"{r.status_code}\n{dict(r.headers)}\n{r.content.decode('utf-8', 'replace')}"
    return seen


@pytest.fixture(scope="module")
def urls(demo_env: DemoEnv) -> list[str]:
    return urls_for(demo_env, {"GET"}, skip=SKIP)


@pytest.fixture(scope="module")
def responses(demo_env: DemoEnv, urls: list[str]) -> dict[str, dict[str, str]]:
    """role → url → answer, as a signed-in browser (cookie) for every role."""
    return {role: _crawl(demo_env, role, urls) for role in ROLES}


def _leaks(seen: dict[str, str], markers: list[str]) -> list[tuple[str, str]]:
    return [(url, m) for url, text in seen.items() for m in markers if m in text]


def test_matrix_covers_every_get_route_of_pages_and_api(demo_env: DemoEnv, urls: list[str]) -> None:
    gets = [r for r in all_routes(demo_env.app) if "GET" in r.methods and r.path not in SKIP]
    assert len(gets) > 80
    assert any(u.startswith("/api/") for u in urls) and any(not u.startswith("/api/") for u in urls)
    assert len(urls) >= len(gets)


@pytest.mark.parametrize("role", sorted(set(ROLES) - NAMED_CASE))
def test_confidential_dispute_content_reaches_no_one_the_rules_do_not_name_R_DSP_7_R_DUG_3(
    role: str, demo_env: DemoEnv, responses: dict[str, dict[str, str]]
) -> None:
    markers = [demo_env.markers[k] for k in CASE_MARKERS]
    assert _leaks(responses[role], markers) == []


@pytest.mark.parametrize("role", sorted(set(ROLES) - NAMED_IAP_CASE))
def test_the_iap_case_file_reaches_no_one_the_rules_do_not_name_R_DSP_7(
    role: str, demo_env: DemoEnv, responses: dict[str, dict[str, str]]
) -> None:
    assert _leaks(responses[role], [demo_env.markers["DSPIAP"]]) == []


@pytest.mark.parametrize("role", sorted(NAMED_CASE))
def test_those_the_rules_name_see_the_confidential_dispute_R_DSP_7(
    role: str, demo_env: DemoEnv, responses: dict[str, dict[str, str]]
) -> None:
    f, m = demo_env.facts, demo_env.markers
    seen = responses[role]
    page, api = seen[f"/disputes/{f['case_id']}"], seen[f"/api/v1/disputes/{f['case_id']}"]
    for marker in (m["DSPTITLE"], m["DSPTEXT"], m["DSPIFM"]):
        assert marker in page and marker in api, (role, marker)
    download = seen[f"/disputes/{f['case_id']}/attachments/{f['attachment_id']}"]
    assert m["DSPDOC"] in download


@pytest.mark.parametrize("role", sorted(NAMED_IAP_CASE))
def test_the_engaged_panel_and_the_parties_see_the_iap_case_file_R_DSP_5(
    role: str, demo_env: DemoEnv, responses: dict[str, dict[str, str]]
) -> None:
    case = demo_env.facts["iap_case_id"]
    assert demo_env.markers["DSPIAP"] in responses[role][f"/disputes/{case}"]


@pytest.mark.parametrize("role", sorted(set(ROLES) - NAMED_REVIEW))
def test_an_urgent_review_reaches_no_one_the_rules_do_not_name_R_SYS_2(
    role: str, demo_env: DemoEnv, responses: dict[str, dict[str, str]]
) -> None:
    assert _leaks(responses[role], [demo_env.markers["URG"]]) == []


@pytest.mark.parametrize("role", sorted(set(ROLES) - NAMED_IAP_REVIEW))
def test_a_review_before_the_iap_reaches_no_one_but_those_engaged_on_it_R_SYS_2(
    role: str, demo_env: DemoEnv, responses: dict[str, dict[str, str]]
) -> None:
    assert _leaks(responses[role], [demo_env.markers["URGIAP"]]) == []


@pytest.mark.parametrize("role", sorted(NAMED_IAP_REVIEW))
def test_those_the_rules_name_see_the_urgent_reviews_R_SYS_2(
    role: str, demo_env: DemoEnv, responses: dict[str, dict[str, str]]
) -> None:
    f, m = demo_env.facts, demo_env.markers
    seen = responses[role]
    for review, marker in ((f["review_id"], m["URG"]), (f["iap_review_id"], m["URGIAP"])):
        if role in NAMED_REVIEW or review == f["iap_review_id"]:
            assert marker in seen[f"/systemic/reviews/{review}"] and marker in seen[f"/api/v1/systemic/reviews/{review}"]
        else:
            assert seen[f"/systemic/reviews/{review}"].startswith("404"), (role, review)


@pytest.mark.parametrize("role", sorted(ROLES))
def test_sealed_archive_content_reaches_no_one_R_DSP_9(
    role: str, demo_env: DemoEnv, responses: dict[str, dict[str, str]]
) -> None:
    assert _leaks(responses[role], [demo_env.markers["SEALED"]]) == []


@pytest.mark.parametrize("role", sorted(ROLES))
def test_ballot_vote_and_receipts_reach_no_one_before_the_close_R_ESC_1(
    role: str, demo_env: DemoEnv, responses: dict[str, dict[str, str]]
) -> None:
    f = demo_env.facts
    secrets_ = [f["receipt_code"], *f["receipt_ids"]]
    assert _leaks(responses[role], secrets_) == []
    # no choice and no count in any JSON answer about the ballot before the close
    for url, text in responses[role].items():
        if url.startswith(f"/api/v1/ballots/{f['ballot_id']}") and text.startswith("200"):
            body = json.loads(text.split("\n", 2)[2])
            assert _keys_with_values(body, {"tally", "choice", "yes", "no", "abstain"}) == [], url


def _keys_with_values(obj: Any, keys: set[str]) -> list[str]:
    found: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in keys and v not in (None, {}, []):
                found.append(k)
            found += _keys_with_values(v, keys)
    elif isinstance(obj, list):
        for v in obj:
            found += _keys_with_values(v, keys)
    return found


@pytest.mark.parametrize("role", ["anonymous", "operator_other", "dug_member_recused", "panelist", "sysadmin"])
def test_api_tokens_read_no_more_than_the_session_does(role: str, demo_env: DemoEnv, urls: list[str]) -> None:
    api_urls = [u for u in urls if u.startswith("/api/")]
    seen = _crawl(demo_env, role, api_urls, api_token=True)
    m, f = demo_env.markers, demo_env.facts
    forbidden = [m["SEALED"], f["receipt_code"], *f["receipt_ids"]]
    forbidden += [m[k] for k in CASE_MARKERS] if role not in NAMED_CASE else []
    forbidden += [m["DSPIAP"]] if role not in NAMED_IAP_CASE else []
    assert _leaks(seen, forbidden) == []


@pytest.mark.parametrize("role", sorted(set(ROLES) - NAMED_IAP_CASE))
def test_no_state_changing_route_answers_outsiders_with_confidential_content(role: str, demo_env: DemoEnv) -> None:
    """Every POST/PUT/PATCH/DELETE route too (pages with the CSRF token, API with the bearer
    token): whatever the answer, it carries none of the markers."""
    from tests.e2e.security.routes import STATE_CHANGING
    from tests.support import csrf_of

    m, f = demo_env.markers, demo_env.facts
    forbidden = [*(m[k] for k in (*CASE_MARKERS, "DSPIAP", "SEALED")), f["receipt_code"], *f["receipt_ids"]]
    page, api = demo_env.client(role), demo_env.api_client(role)
    leaks = []
    for url in urls_for(demo_env, set(STATE_CHANGING), skip={"/logout", "/login"}):
        if url.startswith("/api/"):
            answers = [api.post(url, json={}), api.put(url, json={}), api.delete(url)]
        else:
            answers = [page.post(url, data={"csrf_token": csrf_of(page), "text": "x", "version": "1"})]
        for r in answers:
            assert r.status_code < 500, (role, url, r.status_code, r.text[:300])
            leaks += [(url, mk) for mk in forbidden if mk in r.text]
    assert leaks == []


_VOLATILE = [
    (re.compile(r'(name="csrf_token" value=")[^"]*'), r"\1"),
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?"), "<time>"),
    (re.compile(r"\d\d:\d\d( UTC)?"), "<time>"),
    (re.compile(r"\d{8}T\d{6}Z?"), "<time>"),  # iCalendar DTSTAMP
    (re.compile(r"\d+ (second|minute|hour|day)s?"), "<duration>"),
    (re.compile(r"date: [^,']*"), "date"),
]


def _stable(text: str) -> str:
    for pattern, repl in _VOLATILE:
        text = pattern.sub(repl, text)
    return text


def test_a_changed_vote_changes_nothing_anyone_else_sees_before_the_close_R_ESC_1(
    demo_env: DemoEnv, urls: list[str]
) -> None:
    """Differential check: the party operator changes its vote (no → yes, new receipts); every
    page, feed and API answer without path parameters, and every ballot URL, reads the same for
    every other identity — so neither the choice, nor a count, nor the moment leaks."""
    from steward.accounts import repository as accounts_repo
    from steward.accounts.principal import Principal
    from steward.ballots import service as ballots
    from steward.db import utcnow

    f = demo_env.facts
    watched = sorted({u for u in urls if "ballot" in u or not any(c.isdigit() for c in u)})
    others = [r for r in ROLES if r != "operator_party"]
    clients = {r: demo_env.client(r) for r in others}  # signed in once: sign-ins are events too

    def read() -> dict[str, dict[str, str]]:
        return {r: {u: _stable(c.get(u).text) for u in watched} for r, c in clients.items()}

    before = read()
    with dbmod.session_scope() as s:
        user = accounts_repo.user_by_email(s, ROLES["operator_party"] or "")
        receipt = ballots.cast_vote(s, Principal.of(user), f["ballot_id"], choice="yes", now=utcnow())
    after = read()
    # the close test below checks the receipts that now count
    f["receipt_code"], f["receipt_ids"] = receipt.code, sorted(receipt.receipts.values())
    changed = [(r, u) for r in others for u in watched if before[r][u] != after[r][u]]
    assert len(watched) > 40
    assert changed == [], sorted({u for _r, u in changed})


def test_after_the_close_the_receipts_are_public_and_the_code_stays_secret_R_ESC_1(
    demo_env: DemoEnv, urls: list[str]
) -> None:
    # runs last in this module: it closes the ballot
    from steward.ballots import service as ballots

    f = demo_env.facts
    closes = datetime.fromisoformat(f["ballot_closes_at"])
    with dbmod.session_scope() as s:
        ballots.close_ballot(s, None, f["ballot_id"], closes + timedelta(seconds=1))
    anon = demo_env.client("anonymous")
    receipts = anon.get(f"/api/v1/ballots/{f['ballot_id']}/receipts")
    assert receipts.status_code == 200
    for rid in f["receipt_ids"]:
        assert rid in receipts.text
    everywhere = _crawl(demo_env, "operator_party", urls) | _crawl(demo_env, "anonymous", urls)
    assert _leaks(everywhere, [f["receipt_code"]]) == []
