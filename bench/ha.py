"""Benchmark (issue 17): throughput of the HA stack with 1 and 2 app replicas, against today's
single-PostgreSQL stack, under the same read-heavy and write-heavy load, in one run.

    .venv/bin/python -m bench.ha [--seconds 20] [--clients 16] [--processes 1000]

Each stack is built and started under a project of its own on a free loopback port
(deploy/compose, podman; PROC_LOCAL_BASE=1 where no image registry is reachable), seeded with
--processes processes, loaded through nginx, then removed with its volumes:

- single:  compose.yaml: one PostgreSQL, one app, nginx (the baseline);
- ha-1:    compose.ha.yaml with PROC_APP_REPLICAS=1: Patroni (three nodes, remote_apply),
           haproxy, one app, nginx;
- ha-2:    the same with two app replicas.

Loads (new connection per request, as the smoke test's clients): read-heavy is 90 % reads
(detail, 20-row search) and 10 % updates; write-heavy is 70 % writes (creates, updates) and
30 % reads. Prints requests per second, p50 and p99, and each figure's ratio to single.
On one 2-core machine every container shares the same two cores with the load generator:
the replicas cannot add cores here, only show what the HA path costs.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import threading
import time
from pathlib import Path

from harness.gunicorn import free_port

ROOT = Path(__file__).resolve().parent.parent
PROC = "/api/v3/proc/0/1"
SEARCH = "/api/v3/proc/search/0/1"
STACKS = {
    "single": ("compose.yaml", {}),
    "ha-1": ("compose.ha.yaml", {"PROC_APP_REPLICAS": "1"}),
    "ha-2": ("compose.ha.yaml", {"PROC_APP_REPLICAS": "2"}),
}
LOADS = {"read-heavy": 0.9, "write-heavy": 0.3}  # the share of reads


def compose(file: str, project: str, env: dict, *args: str) -> None:
    subprocess.run(
        [str(ROOT / "deploy" / "compose"), "-f", file, "-p", project, *args],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def request(port: int, method: str, path: str, body=None) -> tuple[int, dict | None]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            method,
            path,
            body=None if body is None else json.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        resp = conn.getresponse()
        raw = resp.read()
        return resp.status, json.loads(raw) if raw.startswith(b"{") else None
    finally:
        conn.close()


def wait_ready(port: int, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if request(port, "GET", "/readyz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(1)
    raise RuntimeError(f"stack on port {port} not ready within {seconds:.0f} s")


def seed(port: int, count: int) -> list[int]:
    ids = []
    for n in range(count):
        body = {"bk_process_name": f"seed-{n:06d}", "bk_func_name": "seed", "port": "80"}
        status, out = request(port, "POST", PROC, body)
        assert status == 200, out
        ids.append(out["data"]["bk_process_id"])
    return ids


def run_load(port: int, ids: list[int], reads: float, clients: int, seconds: float) -> dict:
    stop = time.monotonic() + seconds
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures = [0] * clients

    def client(n: int) -> None:
        rng = random.Random(n)
        seq = 0
        while time.monotonic() < stop:
            seq += 1
            r = rng.random()
            if r < reads / 2:
                call = ("GET", f"{PROC}/{rng.choice(ids)}", None)
            elif r < reads:
                body = {
                    "condition": {"bk_func_name": "seed"},
                    "page": {"start": rng.randint(0, 900), "limit": 20},
                }
                call = ("POST", SEARCH, body)
            elif r < reads + (1 - reads) / 2:
                call = ("PUT", f"{PROC}/{rng.choice(ids)}", {"port": str(rng.randint(1, 65535))})
            else:
                body = {
                    "bk_process_name": f"load-{n}-{seq}-{time.monotonic_ns()}",
                    "bk_func_name": "load",
                }
                call = ("POST", PROC, body)
            start = time.perf_counter()
            try:
                status, _ = request(port, *call)
            except OSError:
                status = 0
            latencies[n].append(time.perf_counter() - start)
            if status != 200:
                failures[n] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = sorted(x for per in latencies for x in per)
    return {
        "rps": len(every) / seconds,
        "p50": statistics.median(every) * 1000,
        "p99": every[int(len(every) * 0.99) - 1] * 1000,
        "failed": sum(failures),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--processes", type=int, default=1000)
    parser.add_argument("--stacks", default=",".join(STACKS))
    args = parser.parse_args()
    os.environ.setdefault("PROC_LOCAL_BASE", "1")
    results: dict[str, dict[str, dict]] = {}
    for name in args.stacks.split(","):
        file, env = STACKS[name]
        project, port = f"proc-bench-{name}-{os.getpid()}", free_port()
        env = {**env, "PROC_HTTP_PORT": str(port)}
        print(f"bench.ha: {name}: building and starting ({file})", flush=True)
        compose(file, project, env, "up", "-d", "--build")
        try:
            wait_ready(port)
            ids = seed(port, args.processes)
            results[name] = {}
            for load, reads in LOADS.items():
                results[name][load] = run_load(port, ids, reads, args.clients, args.seconds)
                r = results[name][load]
                print(
                    f"bench.ha: {name} {load}: {r['rps']:.0f} req/s, p50 {r['p50']:.1f} ms,"
                    f" p99 {r['p99']:.1f} ms, failed {r['failed']}",
                    flush=True,
                )
        finally:
            compose(file, project, env, "down", "-v", "-t", "5")
    base = results.get("single")
    print("\n| stack | load | req/s | ratio to single | p50 ms | p99 ms | failed |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, loads in results.items():
        for load, r in loads.items():
            ratio = f"{r['rps'] / base[load]['rps']:.2f}" if base else "-"
            print(
                f"| {name} | {load} | {r['rps']:.0f} | {ratio} | {r['p50']:.1f} | "
                f"{r['p99']:.1f} | {r['failed']} |"
            )


if __name__ == "__main__":
    main()
