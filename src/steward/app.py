"""The FastAPI application: routers of every context, templates, static files, middleware, errors."""

from __future__ import annotations

import gc
import logging
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from steward import __version__
from steward.config import get_settings
from steward.contexts import load_models, modules
from steward.db import get_engine
from steward.errors import StewardError, Unauthenticated
from steward.middleware import AdmissionGate, BodyLimit, PublicCache, SecurityHeaders
from steward.web import CSRF_COOKIE, SESSION_COOKIE, csrf_protect, csrf_token, render

log = logging.getLogger("steward")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
# SVG charts carry their own inline styles; they are served as images, never as pages.
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


def _problem(request: Request, status: int, title: str, detail: str, extra: dict[str, Any] | None = None) -> Response:
    if _wants_json(request):
        body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
        body.update(extra or {})
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)
    if status == 401:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    return render(request, "error.html", {"status": status, "title": title, "detail": detail}, status_code=status)


# the routes that take an IFM event file (STEWARD_SLA_UPLOAD_MAX_BYTES, plus a form's own bytes)
_EVENT_FILE_ROUTES = frozenset({"/sla/ifm/upload", "/api/v1/sla/events"})


def _body_limit(path: str) -> int:
    settings = get_settings()
    if path in _EVENT_FILE_ROUTES:
        return settings.sla_upload_max_bytes + 64 * 1024
    return settings.request_max_bytes


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # every admitted request may be in a sync dependency or endpoint at once: one thread each
    settings = get_settings()
    limiter = anyio.to_thread.current_default_thread_limiter()
    limiter.total_tokens = max(limiter.total_tokens, settings.max_concurrent_requests + settings.sqlite_concurrent_writers)
    # what start-up made (modules, mappers, compiled templates) lives as long as the process: out
    # of the collector's way, so that its full passes walk only what requests make
    gc.collect()
    gc.freeze()
    sys.setswitchinterval(settings.gil_switch_interval_ms / 1000)
    yield


def create_app() -> FastAPI:
    settings = get_settings()
    load_models()
    app = FastAPI(
        lifespan=_lifespan,
        title="Steward",
        version=__version__,
        description="Accountability for the IANA naming functions: JSON API. Authenticate with "
        "`Authorization: Bearer <API token>`; errors are RFC 9457 problem+json.",
        openapi_url="/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        dependencies=[Depends(csrf_protect)],
    )

    # innermost: what it refuses still gets the security headers
    app.add_middleware(BodyLimit, limit_for=_body_limit)
    app.add_middleware(AdmissionGate, requests=settings.max_concurrent_requests,
                       writers=settings.sqlite_concurrent_writers if settings.is_sqlite else None)
    app.add_middleware(SecurityHeaders, csp=CSP, svg_csp=SVG_CSP, csrf_cookie=CSRF_COOKIE,
                       https_base=settings.base_url.startswith("https"))
    app.add_middleware(PublicCache, prefixes=("/portal", "/api/v1/portal/"), seconds=settings.public_cache_seconds,
                       session_cookie=SESSION_COOKIE)

    @app.exception_handler(StewardError)
    async def steward_error(request: Request, exc: StewardError) -> Response:
        extra: dict[str, Any] = {}
        if exc.field:
            extra["field"] = exc.field
        if exc.line is not None:
            extra["line"] = exc.line
        if isinstance(exc, Unauthenticated) and not _wants_json(request):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return _problem(request, exc.status, exc.title, exc.detail(), extra)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "invalid request"
        return _problem(request, 422, "Invalid input", detail, {"errors": errors})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: "Not found", 405: "Method not allowed", 401: "Sign-in required", 403: "Forbidden",
                  413: "Content too large"}
        return _problem(request, exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail))

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def out_of_range(request: Request, exc: Exception) -> Response:
        # an id or number beyond what the database stores (SQLite: OverflowError; PostgreSQL:
        # NumericValueOutOfRange) names nothing that exists
        return _problem(request, 404, "Not found", "No such record (a number in the request is out of range).")

    @app.exception_handler(sqlite3.OperationalError)
    @app.exception_handler(OperationalError)
    async def busy(request: Request, exc: Exception) -> Response:
        # SQLite's write lock held past the busy timeout by another writer (a long import, the
        # sqlite3 shell): nothing was written; the client may try again. Judged on the driver's
        # own message, not on the statement or its values, which SQLAlchemy's message includes.
        driver_error = getattr(exc, "orig", None) or exc
        if not str(driver_error).startswith("database is locked"):
            raise exc  # any other database error: the server error handler's, as before
        log.warning("write lock busy on %s %s: %s", request.method, request.url.path, driver_error)
        response = _problem(request, 503, "Busy", "Another change is being written. Nothing was saved; "
                                                  "try again in a moment.")
        response.headers["Retry-After"] = "2"
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _problem(request, 500, "Internal error", "Something went wrong on our side; it has been logged.")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> PlainTextResponse:
        with get_engine(read_only=True).connect() as conn:  # never queues behind writers
            conn.execute(text("SELECT 1"))
        return PlainTextResponse("ok")

    @app.get("/csrf", include_in_schema=False)
    def csrf(request: Request) -> JSONResponse:
        """The CSRF token for JavaScript-free clients that use the cookie session with the API."""
        return JSONResponse({"csrf_token": csrf_token(request)})

    for _name, module in modules("api"):
        app.include_router(module.router)
    for _name, module in modules("views"):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    return app
