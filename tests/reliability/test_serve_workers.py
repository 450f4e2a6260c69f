"""``steward serve --workers 2`` (steward.serving): two processes, each on its own SO_REUSEPORT
socket, both answering on one port; SIGTERM stops them all; a worker that dies is replaced.
On SQLite both share the file through the write queue (docs/architecture.md)."""

from __future__ import annotations

import os
import signal
from typing import Any

import httpx2

from tests.reliability.procs import Deployment, free_port, wait_until


def _worker_pids(parent: int) -> set[int]:
    children = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent and b"spawn_main" in _cmdline(int(entry)):
                children.add(int(entry))  # a worker (not multiprocessing's resource tracker)
    return children


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def _cpu_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def test_two_workers_share_the_port_and_stop_together(deployment: Deployment, make: Any) -> None:
    port = free_port()
    proc = deployment._spawn("serve", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2")
    url = f"http://127.0.0.1:{port}"

    def answering() -> bool:
        assert proc.poll() is None, f"steward serve exited with {proc.returncode}"
        try:
            return httpx2.get(url + "/healthz", timeout=1).status_code == 200
        except httpx2.HTTPError:
            return False

    wait_until(answering, "steward serve --workers 2 to answer", timeout=240, every=0.05)
    wait_until(lambda: len(_worker_pids(proc.pid)) == 2, "two worker processes")

    # many fresh connections: the kernel spreads them over both workers' sockets, and writes from
    # both reach the one database (on SQLite through the write queue)
    token = make.token(make.user("operator_staff", org=make.operator()))
    workers = _worker_pids(proc.pid)
    before = {pid: _cpu_ticks(pid) for pid in workers}
    for i in range(60):
        with httpx2.Client(base_url=url, timeout=30) as http:  # a new connection each time
            r = http.post("/api/v1/me/tokens", headers={"Authorization": f"Bearer {token}"}, json={"name": f"t{i}"})
            assert r.status_code == 201, r.text
            for _ in range(5):
                assert http.get("/portal").status_code == 200
    assert deployment.scalar("SELECT count(*) FROM account_api_token") == 61
    busy = [pid for pid in workers if _cpu_ticks(pid) > before[pid]]
    assert len(busy) >= 2, "every connection went to one worker"

    victim = max(_worker_pids(proc.pid))
    os.kill(victim, signal.SIGKILL)
    wait_until(answering, "the port to answer after a worker was killed")
    wait_until(lambda: victim not in _worker_pids(proc.pid) and len(_worker_pids(proc.pid)) == 2,
               "a replacement worker")

    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    assert not _worker_pids(proc.pid)
