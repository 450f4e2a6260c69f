"""Sign in and out, the account page with API tokens, and account administration."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from steward.accounts import repository, service
from steward.accounts.principal import Principal
from steward.authz import Permission, Role
from steward.config import get_settings
from steward.errors import Conflict, Invalid, StewardError, TooManyRequests
from steward.registry import repository as registry
from steward.web import (
    SESSION_COOKIE,
    CurrentPrincipal,
    DbSession,
    Router,
    render,
    require,
    rotate_csrf,
)

router = Router(include_in_schema=False)

NAV = [
    ("Accounts", "/admin/users", Permission.ACCOUNTS_MANAGE),
]


def _safe_next(target: str | None) -> str:
    # only local paths: never redirect a signed-in user to another site
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/home"


@router.get("/login")
def login_form(request: Request, principal: CurrentPrincipal, next: str | None = None) -> Response:
    return render(request, "accounts/login.html", {"next": _safe_next(next), "error": None, "email": ""})


@router.post("/login")
def login(
    request: Request,
    db: DbSession,
    principal: CurrentPrincipal,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form()] = "/home",
) -> Response:
    try:
        result = service.login(db, email, password, old_session_token=request.cookies.get(SESSION_COOKIE))
    except (Invalid, TooManyRequests) as exc:
        status = 429 if isinstance(exc, TooManyRequests) else 400
        return render(request, "accounts/login.html", {"next": _safe_next(next), "error": exc.message, "email": email}, status)
    response = RedirectResponse(_safe_next(next), status_code=303)
    https = request.url.scheme == "https" or get_settings().base_url.startswith("https")
    response.set_cookie(
        SESSION_COOKIE, result.session_token, httponly=True, samesite="lax", secure=https, path="/",
        max_age=get_settings().session_hours * 3600,
    )
    rotate_csrf(request)
    return response


@router.post("/logout")
def logout(request: Request, db: DbSession) -> Response:
    if token := request.cookies.get(SESSION_COOKIE):
        service.logout(db, token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    rotate_csrf(request)
    return response


@router.get("/account")
def account(request: Request, db: DbSession, principal: Principal = require(Permission.TOKENS_MANAGE_OWN)) -> Response:
    assert principal.user is not None
    tokens = repository.tokens_of(db, principal.user.id)
    return render(request, "accounts/account.html", {"tokens": tokens, "new_token": None})


@router.post("/account/tokens")
def create_token(
    request: Request, db: DbSession, name: Annotated[str, Form(max_length=100)],
    principal: Principal = require(Permission.TOKENS_MANAGE_OWN),
) -> Response:
    assert principal.user is not None
    _row, token = service.create_token(db, principal, name)
    tokens = repository.tokens_of(db, principal.user.id)
    return render(request, "accounts/account.html", {"tokens": tokens, "new_token": token}, 201)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(token_id: int, db: DbSession, principal: Principal = require(Permission.TOKENS_MANAGE_OWN)) -> Response:
    service.revoke_token(db, principal, token_id)
    return RedirectResponse("/account", status_code=303)


@router.get("/admin/users")
def users(request: Request, db: DbSession, principal: Principal = require(Permission.ACCOUNTS_MANAGE)) -> Response:
    return render(request, "accounts/users.html", {
        "users": repository.list_users(db), "roles": list(Role), "organisations": registry.organisations(db),
        "error": None, "form": {},
    })


@router.post("/admin/users")
def add_user(
    request: Request, db: DbSession,
    email: Annotated[str, Form(max_length=320)],
    name: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=200)],
    role: Annotated[list[str], Form()],
    organisation_id: Annotated[str, Form()] = "",
    principal: Principal = require(Permission.ACCOUNTS_MANAGE),
) -> Response:
    try:
        service.create_user(
            db, principal, email=email, name=name, password=password, roles=role,
            organisation_id=int(organisation_id) if organisation_id.strip() else None,
        )
    except (Invalid, Conflict) as exc:
        return render(request, "accounts/users.html", {
            "users": repository.list_users(db), "roles": list(Role), "organisations": registry.organisations(db),
            "error": exc.detail(), "form": {"email": email, "name": name},
        }, exc.status)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/active")
def set_active(
    user_id: int, db: DbSession, active: Annotated[str, Form()],
    principal: Principal = require(Permission.ACCOUNTS_MANAGE),
) -> Response:
    user = repository.user_by_id(db, user_id)
    if user is None:
        raise StewardError("no such account")
    service.set_active(db, principal, user.email, active == "1")
    return RedirectResponse("/admin/users", status_code=303)
