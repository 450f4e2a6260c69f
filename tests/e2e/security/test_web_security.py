"""Web security on the demo data: headers on every page, CSRF on every state change, cookie
flags, login throttling, session rotation at sign-in, no user enumeration, uploads checked for size
and type on every upload route."""

from __future__ import annotations

import hashlib
import inspect
import re
from typing import Any

import pytest
from fastapi import UploadFile
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from steward import db as dbmod
from steward.demo import demo_password
from tests.e2e.security.conftest import ROLES, DemoEnv
from tests.e2e.security.routes import STATE_CHANGING, all_routes, urls_for
from tests.support import csrf_of

# one worker per module: its demo copy and crawls are module-scoped
pytestmark = pytest.mark.xdist_group("security-web")

HEADER_ROLES = ["anonymous", "operator_party", "dug_chair", "ifm", "sysadmin"]


def fingerprint() -> dict[str, str]:
    """Row count and a digest of every table: equal fingerprints mean nothing changed."""
    out = {}
    with dbmod.session_scope() as s:
        for table in dbmod.Base.metadata.sorted_tables:
            count = s.scalar(select(func.count()).select_from(table)) or 0
            digest = hashlib.sha256()
            if count <= 20000:
                for row in s.execute(select(table)):
                    digest.update(repr(tuple(row)).encode())
            out[table.name] = f"{count}:{digest.hexdigest()[:16]}"
    return out


@pytest.fixture(scope="module")
def pages(demo_env: DemoEnv) -> list[str]:
    return [u for u in urls_for(demo_env, {"GET"}, skip={"/logout", "/changes/confirm/{token}"}) if not u.startswith("/api/")]


# ------------------------------------------------------------------ headers


def _check_headers(url: str, r: Any, https: bool) -> list[str]:
    problems = []
    csp = r.headers.get("content-security-policy", "")
    ctype = r.headers.get("content-type", "")
    if "frame-ancestors 'none'" not in csp:
        problems.append(f"{url}: CSP without frame-ancestors 'none'")
    # SVG charts are served as images (never as documents) with their own narrow CSP
    if "unsafe-inline" in csp and not (ctype.startswith("image/svg") and "default-src 'none'" in csp):
        problems.append(f"{url}: CSP allows unsafe-inline")
    if ctype.startswith("text/html") and ("script-src 'self'" not in csp or "unsafe-eval" in csp):
        problems.append(f"{url}: page CSP does not restrict scripts to 'self'")
    if r.headers.get("x-content-type-options") != "nosniff":
        problems.append(f"{url}: no nosniff")
    if r.headers.get("referrer-policy") not in {"same-origin", "no-referrer", "strict-origin-when-cross-origin"}:
        problems.append(f"{url}: referrer policy {r.headers.get('referrer-policy')}")
    if r.headers.get("x-frame-options") != "DENY":
        problems.append(f"{url}: no X-Frame-Options DENY")
    hsts = r.headers.get("strict-transport-security", "")
    if https and "max-age=" not in hsts:
        problems.append(f"{url}: no HSTS over HTTPS")
    if not https and hsts:
        problems.append(f"{url}: HSTS over plain HTTP")
    return problems


@pytest.mark.parametrize("role", HEADER_ROLES)
def test_security_headers_on_every_page(role: str, demo_env: DemoEnv, pages: list[str]) -> None:
    client = demo_env.client(role)
    problems: list[str] = []
    for url in [*pages, "/static/steward.css", "/login", "/this-page-does-not-exist"]:
        problems += _check_headers(url, client.get(url), https=False)
    assert problems == []


def test_hsts_and_secure_cookies_over_https(demo_env: DemoEnv, pages: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEWARD_BASE_URL", "https://steward.example")
    get_settings_clear()
    from steward.app import create_app

    client = TestClient(create_app(), base_url="https://testserver", follow_redirects=False)
    email = ROLES["dug_chair"] or ""
    r = client.post("/login", data={"email": email, "password": demo_password(email), "csrf_token": csrf_of(client)})
    assert r.status_code == 303
    cookies = r.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("steward_session="))
    assert "Secure" in session and "HttpOnly" in session and "samesite=lax" in session.lower()
    problems: list[str] = []
    for url in pages:
        problems += _check_headers(url, client.get(url), https=True)
    assert problems == []
    monkeypatch.delenv("STEWARD_BASE_URL")
    get_settings_clear()


def get_settings_clear() -> None:
    from steward.config import get_settings

    get_settings.cache_clear()


# ------------------------------------------------------------------ CSRF


def _state_changing_urls(env: DemoEnv) -> list[tuple[str, str]]:
    out = []
    for route in all_routes(env.app):
        for method in sorted(route.methods & STATE_CHANGING):
            for url in urls_for(env, {method}, first_only=True):
                if _matches(route.path, url):
                    out.append((method, url))
    return sorted(set(out))


def _matches(pattern: str, url: str) -> bool:
    regex = "^" + re.sub(r"{[^}]+}", "[^/]+", pattern) + "$"
    return re.match(regex, url) is not None


@pytest.mark.parametrize("role", ["operator_party", "ifm", "dug_chair", "sysadmin"])
def test_every_state_change_with_the_session_cookie_and_no_csrf_token_is_refused_and_changes_nothing(
    role: str, demo_env: DemoEnv
) -> None:
    targets = _state_changing_urls(demo_env)
    assert len(targets) > 80  # every POST/PUT/PATCH/DELETE route of pages and API
    client = demo_env.client(role)
    before = fingerprint()
    accepted = []
    for method, url in targets:
        # what a cross-site page can send (a form, a text/plain form) and a JSON body, without the token
        form = client.request(method, url, data={"text": "csrf", "title": "csrf"})
        body = client.request(method, url, json={"text": "csrf"})
        plain = client.request(method, url, content=b"text=csrf", headers={"content-type": "text/plain"})
        for kind, r in (("form", form), ("json", body), ("text/plain", plain)):
            if r.status_code != 403 or "CSRF" not in r.text:
                accepted.append((method, url, kind, r.status_code))
    assert accepted == []
    assert fingerprint() == before
    # the same session with the token is accepted (so the refusals above were the CSRF check)
    assert client.post("/logout", data={"csrf_token": csrf_of(client)}).status_code == 303


def test_a_wrong_csrf_token_is_refused(demo_env: DemoEnv) -> None:
    client = demo_env.client("dug_chair")
    csrf_of(client)
    r = client.post("/logout", data={"csrf_token": "forged"})
    assert r.status_code == 403
    r = client.post("/logout", headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403


# ------------------------------------------------------------------ cookies and sign-in


def _login(client: TestClient, email: str, password: str) -> Any:
    return client.post("/login", data={"email": email, "password": password, "next": "/home",
                                       "csrf_token": csrf_of(client)})


def test_cookie_flags_over_http(demo_env: DemoEnv) -> None:
    client = demo_env.client("anonymous")
    email = ROLES["ifm"] or ""
    r = _login(client, email, demo_password(email))
    cookies = {c.split("=", 1)[0]: c for c in r.headers.get_list("set-cookie")}
    for name in ("steward_session", "steward_csrf"):
        flags = cookies[name].lower()
        assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags, cookies[name]
        # Secure only over HTTPS (see test_hsts_and_secure_cookies_over_https)
        assert "secure" not in flags.replace("samesite", "")


def test_session_rotates_at_sign_in_and_a_planted_session_is_not_adopted(demo_env: DemoEnv) -> None:
    client = demo_env.client("anonymous")
    client.cookies.set("steward_session", "attacker-chosen-session-token", domain="testserver.local")
    old_csrf = csrf_of(client)
    email = ROLES["dug_member"] or ""
    r = _login(client, email, demo_password(email))
    assert r.status_code == 303
    new_session = client.cookies.get("steward_session")
    assert new_session and new_session != "attacker-chosen-session-token"
    assert client.cookies.get("steward_csrf") != old_csrf
    # signing in again gives yet another session and ends the previous one
    again = TestClient(demo_env.app, base_url="http://testserver", follow_redirects=False)
    again.cookies.set("steward_session", new_session, domain="testserver.local")
    assert again.get("/home").status_code == 200
    _login(again, email, demo_password(email))
    assert again.cookies.get("steward_session") != new_session
    stale = TestClient(demo_env.app, base_url="http://testserver", follow_redirects=False)
    stale.cookies.set("steward_session", new_session, domain="testserver.local")
    assert stale.get("/home").status_code in (303, 401)


def _normalise(text: str, email: str) -> str:
    text = re.sub(r'name="csrf_token" value="[^"]*"', "", text)
    return text.replace(email, "EMAIL")


def test_sign_in_does_not_reveal_whether_an_account_exists(demo_env: DemoEnv) -> None:
    known, unknown = ROLES["auditor"] or "", "nobody-here@audit.example"
    client = demo_env.client("anonymous")
    a = _login(client, known, "wrong-password-1")
    b = _login(client, unknown, "wrong-password-1")
    assert a.status_code == b.status_code == 400
    assert _normalise(a.text, known) == _normalise(b.text, unknown)


def test_sign_in_is_throttled_for_known_and_unknown_accounts(demo_env: DemoEnv) -> None:
    from steward.config import get_settings

    limit = get_settings().login_max_failures
    for email in (ROLES["expert"] or "", "ghost@experts.example"):
        client = demo_env.client("anonymous")
        codes = [_login(client, email, f"wrong-{i}").status_code for i in range(limit)]
        assert codes == [400] * limit
        assert _login(client, email, "wrong-again").status_code == 429
    # even the right password is refused while the lockout lasts
    right = ROLES["expert"] or ""
    r = _login(demo_env.client("anonymous"), right, demo_password(right))
    assert r.status_code == 429 and "steward_session" not in r.headers.get("set-cookie", "")
    # the API says the same through the problem document
    assert "Too many" in r.text or "too many" in r.text


# ------------------------------------------------------------------ uploads


def _upload_routes(env: DemoEnv) -> set[str]:
    """Routes whose endpoint takes a file, plus those that read multipart bodies themselves."""
    found = set()
    for route in all_routes(env.app):
        if route.endpoint is None:
            continue
        try:
            source = inspect.getsource(route.endpoint)
        except (OSError, TypeError):
            continue
        sig = inspect.signature(route.endpoint)
        takes_file = any("UploadFile" in str(p.annotation) or p.annotation is UploadFile for p in sig.parameters.values())
        if takes_file or "UploadFile" in source:
            found.add(route.path)
    return found


UPLOADS = {
    "/audits/{audit_id}/report",
    "/disputes/new", "/disputes/{case_id:int}/act", "/api/v1/registry/import",
    "/sla/ifm/upload", "/api/v1/sla/events", "/api/v1/disputes/{case_id}/actions/{action}",
}


def test_every_upload_route_is_covered(demo_env: DemoEnv) -> None:
    assert _upload_routes(demo_env) <= UPLOADS, "a new upload route: add it to the upload tests"


DISPUTE_FORM = {"title": "Upload test", "tlds": "de", "service_levels": "released → published",
                "subject": "service_level", "what_happened": "Testing uploads.", "negotiation": "none"}


@pytest.mark.parametrize(("name", "ctype", "data", "why"), [
    ("big.txt", "text/plain", b"a" * 2048, "over the limit"),
    ("evil.html", "text/html", b"<script>alert(1)</script>", "not accepted"),
    ("fake.pdf", "application/pdf", b"just text, not a PDF", "not application/pdf"),
    ("tool.exe", "application/octet-stream", b"MZ\x90\x00", "not accepted"),
])
def test_dispute_uploads_are_checked_for_size_and_type_on_every_route_and_change_nothing(
    name: str, ctype: str, data: bytes, why: str, demo_env: DemoEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64

    monkeypatch.setenv("STEWARD_UPLOAD_MAX_BYTES", "1024")
    get_settings_clear()
    operator, ifm, ifm_api = demo_env.client("operator_party"), demo_env.client("ifm"), demo_env.api_client("ifm")
    case_id = demo_env.facts["case_id"]
    act = {"action": "file_ifm_report", "text": "IFM report with a bad file"}
    before = fingerprint()
    answers = [
        operator.post("/disputes/new", data={**DISPUTE_FORM, "csrf_token": csrf_of(operator)},
                      files=[("files", (name, data, ctype))]),
        ifm.post(f"/disputes/{case_id}/act", data={**act, "csrf_token": csrf_of(ifm)},
                 files=[("files", (name, data, ctype))]),
        ifm_api.post(f"/api/v1/disputes/{case_id}/actions/file_ifm_report", json={
            "text": act["text"], "attachments": [
                {"filename": name, "content_type": ctype, "content_base64": base64.b64encode(data).decode()}]}),
    ]
    for r in answers:
        assert r.status_code in (400, 413, 422), (r.url, r.status_code, r.text[:300])
        assert why in r.text, (r.url, r.text[:1000])
    assert fingerprint() == before
    monkeypatch.delenv("STEWARD_UPLOAD_MAX_BYTES")
    get_settings_clear()


def test_sla_and_registry_uploads_refuse_oversized_and_wrong_files_and_change_nothing(
    demo_env: DemoEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEWARD_SLA_UPLOAD_MAX_BYTES", "1024")
    get_settings_clear()
    ifm = demo_env.api_client("ifm")
    admin = demo_env.api_client("sysadmin")
    page = demo_env.client("ifm")
    before = fingerprint()
    big = b"request_id,tld,category,channel,event,occurred_at\n" + b"x" * 4096
    cases = [
        (ifm.post("/api/v1/sla/events", files={"file": ("events.csv", big, "text/csv")}), "file"),
        (ifm.post("/api/v1/sla/events", content=big, headers={"content-type": "text/csv"}), "file"),
        (ifm.post("/api/v1/sla/events", files={"file": ("events.png", b"\x89PNG\r\n\x1a\n", "image/png")}), ""),
        (page.post("/sla/ifm/upload", data={"csrf_token": csrf_of(page)}, files={"file": ("e.csv", big, "text/csv")}), ""),
        (page.post("/sla/ifm/upload", data={"csrf_token": csrf_of(page)}, files={"file": ("e.png", b"\x89PNG\r\n\x1a\n", "image/png")}), ""),
        (admin.post("/api/v1/registry/import", files={"file": ("rz.csv", b"\xff\xfe\x00binary", "text/csv")}), "file"),
        (admin.post("/api/v1/registry/import", files={"file": ("rz.csv", b"Domain,Type,TLD Manager\n" + b"a" * (20 * 1024 * 1024), "text/csv")}), "file"),
    ]
    for r, field in cases:
        assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
        if field and r.headers.get("content-type", "").startswith("application/problem+json"):
            assert r.json().get("field") == field or field in r.text
    assert fingerprint() == before
    monkeypatch.delenv("STEWARD_SLA_UPLOAD_MAX_BYTES")
    get_settings_clear()


@pytest.mark.parametrize(("name", "ctype", "data", "why"), [
    ("report.html", "text/html", b"<script>alert(1)</script>", "must be a PDF or plain text"),
    ("report.pdf", "application/pdf", b"<html>not a pdf</html>", "is not application/pdf"),
    ("report.txt", "text/plain", b"\xff\xfe\x00\x01", "is not text/plain"),
    ("big.pdf", "application/pdf", b"%PDF-1.4\n" + b"x" * 2048, "larger than"),
])
def test_audit_report_uploads_are_checked_for_size_and_type_and_change_nothing(
    name: str, ctype: str, data: bytes, why: str, demo_env: DemoEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    from steward.audits.models import PeriodicAudit

    monkeypatch.setenv("STEWARD_UPLOAD_MAX_BYTES", "1024")
    get_settings_clear()
    with dbmod.session_scope() as s:  # an audit waiting for its report
        audit = s.scalars(select(PeriodicAudit).order_by(PeriodicAudit.id.desc())).first()
        audit.stage = "commissioned"
        audit_id = audit.id
    auditor = demo_env.client("auditor")
    before = fingerprint()
    r = auditor.post(f"/audits/{audit_id}/report", files={"report_file": (name, data, ctype)},
                     data={"report": "Summary", "findings": "major | Slow | p95 80 h", "csrf_token": csrf_of(auditor)})
    assert r.status_code == 422 and why in r.text, (r.status_code, r.text[:500])
    assert fingerprint() == before
    monkeypatch.delenv("STEWARD_UPLOAD_MAX_BYTES")
    get_settings_clear()
