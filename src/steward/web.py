"""Shared request dependencies: the database session, the principal, permissions, CSRF, rendering."""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import inspect
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match
from starlette.types import Scope

from steward.accounts import service as accounts
from steward.accounts.principal import Principal
from steward.authz import Permission
from steward.config import get_settings
from steward.db import get_engine, new_session, session_scope
from steward.errors import Forbidden, Invalid
from steward.middleware import SAFE_METHODS
from steward.registry.domain import shown

SESSION_COOKIE = "steward_session"
CSRF_COOKIE = "steward_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class Router(APIRouter):
    """An ``APIRouter`` that turns away a path none of its routes can match by the routes' literal
    beginnings (the text before the first ``{``: a matching path contains one), before trying each
    route's pattern.

    FastAPI matches a request against every route of every included router in turn; with two
    hundred routes that was a tenth of a small request's cost. The answer is the same: a path
    that contains none of the literal beginnings matches no route of this router.
    """

    _heads: tuple[int, tuple[str, ...]] = (-1, ())

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        count, heads = self._heads
        if count != len(self.routes):
            heads = tuple({getattr(r, "path", "/").split("{", 1)[0] for r in self.routes})
            self._heads = (len(self.routes), heads)
        path = str(scope.get("path", ""))
        # "in", not "startswith": included under a prefix, a route's path follows that prefix
        if not any(head in path for head in heads):
            return Match.NONE, {}
        return super().matches(scope)

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().add_api_route(path, _commit_in_thread(endpoint), **kwargs)


def _commit_in_thread(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """A plain (sync) endpoint runs in a pool thread; commit the request's session there too,
    as the endpoint returns, rather than in another trip to the pool afterwards: on SQLite the
    write lock is then held for one thread call, not across the event loop's scheduling of the
    next. ``get_db`` still commits whatever is left (async endpoints, work after the return)."""
    if inspect.iscoroutinefunction(endpoint) or inspect.isasyncgenfunction(endpoint):
        return endpoint

    @functools.wraps(endpoint)
    def endpoint_then_commit(*args: Any, **kwargs: Any) -> Any:
        result = endpoint(*args, **kwargs)
        for value in kwargs.values():
            if isinstance(value, Session) and value.in_transaction():
                value.commit()
        return result

    return endpoint_then_commit


templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def tld_label(a_label: str) -> Markup:
    """A TLD as a page shows it: ``.example``; an IDN by its U-label then its A-label,
    ``.рф (.xn--p1ai)``, the U-label isolated so that a right-to-left script cannot reorder the
    text around it."""
    labels = shown(a_label)
    if not labels.is_idn:
        return Markup(".{}").format(a_label)
    return Markup("<bdi>.{}</bdi> (.{})").format(labels.u_label, a_label)


templates.env.filters["tld"] = tld_label


async def get_db(request: Request) -> AsyncIterator[Session]:
    """The request owns the transaction: commit when the endpoint succeeds, else roll back.

    Safe requests (GET, HEAD) read in a deferred transaction, so on SQLite they never queue for
    the write lock; state changes take it at their first statement (BEGIN IMMEDIATE). Creating the
    session does no I/O, so it happens on the event loop; the commit (or rollback) and the close
    are one trip to the thread pool, shielded from cancellation so that a client that hangs up
    never leaves a connection or SQLite's write lock behind.
    """
    session = new_session(read_only=request.method in SAFE_METHODS)
    request.state.db = session
    try:
        yield session
    except BaseException:
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(_end, session, commit=False)
        raise
    if session.in_transaction():
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(_end, session, commit=True)
    else:  # committed by the endpoint's own thread (Router below): nothing left to do but close
        session.close()


def _end(session: Session, *, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


# scope="function": commit before the response is sent, so a client that got 2xx never sees its
# change lost to a crash or a failed commit (the default "request" scope commits afterwards)
DbSession = Annotated[Session, Depends(get_db, scope="function")]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def get_principal(request: Request, db: DbSession) -> Principal:
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    token = bearer_token(request)
    cookie = request.cookies.get(SESSION_COOKIE) if token is None else None
    if token is None and not cookie:
        principal = Principal.anonymous()
    elif request.method in SAFE_METHODS or not get_settings().is_sqlite:
        principal = _look_up(db, token, cookie)
    else:
        # a SQLite writer's session takes the write lock at its first statement: read who is
        # acting in a deferred transaction of its own, so the lock is held for the change only
        with session_scope(get_engine(read_only=True)) as reader:
            principal = _look_up(reader, token, cookie)
    if token is not None:
        request.state.bad_token = principal.is_anonymous
    request.state.principal = principal
    return principal


def _look_up(db: Session, token: str | None, cookie: str | None) -> Principal:
    if token is not None:
        return accounts.principal_from_token(db, token) or Principal.anonymous()
    assert cookie is not None
    return accounts.principal_from_session(db, cookie)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require(permission: Permission) -> Any:
    """A dependency that yields the principal if it holds ``permission`` (401/403 otherwise)."""

    async def dependency(principal: CurrentPrincipal) -> Principal:  # no I/O: stays on the event loop
        principal.require(permission)
        return principal

    return Depends(dependency)


def csrf_token(request: Request) -> str:
    token = getattr(request.state, "csrf_token", None)
    if token is None:
        token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
        request.state.csrf_token = token
    return token


def rotate_csrf(request: Request) -> str:
    request.state.csrf_token = secrets.token_urlsafe(32)
    request.state.csrf_rotated = True
    return request.state.csrf_token  # type: ignore[no-any-return]


async def csrf_protect(request: Request) -> None:
    """Every state change made with a browser's ambient credentials carries the CSRF token.

    Double-submit: the token in the form field (or the X-CSRF-Token header) must equal the
    token in the cookie. Requests authenticated by an API bearer token carry no cookies' authority
    and are exempt.
    """
    if request.method in SAFE_METHODS:
        return
    if bearer_token(request) is not None and SESSION_COOKIE not in request.cookies:
        return
    content_type = request.headers.get("content-type", "")
    is_form = content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))
    if SESSION_COOKIE not in request.cookies and not is_form:
        return
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and is_form:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else ""
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        raise Forbidden("The form has expired or was not sent from Steward (CSRF check failed). Reload the page and try again.")


def nav_items(principal: Principal, here: str = "") -> list[dict[str, Any]]:
    """The menu ``principal`` may use; the item for the page at ``here`` is marked ``current``:
    the one whose path is the longest to contain it ("IFM data" on /sla/ifm, not "Performance")."""
    from steward.contexts import modules

    items: list[dict[str, Any]] = []
    for _name, views in modules("views"):
        for label, path, need in getattr(views, "NAV", []):
            if need is None or (need == "signed-in" and not principal.is_anonymous) or (
                isinstance(need, Permission) and principal.has(need)
            ):
                items.append({"label": label, "path": path, "current": False})
    containing = [i for i in items if here == i["path"] or here.startswith(i["path"].rstrip("/") + "/")]
    if containing:
        max(containing, key=lambda i: len(i["path"]))["current"] = True
    return items


def render(request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    principal = getattr(request.state, "principal", None) or Principal.anonymous()
    data = {
        "request": request,
        "principal": principal,
        "nav": nav_items(principal, request.url.path),
        # the token (and its cookie) only where a page has a form that needs it
        "csrf_field": lambda: Markup('<input type="hidden" name="{}" value="{}">').format(
            CSRF_FIELD, csrf_token(request)),
    }
    data.update(context or {})
    return templates.TemplateResponse(request, template, data, status_code=status_code)


def base64_upload(content: str, name: str, field: str) -> bytes:
    """A file sent to the API as base64 text: refused (naming ``name`` and ``field``) if it is not
    base64, or if it is longer than the upload limit allows, before it is decoded into memory."""
    limit = get_settings().upload_max_bytes
    if len(content) > 4 * -(-limit // 3):  # the base64 length of a file of ``limit`` bytes
        raise Invalid(f"{name} is over the limit of {limit} bytes", field=field)
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid(f"{name} is not valid base64", field=field) from None


def form_date(value: str, field: str) -> date:
    """A date typed into a form (``2026-01-31``); a clear error naming the field otherwise."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid("Use a date such as 2026-01-31.", field=field) from None


def optional_form_date(value: str, field: str) -> date | None:
    """Like :func:`form_date`, but an empty field is no date."""
    return form_date(value, field) if value.strip() else None
