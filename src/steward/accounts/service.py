"""Account use cases: create, disable, passwords, login and sessions, API tokens."""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from steward.accounts import domain, repository
from steward.accounts.models import ApiToken, LoginFailure, LoginSession, User, UserRole
from steward.accounts.principal import Principal
from steward.authz import Permission, Role
from steward.config import get_settings
from steward.db import utcnow
from steward.errors import Conflict, Invalid, NotFound, TooManyRequests
from steward.events import record_event

LOGIN_FAILED = "Email or password is incorrect, or the account is disabled."
LOGIN_THROTTLED = "Too many failed sign-in attempts. Wait a few minutes and try again."


@functools.cache
def _hasher() -> PasswordHasher:
    # argon2id; the test environment uses cheap parameters so the suite stays fast.
    if get_settings().environment == "test":
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    return _hasher().hash("not-a-real-password-for-timing")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def _parse_roles(roles: list[str]) -> set[Role]:
    parsed = set()
    for role in roles:
        try:
            parsed.add(Role(role.strip()))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise Invalid(f"unknown role '{role}' (known: {known})", field="roles") from None
    if not parsed:
        raise Invalid("at least one role is required", field="roles")
    return parsed


def create_user(
    session: Session,
    actor: Principal | None,
    *,
    email: str,
    name: str,
    password: str,
    roles: list[str],
    organisation_id: int | None = None,
) -> User:
    """Create an account (system administrator, or the CLI acting as the system)."""
    if actor is not None:
        actor.require(Permission.ACCOUNTS_MANAGE)
    if problem := domain.check_email(email):
        raise Invalid(problem, field="email")
    if problem := domain.check_password(password):
        raise Invalid(problem, field="password")
    if not name.strip():
        raise Invalid("is required", field="name")
    email = domain.normalise_email(email)
    role_set = _parse_roles(roles)
    if repository.user_by_email(session, email):
        raise Conflict(f"an account with email {email} already exists")
    if organisation_id is not None:
        from steward.registry.repository import organisation_by_id

        if organisation_by_id(session, organisation_id) is None:
            raise Invalid(f"organisation {organisation_id} does not exist", field="organisation")
    user = User(
        email=email,
        name=name.strip(),
        password_hash=hash_password(password),
        organisation_id=organisation_id,
        active=True,
        roles=[UserRole(role=r.value) for r in sorted(role_set)],
    )
    session.add(user)
    session.flush()
    record_event(
        session,
        "account:created",
        actor=actor,
        subject_type="user",
        subject_id=user.id,
        data={"email": email, "roles": sorted(r.value for r in role_set), "organisation_id": organisation_id},
    )
    return user


def _get(session: Session, email: str) -> User:
    user = repository.user_by_email(session, domain.normalise_email(email))
    if user is None:
        raise NotFound(f"no account with email {email}")
    return user


def set_active(session: Session, actor: Principal | None, email: str, active: bool) -> User:
    if actor is not None:
        actor.require(Permission.ACCOUNTS_MANAGE)
    user = _get(session, email)
    if user.active == active:  # nothing to do, nothing to record
        return user
    user.active = active
    if not active:
        repository.delete_sessions_of(session, user.id)
    record_event(
        session,
        "account:enabled" if active else "account:disabled",
        actor=actor,
        subject_type="user",
        subject_id=user.id,
    )
    return user


def set_password(session: Session, actor: Principal | None, email: str, password: str) -> User:
    if actor is not None and not (actor.user is not None and actor.user.email == domain.normalise_email(email)):
        actor.require(Permission.ACCOUNTS_MANAGE)
    if problem := domain.check_password(password):
        raise Invalid(problem, field="password")
    user = _get(session, email)
    user.password_hash = hash_password(password)
    repository.delete_sessions_of(session, user.id)
    record_event(session, "account:password-set", actor=actor, subject_type="user", subject_id=user.id)
    return user


@dataclass(frozen=True)
class LoginResult:
    user: User
    session_token: str


def login(session: Session, email: str, password: str, *, now: datetime | None = None,
          old_session_token: str | None = None) -> LoginResult:
    """Check credentials; on success open a new session (rotating any old one).

    The answer never tells whether an account exists; failures are throttled per email.
    """
    settings = get_settings()
    now = now or utcnow()
    key = domain.throttle_key(email)
    policy = domain.ThrottlePolicy(settings.login_max_failures, timedelta(minutes=settings.login_lockout_minutes))
    if policy.locked(repository.failures_since(session, key, now - policy.window), now):
        raise TooManyRequests(LOGIN_THROTTLED)
    user = repository.user_by_email(session, domain.normalise_email(email))
    ok = False
    try:
        ok = _hasher().verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None or not user.active:
        session.add(LoginFailure(key=key, at=now))
        session.flush()
        raise Invalid(LOGIN_FAILED)
    repository.clear_failures(session, key)
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if old_session_token:
        repository.delete_session(session, domain.hash_token(old_session_token))
    token = domain.new_secret()
    session.add(
        LoginSession(
            token_hash=domain.hash_token(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(hours=settings.session_hours),
        )
    )
    session.flush()
    record_event(session, "account:signed-in", actor=Principal.of(user), subject_type="user", subject_id=user.id)
    return LoginResult(user=user, session_token=token)


def logout(session: Session, session_token: str) -> None:
    repository.delete_session(session, domain.hash_token(session_token))


def principal_from_session(session: Session, session_token: str, now: datetime | None = None) -> Principal:
    rows = repository.actor_rows_by_session(session, domain.hash_token(session_token), now or utcnow())
    return Principal.of_rows(rows) if rows else Principal.anonymous()


def principal_from_token(session: Session, token: str) -> Principal | None:
    rows = repository.actor_rows_by_token(session, domain.hash_token(token))
    return Principal.of_rows(rows, via_token=True) if rows else None


def create_token(session: Session, actor: Principal, name: str, *, for_email: str | None = None) -> tuple[ApiToken, str]:
    """Create an API token for the actor (or, by an administrator, for another account).

    The token is returned once; only its hash is stored.
    """
    actor.require(Permission.TOKENS_MANAGE_OWN)
    assert actor.user is not None
    owner_id = actor.user.id
    if for_email is not None:
        actor.require(Permission.ACCOUNTS_MANAGE)
        owner = _get(session, for_email)
        if not owner.active:  # it would come alive with the account, unasked
            raise Invalid(f"{owner.email} is disabled: enable the account first", field="email")
        owner_id = owner.id
    else:
        own = session.get(User, owner_id)
        if own is not None and not own.active:  # the CLI acts for any account, disabled too
            raise Invalid(f"{own.email} is disabled: enable the account first", field="email")
    name = name.strip()
    if not name or len(name) > 100:
        raise Invalid("must be 1 to 100 characters", field="name")
    token = domain.new_api_token()
    row = ApiToken(user_id=owner_id, name=name, prefix=token[:8], token_hash=domain.hash_token(token))
    session.add(row)
    session.flush()
    record_event(session, "token:created", actor=actor, subject_type="user", subject_id=owner_id,
                 data={"token_id": row.id, "name": name})
    return row, token


def revoke_token(session: Session, actor: Principal, token_id: int) -> ApiToken:
    row = session.get(ApiToken, token_id)
    mine = row is not None and actor.user is not None and row.user_id == actor.user.id
    if row is None or not (mine or actor.has(Permission.ACCOUNTS_MANAGE)):
        raise NotFound("no such token")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        record_event(session, "token:revoked", actor=actor, subject_type="user", subject_id=row.user_id,
                     data={"token_id": row.id})
    return row


MAX_ID = 2**31 - 1


def engageable(session: Session, ids: Iterable[int], role: Role, field: str) -> frozenset[int]:
    """``ids`` if each is an active user holding ``role``: the people a matter engages by name (a
    mediator, IAP panelists). Otherwise ``Invalid`` on ``field``, naming who is not."""
    wanted = frozenset(ids)
    if any(not 1 <= i <= MAX_ID for i in wanted):
        raise Invalid("no such user", field=field)
    users = repository.users_by_ids(session, wanted)
    for user in users:
        if role not in user.role_set or not user.active:
            raise Invalid(f"{user.name} is not an active {role.value.replace('_', ' ')}", field=field)
    missing = wanted - {u.id for u in users}
    if missing:
        raise Invalid(f"no such user: {sorted(missing)}", field=field)
    return wanted


def chairs_recused(session: Session, parties: Collection[int]) -> bool:
    """Whether every DUG chair is recused from a matter with these parties (R-DUG-3): a DUG member
    who is not then stands in for the chair on it (an urgent review, a consent ballot)."""
    chairs = repository.users_with_role(session, Role.DUG_CHAIR.value)
    return bool(chairs) and all(c.organisation_id in parties for c in chairs)


def purge_expired_sessions(session: Session, now: datetime) -> str:
    return f"{repository.delete_expired_sessions(session, now)} expired sessions removed"
