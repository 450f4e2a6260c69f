"""Benchmark: the tamper-evident archive's Merkle log (issue 5).

    .venv/bin/python bench/archive.py [--leaves 1000000] [--proofs 10000] [--entries 100000]
                                      [--database-url sqlite:///…]

1. Append ``--leaves`` leaves to the log on a fresh database through Steward's own code path
   (``steward.archive.service.append_leaves``: leaf hashing, node hashing, tiles written to
   the database, head moved), in batches of 65,536 as a bulk import would.
   The floor, measured in the same run on the same leaf data: hashlib computing the same
   leaf hashes and the tree's internal node hashes in one pass (the textbook stack loop,
   nothing stored). Reported: Steward's time ÷ the floor. Goal: within 3× on SQLite.
2. Prove inclusion of ``--proofs`` random leaves in the full tree, from the database
   (``prove_inclusion`` over the tile table: one SELECT per proof). Every 100th proof is
   verified against the root. Goal: at least 5,000 proofs/s.
3. For context (no goal): ``--entries`` whole log entries (canonical JSON document, entry row,
   tree) appended one transaction per 1,000 through ``append_entries``, the path audit
   events and publications take.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

BATCH = 65536


def floor(data: list[bytes]) -> tuple[float, bytes]:
    """hashlib alone: leaf hashes and internal node hashes in one pass; returns (seconds, root)."""
    sha = hashlib.sha256
    start = time.perf_counter()
    stack: list[bytes] = []
    for i, d in enumerate(data):
        h = sha(b"\x00" + d).digest()
        j = i
        while j & 1:
            h = sha(b"\x01" + stack.pop() + h).digest()
            j >>= 1
        stack.append(h)
    root = stack[-1]
    for left in reversed(stack[:-1]):
        root = sha(b"\x01" + left + root).digest()
    return time.perf_counter() - start, root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--proofs", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    from steward import db as dbmod
    from steward.archive import models, repository, service
    from steward.archive.merkle import leaf_hash, prove_inclusion, verify_inclusion
    from steward.archive.tiles import TiledNodes

    tmp = tempfile.TemporaryDirectory(prefix="steward-bench-archive-")
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    engine = dbmod.make_engine(url)
    tables = [m.__table__ for m in (models.ArchiveEntry, models.ArchiveTile, models.ArchiveHead, models.ArchiveCheckpoint)]
    dbmod.Base.metadata.drop_all(engine, tables=tables)
    dbmod.Base.metadata.create_all(engine, tables=tables)
    backend = engine.dialect.name

    data = [b'{"v":1,"seq":%d,"kind":"event","at":"2026-11-28T06:00:00.000000Z","content":{"tag":"bench:append"}}' % i
            for i in range(args.leaves)]

    floor_s, floor_root = floor(data)

    start = time.perf_counter()
    with dbmod.session_scope(engine) as session:
        for b in range(0, len(data), BATCH):
            size, root = service.append_leaves(session, service.leaf_hashes(data[b:b + BATCH]))
    append_s = time.perf_counter() - start
    assert root == floor_root, "Steward's root differs from the floor's"

    rng = random.Random(args.seed)
    picks = [rng.randrange(size) for _ in range(args.proofs)]
    with dbmod.session_scope(engine) as session:
        nodes = TiledNodes(repository.TileTable(session))
        start = time.perf_counter()
        proofs = [prove_inclusion(nodes, i, size) for i in picks]
        proof_s = time.perf_counter() - start
    for i, proof in list(zip(picks, proofs, strict=True))[::100]:
        verify_inclusion(leaf_hash(data[i]), i, size, proof, root)

    entries_s = 0.0
    if args.entries:
        dbmod.Base.metadata.drop_all(engine, tables=tables)
        dbmod.Base.metadata.create_all(engine, tables=tables)
        at = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
        start = time.perf_counter()
        for b in range(0, args.entries, 1000):
            with dbmod.session_scope(engine) as session:
                service.append_entries(session, [
                    service.NewEntry("event", i, at, {"tag": "bench:append", "n": i}, sealed=i % 2 == 1)
                    for i in range(b, min(b + 1000, args.entries))
                ])
        entries_s = time.perf_counter() - start
    engine.dispose()

    ratio = append_s / floor_s
    rate = args.proofs / proof_s
    print(f"backend                 {backend}")
    print(f"leaves appended         {size:,}")
    print(f"floor (hashlib, 1 pass) {floor_s:8.2f} s")
    print(f"Steward append          {append_s:8.2f} s   ratio {ratio:.2f}× the floor (goal ≤ 3×): {'met' if ratio <= 3 else 'MISSED'}")
    print(f"inclusion proofs        {args.proofs:,} in {proof_s:.2f} s = {rate:,.0f} proofs/s (goal ≥ 5,000): {'met' if rate >= 5000 else 'MISSED'}")
    if args.entries:
        print(f"whole entries           {args.entries:,} in {entries_s:.2f} s = {args.entries / entries_s:,.0f} entries/s (1,000 per transaction)")
    tmp.cleanup()


if __name__ == "__main__":
    main()
