"""The public cache (steward.middleware.PublicCache) makes a missed page once: visitors who ask
for it while it is being made wait for that response, unless a commit came between (then they
must see the change, so they make the page again)."""

from __future__ import annotations

import asyncio
from typing import Any

from steward import db as dbmod
from steward.middleware import PublicCache
from tests.unit.test_admission_gate import run_fresh


class Portal:
    """A fake portal page: counts how often it is made; holds each making until ``release``."""

    def __init__(self) -> None:
        self.made = 0
        self.release = asyncio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.made += 1
        n = self.made
        await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": f"made {n}".encode()})


def scope() -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": "/portal", "raw_path": b"/portal", "query_string": b"",
            "headers": []}


async def visit(cache: PublicCache) -> str:
    body: list[bytes] = []

    async def send(message: Any) -> None:
        if message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    await cache(scope(), receive, send)
    return b"".join(body).decode()


def test_visitors_who_come_while_a_page_is_made_are_sent_that_response():
    async def main() -> tuple[list[str], int]:
        portal = Portal()
        cache = PublicCache(portal, prefixes=("/portal",), seconds=60, session_cookie="s")
        visits = [asyncio.create_task(visit(cache)) for _ in range(20)]
        await asyncio.sleep(0.01)
        portal.release.set()
        return list(await asyncio.gather(*visits)), portal.made

    bodies, made = run_fresh(main)
    assert made == 1
    assert bodies == ["made 1"] * 20


def test_a_visitor_who_comes_after_a_commit_does_not_wait_for_an_older_page():
    async def main() -> tuple[list[str], int]:
        portal = Portal()
        cache = PublicCache(portal, prefixes=("/portal",), seconds=60, session_cookie="s")
        before = asyncio.create_task(visit(cache))
        await asyncio.sleep(0.01)
        dbmod._bump_generation()  # a commit while the first page is being made
        after = asyncio.create_task(visit(cache))
        await asyncio.sleep(0.01)
        portal.release.set()
        return [await before, await after], portal.made

    bodies, made = run_fresh(main)
    assert made == 2
    assert bodies == ["made 1", "made 2"]


def test_a_page_that_is_not_kept_is_made_again_for_those_who_waited():
    async def main() -> int:
        made = 0

        async def failing(scope: Any, receive: Any, send: Any) -> None:
            nonlocal made
            made += 1
            await asyncio.sleep(0.01)
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b"busy"})

        cache = PublicCache(failing, prefixes=("/portal",), seconds=60, session_cookie="s")
        await asyncio.gather(*(visit(cache) for _ in range(3)))
        return made

    assert run_fresh(main) >= 2  # the waiters did not take the unkept 503 as theirs
