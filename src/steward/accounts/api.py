"""Accounts API: who am I, API tokens, account administration."""

from __future__ import annotations

from steward.accounts import repository, service
from steward.accounts.models import ApiToken, User
from steward.accounts.principal import Principal
from steward.accounts.schemas import TokenCreated, TokenIn, TokenOut, UserIn, UserOut
from steward.authz import Permission
from steward.errors import Unauthenticated
from steward.web import CurrentPrincipal, DbSession, Router, require

router = Router(prefix="/api/v1", tags=["accounts"])


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        roles=sorted(r.role for r in user.roles),
        organisation_id=user.organisation_id,
        active=user.active,
    )


def token_out(row: ApiToken) -> TokenOut:
    return TokenOut(id=row.id, name=row.name, prefix=row.prefix, created_at=row.created_at, revoked_at=row.revoked_at)


@router.get("/me", response_model=UserOut)
def me(db: DbSession, principal: CurrentPrincipal) -> UserOut:
    user = repository.user_by_id(db, principal.user.id) if principal.user is not None else None
    if user is None:
        raise Unauthenticated()
    return user_out(user)


@router.get("/me/tokens", response_model=list[TokenOut])
def my_tokens(db: DbSession, principal: Principal = require(Permission.TOKENS_MANAGE_OWN)) -> list[TokenOut]:
    assert principal.user is not None
    return [token_out(t) for t in repository.tokens_of(db, principal.user.id)]


@router.post("/me/tokens", response_model=TokenCreated, status_code=201)
def create_token(body: TokenIn, db: DbSession, principal: Principal = require(Permission.TOKENS_MANAGE_OWN)) -> TokenCreated:
    row, token = service.create_token(db, principal, body.name)
    return TokenCreated(**token_out(row).model_dump(), token=token)


@router.delete("/me/tokens/{token_id}", response_model=TokenOut)
def revoke_token(token_id: int, db: DbSession, principal: Principal = require(Permission.TOKENS_MANAGE_OWN)) -> TokenOut:
    return token_out(service.revoke_token(db, principal, token_id))


@router.get("/users", response_model=list[UserOut])
def list_users(db: DbSession, principal: Principal = require(Permission.ACCOUNTS_MANAGE)) -> list[UserOut]:
    return [user_out(u) for u in repository.list_users(db)]


@router.post("/users", response_model=UserOut, status_code=201)
def add_user(body: UserIn, db: DbSession, principal: Principal = require(Permission.ACCOUNTS_MANAGE)) -> UserOut:
    user = service.create_user(
        db, principal, email=body.email, name=body.name, password=body.password, roles=body.roles,
        organisation_id=body.organisation_id,
    )
    return user_out(user)


@router.post("/users/{email}/disable", response_model=UserOut)
def disable_user(email: str, db: DbSession, principal: Principal = require(Permission.ACCOUNTS_MANAGE)) -> UserOut:
    return user_out(service.set_active(db, principal, email, False))
