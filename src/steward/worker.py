"""``steward worker``: sends the outbox and runs periodic tasks; stops cleanly on SIGTERM.

Run as many as you like on as many machines: every email and every periodic run is claimed with a
compare-and-set UPDATE, so no job is done twice.
"""

from __future__ import annotations

import importlib
import logging
import signal
import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from steward import outbox
from steward.config import Settings, get_settings
from steward.contexts import PERIODIC_TASKS, PeriodicTask
from steward.db import Base, UtcDateTime, new_session, utcnow

log = logging.getLogger("steward.worker")


class WorkerTask(Base):
    __tablename__ = "worker_task"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_result: Mapped[str | None] = mapped_column(String(500))
    claimed_by: Mapped[str | None] = mapped_column(String(80))


def _resolve(target: str) -> Any:
    module, function = target.split(":")
    return getattr(importlib.import_module(module), function)


def claim_task(session: Session, task: PeriodicTask, me: str, now: datetime) -> bool:
    """Claim the task's due run: move ``next_run_at`` forward only if it has not moved yet."""
    row = session.get(WorkerTask, task.name)
    if row is None:
        session.add(WorkerTask(name=task.name, next_run_at=now))
        try:
            session.commit()
        except Exception:
            session.rollback()
        row = session.get(WorkerTask, task.name, populate_existing=True)
        assert row is not None
    if row.next_run_at > now:
        session.commit()
        return False
    result = session.execute(
        update(WorkerTask)
        .where(WorkerTask.name == task.name, WorkerTask.next_run_at == row.next_run_at)
        .values(next_run_at=now + timedelta(seconds=task.every_seconds), claimed_by=me)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return int(getattr(result, "rowcount", 0)) == 1


def run_periodic(session: Session, me: str, now: datetime | None = None) -> list[str]:
    """Run every periodic task that is due and claimed by this worker; return what ran."""
    ran = []
    for task in PERIODIC_TASKS:
        now_ = now or utcnow()
        if not claim_task(session, task, me, now_):
            continue
        try:
            summary = _resolve(task.target)(session, now_)
            session.execute(
                update(WorkerTask)
                .where(WorkerTask.name == task.name)
                .values(last_run_at=now_, last_result=str(summary or "ok")[:500])
            )
            session.commit()
            ran.append(task.name)
        except Exception:
            session.rollback()
            log.exception("periodic task %s failed", task.name)
    return ran


def drain_outbox(session: Session, settings: Settings, me: str, limit: int = 100) -> int:
    sent = 0
    for _ in range(limit):
        row = outbox.claim_next(session, me)
        if row is None:
            break
        if outbox.send_one(session, settings, row, me):
            sent += 1
    return sent


def run_once(settings: Settings | None = None, me: str | None = None) -> dict[str, Any]:
    settings = settings or get_settings()
    me = me or outbox.worker_id()
    session = new_session()
    try:
        ran = run_periodic(session, me)
        sent = drain_outbox(session, settings, me)
    finally:
        session.close()
    return {"sent": sent, "tasks": ran}


def run_forever(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    stop = threading.Event()
    me = outbox.worker_id()

    def _stop(signum: int, _frame: Any) -> None:
        log.info("worker %s stopping on signal %s", me, signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("worker %s started", me)
    while not stop.is_set():
        try:
            run_once(settings, me)
        except Exception:
            log.exception("worker iteration failed")
        stop.wait(settings.worker_poll_seconds)


def pending_count(session: Session) -> int:
    return len(session.scalars(select(outbox.OutboxEmail.id).where(outbox.OutboxEmail.status != "sent")).all())
