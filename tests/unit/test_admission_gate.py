"""The admission gate (steward.middleware.AdmissionGate) driven directly as ASGI: at most
``requests`` requests inside the application at once; on SQLite, state changes have their own
``writers`` places, so readers never queue behind writers (and writers never take a reader's slot).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from steward.middleware import AdmissionGate


def run_fresh(main: Any) -> Any:
    """``asyncio.run(main())`` on a thread of its own: in the whole suite another test (Playwright's
    sync API) can leave an event loop running on the main thread, where asyncio.run refuses."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(main())
        except BaseException as exc:  # handed to the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


class Inner:
    """A fake application: counts who is inside, remembers the most at once, yields to the loop a
    few times (or until ``release`` is set, for the methods in ``hold``) before answering."""

    def __init__(self, hold: frozenset[str] = frozenset()) -> None:
        self.inside = 0
        self.most = 0
        self.inside_by_method: dict[str, int] = {}
        self.most_by_method: dict[str, int] = {}
        self.done: list[str] = []
        self.hold = hold
        self.release = asyncio.Event()
        self.entered: dict[str, asyncio.Event] = {}

    def entered_event(self, name: str) -> asyncio.Event:
        return self.entered.setdefault(name, asyncio.Event())

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            self.done.append(scope["type"])
            return
        method, name = scope["method"], scope["path"]
        self.inside += 1
        self.most = max(self.most, self.inside)
        self.inside_by_method[method] = self.inside_by_method.get(method, 0) + 1
        self.most_by_method[method] = max(self.most_by_method.get(method, 0), self.inside_by_method[method])
        self.entered_event(name).set()
        try:
            if method in self.hold:
                await self.release.wait()
            for _ in range(5):
                await asyncio.sleep(0)
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
        finally:
            self.inside -= 1
            self.inside_by_method[method] -= 1
        self.done.append(name)


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def request(gate: AdmissionGate, method: str, path: str) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": []}
    await gate(scope, _receive, send)
    return sent


def test_at_most_requests_inside_and_every_request_completes() -> None:
    async def main() -> Inner:
        inner = Inner()
        gate = AdmissionGate(inner, requests=3, writers=None)
        answers = await asyncio.gather(*(request(gate, "GET", f"/r{i}") for i in range(10)))
        assert all(a[0]["status"] == 200 for a in answers)
        return inner

    inner = run_fresh(main)
    assert inner.most == 3
    assert sorted(inner.done) == sorted(f"/r{i}" for i in range(10))
    assert inner.inside == 0


def test_one_writer_at_a_time_and_readers_pass_queued_writers() -> None:
    async def main() -> Inner:
        inner = Inner(hold=frozenset({"POST"}))
        gate = AdmissionGate(inner, requests=2, writers=1)
        posts = [asyncio.create_task(request(gate, "POST", f"/w{i}")) for i in range(5)]
        await inner.entered_event("/w0").wait()  # the first writer is inside, held there
        for _ in range(5):
            await asyncio.sleep(0)
        assert inner.inside_by_method["POST"] == 1  # the other four queue
        # readers get in and out while a writer is inside and four more wait
        reads = await asyncio.wait_for(
            asyncio.gather(*(request(gate, "GET", f"/r{i}") for i in range(6))), timeout=5)
        assert all(r[0]["status"] == 200 for r in reads)
        assert not any(p.done() for p in posts)
        assert inner.most_by_method["GET"] == 2  # still bounded by the request slots
        inner.release.set()
        await asyncio.wait_for(asyncio.gather(*posts), timeout=5)
        return inner

    inner = run_fresh(main)
    assert inner.most_by_method["POST"] == 1
    assert sorted(d for d in inner.done if d.startswith("/w")) == [f"/w{i}" for i in range(5)]
    assert inner.done.index("/r0") < inner.done.index("/w0")


def test_writers_do_not_take_request_slots_on_sqlite() -> None:
    """With ``writers`` set, a writer inside uses no request slot: requests=1 still lets a reader in."""

    async def main() -> None:
        inner = Inner(hold=frozenset({"POST"}))
        gate = AdmissionGate(inner, requests=1, writers=1)
        post = asyncio.create_task(request(gate, "POST", "/w"))
        await inner.entered_event("/w").wait()
        await asyncio.wait_for(request(gate, "GET", "/r"), timeout=5)
        inner.release.set()
        await asyncio.wait_for(post, timeout=5)

    run_fresh(main)


def test_without_writers_state_changes_use_the_request_slots() -> None:
    async def main() -> Inner:
        inner = Inner(hold=frozenset({"POST", "PUT", "DELETE"}))
        gate = AdmissionGate(inner, requests=2, writers=None)
        posts = [asyncio.create_task(request(gate, m, f"/w{i}")) for i, m in enumerate(["POST", "PUT", "DELETE"])]
        await inner.entered_event("/w0").wait()
        for _ in range(5):
            await asyncio.sleep(0)
        # two state changes are inside (as many as request slots), the third waits
        assert inner.inside == 2
        get = asyncio.create_task(request(gate, "GET", "/r"))
        for _ in range(10):
            await asyncio.sleep(0)
        assert not get.done()  # no slot left for the reader either
        inner.release.set()
        await asyncio.wait_for(asyncio.gather(get, *posts), timeout=5)
        return inner

    inner = run_fresh(main)
    assert inner.most == 2
    assert sorted(inner.done) == ["/r", "/w0", "/w1", "/w2"]


def test_lifespan_and_other_scopes_pass_straight_through() -> None:
    async def main() -> Inner:
        inner = Inner()
        gate = AdmissionGate(inner, requests=1, writers=1)
        # both slots taken by held requests: a lifespan message must not wait for them
        inner.hold = frozenset({"GET", "POST"})
        held = [asyncio.create_task(request(gate, "GET", "/r")), asyncio.create_task(request(gate, "POST", "/w"))]
        await inner.entered_event("/r").wait()
        await inner.entered_event("/w").wait()
        await asyncio.wait_for(gate({"type": "lifespan"}, _receive, _noop), timeout=5)
        assert inner.done == ["lifespan"]
        inner.release.set()
        await asyncio.gather(*held)
        return inner

    inner = run_fresh(main)
    assert sorted(inner.done) == ["/r", "/w", "lifespan"]


async def _noop(message: dict[str, Any]) -> None:
    return None
