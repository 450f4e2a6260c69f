"""Benchmark: a consent ballot (R-ESC-1) with every operator of the real root zone
snapshot, every one voting through the HTTP API with 50 concurrent clients; then close and tally.

    .venv/bin/python bench/ballot_vote.py [--clients 50] [--electors 1400] [--workers N] [--database-url …]

The issue speaks of "1,400-odd operators"; the 2025-08-30 snapshot has 751 distinct managers, 750
of them in a chamber (754 chamber votes: four operators are in both). ``--electors 1400`` pads the
electorate with synthetic operators to that size.

Steward runs as ``steward serve --workers N`` runs it (bench/_server.py; N defaults to the number
of cores); the clients are asyncio tasks with one keep-alive connection each (bench/_http.py, whose
CPU per request is printed). Before measuring, the clients cast 4 × clients votes on a warm-up
ballot of its own (not measured, not counted), so that no server process compiles its statements
or opens its connections inside the measurement.

Reports votes per second, p50/p99 vote latency, and the time to close and tally (the receipt
Merkle tree included). The baseline, measured in the same run against the same server, is a read
of the ballot (GET /api/v1/ballots/{id}, same clients): the vote's latency is reported as a ratio
of it. Goals (issue 7): p99 vote latency under 100 ms on SQLite; close and tally under 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import _http
import _server

REPO = Path(__file__).resolve().parent.parent
TLD_CSV = REPO.parent / "shared" / "data" / "root-zone-db" / "tld.csv"


def setup(electors_wanted: int = 0) -> dict[str, Any]:
    """Import the root zone, one operator-staff user with an API token per operator, the DUG
    chair, and an urgent review eligible for the Further Escalation Options with the DUG's
    decision to proceed. With ``electors_wanted`` above the snapshot's count, synthetic operators
    (one generic TLD each) make up the difference."""
    from steward import db as dbmod
    from steward.accounts import domain as accounts_domain
    from steward.accounts.models import ApiToken, User, UserRole
    from steward.contexts import load_models
    from steward.governance.models import Motion
    from steward.registry import repository as registry_repository
    from steward.registry import service as registry
    from steward.systemic.models import Review, Signal

    load_models()
    dbmod.Base.metadata.create_all(dbmod.get_engine())
    now = dbmod.utcnow()
    with dbmod.session_scope() as s:
        registry.import_root_zone(s, None, TLD_CSV.read_text(encoding="utf-8-sig"))
        from steward.registry.models import Organisation, Tld

        electors = [org for org, ch in registry_repository.operator_chambers(s).items() if ch]
        for k in range(max(0, electors_wanted - len(electors))):
            org = Organisation(name=f"Synthetic operator {k}", slug=f"synthetic-{k}", kind="operator")
            s.add(org)
            s.flush()
            s.add(Tld(a_label=f"synthetic{k}", u_label=f"synthetic{k}", type="generic", manager_id=org.id))
            electors.append(org.id)
        tokens: list[str] = []
        for org_id in electors:
            user = User(email=f"voter{org_id}@bench.example", name=f"Voter {org_id}", password_hash="!",
                        organisation_id=org_id)
            user.roles = [UserRole(role="operator_staff")]
            s.add(user)
            s.flush()
            token = accounts_domain.new_api_token()
            s.add(ApiToken(user_id=user.id, name="bench", prefix=token[:8], token_hash=accounts_domain.hash_token(token)))
            tokens.append(token)
        chair = User(email="chair@bench.example", name="Chair", password_hash="!")
        chair.roles = [UserRole(role="dug_chair"), UserRole(role="dug_member")]
        s.add(chair)
        s.flush()
        chair_token = accounts_domain.new_api_token()
        s.add(ApiToken(user_id=chair.id, name="bench", prefix=chair_token[:8],
                       token_hash=accounts_domain.hash_token(chair_token)))
        review_ids = []
        for name in ("bench", "warm-up"):  # the measured ballot's matter, and a warm-up ballot's
            signal = Signal(kind="proposal", key=f"proposal:{name}", summary="Bench", observed_at=now,
                            detected_at=now, state="review")
            s.add(signal)
            s.flush()
            review = Review(title=f"Bench review ({name})", signal_id=signal.id, stage="closed",
                            outcome="iap_not_remediable", iap_finding="not_remediable", opened_at=now, closed_at=now)
            s.add(review)
            s.flush()
            s.add(Motion(kind="proceed_further_escalation", title="Bench", text="Bench", subject_type="urgent_review",
                         subject_id=str(review.id), state="passed", closed_at=now))
            review_ids.append(review.id)
        review_id, warm_review_id = review_ids
    return {"tokens": tokens, "chair_token": chair_token, "review_id": review_id, "warm_review_id": warm_review_id}


def run_clients(base: str, jobs: Sequence[tuple[str, str, dict[str, Any] | None, str]], clients: int,
                server: Any = None) -> tuple[list[float], float]:
    """Run (method, path, json, token) jobs on ``clients`` concurrent HTTP clients (asyncio tasks,
    one keep-alive connection each, bench/_http.py); return each request's latency (s) and the
    wall time. Any non-2xx answer stops the bench."""
    host, port = base.removeprefix("http://").split(":")

    async def run() -> tuple[list[float], float]:
        queue = list(reversed(jobs))
        latencies: list[float] = []

        async def client() -> None:
            conn = _http.Connection(host, int(port))
            try:
                while queue:
                    method, path, body, token = queue.pop()
                    t0 = time.perf_counter()
                    r = await conn.request(method, path, json=body, token=token)
                    latencies.append(time.perf_counter() - t0)
                    if r.status_code >= 300:
                        raise SystemExit(f"{method} {path}: {r.status_code} {r.text[:300]}")
            finally:
                await conn.close()

        t0 = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        return latencies, time.perf_counter() - t0

    import resource
    r0, s0 = resource.getrusage(resource.RUSAGE_SELF), _server.cpu_seconds(server) if server else 0.0
    result: tuple[list[float], float] = _http.run(run())
    r1, s1 = resource.getrusage(resource.RUSAGE_SELF), _server.cpu_seconds(server) if server else 0.0
    print(f"  (CPU per request: client {(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) / len(jobs) * 1e6:.0f} us, "
          f"server {(s1 - s0) / len(jobs) * 1e6:.0f} us; server busy {(s1 - s0) / result[1] / (os.cpu_count() or 1):.0%} of the cores)")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="server processes (default: one per core, as docs/operations.md advises)")
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file in a temp folder")
    parser.add_argument("--electors", type=int, default=0,
                        help="pad the snapshot's electorate (about 750 operators) with synthetic operators")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="steward-bench-ballot-")
    os.environ["STEWARD_DATA_DIR"] = tmp
    if args.database_url:
        os.environ["STEWARD_DATABASE_URL"] = args.database_url
    os.environ.setdefault("STEWARD_ENVIRONMENT", "development")

    import httpx2

    from steward import db as dbmod
    from steward.ballots.models import Ballot
    from steward.config import get_settings

    t0 = time.perf_counter()
    data = setup(args.electors)
    print(f"setup: {len(data['tokens'])} electors from {TLD_CSV.name} in {time.perf_counter() - t0:.1f} s "
          f"({get_settings().database_url.split(':')[0]})")
    port = _server.free_port()
    server = _server.serve(port, args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        closes = (dbmod.utcnow() + timedelta(days=7)).isoformat()

        def open_ballot(review_id: int) -> dict[str, Any]:
            r = httpx2.post(f"{base}/api/v1/ballots", headers={"Authorization": f"Bearer {data['chair_token']}"},
                           json={"matter_type": "urgent_review", "matter_id": review_id,
                                 "option": "golden_bylaw", "closes_at": closes}, timeout=120)
            if r.status_code != 201:
                raise SystemExit(f"open: {r.status_code} {r.text[:300]}")
            opened: dict[str, Any] = r.json()
            return opened

        # warm-up, not measured: every server process compiles the vote's statements and fills
        # its pools on a ballot of its own (votes on it are never counted here)
        warm = open_ballot(data["warm_review_id"])["id"]
        run_clients(base, [("POST", f"/api/v1/ballots/{warm}/vote", {"choice": "yes"}, t)
                           for t in data["tokens"][: 4 * args.clients]], args.clients)
        ballot = open_ballot(data["review_id"])
        bid = ballot["id"]
        print(f"ballot #{bid}: electorate {ballot['electorate']}")

        reads = [("GET", f"/api/v1/ballots/{bid}", None, t) for t in data["tokens"]]
        read_lat, read_wall = run_clients(base, reads, args.clients, server)
        choices = ["yes", "yes", "no", "abstain"]
        votes = [("POST", f"/api/v1/ballots/{bid}/vote", {"choice": choices[i % 4]}, t)
                 for i, t in enumerate(data["tokens"])]
        vote_lat, vote_wall = run_clients(base, votes, args.clients, server)

        with dbmod.session_scope() as s:
            b = s.get(Ballot, bid)
            assert b is not None
            shift = b.closes_at - dbmod.utcnow() + timedelta(seconds=1)
            b.opens_at -= shift
            b.closes_at -= shift
        t0 = time.perf_counter()
        r = httpx2.post(f"{base}/api/v1/ballots/{bid}/close",
                       headers={"Authorization": f"Bearer {data['chair_token']}"}, timeout=120)
        close_s = time.perf_counter() - t0
        if r.status_code != 200:
            raise SystemExit(f"close: {r.status_code} {r.text[:300]}")
        result = r.json()["result"]
    finally:
        server.terminate()
        server.wait(timeout=30)

    p50, p99 = _server.percentile(vote_lat, 50), _server.percentile(vote_lat, 99)
    b50, b99 = _server.percentile(read_lat, 50), _server.percentile(read_lat, 99)
    counted = sum(c["cast"] for c in result["tally"]["chambers"])
    print(f"baseline read : {len(read_lat)} requests, {len(read_lat) / read_wall:7.0f} req/s, "
          f"p50 {b50 * 1000:6.1f} ms, p99 {b99 * 1000:6.1f} ms")
    print(f"votes         : {len(vote_lat)} requests, {len(vote_lat) / vote_wall:7.0f} votes/s, "
          f"p50 {p50 * 1000:6.1f} ms, p99 {p99 * 1000:6.1f} ms, mean {statistics.fmean(vote_lat) * 1000:.1f} ms")
    print(f"vote/read     : p50 ×{p50 / b50:.2f}, p99 ×{p99 / b99:.2f}")
    print(f"close + tally : {close_s * 1000:.0f} ms for {counted} chamber votes, "
          f"{result['receipt_tree']['size']} receipts (root {result['receipt_tree']['root_hex'][:16]}…)")
    ok_p99, ok_close = p99 < 0.100, close_s < 1.0
    print(f"goal p99 < 100 ms: {'met' if ok_p99 else 'MISSED'}; goal tally < 1 s: {'met' if ok_close else 'MISSED'}")
    expected = ballot["electorate"]["cctld"] + ballot["electorate"]["gtld"]
    if counted != expected:
        sys.exit(f"the tally counted {counted} chamber votes, {expected} were cast")

if __name__ == "__main__":
    main()
