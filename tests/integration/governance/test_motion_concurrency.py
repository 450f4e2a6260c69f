"""Two requests at once: a member's vote is recorded once and a motion is decided once."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func, select

from steward.accounts import repository as accounts_repo
from steward.accounts.principal import Principal
from steward.db import session_scope
from steward.errors import StewardError
from steward.governance import service as governance
from steward.governance.models import DugVote
from tests.integration.governance.dug_factory import TODAY, build_dug


def _race(work: Any, n: int = 2) -> list[str]:
    outcomes: list[str] = []
    barrier = threading.Barrier(n)

    def run() -> None:
        barrier.wait()
        try:
            with session_scope() as s:
                work(s)
            outcomes.append("ok")
        except StewardError as err:
            outcomes.append(type(err).__name__)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(outcomes)


def _principal(s: Any, email: str) -> Principal:
    user = accounts_repo.user_by_email(s, email)
    assert user is not None
    return Principal.of(user)


def test_the_same_vote_twice_at_once_is_recorded_once(db_url: str) -> None:
    with session_scope() as s:
        dug = build_dug(s)
        motion_id = governance.propose_motion(
            s, dug.chair, kind="other", title="t", text="x", today=TODAY
        ).id

    def vote(s: Any) -> None:
        governance.cast_vote(s, _principal(s, "voter1@dug.test"), motion_id, "yes", today=TODAY)

    outcomes = _race(vote)
    assert outcomes[-1] == "ok" and outcomes[0] in {"Forbidden", "Conflict"}
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(DugVote)) == 1


def test_two_closes_at_once_decide_the_motion_once(db_url: str) -> None:
    with session_scope() as s:
        dug = build_dug(s)
        motion_id = governance.propose_motion(
            s, dug.chair, kind="other", title="t", text="x", today=TODAY
        ).id

    def close(s: Any) -> None:
        governance.close_motion(s, _principal(s, "voter0@dug.test"), motion_id, today=TODAY)

    assert _race(close) == ["Conflict", "ok"]
