"""Benchmark (issue 16): what events cost and how fast they arrive, on PostgreSQL.

    .venv/bin/python -m bench.events [--seconds 60] [--rate 200] [--baseline 4dff45d]

1. Latency: gunicorn (2 workers) and one dispatcher (`flask events run`) on a fresh database,
   two subscriptions (callback servers in this process, on loopback) and one watcher
   long-polling resource_watch from cursor to cursor, while paced writers send --rate updates
   per second for --seconds. For each write, the time from the writer's 200 (just after the
   commit) to its delivery at each subscriber and to the watcher's answer: p50, p99, max,
   and how many never arrived.
2. Cost: updates per second and their p50 with 8 clients in a closed loop, the project beside
   the code before events (--baseline, a git ref, run from a worktree of it) on databases of
   their own, in alternating rounds of the same run: the ratio is what the event log (and its
   ordering lock) adds to a write.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from bench.scale import PostgresDatabase
from harness.gunicorn import free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PROC = "/api/v3/proc/0/1"
SEED_PROCESSES = 500


class Gunicorn:
    def __init__(self, cwd: Path, url: str, env: dict | None = None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        environ = {**os.environ, "PROC_DATABASE_URL": url, "PROC_BIND": f"127.0.0.1:{self.port}",
                   "PROC_WORKERS": "2", "PROC_LOG_LEVEL": "WARNING", **(env or {})}  # fmt: skip
        environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=cwd,
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not become ready")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def seed(base: str) -> list[int]:
    with requests.Session() as http:
        return [
            http.post(
                f"{base}{PROC}", json={"bk_process_name": f"p{i}", "bk_func_name": "f"}
            ).json()["data"]["bk_process_id"]
            for i in range(SEED_PROCESSES)
        ]


class Subscriber:
    """A callback server: when each write's event arrived, by the write's description."""

    def __init__(self):
        self.arrived: dict[str, float] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real subscriber would

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                now = time.monotonic()
                described = (body["data"][0].get("cur_data") or {}).get("description")
                outer.arrived.setdefault(described, now)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Watcher(threading.Thread):
    def __init__(self, base: str):
        super().__init__(daemon=True)
        self.base, self.arrived, self.stopping = base, {}, threading.Event()

    def run(self):
        cursor = ""
        with requests.Session() as http:
            while not self.stopping.is_set():
                got = http.post(f"{self.base}/api/v3/event/watch/resource/process",
                                json={"bk_cursor": cursor}, timeout=60).json()["data"]  # fmt: skip
                now = time.monotonic()
                for event in got["bk_events"]:
                    if got["bk_watched"]:
                        self.arrived.setdefault((event["bk_detail"] or {}).get("description"), now)
                cursor = got["bk_events"][-1]["bk_cursor"]


def paced_writes(base: str, ids: list[int], rate: float, seconds: float) -> dict[str, float]:
    """Updates at ``rate`` per second from 16 threads: when each write's 200 came back."""
    done: dict[str, float] = {}
    start = time.monotonic()
    total = int(rate * seconds)
    lock = threading.Lock()
    counter = iter(range(total))

    def writer():
        with requests.Session() as http:
            while True:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                delay = start + n / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                key = f"w{n}"
                resp = http.put(f"{base}{PROC}/{random.choice(ids)}", json={"description": key})
                if resp.status_code == 200:
                    done[key] = time.monotonic()

    threads = [threading.Thread(target=writer) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done


def latency(url: str, seconds: float, rate: float) -> None:
    server = Gunicorn(ROOT, url, {"PROC_EVENT_ALLOW_PRIVATE_CALLBACKS": "1"})
    env = {**os.environ, "PROC_DATABASE_URL": url, "PROC_LOG_LEVEL": "WARNING",
           "PROC_EVENT_ALLOW_PRIVATE_CALLBACKS": "1"}  # fmt: skip
    dispatcher = subprocess.Popen(
        [str(BIN / "flask"), "--app", "wsgi", "events", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    subscribers = [Subscriber(), Subscriber()]
    try:
        ids = seed(server.base)
        for n, sub in enumerate(subscribers):
            body = {"subscription_name": f"s{n}", "callback_url": sub.url,
                    "subscription_form": "processupdate"}  # fmt: skip
            resp = requests.post(f"{server.base}/api/v3/event/subscribe/0/0", json=body, timeout=10)
            assert resp.json()["result"], resp.text
        watcher = Watcher(server.base)
        watcher.start()
        time.sleep(1)
        done = paced_writes(server.base, ids, rate, seconds)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(
            len(sub.arrived) >= len(done) for sub in subscribers
        ):
            time.sleep(0.2)
        watcher.stopping.set()
        print(f"\n### commit to arrival, {len(done)} writes at {rate:.0f}/s for {seconds:.0f} s\n")
        print("| to | p50 | p99 | max | missing |")
        print("|---|---:|---:|---:|---:|")
        for name, arrived in (
            ("subscription 1", subscribers[0].arrived),
            ("subscription 2", subscribers[1].arrived),
            ("watcher", watcher.arrived),
        ):
            waits = sorted(max(0.0, arrived[k] - t) * 1000 for k, t in done.items() if k in arrived)
            missing = sum(1 for k in done if k not in arrived)
            p99 = waits[int(len(waits) * 0.99) - 1] if waits else float("nan")
            print(f"| {name} | {statistics.median(waits):.0f} ms | {p99:.0f} ms |"
                  f" {waits[-1]:.0f} ms | {missing} |")  # fmt: skip
    finally:
        dispatcher.send_signal(signal.SIGTERM)
        dispatcher.wait(30)
        for sub in subscribers:
            sub.stop()
        server.stop()


def closed_loop(base: str, ids: list[int], seconds: float, clients: int = 8) -> list[float]:
    times: list[float] = []
    end = time.monotonic() + seconds

    def client(n):
        with requests.Session() as http:
            i = 0
            while time.monotonic() < end:
                t0 = time.perf_counter()
                http.put(f"{base}{PROC}/{random.choice(ids)}", json={"description": f"c{n}-{i}"})
                times.append(time.perf_counter() - t0)
                i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times


def cost(baseline: str, seconds: float) -> None:
    tree = Path(tempfile.mkdtemp(prefix="proc-baseline-"))
    subprocess.run(["git", "worktree", "add", "--detach", "-f", str(tree), baseline], cwd=ROOT,
                   check=True, capture_output=True)  # fmt: skip
    try:
        with PostgresDatabase() as now_url, PostgresDatabase() as then_url:
            servers = {"with events": Gunicorn(ROOT, now_url), "before": Gunicorn(tree, then_url)}
            try:
                ids = {name: seed(s.base) for name, s in servers.items()}
                results: dict[str, list[float]] = {name: [] for name in servers}
                counts: dict[str, int] = dict.fromkeys(servers, 0)
                for _ in range(3):  # alternating rounds: the machine's noise falls on both
                    for name, s in servers.items():
                        times = closed_loop(s.base, ids[name], seconds / 3)
                        results[name] += times
                        counts[name] += len(times)
            finally:
                for s in servers.values():
                    s.stop()
        print(f"\n### update_process, 8 clients, {seconds:.0f} s each, against {baseline}\n")
        print("| code | updates/s | p50 | ratio (req/s) |")
        print("|---|---:|---:|---:|")
        base_rate = counts["before"] / seconds
        for name in ("before", "with events"):
            rate = counts[name] / seconds
            p50 = statistics.median(results[name]) * 1000
            print(f"| {name} | {rate:.0f} | {p50:.1f} ms | {rate / base_rate:.2f} |")
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT,
                       check=False, capture_output=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--cost-seconds", type=float, default=30)
    parser.add_argument("--baseline", default="4dff45d", help="git ref of the code before events")
    args = parser.parse_args()
    print(f"bench.events: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    with PostgresDatabase() as url:
        latency(url, args.seconds, args.rate)
    cost(args.baseline, args.cost_seconds)


if __name__ == "__main__":
    main()
