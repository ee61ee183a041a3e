"""Benchmark (issue 18, target 4): batch_update_process of 1000 ids in the big business of a
million processes on PostgreSQL, the project beside an earlier commit, in alternating runs of
the same session, each request in process (Flask's test client) with the time of each of its
statements.

    .venv/bin/python -m bench.batch --baseline 32d21fd [--processes 1000000] [--requests 15]

It makes its own database (bench/scale.py's PostgresDatabase: PROC_BENCH_POSTGRES_URL, default
the local server), loads it with bench/loader.py (custom attributes included, as in the scale
table), and drops it at the end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import loader
from bench.scale import BIG, PostgresDatabase

ROOT = Path(__file__).resolve().parent.parent

# Run in the tree under test (its own proc_service): JSON of the request times and, per
# statement (its first 60 characters), the median time it took.
PROBE = r"""
import json, statistics, sys, time
from sqlalchemy import event
from proc_service import create_app
from bench.scale import table_requests
url, big, processes, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
app = create_app({"DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
client = app.test_client()
engine = app.extensions["db_engine"]
make = table_requests(big, processes)["batch_update_process, 1000 ids"]
spent = {}

@event.listens_for(engine, "before_cursor_execute")
def _before(conn, cursor, statement, params, context, many):
    context._started = time.perf_counter()

@event.listens_for(engine, "after_cursor_execute")
def _after(conn, cursor, statement, params, context, many):
    key = " ".join(statement.split())[:60]
    spent.setdefault(key, []).append(time.perf_counter() - context._started)

times = []
for i in range(n + 2):
    method, path, body = make(int(time.time() * 1000) + i)
    started = time.perf_counter()
    assert client.open(path, method=method, json=body).status_code == 200
    if i >= 2:  # the first two warm the caches
        times.append(time.perf_counter() - started)
steps = {k: statistics.median(v) for k, v in spent.items() if len(v) >= n}
print(json.dumps({"times": times, "steps": steps}))
engine.dispose()
"""


def probe(tree: Path, url: str, processes: int, requests: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, url, str(BIG), str(processes), str(requests)],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="git ref to compare with")
    parser.add_argument("--processes", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    tree = Path(tempfile.mkdtemp(prefix="proc-baseline-"))
    subprocess.run(["git", "worktree", "add", "--detach", "-f", str(tree), args.baseline],
                   cwd=ROOT, check=True, capture_output=True)  # fmt: skip
    try:
        with PostgresDatabase() as url:
            loader.load(url, args.processes, custom=True)
            runs: dict[str, list[dict]] = {args.baseline: [], "project": []}
            for _ in range(args.runs):  # alternating: the machine's noise falls on both
                runs[args.baseline].append(probe(tree, url, args.processes, args.requests))
                runs["project"].append(probe(ROOT, url, args.processes, args.requests))
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT,
                       check=False, capture_output=True)  # fmt: skip
    for name, found in runs.items():
        times = [t for run in found for t in run["times"]]
        print(f"\n### {name}: p50 {statistics.median(times) * 1000:.1f} ms,"
              f" min {min(times) * 1000:.1f} ms ({len(times)} requests)\n")  # fmt: skip
        print("| statement | median |\n|---|---:|")
        steps = found[-1]["steps"]
        for key, took in sorted(steps.items(), key=lambda kv: -kv[1]):
            print(f"| `{key}` | {took * 1000:.2f} ms |")


if __name__ == "__main__":
    main()
