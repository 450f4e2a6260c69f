"""Real Steward processes for the reliability tests: ``steward init``, ``serve`` and ``worker`` as
subprocesses on one database, killed and restarted like a crashed machine would be.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import create_engine, text

STEWARD = str(Path(sys.executable).with_name("steward"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 180.0, every: float = 0.01) -> None:
    """Poll ``condition`` (a state, not a duration) until it holds; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


class Deployment:
    """One Steward installation (database URL + data folder) run as separate processes."""

    def __init__(self, url: str, data_dir: Path, smtp_port: int | None = None) -> None:
        self.url = url
        self.data_dir = data_dir
        self.env = dict(os.environ)
        self.env.update(
            STEWARD_DATABASE_URL=url,
            STEWARD_DATA_DIR=str(data_dir),
            STEWARD_ENVIRONMENT="test",
            STEWARD_SECRET_KEY="reliability-secret",
            STEWARD_WORKER_POLL_SECONDS="0.2",
        )
        if smtp_port is not None:
            self.env.update(STEWARD_SMTP_HOST="127.0.0.1", STEWARD_SMTP_PORT=str(smtp_port))
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs = data_dir.parent / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    def run(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run one ``steward`` command to completion."""
        done = subprocess.run([STEWARD, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"steward {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}-{len(self.procs)}.log").open("wb")
        proc = subprocess.Popen([STEWARD, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def serve(self, port: int | None = None) -> Server:
        """Start ``steward serve`` and wait until it answers ``/healthz``."""
        port = port or free_port()
        proc = self._spawn("serve", "serve", "--host", "127.0.0.1", "--port", str(port))
        server = Server(proc, f"http://127.0.0.1:{port}")

        def up() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"steward serve exited with {proc.returncode}")
            try:
                return httpx2.get(server.url + "/healthz", timeout=1).status_code == 200
            except httpx2.HTTPError:
                return False

        wait_until(up, "steward serve to start", timeout=240, every=0.05)
        return server

    def worker(self) -> subprocess.Popen[bytes]:
        return self._spawn("worker", "worker")

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def scalar(self, sql: str, **params: Any) -> Any:
        """One value read through a connection of our own (never the server's)."""
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                return conn.execute(text(sql), params).scalar()
        finally:
            engine.dispose()

    def rows(self, sql: str, **params: Any) -> list[Any]:
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                return list(conn.execute(text(sql), params).all())
        finally:
            engine.dispose()

    def writer_busy(self) -> bool:
        """True while some process holds a write transaction open (the server mid-request)."""
        if self.is_sqlite:
            conn = sqlite3.connect(self.url.split("///", 1)[1], timeout=0)
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.rollback()
                return False
            except sqlite3.OperationalError:
                return True
            finally:
                conn.close()
        found = self.scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction') "
            "AND backend_xid IS NOT NULL"
        )
        return bool(found)

    def statement_running(self, fragment: str) -> bool:
        """PostgreSQL: a statement containing ``fragment`` is running in another session."""
        found = self.scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state = 'active' AND query ILIKE :q",
            q=f"%{fragment}%",
        )
        return bool(found)


class Server:
    def __init__(self, proc: subprocess.Popen[bytes], url: str) -> None:
        self.proc = proc
        self.url = url

    def kill(self) -> None:
        """SIGKILL: no cleanup, no rollback, like a power cut of the app machine."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def client(self, token: str | None = None, timeout: float = 120) -> httpx2.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx2.Client(base_url=self.url, headers=headers, timeout=timeout)


@contextmanager
def deployment_for(url: str, tmp: Path, smtp_port: int | None = None) -> Iterator[Deployment]:
    dep = Deployment(url, tmp / "var", smtp_port)
    try:
        yield dep
    finally:
        dep.stop_all()
