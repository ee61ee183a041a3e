"""Benchmark: what gthread workers cost against the sync workers they replaced, in one run.

    .venv/bin/python -m bench.workers [--postgres] [--seconds 4] [--rounds 3] [--clients 8]

Starts gunicorn with gunicorn.conf.py twice on the same database: as configured (gthread,
PROC_WORKERS=2, PROC_THREADS=32) and with the old setting (GUNICORN_CMD_ARGS="--worker-class
sync --threads 1", 2 workers). Each is loaded in turn, alternating, for --rounds rounds of
--seconds each: one client sending requests back to back (latency), then --clients clients at
once (throughput). Requests are a 20-row search_process page (application, SQL, JSON) and
/healthz (server overhead only). Clients reuse their connection when the server allows it
(gthread keeps it alive, sync closes it after each response), as a client library would;
--no-keepalive opens a new connection per request for both, which isolates the workers' cost.
Prints medians and the gthread/sync ratios; nothing is asserted (BENCHMARKS.md has results).
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from harness.gunicorn import gunicorn

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SEARCH = ("POST", "/api/v3/proc/search/0/1", json.dumps({"page": {"limit": 20}}))
HEALTH = ("GET", "/healthz", None)
SETTINGS = {"gthread (as configured)": None, "sync (old)": "--worker-class sync --threads 1"}


def load(
    base: str, request, clients: int, seconds: float, keepalive: bool = True
) -> tuple[float, float]:
    """(requests per second, median latency in ms) of ``clients`` clients for ``seconds``."""
    host, port = base.removeprefix("http://").split(":")
    method, path, body = request
    headers = {"Content-Type": "application/json"}
    if not keepalive:
        headers["Connection"] = "close"
    latencies: list[list[float]] = [[] for _ in range(clients)]
    stop = time.monotonic() + seconds

    def client(i: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        while time.monotonic() < stop:
            start = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            latencies[i].append(time.perf_counter() - start)
            assert resp.status == 200, resp.status
            if resp.will_close:
                conn.close()  # sync workers close every connection; open the next one
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    flat = [x for per in latencies for x in per]
    return len(flat) / elapsed, statistics.median(flat) * 1000


def seed(base: str, count: int = 200) -> None:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    for i in range(count):
        body = json.dumps({"bk_process_name": f"p{i}", "bk_func_name": "f", "port": "80"})
        conn.request("POST", "/api/v3/proc/0/1", body=body)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200
        if resp.getheader("Connection", "").lower() == "close":
            conn.close()
    conn.close()


def run(url: str, args) -> None:
    results: dict[tuple[str, str, int], list[tuple[float, float]]] = {}
    for round_ in range(args.rounds):
        for name, cmd_args in SETTINGS.items():
            with gunicorn(url, cmd_args=cmd_args) as base:
                if round_ == 0 and name == next(iter(SETTINGS)):
                    seed(base)
                for req_name, request in (("search", SEARCH), ("healthz", HEALTH)):
                    for clients in (1, args.clients):
                        load(base, request, clients, 0.5, args.keepalive)  # warm up
                        key = (name, req_name, clients)
                        results.setdefault(key, []).append(
                            load(base, request, clients, args.seconds, args.keepalive)
                        )
    database = make_url(url).get_backend_name()
    print(
        f"median of {args.rounds} rounds of {args.seconds} s; database {database};"
        f" client keep-alive {'on' if args.keepalive else 'off'}"
    )
    print(f"{'request':8} {'clients':>7} {'setting':24} {'req/s':>8} {'median ms':>10} ratio")
    for req_name in ("search", "healthz"):
        for clients in (1, args.clients):
            base_rps = None
            for name in reversed(SETTINGS):  # sync first: it is the baseline
                rps = statistics.median(r for r, _ in results[(name, req_name, clients)])
                ms = statistics.median(m for _, m in results[(name, req_name, clients)])
                base_rps = base_rps or rps
                print(
                    f"{req_name:8} {clients:>7} {name:24} {rps:>8.0f} {ms:>10.2f}"
                    f" {rps / base_rps:>6.2f}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--no-keepalive",
        dest="keepalive",
        action="store_false",
        help="a new connection per request for both settings (as behind nginx without upstream"
        " keep-alive)",
    )
    args = parser.parse_args()
    if not args.postgres:
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", args)
        return
    name = f"proc_bench_{uuid.uuid4().hex[:8]}"
    admin = make_url(PG_ADMIN).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        run(make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False), args)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
