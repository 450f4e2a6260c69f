from __future__ import annotations

from datetime import UTC, datetime, timedelta

from steward.accounts.domain import (
    ThrottlePolicy,
    check_email,
    check_password,
    hash_token,
    new_api_token,
    throttle_key,
)


def test_password_policy_names_the_problem():
    assert check_password("short") == "must be at least 10 characters long"
    assert check_password(" leading-blank-pass") is not None
    assert check_password("long-enough-password") is None


def test_email_check():
    assert check_email("a@b.example") is None
    assert check_email("not-an-email") is not None


def test_throttle_locks_after_max_failures_inside_window_only():
    policy = ThrottlePolicy(max_failures=3, window=timedelta(minutes=15))
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    recent = [now - timedelta(minutes=m) for m in (1, 2, 3)]
    assert policy.locked(recent, now)
    assert not policy.locked(recent[:2], now)
    old = [now - timedelta(minutes=m) for m in (20, 30, 40)]
    assert not policy.locked(old, now)


def test_tokens_are_prefixed_random_and_stored_hashed():
    a, b = new_api_token(), new_api_token()
    assert a != b and a.startswith("stw_")
    assert hash_token(a) != a and len(hash_token(a)) == 64


def test_throttle_key_is_case_insensitive():
    assert throttle_key("A@B.example ") == throttle_key("a@b.example")
