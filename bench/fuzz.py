"""The long API fuzzing run (issue 9, point 1), run by ``make bench``.

    .venv/bin/python bench/fuzz.py [--examples 10] [--workers 2]

Runs ``tests/e2e/security/test_api_fuzz.py`` — schemathesis over the whole OpenAPI, on the demo data,
as every role (API bearer tokens) and anonymous — with ``--examples`` random cases per operation
plus schemathesis' explicit phases (the schema's examples and its coverage cases: boundaries,
wrong types, missing and extra fields), where CI runs 2 random cases per operation. Passes when no
request gets a server error and every response conforms to its declared schema. Prints the
operations, the time taken and pytest's summary; exits non-zero on a failure.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=10, help="random cases per operation (CI: 2)")
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers")
    args = parser.parse_args()
    env = dict(os.environ, STEWARD_FUZZ_FULL="1", STEWARD_FUZZ_EXAMPLES=str(args.examples))
    with tempfile.TemporaryDirectory(prefix="steward-fuzz-") as tmp:
        cmd = [sys.executable, "-m", "pytest", "tests/e2e/security/test_api_fuzz.py", "-q",
               "-p", "no:cacheprovider", f"--basetemp={tmp}/pytest"]
        if args.workers > 1:
            cmd += ["-n", str(args.workers)]
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
        took = time.perf_counter() - start
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    summary = lines[-1] if lines else "(no output)"
    print(f"API fuzz: {args.examples} random cases per operation + explicit/coverage phases, "
          f"14 identities per case (13 roles' tokens and anonymous)")
    print(f"  {summary}")
    print(f"  wall time {took:.0f} s on {os.cpu_count()} cores, {args.workers} workers")
    if done.returncode != 0:
        print("\n".join(lines[-80:]))
        print(done.stderr[-4000:], file=sys.stderr)
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
