"""Unit tests for the comment rate-limit policy (abuse control for the RFC process, R-TCH-2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steward.changes.ratelimit import RateDecision, RatePolicy, decide, decide_all

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_under_the_limit_is_allowed_with_remaining_count() -> None:
    policy = RatePolicy(limit=3, window=HOUR)
    decision = decide(policy, [NOW - timedelta(minutes=5)], NOW)
    assert decision == RateDecision(allowed=True, remaining=1)


def test_at_the_limit_is_refused_until_the_oldest_leaves_the_window() -> None:
    policy = RatePolicy(limit=2, window=HOUR)
    attempts = [NOW - timedelta(minutes=50), NOW - timedelta(minutes=10)]
    decision = decide(policy, attempts, NOW)
    assert not decision.allowed
    assert decision.retry_after == timedelta(minutes=10)
    assert (
        decision.message() == "Too many comments in a short time; please try again in 10 minutes."
    )
    assert decide(policy, attempts, NOW + timedelta(minutes=10)).allowed


def test_old_and_future_attempts_are_ignored() -> None:
    policy = RatePolicy(limit=1, window=HOUR)
    assert decide(policy, [NOW - HOUR, NOW + timedelta(minutes=1)], NOW).allowed


def test_message_rounds_up_to_a_minute() -> None:
    decision = RateDecision(allowed=False, remaining=0, retry_after=timedelta(seconds=5))
    assert decision.message().endswith("in 1 minute.")
    assert RateDecision(allowed=True, remaining=3).message() == ""


@pytest.mark.parametrize(("limit", "window"), [(0, HOUR), (1, timedelta(0))])
def test_policy_rejects_nonsense(limit: int, window: timedelta) -> None:
    with pytest.raises(ValueError):
        RatePolicy(limit=limit, window=window)


def test_strictest_policy_wins() -> None:
    per_person = RatePolicy(limit=5, window=HOUR)
    per_address = RatePolicy(limit=1, window=timedelta(minutes=30))
    attempts = [NOW - timedelta(minutes=20)]
    decision = decide_all([(per_person, attempts), (per_address, attempts)], NOW)
    assert not decision.allowed
    assert decision.retry_after == timedelta(minutes=10)
    allowed = decide_all([(per_person, attempts), (RatePolicy(3, HOUR), attempts)], NOW)
    assert allowed == RateDecision(allowed=True, remaining=1)
    with pytest.raises(ValueError):
        decide_all([], NOW)


@given(
    limit=st.integers(min_value=1, max_value=5),
    gaps=st.lists(st.integers(min_value=0, max_value=7200), min_size=1, max_size=60),
)
def test_accepted_attempts_never_exceed_the_limit_in_any_window(
    limit: int, gaps: list[int]
) -> None:
    """Property: if only allowed attempts are recorded, no window ever holds more than ``limit``."""
    policy = RatePolicy(limit=limit, window=HOUR)
    accepted: list[datetime] = []
    now = NOW
    for gap in gaps:
        now += timedelta(seconds=gap)
        decision = decide(policy, accepted, now)
        if decision.allowed:
            accepted.append(now)
        else:
            assert decision.retry_after is not None
            assert timedelta(0) < decision.retry_after <= HOUR
            assert decide(policy, accepted, now + decision.retry_after).allowed
    for t in accepted:
        assert sum(1 for u in accepted if t - HOUR < u <= t) <= limit
