"""Crash safety: SIGKILL a real ``steward serve`` in the middle of a bulk SLA ingest and in the
middle of dispute stage changes, on SQLite and on PostgreSQL. After a restart the data is whole or
absent, ``steward archive verify`` passes, and every queued email is sent exactly once.

"During" is observed, not timed: the kill happens once the server is seen holding a write
transaction (SQLite's write lock; PostgreSQL's ``pg_stat_activity``) or while requests are in flight.
"""

from __future__ import annotations

import csv
import io
import threading
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx2

from steward.sla.rows import COLUMNS
from steward.sla.simulate import format_row, simulate
from tests.reliability.procs import Deployment, wait_until

NOW = datetime(2026, 11, 1, tzinfo=UTC)


class World:
    """An IFM, an operator with a TLD, a DUG member elsewhere; API tokens for each."""

    def __init__(self, make: Any) -> None:
        ifm = make.org("PTI", "ifm")
        op = make.operator("Example Registry", tlds=(("example", "country-code"),))
        other = make.operator("Other Registry", tlds=(("other", "generic"),))
        self.ifm = make.user("ifm_staff", org=ifm)
        self.operator = make.user("operator_staff", org=op)
        self.member = make.user("dug_member", org=other)
        self.tokens = {k: make.token(getattr(self, k)) for k in ("ifm", "operator", "member")}


def event_file(months: int, scale: float) -> tuple[bytes, int, int]:
    """A simulated IFM export (CSV) on the TLD ``example``: (content, rows, requests)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    requests = set()
    n = 0
    for row in simulate(months, 11, now=NOW, tlds=["example"], scale=scale):
        writer.writerow(format_row(row))
        requests.add(row[0])
        n += 1
    return out.getvalue().encode(), n, len(requests)


def verify_archive(dep: Deployment) -> str:
    done = dep.run("archive", "verify")
    assert "OK" in done.stdout, done.stdout + done.stderr
    return done.stdout


def sla_state(dep: Deployment) -> tuple[int, int, int, int]:
    return (
        dep.scalar("SELECT count(*) FROM sla_event"),
        dep.scalar("SELECT count(*) FROM sla_request"),
        dep.scalar("SELECT count(*) FROM sla_ingest_batch"),
        dep.scalar("SELECT coalesce(sum(added), 0) FROM sla_ingest_batch"),
    )


def upload_in_background(url: str, token: str, body: bytes, sent: threading.Event) -> dict[str, Any]:
    """POST the file from a thread; ``sent`` is set once the last byte has left."""
    outcome: dict[str, Any] = {}

    def chunks() -> Any:
        for i in range(0, len(body), 1 << 20):
            yield body[i : i + (1 << 20)]
        sent.set()

    def go() -> None:
        try:
            r = httpx2.post(url + "/api/v1/sla/events", content=chunks(), timeout=300,
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"})
            outcome["status"] = r.status_code
        except httpx2.HTTPError as exc:  # the server died under us: expected
            outcome["error"] = repr(exc)

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    outcome["thread"] = thread
    return outcome


def test_sigkill_during_bulk_sla_ingest_leaves_the_file_whole_or_absent_R_SLA_2(
    deployment: Deployment, make: Any
) -> None:
    dep = deployment
    world = World(make)
    body, n_rows, n_requests = event_file(months=12, scale=8)  # ~190,000 events, ~10 MB
    token = world.tokens["ifm"]
    server = dep.serve()

    # kill 1: the whole body has arrived and the server is inside its write transaction
    sent = threading.Event()
    outcome = upload_in_background(server.url, token, body, sent)
    wait_until(sent.is_set, "the upload to be sent")
    wait_until(dep.writer_busy, "the server to hold a write transaction")
    if not dep.is_sqlite:
        wait_until(lambda: dep.statement_running("INSERT INTO sla_"), "rows being inserted")
    server.kill()
    outcome["thread"].join(timeout=60)
    assert "status" not in outcome or outcome["status"] == 200
    events, requests, batches, added = sla_state(dep)
    assert (events, requests) in {(0, 0), (n_rows, n_requests)}, "half an ingest survived"
    assert added == events and batches == (1 if events else 0)
    verify_archive(dep)

    # restart: the same file goes in whole, once
    server = dep.serve()
    with server.client(token, timeout=300) as c:
        r = c.post("/api/v1/sla/events", content=body, headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    assert sla_state(dep)[:2] == (n_rows, n_requests)
    assert sla_state(dep)[3] == n_rows

    # kill 2: while a second (all-duplicate) ingest of the same file runs: still exactly one copy
    sent = threading.Event()
    outcome = upload_in_background(server.url, token, body, sent)
    wait_until(sent.is_set, "the upload to be sent")
    server.kill()  # wherever it is: parsing, checking duplicates, or already done
    outcome["thread"].join(timeout=60)
    assert sla_state(dep)[:2] == (n_rows, n_requests)
    assert sla_state(dep)[3] == n_rows
    verify_archive(dep)


ACTION = "/api/v1/disputes/{id}/actions/request_response"


def lodge(c: httpx2.Client, i: int) -> int:
    r = c.post("/api/v1/disputes", json={
        "title": f"Slow publication {i}", "tlds": ["example"], "service_levels": ["NS change"],
        "what_happened": "Nine days.", "negotiation": "Ticket 1234.",
    })
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def case_facts(dep: Deployment, case_id: int) -> tuple[str, int, int, int, int]:
    """(stage, version, timeline entries, audit events, outbox rows) of one case."""
    return (
        dep.scalar("SELECT stage FROM dispute_case WHERE id = :i", i=case_id),
        dep.scalar("SELECT version FROM dispute_case WHERE id = :i", i=case_id),
        dep.scalar("SELECT count(*) FROM dispute_timeline WHERE case_id = :i", i=case_id),
        dep.scalar("SELECT count(*) FROM audit_event WHERE subject_type = 'dispute' AND subject_id = :i",
                   i=str(case_id)),
        dep.scalar("SELECT count(*) FROM outbox_email WHERE key LIKE :k", k=f"dispute:{case_id}:%"),
    )


def test_sigkill_during_dispute_stage_changes_leaves_each_case_before_or_after_and_mail_once(
    deployment: Deployment, make: Any, smtp_server: Any
) -> None:
    dep = deployment
    world = World(make)
    server = dep.serve()
    worker = dep.worker()
    with server.client(world.tokens["operator"]) as c:
        cases = [lodge(c, i) for i in range(24)]
    before = {cid: case_facts(dep, cid) for cid in cases}
    assert {f[0] for f in before.values()} == {"lodged"}

    # the DUG member asks for the IFM's response on every case from 6 clients at once;
    # the server is killed as soon as a third of them have been answered
    answered: list[int] = []
    lock = threading.Lock()
    third = threading.Event()

    def client(mine: list[int]) -> None:
        with httpx2.Client(base_url=server.url, timeout=60,
                          headers={"Authorization": f"Bearer {world.tokens['member']}"}) as c:
            for cid in mine:
                try:
                    r = c.post(ACTION.format(id=cid), json={"version": before[cid][1], "text": "Please respond."})
                except httpx2.HTTPError:
                    return
                assert r.status_code == 200, r.text
                with lock:
                    answered.append(cid)
                    if len(answered) >= len(cases) // 3:
                        third.set()

    threads = [threading.Thread(target=client, args=(cases[i::6],), daemon=True) for i in range(6)]
    for t in threads:
        t.start()
    wait_until(third.is_set, "a third of the stage changes to be answered")
    server.kill()
    for t in threads:
        t.join(timeout=60)

    after = {cid: case_facts(dep, cid) for cid in cases}
    moved = [cid for cid in cases if after[cid][0] == "response_requested"]
    assert set(answered) <= set(moved), "an answered change was lost"
    shapes = Counter((f[0], f[1], f[2], f[3], f[4]) for f in after.values())
    # every case is exactly as before, or exactly like every other case that moved
    for cid in cases:
        if cid in moved:
            assert after[cid][1] == before[cid][1] + 1
            assert all(a > b for a, b in zip(after[cid][2:], before[cid][2:], strict=True)), after[cid]
        else:
            assert after[cid] == before[cid], f"case {cid} half changed: {before[cid]} → {after[cid]}"
    assert len({f[1:] for f in after.values() if f[0] == "response_requested"}) <= 1, shapes

    # restart; the cases left behind move now
    server = dep.serve()
    with server.client(world.tokens["member"]) as c:
        for cid in cases:
            if cid not in moved:
                r = c.post(ACTION.format(id=cid), json={"version": before[cid][1], "text": "Please respond."})
                assert r.status_code == 200, r.text
    final = {cid: case_facts(dep, cid) for cid in cases}
    assert len({f[1:] for f in final.values()}) == 1, "cases that crashed differ from the others"

    # the worker (never killed) sends everything queued, each exactly once
    wait_until(lambda: dep.scalar("SELECT count(*) FROM outbox_email WHERE status <> 'sent'") == 0,
               "the worker to send the outbox", timeout=120, every=0.1)
    worker.terminate()
    worker.wait(timeout=30)
    ids = [r[0] for r in dep.rows("SELECT message_id FROM outbox_email")]
    delivered = Counter(str(m["Message-ID"]) for m in smtp_server.messages)
    assert set(delivered) == set(ids), "an email was lost, or one was sent that was never queued"
    assert max(delivered.values()) == 1, "an email was sent twice"
    verify_archive(dep)


def test_backup_change_restore_brings_back_the_archive_root(
    deployment: Deployment, make: Any, tmp_path: Any
) -> None:
    """``steward backup`` → more records → ``steward restore``: the archive verifies with the root
    it had at the backup, and the later records are gone."""
    dep = deployment
    world = World(make)
    server = dep.serve()
    with server.client(world.tokens["operator"]) as c:
        lodge(c, 1)
    server.kill()
    root_then = verify_archive(dep)
    dep.run("backup", str(tmp_path / "steward.backup"))
    server = dep.serve()
    with server.client(world.tokens["operator"]) as c:
        lodge(c, 2)
    server.kill()
    assert verify_archive(dep) != root_then
    dep.run("restore", "--yes", str(tmp_path / "steward.backup"))
    assert verify_archive(dep) == root_then
    assert dep.scalar("SELECT count(*) FROM dispute_case") == 1
