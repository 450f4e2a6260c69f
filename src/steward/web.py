"""Shared request dependencies: the database session, the principal, permissions, CSRF, rendering."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.routing import Match
from starlette.types import Scope

from steward.accounts import service as accounts
from steward.accounts.principal import Principal
from steward.authz import Permission
from steward.db import new_session
from steward.errors import Forbidden, Invalid

SESSION_COOKIE = "steward_session"
CSRF_COOKIE = "steward_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

class Router(APIRouter):
    """An ``APIRouter`` that turns away a path none of its routes can match by the routes' literal
    beginnings (the text before the first ``{``), before trying each route's pattern.

    FastAPI matches a request against every route of every included router in turn; with two
    hundred routes that was a tenth of a small request's cost. The answer is the same: a path
    that starts with none of the literal beginnings matches no route of this router.
    """

    _heads: tuple[int, tuple[str, ...]] = (-1, ())

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        count, heads = self._heads
        if count != len(self.routes):
            heads = tuple({getattr(r, "path", "/").split("{", 1)[0] for r in self.routes})
            self._heads = (len(self.routes), heads)
        if not str(scope.get("path", "")).startswith(heads):
            return Match.NONE, {}
        return super().matches(scope)


templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def get_db(request: Request) -> Iterator[Session]:
    """The request owns the transaction: commit when the endpoint succeeds, else roll back.

    Safe requests (GET, HEAD) read in a deferred transaction, so on SQLite they never queue for
    the write lock; state changes take it at their first statement (BEGIN IMMEDIATE).
    """
    session = new_session(read_only=request.method in SAFE_METHODS)
    request.state.db = session
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
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
    principal = Principal.anonymous()
    token = bearer_token(request)
    if token is not None:
        principal = accounts.principal_from_token(db, token) or Principal.anonymous()
        request.state.bad_token = principal.is_anonymous
    elif cookie := request.cookies.get(SESSION_COOKIE):
        principal = accounts.principal_from_session(db, cookie)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require(permission: Permission) -> Any:
    """A dependency that yields the principal if it holds ``permission`` (401/403 otherwise)."""

    def dependency(principal: CurrentPrincipal) -> Principal:
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


def nav_items(principal: Principal) -> list[dict[str, str]]:
    from steward.contexts import modules

    items: list[dict[str, str]] = []
    for _name, views in modules("views"):
        for label, path, need in getattr(views, "NAV", []):
            if need is None or (need == "signed-in" and not principal.is_anonymous) or (
                isinstance(need, Permission) and principal.has(need)
            ):
                items.append({"label": label, "path": path})
    return items


def render(request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    principal = getattr(request.state, "principal", None) or Principal.anonymous()
    token = csrf_token(request)
    data = {
        "request": request,
        "principal": principal,
        "nav": nav_items(principal),
        "csrf_token": token,
        "csrf_field": lambda: Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, token),
    }
    data.update(context or {})
    return templates.TemplateResponse(request, template, data, status_code=status_code)


def form_date(value: str, field: str) -> date:
    """A date typed into a form (``2026-01-31``); a clear error naming the field otherwise."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid("Use a date such as 2026-01-31.", field=field) from None


def optional_form_date(value: str, field: str) -> date | None:
    """Like :func:`form_date`, but an empty field is no date."""
    return form_date(value, field) if value.strip() else None
