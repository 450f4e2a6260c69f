"""A sliding-window rate-limit policy as a pure function.

The service counts recent attempts for a key (a signed-in user, a commenter's
email address, a client address) from the database and asks this module
whether one more is allowed; nothing here keeps state or reads the clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RatePolicy:
    """At most ``limit`` attempts in any window of length ``window``."""

    limit: int
    window: timedelta

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError("limit must be at least 1")
        if self.window <= timedelta(0):
            raise ValueError("window must be positive")


@dataclass(frozen=True)
class RateDecision:
    """The answer: allowed or not, how many remain, and when to retry if refused."""

    allowed: bool
    remaining: int
    retry_after: timedelta | None = None

    def message(self) -> str:
        """A sentence for the person who was refused."""
        if self.allowed or self.retry_after is None:
            return ""
        minutes = max(1, -(-int(self.retry_after.total_seconds()) // 60))
        unit = "minute" if minutes == 1 else "minutes"
        return f"Too many comments in a short time; please try again in {minutes} {unit}."


def decide(policy: RatePolicy, attempts: Iterable[datetime], now: datetime) -> RateDecision:
    """May one more attempt happen at ``now``, given earlier attempts' times?

    Attempts older than the window, or in the future (clock skew), are ignored.
    When refused, ``retry_after`` is the time until the oldest counted attempt
    leaves the window.
    """
    start = now - policy.window
    recent = sorted(t for t in attempts if start < t <= now)
    if len(recent) < policy.limit:
        return RateDecision(allowed=True, remaining=policy.limit - len(recent) - 1)
    # The attempt that must expire before there is room again.
    blocking = recent[len(recent) - policy.limit]
    return RateDecision(allowed=False, remaining=0, retry_after=blocking + policy.window - now)


def decide_all(
    checks: Iterable[tuple[RatePolicy, Iterable[datetime]]], now: datetime
) -> RateDecision:
    """Combine several policies (per person and per address): the strictest answer wins."""
    worst: RateDecision | None = None
    for policy, attempts in checks:
        decision = decide(policy, attempts, now)
        if not decision.allowed:
            if (
                worst is None
                or worst.allowed
                or ((decision.retry_after or timedelta(0)) > (worst.retry_after or timedelta(0)))
            ):
                worst = decision
        elif worst is None or (worst.allowed and decision.remaining < worst.remaining):
            worst = decision
    if worst is None:
        raise ValueError("at least one policy is needed")
    return worst
