"""Plain ASGI middleware: the security headers on every response, the admission gate, the
request body limit and the public portal's response cache.

Written against the ASGI interface rather than Starlette's ``BaseHTTPMiddleware``, which runs
every request through an extra task group and memory streams: on the request path that cost more
than the principal lookup (see docs/reliability.md, "Load").
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import cookie_parser
from starlette.responses import Response

from steward.db import write_generation

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class BodyLimit:
    """A request body over its route's limit (``limit_for(path)``, in bytes) is refused with 413
    before it is read into memory: at the first read when its ``Content-Length`` says so (nothing
    of it is read), otherwise as soon as the bytes received pass the limit. The 413 is an
    ``HTTPException`` raised where the application reads the body, so the app's error pages answer
    it (problem+json on the API). The routes' own checks (a file's size and type, with clearer
    messages) come after; this bounds what a request can make the server hold."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app, self.limit_for = app, limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        header = next((v for k, v in scope["headers"] if k == b"content-length"), b"")
        # a declared length is what the server will deliver at most; without one, count
        declared = int(header) if header.isdigit() else None
        received = declared or 0
        refusal = f"The request is larger than this page or route accepts ({limit} bytes)."

        async def counted() -> Message:
            nonlocal received
            if received <= limit:
                message = await receive()
                if message["type"] == "http.request" and declared is None:
                    received += len(message.get("body", b""))
                if received <= limit:
                    return message
            raise HTTPException(413, refusal)

        await self.app(scope, counted, send)


class AdmissionGate:
    """At most ``requests`` requests inside the application at once (per process); on SQLite, at
    most ``writers`` of them state changes. The rest wait here, in arrival order, holding nothing.

    A request holds its database connection across several thread-pool hops (dependencies, the
    endpoint, the commit). Without a bound, more requests than pool threads or pooled connections
    could each hold one and wait for the other: the pool's holders waiting for a thread, the
    threads waiting for a connection (or, on SQLite, for the write lock held by a request that
    needs a thread to commit). Admitting no more requests than there are threads and connections
    rules that out, and keeps the threads from trading the GIL among dozens of requests: the
    queue forms here, where waiting is cheap and fair. On SQLite, state changes have their own
    ``writers`` places instead of request slots: they queue for one write lock anyway, and a
    writer queued behind readers would hold that lock's queue up for all the others.
    """

    def __init__(self, app: ASGIApp, *, requests: int, writers: int | None) -> None:
        self.app = app
        self.limits = (requests, writers)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._bind()

    def _bind(self) -> None:
        # asyncio's semaphores belong to the event loop that first waits on them; an app served
        # on a later loop (a test client opened again) gets a new pair
        requests, writers = self.limits
        self.requests = asyncio.Semaphore(requests)
        self.writers = asyncio.Semaphore(writers) if writers else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop = loop
            self._bind()
        if self.writers is not None and scope["method"] not in SAFE_METHODS:
            async with self.writers:
                await self.app(scope, receive, send)
            return
        async with self.requests:
            await self.app(scope, receive, send)


def _cookie_header(name: str, value: str, *, secure: bool) -> bytes:
    response = Response()
    response.set_cookie(name, value, httponly=True, samesite="lax", secure=secure, path="/")
    return response.headers["set-cookie"].encode("latin-1")


class SecurityHeaders:
    """CSP (a looser one for SVG images, which carry inline styles), nosniff, referrer and framing
    policies, HSTS when served over HTTPS, and the CSRF cookie when the request issued or rotated
    a token (``request.state.csrf_token``)."""

    def __init__(self, app: ASGIApp, *, csp: str, svg_csp: str, csrf_cookie: str, https_base: bool) -> None:
        self.app = app
        self.csp, self.svg_csp, self.csrf_cookie, self.https_base = csp, svg_csp, csrf_cookie, https_base

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https" or self.https_base

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                svg = headers.get("content-type", "").startswith("image/svg")
                headers.setdefault("Content-Security-Policy", self.svg_csp if svg else self.csp)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                if https:
                    headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
                state = scope.get("state") or {}
                token = state.get("csrf_token")
                if token and (state.get("csrf_rotated") or _request_cookie(scope, self.csrf_cookie) != token):
                    headers.append("set-cookie", _cookie_header(self.csrf_cookie, token, secure=https).decode("latin-1"))
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _request_cookie(scope: Scope, name: str) -> str | None:
    """The request's cookie ``name``, parsed as Starlette's ``Request.cookies`` does."""
    for key, value in scope.get("headers", ()):
        if key == b"cookie":
            return cookie_parser(value.decode("latin-1")).get(name)
    return None


class PublicCache:
    """The public portal's responses to anonymous visitors, kept in memory and sent again without
    running the application (no thread, no database), while both hold:

    - nothing was committed by this process since the response was made (``db.write_generation``
      changes at every commit), and
    - the response is younger than ``seconds`` (``STEWARD_PUBLIC_CACHE_SECONDS``): the bound on
      how long a change committed by another process (another app worker, ``steward worker``, the
      CLI) can take to show.

    Only GET requests without credentials (no ``Authorization`` header, no session cookie) to the
    ``prefixes``, answered 200 without setting a cookie, are kept; at most ``entries`` of them
    (the oldest goes first). A visitor's own requests never reach another visitor: nothing is kept
    from a request that carries who it is.

    A miss is made once: requests for the same page that come while it is being made, and saw the
    same write generation when they came, wait for it and are sent the same response (without
    this, every commit sent every waiting visitor into the application at once).
    """

    def __init__(self, app: ASGIApp, *, prefixes: tuple[str, ...], seconds: float, session_cookie: str,
                 entries: int = 256, max_bytes: int = 2 * 1024 * 1024) -> None:
        self.app, self.prefixes, self.seconds = app, prefixes, seconds
        self.session_cookie = session_cookie
        self.entries, self.max_bytes = entries, max_bytes
        self.store: dict[bytes, tuple[float, int, Message, bytes]] = {}
        # the page being made now, per key: (write generation, event loop, set when done)
        self.flights: dict[bytes, tuple[int, asyncio.AbstractEventLoop, asyncio.Event]] = {}

    def _cacheable(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] != "GET" or self.seconds <= 0:
            return False
        if not str(scope["path"]).startswith(self.prefixes):
            return False
        if any(key == b"authorization" for key, _ in scope["headers"]):
            return False
        return not _request_cookie(scope, self.session_cookie)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._cacheable(scope):
            await self.app(scope, receive, send)
            return
        key = scope["raw_path"] + b"?" + scope["query_string"]
        now = time.monotonic()
        hit = self.store.get(key)
        generation = write_generation()
        if hit is not None and hit[1] == generation and now - hit[0] < self.seconds:
            await self._send(hit, send)
            return
        loop = asyncio.get_running_loop()
        flight = self.flights.get(key)
        if flight is not None and flight[0] == generation and flight[1] is loop:
            await flight[2].wait()
            hit = self.store.get(key)
            if hit is not None and hit[1] == generation:
                await self._send(hit, send)
                return
        mine = (generation, loop, asyncio.Event())
        self.flights[key] = mine
        try:
            await self._make(key, now, generation, scope, receive, send)
        finally:
            if self.flights.get(key) is mine:
                del self.flights[key]
            mine[2].set()

    @staticmethod
    async def _send(hit: tuple[float, int, Message, bytes], send: Send) -> None:
        await send(hit[2])
        await send({"type": "http.response.body", "body": hit[3]})

    async def _make(self, key: bytes, now: float, generation: int, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0

        async def keep(message: Message) -> None:
            nonlocal start, size
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                if not message.get("more_body", False) and size <= self.max_bytes:
                    self._keep(key, now, generation, start, b"".join(chunks))
            await send(message)

        await self.app(scope, receive, keep)

    def _keep(self, key: bytes, at: float, generation: int, start: Message, body: bytes) -> None:
        if start.get("status") != 200 or any(k.lower() == b"set-cookie" for k, _ in start.get("headers", [])):
            return
        if len(self.store) >= self.entries:
            self.store.pop(next(iter(self.store)))
        self.store.pop(key, None)
        self.store[key] = (at, generation, dict(start), body)
