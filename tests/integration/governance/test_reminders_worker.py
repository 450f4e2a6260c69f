"""Reminders (terms ending, next audit, next review) go out through the worker and real SMTP."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from steward import worker
from steward.config import get_settings
from steward.contexts import PERIODIC_TASKS
from steward.db import new_session, session_scope
from steward.governance import service as governance
from tests.integration.governance.dug_factory import build_dug

OURS = {"governance-terms-ending", "audits-next-due", "reviews-next-due"}


def test_worker_sends_each_reminder_once(
    db_url, smtp_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker, "PERIODIC_TASKS", [t for t in PERIODIC_TASKS if t.name in OURS])
    with session_scope() as s:
        dug = build_dug(s, term_start=date(2016, 10, 1))
        member = dug.members[dug.voters[3].user_id]  # type: ignore[index]
        governance.change_member(s, _admin(s), member.id, term_end=date(2019, 10, 20))
    now = datetime(2019, 9, 20, 7, tzinfo=UTC)  # audit 1 and review 1 fall due on 2019-10-01
    session = new_session()
    try:
        ran = worker.run_periodic(session, "w1", now)
        assert set(ran) == OURS
        worker.drain_outbox(session, get_settings(), "w1")
        # a second worker at the same moment finds nothing due and nothing new to send
        assert worker.run_periodic(session, "w2", now) == []
    finally:
        session.close()
    subjects = sorted(str(m["Subject"]) for m in smtp_server.messages)
    assert "[DUG] Independent audit 1 is due (2019-10-01)" in subjects
    assert "[IPRT] Review 1 is due (2019-10-01)" in subjects
    assert "[DUG] Term of Voter3 ends on 2019-10-20" in subjects
    term_to = sorted(str(m["To"]) for m in smtp_server.messages if "Term of" in str(m["Subject"]))
    assert term_to == ["voter0@dug.test", "voter3@dug.test"]  # the member and the chair


def _admin(s):  # type: ignore[no-untyped-def]
    from steward.accounts import repository
    from steward.accounts.principal import Principal

    user = repository.user_by_email(s, "admin@test.example")
    assert user is not None
    return Principal.of(user)
