"""Every query of the accounts context."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, delete, select
from sqlalchemy.orm import Session

from steward.accounts.models import ApiToken, LoginFailure, LoginSession, User, UserRole
from steward.registry.models import Organisation

_user_t, _role_t, _org_t = User.__table__, UserRole.__table__, Organisation.__table__
_token_t, _session_t = ApiToken.__table__, LoginSession.__table__
# who a request acts as, in one statement (one row per role; a user without roles gives one row
# with role NULL): the request path's hottest query, so plain Core rows rather than ORM objects
_ACTOR = (
    select(_user_t.c.id, _user_t.c.email, _user_t.c.name, _user_t.c.organisation_id,
           _org_t.c.name.label("organisation_name"), _role_t.c.role)
    .select_from(_user_t)
    .outerjoin(_org_t, _org_t.c.id == _user_t.c.organisation_id)
    .outerjoin(_role_t, _role_t.c.user_id == _user_t.c.id)
    .where(_user_t.c.active.is_(True))
)
# built once: a statement object reused keeps its compiled form and cache key (building one per
# request cost more than running it)
_ACTOR_BY_TOKEN = _ACTOR.join(_token_t, _token_t.c.user_id == _user_t.c.id).where(
    _token_t.c.token_hash == bindparam("token_hash"), _token_t.c.revoked_at.is_(None))
_ACTOR_BY_SESSION = _ACTOR.join(_session_t, _session_t.c.user_id == _user_t.c.id).where(
    _session_t.c.token_hash == bindparam("token_hash"), _session_t.c.expires_at > bindparam("now"))


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email))


def user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.email)))


def users_with_role(session: Session, role: str, organisation_id: int | None = None) -> list[User]:
    stmt = select(User).join(UserRole).where(UserRole.role == role, User.active.is_(True))
    if organisation_id is not None:
        stmt = stmt.where(User.organisation_id == organisation_id)
    return list(session.scalars(stmt.order_by(User.email)))


def users_by_ids(session: Session, ids: Iterable[int]) -> list[User]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    return list(session.scalars(select(User).where(User.id.in_(wanted)).order_by(User.id)))


def delete_session(session: Session, token_hash: str) -> None:
    session.execute(delete(LoginSession).where(LoginSession.token_hash == token_hash))


def delete_sessions_of(session: Session, user_id: int) -> None:
    session.execute(delete(LoginSession).where(LoginSession.user_id == user_id))


def delete_expired_sessions(session: Session, now: datetime) -> int:
    result = session.execute(delete(LoginSession).where(LoginSession.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)


def actor_rows_by_token(session: Session, token_hash: str) -> list[Row[Any]]:
    """The active user holding this unrevoked API token, one row per role."""
    return list(session.connection().execute(_ACTOR_BY_TOKEN, {"token_hash": token_hash}))


def actor_rows_by_session(session: Session, token_hash: str, now: datetime) -> list[Row[Any]]:
    """The active user of this unexpired login session, one row per role."""
    return list(session.connection().execute(_ACTOR_BY_SESSION, {"token_hash": token_hash, "now": now}))


def tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)))


def failures_since(session: Session, key: str, since: datetime) -> list[datetime]:
    return list(session.scalars(select(LoginFailure.at).where(LoginFailure.key == key, LoginFailure.at > since)))


def clear_failures(session: Session, key: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.key == key))
