"""The outbox and the worker: email sent after commit through a real SMTP server, once."""

from __future__ import annotations

import threading

from sqlalchemy import select

from steward import worker
from steward.config import get_settings
from steward.contexts import PeriodicTask
from steward.db import new_session, session_scope, utcnow
from steward.outbox import OutboxEmail, enqueue_email, enqueue_emails


def test_queued_email_is_sent_once_even_with_several_workers(db_url, smtp_server):
    with session_scope() as s:
        for i in range(12):
            enqueue_email(s, f"op{i}@example.org", f"Subject {i}", "Body")
    # a message queued in a transaction that rolls back is never sent
    s = new_session()
    enqueue_email(s, "never@example.org", "Rolled back", "x")
    s.rollback()
    s.close()

    settings = get_settings()
    threads = [threading.Thread(target=worker.run_once, args=(settings, f"w{i}")) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    recipients = sorted(str(m["To"]) for m in smtp_server.messages)
    assert recipients == sorted(f"op{i}@example.org" for i in range(12))
    with session_scope() as s:
        statuses = set(s.scalars(select(OutboxEmail.status)))
    assert statuses == {"sent"}
    worker.run_once(settings, "late")
    assert len(smtp_server.messages) == 12


def test_same_key_is_queued_once(session):
    assert enqueue_email(session, "a@example.org", "S", "B", key="k1") is not None
    assert enqueue_email(session, "a@example.org", "S", "B", key="k1") is None


def test_a_batch_queues_each_key_once_and_says_how_many_it_queued(session):
    assert enqueue_email(session, "a@example.org", "S", "B", key="k1") is not None
    batch = [("a@example.org", "S", "B", "k1"), ("b@example.org", "S", "B", "k2"),
             ("b@example.org", "S", "B", "k2"), ("c@example.org", "S", "B", "k3")]
    assert enqueue_emails(session, batch) == 2  # k1 was already queued, k2 is in the batch twice
    assert enqueue_emails(session, batch) == 0
    assert enqueue_emails(session, []) == 0
    rows = session.scalars(select(OutboxEmail.to_address).order_by(OutboxEmail.key)).all()
    assert rows == ["a@example.org", "b@example.org", "c@example.org"]


def test_smtp_failure_keeps_the_message_queued_for_retry(db_url, monkeypatch):
    monkeypatch.setenv("STEWARD_SMTP_PORT", "1")  # nothing listens there
    get_settings.cache_clear()
    with session_scope() as s:
        enqueue_email(s, "a@example.org", "S", "B")
    worker.run_once()
    with session_scope() as s:
        row = s.scalar(select(OutboxEmail))
        assert row.status == "queued" and row.attempts == 1 and row.last_error
        assert row.next_attempt_at > utcnow()


def test_a_periodic_run_is_claimed_by_exactly_one_worker(db_url, monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(worker, "PERIODIC_TASKS", [PeriodicTask("probe", "tests.integration.worker.test_outbox:probe", 3600)])
    monkeypatch.setattr(worker, "_resolve", lambda target: lambda session, now: calls.append("ran") or "ok")
    now = utcnow()
    sessions = [new_session() for _ in range(3)]
    results = [worker.run_periodic(s, f"w{i}", now) for i, s in enumerate(sessions)]
    for s in sessions:
        s.close()
    assert sum(len(r) for r in results) == 1
    assert calls == ["ran"]
