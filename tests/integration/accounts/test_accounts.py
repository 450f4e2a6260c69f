"""Accounts on SQLite and PostgreSQL: creation, login, throttling, tokens, the administrator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from steward.accounts import service
from steward.accounts.principal import Principal
from steward.authz import Permission, Role
from steward.db import utcnow
from steward.errors import Conflict, Forbidden, Invalid, TooManyRequests
from steward.events import AuditEvent


def _user(session, email="ann@example.org", roles=("operator_staff",)):
    return service.create_user(session, None, email=email, name="Ann", password="long-enough-pass", roles=list(roles))


def test_create_user_records_an_audit_event(session):
    user = _user(session)
    session.commit()
    event = session.scalar(select(AuditEvent).where(AuditEvent.tag == "account:created"))
    assert event is not None and event.subject_id == str(user.id)
    assert user.password_hash.startswith("$argon2id$")


def test_duplicate_email_and_bad_role_are_refused(session):
    _user(session)
    with pytest.raises(Conflict):
        _user(session, email="ANN@example.org")
    with pytest.raises(Invalid) as err:
        _user(session, email="bob@example.org", roles=("king",))
    assert err.value.field == "roles"


def test_login_rotates_session_and_throttles_after_failures(session):
    _user(session)
    first = service.login(session, "ann@example.org", "long-enough-pass")
    second = service.login(session, "ann@example.org", "long-enough-pass", old_session_token=first.session_token)
    assert first.session_token != second.session_token
    assert service.principal_from_session(session, first.session_token).is_anonymous
    assert not service.principal_from_session(session, second.session_token).is_anonymous
    now = utcnow()
    for _ in range(5):
        with pytest.raises(Invalid):
            service.login(session, "ann@example.org", "wrong-password!", now=now)
    with pytest.raises(TooManyRequests):
        service.login(session, "ann@example.org", "long-enough-pass", now=now)
    # the lock lifts after the window
    later = now + timedelta(minutes=16)
    assert service.login(session, "ann@example.org", "long-enough-pass", now=later).user.email == "ann@example.org"


def test_unknown_and_wrong_password_get_the_same_answer(session):
    _user(session)
    with pytest.raises(Invalid) as unknown:
        service.login(session, "nobody@example.org", "long-enough-pass")
    with pytest.raises(Invalid) as wrong:
        service.login(session, "ann@example.org", "wrong-password!")
    assert unknown.value.message == wrong.value.message


def test_disabled_account_cannot_sign_in(session):
    _user(session)
    service.set_active(session, None, "ann@example.org", False)
    with pytest.raises(Invalid):
        service.login(session, "ann@example.org", "long-enough-pass")


def test_api_token_shown_once_stored_hashed_and_revocable(session):
    user = _user(session)
    row, secret = service.create_token(session, Principal.of(user), "uploads")
    assert row.token_hash != secret and secret.startswith("stw_")
    assert service.principal_from_token(session, secret).user.id == user.id
    service.revoke_token(session, Principal.of(user), row.id)
    assert service.principal_from_token(session, secret) is None


def test_only_the_administrator_manages_accounts(session):
    operator = Principal.of(_user(session))
    with pytest.raises(Forbidden):
        service.create_user(session, operator, email="x@example.org", name="X", password="long-enough-pass", roles=["dug_member"])
    admin = Principal.of(_user(session, email="root@example.org", roles=("sysadmin",)))
    assert admin.has(Permission.ACCOUNTS_MANAGE)
    created = service.create_user(session, admin, email="x@example.org", name="X", password="long-enough-pass", roles=["dug_member"])
    assert created.role_set == {Role.DUG_MEMBER}
