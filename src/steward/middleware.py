"""Plain ASGI middleware: the security headers on every response and SQLite's writer gate.

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


class WriterGate:
    """SQLite has one writer at a time. A request holds the write lock from its first statement to
    its commit, across several thread-pool hops; if more writers than pool threads waited for the
    lock, the holder could not get a thread to finish. Admitting a few writers at a time (the rest
    wait here, without a thread) keeps the pool free for the holder and for readers."""

    def __init__(self, app: ASGIApp, writers: int) -> None:
        self.app = app
        self.writers = asyncio.Semaphore(writers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        async with self.writers:
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
