"""Benchmark: what one request costs in Python, in process (Flask's test client, SQLite), the
project beside an earlier commit, in alternating runs of the same session. No HTTP server and
no other process share the measurement, so it shows a few per cent that the gunicorn tables
(bench/scale.py's cost table) lose in their noise.

    .venv/bin/python -m bench.inprocess --baseline c2e835a~1 [--requests 2000] [--runs 3]

--profile prints the top functions of the project's own run (cProfile, by internal time).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Run in the tree under test (its own proc_service), printing microseconds per request.
PROBE = r"""
import cProfile, io, pstats, sys, tempfile, time
from proc_service import create_app
from proc_service.data.migrate import upgrade
url = f"sqlite:///{tempfile.mkdtemp()}/p.sqlite3"
upgrade(url)
app = create_app({"DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
c = app.test_client()
ids = [c.post("/api/v3/proc/0/1", json={"bk_process_name": f"p{i}", "bk_func_name": "f"})
       .get_json()["data"]["bk_process_id"] for i in range(200)]
calls = {
    "detail": lambda i: c.get(f"/api/v3/proc/0/1/{ids[i % 200]}"),
    "binding list": lambda i: c.get(f"/api/v3/proc/module/0/1/{ids[i % 200]}"),
    "search": lambda i: c.post("/api/v3/proc/search/0/1",
                               json={"page": {"limit": 20, "sort": "-priority"}}),
    "update": lambda i: c.put(f"/api/v3/proc/0/1/{ids[i % 200]}", json={"description": f"d{i}"}),
    "create": lambda i: c.post("/api/v3/proc/0/1",
                               json={"bk_process_name": f"n{i}-{time.perf_counter_ns()}",
                                     "bk_func_name": "f"}),
}
n, profile = int(sys.argv[1]), sys.argv[2] == "1"
for name, call in calls.items():
    for i in range(300):
        call(i)
    started = time.perf_counter()
    for i in range(n):
        call(i)
    print(name.replace(" ", "_"), (time.perf_counter() - started) / n * 1e6)
    if profile:
        pr = cProfile.Profile()
        pr.enable()
        for i in range(n):
            call(i)
        pr.disable()
        out = io.StringIO()
        pstats.Stats(pr, stream=out).sort_stats("tottime").print_stats(15)
        print(out.getvalue(), file=sys.stderr)
"""


def probe(tree: Path, requests: int, profile: bool) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(requests), "1" if profile else "0"],
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
    )
    if profile:
        print(done.stderr[-6000:])
    return {line.split()[0]: float(line.split()[1]) for line in done.stdout.splitlines()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="git ref to compare with")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    tree = Path(tempfile.mkdtemp(prefix="proc-baseline-"))
    subprocess.run(["git", "worktree", "add", "--detach", "-f", str(tree), args.baseline],
                   cwd=ROOT, check=True, capture_output=True)  # fmt: skip
    try:
        runs: dict[str, list[dict]] = {"baseline": [], "project": []}
        for _ in range(args.runs):  # alternating: the machine's noise falls on both
            runs["baseline"].append(probe(tree, args.requests, False))
            runs["project"].append(probe(ROOT, args.requests, False))
        print(f"| request | {args.baseline} | project | ratio |")
        print("|---|---:|---:|---:|")
        for name in runs["project"][0]:
            before = statistics.median(r[name] for r in runs["baseline"])
            now = statistics.median(r[name] for r in runs["project"])
            label = name.replace("_", " ")
            print(f"| {label} | {before:.0f} µs | {now:.0f} µs | {now / before:.2f} |")
        if args.profile:
            probe(ROOT, args.requests, True)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT,
                       check=False, capture_output=True)  # fmt: skip


if __name__ == "__main__":
    main()
