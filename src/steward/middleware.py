"""Plain ASGI middleware: the security headers on every response and the admission gate.

Written against the ASGI interface rather than Starlette's ``BaseHTTPMiddleware``, which runs
every request through an extra task group and memory streams: on the request path that cost more
than the principal lookup (see docs/reliability.md, "Load").
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser
from starlette.responses import Response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class AdmissionGate:
    """At most ``requests`` requests inside the application at once (per process); on SQLite, at
    most ``writers`` of them state changes. The rest wait here, in arrival order, holding nothing.

    A request holds its database connection across several thread-pool hops (dependencies, the
    endpoint, the commit). Without a bound, more requests than pool threads or pooled connections
    could each hold one and wait for the other: the pool's holders waiting for a thread, the
    threads waiting for a connection (or, on SQLite, for the write lock held by a request that
    needs a thread to commit). Admitting no more requests than there are threads and connections
    rules that out, and keeps the threads from trading the GIL among dozens of requests: the
    queue forms here, where waiting is cheap and fair. Writers take their place in the writers'
    queue before a request slot, so a queued writer never holds a slot a reader could use.
    """

    def __init__(self, app: ASGIApp, *, requests: int, writers: int | None) -> None:
        self.app = app
        self.requests = asyncio.Semaphore(requests)
        self.writers = asyncio.Semaphore(writers) if writers else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.writers is not None and scope["method"] not in SAFE_METHODS:
            async with self.writers, self.requests:
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
