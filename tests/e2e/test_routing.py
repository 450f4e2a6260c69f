"""Routing with steward.web.Router, which turns a path away by its routes' literal beginnings
before trying their patterns: the answers (404, 405, parameters) are those of plain routing, and
every route of every context is still reachable."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Match

from steward.web import Router


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    return body  # type: ignore[no-any-return]


def test_unknown_paths_answer_404_as_problem_json_under_the_api_and_as_a_page_elsewhere(client: Any) -> None:
    body = _problem(client.get("/api/v1/no-such-thing"), 404)
    assert body["title"] == "Not found"
    _problem(client.get("/api/v1/disputes/1/no-such-thing"), 404)
    _problem(client.get("/api/v2/ballots"), 404)

    for path in ("/no-such-page", "/disputes/board/extra", "/portalx"):
        page = client.get(path)
        assert page.status_code == 404, path
        assert page.headers["content-type"].startswith("text/html")
        assert "<h1>Not found</h1>" in page.text and "Traceback" not in page.text


def test_a_known_path_with_the_wrong_method_answers_405(client: Any) -> None:
    body = _problem(client.delete("/api/v1/ballots"), 405)
    assert body["title"] == "Method not allowed"
    _problem(client.put("/api/v1/disputes/findings"), 405)
    page = client.delete("/disputes/findings")
    assert page.status_code == 405 and page.headers["content-type"].startswith("text/html")
    assert "Method not allowed" in page.text


def test_a_path_with_a_parameter_reaches_its_endpoint(client: Any) -> None:
    body = _problem(client.get("/api/v1/ballots/999999"), 404)
    assert "999999" in body["detail"]  # the application's "no ballot", not routing's "Not Found"
    assert body["detail"] != "Not Found"
    page = client.get("/disputes/999999")
    assert page.status_code == 404 and "<h1>Not found</h1>" in page.text


def _scope(path: str, method: str = "GET") -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": [], "query_string": b""}


def _test_router() -> Router:
    router = Router()

    @router.get("/alpha/items")
    def items() -> list[str]:
        return ["a"]

    @router.get("/beta/{item_id}")
    def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    return router


def test_router_turns_away_paths_by_literal_beginning_and_matches_the_rest() -> None:
    router = _test_router()
    app = FastAPI()
    app.include_router(router)
    (included,) = [r for r in app.router.routes if getattr(r, "original_router", None) is router]

    # no literal beginning: NONE at once, whether or not the router was reached through the app
    for path in ("/gamma", "/alph", "/", "/betaa/1"):
        assert router.matches(_scope(path))[0] is Match.NONE, path
        assert included.matches(_scope(path))[0] is Match.NONE, path

    # a literal beginning and a matching pattern: FULL, with and without a path parameter
    assert included.matches(_scope("/alpha/items"))[0] is Match.FULL
    assert included.matches(_scope("/beta/7"))[0] is Match.FULL
    # a literal beginning but no route's pattern: still NONE; the wrong method: PARTIAL (405)
    assert included.matches(_scope("/alpha/items/more"))[0] is Match.NONE
    assert included.matches(_scope("/alpha/items", "POST"))[0] is Match.PARTIAL

    with TestClient(app) as http:
        assert http.get("/beta/5").json() == {"id": 5}
        assert http.get("/alpha/items").json() == ["a"]
        assert http.get("/gamma").status_code == 404
        assert http.post("/alpha/items").status_code == 405


def test_router_notices_routes_added_after_its_first_match() -> None:
    router = _test_router()
    app = FastAPI()
    app.include_router(router)
    (included,) = [r for r in app.router.routes if getattr(r, "original_router", None) is router]
    assert included.matches(_scope("/late"))[0] is Match.NONE

    @router.get("/late")
    def late() -> str:
        return "late"

    assert included.matches(_scope("/late"))[0] is Match.FULL


def test_every_route_of_every_context_is_reachable(app: Any) -> None:
    """Each route's own path (parameters filled in) is matched in full by the application's
    routing for each of its methods: the literal-beginning shortcut hides none of them."""
    from steward.contexts import modules

    checked = 0
    for kind in ("api", "views"):
        for name, module in modules(kind):
            for route in module.router.routes:
                path = re.sub(r"\{[^}:]+:path\}", "a/b", route.path)
                path = re.sub(r"\{[^}]+\}", "1", path)
                for method in sorted(route.methods or {"GET"}):
                    found = [r.matches(_scope(path, method))[0] for r in app.router.routes]
                    assert Match.FULL in found, f"{kind} {name}: {method} {route.path}"
                    checked += 1
    assert checked > 100


def test_a_router_included_under_a_prefix_still_routes() -> None:
    router = _test_router()
    app = FastAPI()
    app.include_router(router, prefix="/v2")
    with TestClient(app) as http:
        assert http.get("/v2/beta/5").json() == {"id": 5}
        assert http.get("/v2/alpha/items").json() == ["a"]
        assert http.get("/v2/gamma").status_code == 404
