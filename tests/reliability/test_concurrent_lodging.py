"""Lodging disputes at the same moment from many threads (SQLite and PostgreSQL): every complaint
gets its own reference; none fails. Found by bench/load.py: on PostgreSQL two lodgings read the
same count and the second failed on the unique reference (a 500)."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import select

from steward.db import session_scope
from steward.disputes import service
from steward.disputes.models import DisputeCase

FORM = service.ComplaintForm(
    title="Slow NS publication", tlds=["example"], service_levels=["NS change"],
    subject="service_level", what_happened="Nine days.", negotiation="Ticket 1234.",
)


def test_concurrent_lodgings_each_get_their_own_reference(db_url: str, make: Any) -> None:
    make.org("PTI", "ifm")
    op = make.operator("Example Registry", tlds=(("example", "country-code"),))
    users = [make.user("operator_staff", org=op) for _ in range(6)]
    principals = []
    for u in users:
        with session_scope() as s:
            principals.append(u.principal(s))
    # the barrier is passed before any transaction starts (on SQLite a transaction holds the lock)
    barrier = threading.Barrier(len(users), timeout=60)
    failures: list[BaseException] = []

    def lodge(p: Any) -> None:
        try:
            barrier.wait()
            with session_scope() as s:
                service.open_case(s, p, FORM)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=lodge, args=(p,)) for p in principals]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    with session_scope() as s:
        refs = s.scalars(select(DisputeCase.reference)).all()
    assert len(refs) == len(set(refs)) == len(users)
    year = refs[0][2:6]  # numbered in turn, none skipped, none left provisional
    assert sorted(refs) == [f"D-{year}-{n:04d}" for n in range(1, len(users) + 1)]
