"""Benchmark (issue 18): the write tail on SQLite under concurrent writers, the project beside an
earlier commit (--baseline, run from a git worktree of it), and the project on PostgreSQL for
comparison; each on a database of its own, in alternating rounds of the same run.

    .venv/bin/python -m bench.writes --baseline HEAD~1 [--seconds 10] [--clients 8,32]

gunicorn as the README starts it (2 workers, 32 threads); each client is a thread in a closed
loop of update_process on a keep-alive connection. Prints updates/s, p50, p99, max, and how many
answered anything but 200 (a "database is locked" is a 503).
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import requests

from bench.events import Gunicorn, seed
from bench.scale import PostgresDatabase

ROOT = Path(__file__).resolve().parent.parent
PROC = "/api/v3/proc/0/1"


def hammer(base: str, ids: list[int], clients: int, seconds: float) -> tuple[list[float], int]:
    times: list[float] = []
    errors = [0]
    end = time.monotonic() + seconds

    def client(n: int) -> None:
        with requests.Session() as http:
            i = 0
            while time.monotonic() < end:
                t0 = time.perf_counter()
                resp = http.put(
                    f"{base}{PROC}/{random.choice(ids)}", json={"description": f"{n}-{i}"}
                )
                times.append(time.perf_counter() - t0)
                if resp.status_code != 200:
                    errors[0] += 1
                i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, errors[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="git ref to compare with")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", default="8,32")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    tree = Path(tempfile.mkdtemp(prefix="proc-baseline-"))
    subprocess.run(["git", "worktree", "add", "--detach", "-f", str(tree), args.baseline],
                   cwd=ROOT, check=True, capture_output=True)  # fmt: skip
    data = Path(tempfile.mkdtemp(prefix="proc-writes-"))
    try:
        with PostgresDatabase() as pg_url:
            servers = {
                f"SQLite, {args.baseline}": Gunicorn(tree, f"sqlite:///{data / 'before.sqlite3'}"),
                "SQLite, project": Gunicorn(ROOT, f"sqlite:///{data / 'now.sqlite3'}"),
                "PostgreSQL, project": Gunicorn(ROOT, pg_url),
            }
            try:
                ids = {name: seed(s.base) for name, s in servers.items()}
                for clients in map(int, args.clients.split(",")):
                    results = {name: ([], 0) for name in servers}
                    for _ in range(args.rounds):
                        for name, s in servers.items():
                            times, errors = hammer(s.base, ids[name], clients, args.seconds)
                            old_times, old_errors = results[name]
                            results[name] = (old_times + times, old_errors + errors)
                    total = args.seconds * args.rounds
                    print(f"\n### {clients} concurrent writers, {total:.0f} s each\n")
                    print("| server | updates/s | p50 | p99 | max | p99/p50 | not 200 |")
                    print("|---|---:|---:|---:|---:|---:|---:|")
                    for name, (times, errors) in results.items():
                        times.sort()
                        p50 = statistics.median(times) * 1000
                        p99 = times[int(len(times) * 0.99) - 1] * 1000
                        print(f"| {name} | {len(times) / total:.0f} | {p50:.1f} ms |"
                              f" {p99:.1f} ms | {times[-1] * 1000:.0f} ms | {p99 / p50:.1f} |"
                              f" {errors} |")  # fmt: skip
            finally:
                for s in servers.values():
                    s.stop()
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT,
                       check=False, capture_output=True)  # fmt: skip


if __name__ == "__main__":
    main()
