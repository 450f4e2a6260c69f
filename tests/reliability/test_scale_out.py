"""Scale-out: two ``steward serve`` and two ``steward worker`` processes on one PostgreSQL.
Every email and every periodic notice goes out exactly once; two people acting on the same
dispute at the same moment through different app processes: exactly one wins, the other gets 409.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx2

from steward.db import session_scope
from steward.disputes import service
from tests.reliability.procs import Deployment, wait_until
from tests.reliability.test_crash_safety import ACTION, World, case_facts, lodge, verify_archive

T0 = datetime(2025, 11, 24, 18, 0, tzinfo=UTC)  # long ago: the IFM's response is overdue now

FORM = service.ComplaintForm(
    title="Slow NS publication", tlds=["example"], service_levels=["NS change"],
    subject="service_level", what_happened="Nine days.", negotiation="Ticket 1234.",
)


def overdue_case(world: World) -> int:
    """A case whose IFM response deadline passed long ago (the periodic deadline task's work)."""
    with session_scope() as s:
        cid = service.open_case(s, world.operator.principal(s), FORM, now=T0).id
    with session_scope() as s:
        service.act(s, world.member.principal(s), cid,
                    service.ActionRequest(action="request_response", text="Please."), now=T0)
    return cid


def test_two_apps_two_workers_every_job_once_and_no_lost_update_R_DSP_3(
    pg_deployment: Deployment, make: Any, smtp_server: Any
) -> None:
    dep = pg_deployment
    world = World(make)
    overdue = [overdue_case(world) for _ in range(3)]
    apps = [dep.serve(), dep.serve()]
    workers = [dep.worker(), dep.worker()]

    # lodge through both apps in turn
    cases = []
    for i in range(12):
        with apps[i % 2].client(world.tokens["operator"]) as c:
            cases.append(lodge(c, i))
    versions = {cid: case_facts(dep, cid)[1] for cid in cases}

    # the same action on the same case at the same moment, once through each app
    statuses: dict[int, list[int]] = {cid: [] for cid in cases}
    lock = threading.Lock()

    def race(cid: int) -> None:
        barrier = threading.Barrier(2)

        def one(app_url: str) -> None:
            with httpx2.Client(base_url=app_url, timeout=120,
                              headers={"Authorization": f"Bearer {world.tokens['member']}"}) as c:
                barrier.wait()
                r = c.post(ACTION.format(id=cid), json={"version": versions[cid], "text": "Respond."})
            with lock:
                statuses[cid].append(r.status_code)

        pair = [threading.Thread(target=one, args=(app.url,)) for app in apps]
        for t in pair:
            t.start()
        for t in pair:
            t.join()

    racers = [threading.Thread(target=race, args=(cid,)) for cid in cases]
    for t in racers:
        t.start()
    for t in racers:
        t.join()
    for cid in cases:
        assert sorted(statuses[cid]) == [200, 409], (cid, statuses[cid])
        stage, version, _timeline, _events, _mails = case_facts(dep, cid)
        assert (stage, version) == ("response_requested", versions[cid] + 1)
        assert dep.scalar("SELECT count(*) FROM dispute_timeline WHERE case_id = :i AND action = "
                          "'request_response'", i=cid) == 1

    # the workers send everything (stage notices and the periodic task's overdue notices) once
    def overdue_queued() -> bool:
        n = dep.scalar("SELECT count(*) FROM outbox_email WHERE subject LIKE '%Overdue%'")
        return bool(n) and n >= len(overdue)

    wait_until(overdue_queued, "a worker to run the deadline task", every=0.1)
    wait_until(lambda: dep.scalar("SELECT count(*) FROM outbox_email WHERE status <> 'sent'") == 0,
               "the workers to send the outbox", every=0.1)
    for w in workers:
        w.terminate()
        w.wait(timeout=30)
    rows = dep.rows("SELECT message_id, claimed_by FROM outbox_email")
    delivered = Counter(str(m["Message-ID"]) for m in smtp_server.messages)
    assert set(delivered) == {r[0] for r in rows}
    assert max(delivered.values()) == 1, "an email was sent twice"
    mails = [(str(m["To"]), str(m["Subject"])) for m in smtp_server.messages]
    assert len(mails) == len(set(mails)), "the same notice went twice to someone"
    verify_archive(dep)
