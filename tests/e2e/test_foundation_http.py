"""The web and API shell over HTTP: sign-in, CSRF, sessions, tokens, errors, headers, registry."""

from __future__ import annotations

from tests.support import PASSWORD, csrf_of, login, post_form


def test_healthz_and_openapi(client):
    assert client.get("/healthz").text == "ok"
    spec = client.get("/openapi.json").json()
    assert "/api/v1/registry/tlds" in spec["paths"]


def test_login_shows_role_home_and_rotates_session(client, make):
    user = make.user("dug_member", name="Dana Member")
    client.cookies.set("steward_session", "planted-by-attacker", domain="testserver.local")
    response = login(client, user)
    assert response.headers["location"] == "/home"
    set_cookie = ";".join(response.headers.get_list("set-cookie"))
    assert "steward_session=" in set_cookie and "planted-by-attacker" not in set_cookie
    assert "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie
    home = client.get("/home")
    assert home.status_code == 200
    assert "Welcome, Dana Member" in home.text and "DUG member" in home.text


def test_failed_login_is_clear_and_does_not_enumerate(client, make):
    user = make.user()
    token = csrf_of(client)
    wrong = client.post("/login", data={"email": user.email, "password": "nope-nope-nope", "csrf_token": token})
    unknown = client.post("/login", data={"email": "ghost@test.example", "password": "nope-nope-nope", "csrf_token": token})
    assert wrong.status_code == unknown.status_code == 400
    assert "Email or password is incorrect" in wrong.text
    assert wrong.text.replace(user.email, "X") .count("incorrect") == unknown.text.count("incorrect")


def test_login_is_throttled(client, make):
    user = make.user()
    token = csrf_of(client)
    for _ in range(5):
        client.post("/login", data={"email": user.email, "password": "wrong-wrong-wrong", "csrf_token": token})
    locked = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.text


def test_forms_without_csrf_token_are_refused(client, make):
    user = make.user()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "CSRF" in response.text
    login(client, user)
    refused = client.post("/account/tokens", data={"name": "x"})
    assert refused.status_code == 403
    api_refused = client.post("/api/v1/me/tokens", json={"name": "x"})
    assert api_refused.status_code == 403
    assert api_refused.headers["content-type"].startswith("application/problem+json")


def test_api_token_flow_shown_once_then_bearer_auth_then_revoked(client, make):
    user = make.user("ifm_staff")
    login(client, user)
    created = post_form(client, "/account/tokens", {"name": "uploads"})
    assert created.status_code == 201
    import re

    secret = re.search(r'id="new-token">([^<]+)<', created.text).group(1)
    assert client.get("/account").text.count(secret) == 0
    client.cookies.clear()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.json()["email"] == user.email
    token_id = client.get("/api/v1/me/tokens", headers={"Authorization": f"Bearer {secret}"}).json()[0]["id"]
    revoked = client.delete(f"/api/v1/me/tokens/{token_id}", headers={"Authorization": f"Bearer {secret}"})
    assert revoked.status_code == 200
    after = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert after.status_code == 401
    assert after.headers["content-type"].startswith("application/problem+json")


def test_logout_ends_the_session(client, make):
    user = make.user()
    login(client, user)
    old = client.cookies.get("steward_session")
    post_form(client, "/logout")
    client.cookies.clear()
    client.cookies.set("steward_session", old, domain="testserver.local")
    assert client.get("/home").status_code == 303


def test_problem_json_and_error_pages_never_show_a_trace(client):
    api = client.get("/api/v1/registry/tlds/doesnotexist")
    assert api.status_code == 404
    body = api.json()
    assert body["status"] == 404 and body["title"] == "Not found" and "doesnotexist" in body["detail"]
    page = client.get("/no/such/page")
    assert page.status_code == 404 and "<h1>Not found</h1>" in page.text and "Traceback" not in page.text
    bad = client.get("/api/v1/registry/tlds?limit=100000")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.limit"


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in response.headers  # plain HTTP here
    https = client.get("/", headers={"x-forwarded-proto": "https"})
    assert https.status_code == 200


def test_sysadmin_manages_accounts_others_cannot(client, make):
    admin = make.user("sysadmin")
    operator = make.user("operator_staff")
    login(client, operator)
    assert client.get("/admin/users").status_code == 403
    assert client.get("/api/v1/users").status_code == 403
    client.cookies.clear()
    login(client, admin)
    page = client.get("/admin/users")
    assert page.status_code == 200 and operator.email in page.text
    created = post_form(client, "/admin/users", {"email": "new@test.example", "name": "New", "password": "short", "role": ["expert"]})
    assert created.status_code == 422 and "password" in created.text
    created = post_form(client, "/admin/users", {"email": "new@test.example", "name": "New", "password": "long-enough-pass", "role": ["expert"]})
    assert created.status_code == 303
    assert any(u["email"] == "new@test.example" for u in client.get("/api/v1/users").json())


def test_registry_search_by_u_label_and_a_label(client, make):
    make.operator("Coordination Center for TLD RU", tlds=(("рф", "country-code"), ("ru", "country-code")))
    make.operator("VeriSign", tlds=(("com", "generic"),))
    by_unicode = client.get("/registry", params={"q": "рф"})
    assert by_unicode.status_code == 200
    assert ".рф" in by_unicode.text and ".xn--p1ai" in by_unicode.text and ".com" not in by_unicode.text
    by_a = client.get("/api/v1/registry/tlds", params={"q": "xn--p1ai"}).json()
    assert by_a["total"] == 1 and by_a["items"][0]["u_label"] == "рф" and by_a["items"][0]["idn"] is True
    org = client.get("/api/v1/registry/organisations/coordination-center-for-tld-ru").json()
    assert org["chambers"] == ["cctld"] and set(org["tlds"]) == {"xn--p1ai", "ru"}
    stats = client.get("/api/v1/registry/stats").json()
    assert stats["tlds"]["total"] == 3


def test_a_tld_is_found_as_typed_or_pasted(client, make):
    """A right-to-left name copied from a page carries bidirectional marks (as 39 names of the
    root zone database do); typed with a dot or in capitals, a label is the same TLD."""
    make.operator("Communications and Information Technology Commission",
                  tlds=(("السعودية", "country-code"),))
    make.operator("DENIC eG", tlds=(("de", "country-code"),))
    for typed in ("\u200fالسعودية\u200e", ".السعودية", "xn--mgberp4a5d4ar"):
        got = client.get(f"/api/v1/registry/tlds/{typed}")
        assert got.status_code == 200 and got.json()["a_label"] == "xn--mgberp4a5d4ar", typed
    for typed in (".DE", "De", " de"):
        assert client.get(f"/api/v1/registry/tlds/{typed}").json()["a_label"] == "de", typed
    found = client.get("/api/v1/registry/tlds", params={"q": "\u200fالسعودية"}).json()
    assert found["total"] == 1


def test_registry_import_api_is_atomic_and_admin_only(client, make):
    admin = make.user("sysadmin")
    token = make.token(admin)
    operator_token = make.token(make.user("operator_staff"))
    good = "Domain,Type,TLD Manager\n.alpha,generic,Alpha\n"
    bad = "Domain,Type,TLD Manager\n.beta,generic,Beta\n.gamma,weird,G\n"
    files = {"file": ("tld.csv", good, "text/csv")}
    assert client.post("/api/v1/registry/import", files=files, headers={"Authorization": f"Bearer {operator_token}"}).status_code == 403
    ok = client.post("/api/v1/registry/import", files=files, headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and ok.json()["added"] == ["alpha"]
    refused = client.post("/api/v1/registry/import", files={"file": ("tld.csv", bad, "text/csv")}, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 422 and refused.json()["line"] == 3
    assert client.get("/api/v1/registry/tlds/beta").status_code == 404


def test_public_pages_work_without_signing_in(client):
    for path in ("/", "/about", "/registry", "/login"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert '<main id="main"' in response.text


def test_an_id_beyond_the_database_range_is_not_found_not_a_crash(client):
    response = client.get("/api/v1/registry/tlds?limit=1&offset=99999999999999999999999")
    assert response.status_code in (404, 422)
    assert "Traceback" not in response.text


def test_many_concurrent_writers_on_sqlite_neither_deadlock_nor_fail(live_server, make):
    """More concurrent state changes than the thread pool has threads: each one completes (no
    request stalls holding SQLite's write lock while waiting for a thread)."""
    import concurrent.futures

    import httpx2

    users = [make.user("operator_staff") for _ in range(3)]
    tokens = [make.token(u) for u in users]

    def create(i: int) -> int:
        headers = {"Authorization": f"Bearer {tokens[i % 3]}"}
        return httpx2.post(f"{live_server.url}/api/v1/me/tokens", json={"name": f"t{i}"}, headers=headers, timeout=60).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=60) as pool:
        codes = list(pool.map(create, range(120)))
    assert codes == [201] * 120


def _current(html: str) -> list[str]:
    import re

    return re.findall(r'<a href="([^"]+)" aria-current="page">', html)


def test_the_menu_marks_the_one_item_of_the_page(client, make):
    """On /sla/ifm the menu marks "IFM data", not also "Performance" (/sla): the longest path that
    contains the page; /disputes/findings likewise, and no item on a page outside the menu."""
    assert _current(client.get("/disputes/findings").text) == ["/disputes/findings"]
    assert _current(client.get("/sla").text) == ["/sla"]
    assert _current(client.get("/login").text) == []
    login(client, make.user("ifm_staff", org=make.org("PTI", "ifm")))
    assert _current(client.get("/disputes/findings").text) == ["/disputes/findings"]  # "Disputes" shown now
    assert _current(client.get("/disputes").text) == ["/disputes"]
    assert _current(client.get("/sla/ifm").text) == ["/sla/ifm"]
    assert _current(client.get("/sla").text) == ["/sla"]
