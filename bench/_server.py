"""Steward for the benchmarks: the production app, served as ``steward serve`` serves it
(``steward.serving``: uvicorn with uvloop and httptools, ``--workers`` processes each on its own
socket), plus one trivial route,
``GET /bench/ping``, the bare framework's ceiling measured in the same app and run.

    serve(port, workers) -> the server process, once it answers
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse


def app_factory() -> FastAPI:
    from steward.app import create_app

    app: FastAPI = create_app()

    @app.get("/bench/ping", include_in_schema=False)
    async def ping() -> PlainTextResponse:
        return PlainTextResponse("pong")

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank ``p``th percentile (NaN for no values)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


def serve(port: int, workers: int) -> subprocess.Popen[bytes]:
    """Start the server in its own process group of ``workers`` processes; wait until it answers."""
    import httpx2

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(Path(__file__).parent),
                                                                    os.environ.get("PYTHONPATH")])))
    proc = subprocess.Popen([sys.executable, "-c", (
        "import sys; from steward import serving; "
        "serving.run('_server:app_factory', factory=True, host='127.0.0.1', port=int(sys.argv[1]), "
        "workers=int(sys.argv[2]), log_level='warning', access_log=False)"), str(port), str(workers)], env=env)
    for _ in range(600):
        try:
            httpx2.get(f"http://127.0.0.1:{port}/bench/ping", timeout=1)
            return proc
        except httpx2.HTTPError:
            if proc.poll() is not None:
                raise SystemExit("the server exited at start") from None
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def cpu_seconds(proc: subprocess.Popen[bytes]) -> float:
    """User + system CPU time of the server and its worker processes so far (Linux ``/proc``), to
    tell a CPU-bound phase from one that waits (on a lock, on the clients)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [proc.pid]
    while todo:
        pid = todo.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{pid}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total
