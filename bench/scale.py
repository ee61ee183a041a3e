"""Scale benchmark of issue 7: a million processes, and the cost per request.

    python -m bench.scale load DATABASE_URL [--processes 1000000] [--no-analyze]
    python -m bench.scale run [--processes 1000000] [--backends postgresql,sqlite]
                              [--cost-processes 10000] [--seconds 3] [--rounds 9]
                              [--baseline-tree PATH]

``load`` builds the data set (bench/loader.py) in a migrated, empty database. ``run`` makes
its own databases (PostgreSQL through PROC_BENCH_POSTGRES_URL, default the local server's
``test`` database, used only to create and drop one of its own; SQLite in a temp directory),
and for each backend:

1. loads ``--processes`` processes, serves them with gunicorn (gunicorn.conf.py, 2 workers),
   and sends each request of the table ``--rounds`` times in a 1k business (business 2) and
   then in the big one (business 1): p50 side by side, and their ratio;
2. on SQLite, loads ``--cost-processes`` processes and measures requests per second of each
   scenario against a bare Flask app (bench/bare.py) under the same gunicorn settings, the two
   measured alternately in the same minutes, a new connection for every request.

It prints Markdown tables and each gunicorn worker's peak RSS. Nothing is asserted: timings
move with the machine and its load, ratios much less (BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from bench import loader
from harness.gunicorn import free_port

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get(
    "PROC_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BIG, SMALL = 1, 2
API = "/api/v3/proc"


# --- servers ---------------------------------------------------------------------------------


class Server:
    """gunicorn with the project's gunicorn.conf.py serving ``app`` ("wsgi:app", or the bare
    baseline), until stop()."""

    def __init__(
        self,
        app: str,
        database_url: str | None = None,
        env: dict | None = None,
        root: Path = ROOT,
    ):
        self.port = free_port()
        environ = {
            **os.environ,
            "PROC_BIND": f"127.0.0.1:{self.port}",
            "PROC_WORKERS": "2",
            **(env or {}),
        }
        if database_url:
            environ["PROC_DATABASE_URL"] = database_url
        else:
            environ["PROC_MIGRATE_ON_START"] = "0"
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        self.proc = subprocess.Popen(
            [gunicorn, "-c", "gunicorn.conf.py", app],
            cwd=root,
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if request("GET", "/healthz", port=self.port)[0] in (200, 404):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn for {app} did not start")

    def workers(self) -> list[int]:
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(p) for p in path.read_text().split()]

    def peak_rss_mb(self) -> list[float]:
        """Each worker's peak resident set (VmHWM), in MB."""
        peaks = []
        for pid in self.workers():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return peaks

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def request(method: str, path: str, body: object = None, port: int = 8000) -> tuple[int, bytes]:
    """One request on a new connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "BK_User": "bench"}
        conn.request(method, path, body=payload, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


# --- the table of the issue ------------------------------------------------------------------


def _members(biz: int, processes: int) -> list[int]:
    """Ids of the processes of ``biz`` in the data set (bench/loader.py)."""
    big = processes * 9 // 10
    if biz == BIG:
        return list(range(1, big + 1))
    return [n for n in range(big + 1, processes + 1) if 2 + n % loader.BUSINESSES == biz]


def table_requests(biz: int, processes: int) -> dict[str, Callable[[int], tuple]]:
    """name → (round → (method, path, body)) for the requests of the issue's table."""
    ids = _members(biz, processes)
    one = ids[len(ids) // 2]
    search = f"{API}/search/0/{biz}"

    def page(**extra):
        return {"page": {"start": 0, "limit": 10, **extra}}

    def cond(condition, **extra):
        return {**page(**extra), "condition": condition}

    return {
        "get_process_detail": lambda i: ("GET", f"{API}/0/{biz}/{one}", None),
        "search, page {start 0, limit 10} (default order)": lambda i: ("POST", search, page()),
        "search, limit 200": lambda i: ("POST", search, page(limit=200)),
        "search, start 800, limit 10": lambda i: ("POST", search, page(start=800)),
        "search, sort -priority": lambda i: ("POST", search, page(sort="-priority")),
        "search, sort bk_process_name": lambda i: ("POST", search, page(sort="bk_process_name")),
        "search, bk_func_name equal to one value": lambda i: (
            "POST",
            search,
            cond({"bk_func_name": "func100"}),
        ),
        "search, bk_process_id $in 50 ids": lambda i: (
            "POST",
            search,
            cond({"bk_process_id": {"$in": ids[100:150]}}),
        ),
        "search, bk_module_name m1": lambda i: ("POST", search, cond({"bk_module_name": "m1"})),
        "search, bk_process_name plain value (substring)": lambda i: (
            "POST",
            search,
            cond({"bk_process_name": "-4242"}),
        ),
        "search, bk_process_name $regex": lambda i: (
            "POST",
            search,
            cond({"bk_process_name": {"$regex": "^proc-4242[0-9]-"}}),
        ),
        # Issue 18: no literal prefix; every match holds "4242" (SQLite's trigram index)
        "search, bk_process_name $regex, unanchored": lambda i: (
            "POST",
            search,
            cond({"bk_process_name": {"$regex": "4242[0-9]-"}}),
        ),
        "search, priority $gt 50, sorted by name": lambda i: (
            "POST",
            search,
            cond({"priority": {"$gt": 50}}, sort="bk_process_name"),
        ),
        # Issue 15: the two custom attributes loader.load(custom=True) gives every process
        "search, custom owner equal to one value": lambda i: (
            "POST",
            search,
            cond({"owner": "team42"}),
        ),
        "search, custom weight $in 3 values": lambda i: (
            "POST",
            search,
            cond({"weight": {"$in": [1, 2, 3]}}),
        ),
        "get_process_bind_module": lambda i: ("GET", f"{API}/module/0/{biz}/{one}", None),
        "update_process": lambda i: ("PUT", f"{API}/0/{biz}/{one}", {"description": f"u{i}"}),
        "batch_update_process, 1000 ids": lambda i: (
            "PUT",
            f"{API}/0/{biz}",
            {"bk_process_id": ",".join(map(str, ids[:1000])), "description": f"b{i}"},
        ),
        # Memory (issue 7, §5): the largest page a search answers, every field.
        "search, limit 200, every field": lambda i: ("POST", search, {"page": {"limit": 200}}),
    }


def p50(port: int, make: Callable[[int], tuple], rounds: int) -> float | str:
    """The median in ms, or the answer's status and error code when it is not a success
    (SQLite stops a $regex over 900,000 names at PROC_REGEX_TIMEOUT_MS: 400 / 1199006)."""
    times = []
    for i in range(rounds + 1):
        method, path, body = make(i)
        started = time.perf_counter()
        status, payload = request(method, path, body, port=port)
        elapsed = time.perf_counter() - started
        if status != 200:
            code = json.loads(payload).get("bk_error_code") if payload else None
            return f"{status} / {code} after {elapsed * 1000:.0f} ms"
        if i:  # the first one warms the worker's caches
            times.append(elapsed)
    return statistics.median(times) * 1000


def _cell(value: float | str) -> str:
    return f"{value:.1f} ms" if isinstance(value, float) else str(value)


def _ratio(a: float | str, b: float | str) -> str:
    return f"{b / a:.1f}" if isinstance(a, float) and isinstance(b, float) else "–"


def scale_table(url: str, processes: int, rounds: int) -> None:
    backend = make_url(url).get_backend_name()
    loader.load(url, processes, custom=True)
    server = Server("wsgi:app", url)
    try:
        small, big = table_requests(SMALL, processes), table_requests(BIG, processes)
        rows = []
        for name in small:
            a, b = p50(server.port, small[name], rounds), p50(server.port, big[name], rounds)
            rows.append((name, a, b))
        rss = server.peak_rss_mb()
    finally:
        server.stop()
    print(f"\n### {backend}, {processes:,} processes: p50 of {rounds} requests\n")
    print(f"| request | {processes // 1000}k data set, 1k business | big business | ratio |")
    print("|---|---:|---:|---:|")
    for name, a, b in rows:
        print(f"| {name} | {_cell(a)} | {_cell(b)} | {_ratio(a, b)} |")
    print(f"\nworker peak RSS: {', '.join(f'{m:.0f} MB' for m in rss)}")


# --- cost per request against bare Flask ------------------------------------------------------


def _hammer(port: int, make: Callable[[int], tuple], seconds: float, seed: int, out) -> None:
    done, i = 0, seed * 10_000_000
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        method, path, body = make(i)
        status, payload = request(method, path, body, port=port)
        if status != 200:
            out.put(RuntimeError(f"{method} {path}: {status} {payload[:300]!r}"))
            return
        done += 1
        i += 1
    out.put(done)


# Issue 18: the cost table's load, as the harness sends it: 8 clients, each opening a new
# connection for every request.
COST_CLIENTS = 8


def throughput(port: int, make: Callable[[int], tuple], seconds: float, clients: int = 2) -> float:
    """Requests per second from ``clients`` processes, each sending one request at a time."""
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_hammer, args=(port, make, seconds, k, out)) for k in range(clients)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join()
    for r in results:
        if isinstance(r, Exception):
            raise r
    return sum(results) / seconds


def cost_requests(processes: int) -> dict[str, Callable[[int], tuple]]:
    ids = _members(BIG, processes)
    search = f"{API}/search/0/{BIG}"
    page = {"start": 0, "limit": 10}
    run = uuid.uuid4().hex[:6]
    return {
        "detail": lambda i: ("GET", f"{API}/0/{BIG}/{ids[i % len(ids)]}", None),
        "search, name substring": lambda i: (
            "POST",
            search,
            {"page": page, "condition": {"bk_process_name": f"proc-{i % 9000 + 1}-"}},
        ),
        "search by module name": lambda i: (
            "POST",
            search,
            {"page": page, "condition": {"bk_module_name": f"m{i % 4}"}},
        ),
        "search sorted by priority": lambda i: (
            "POST",
            search,
            {"page": {**page, "sort": "-priority"}},
        ),
        "binding list": lambda i: ("GET", f"{API}/module/0/{BIG}/{ids[i % len(ids)]}", None),
        "create": lambda i: (
            "POST",
            f"{API}/0/{BIG}",
            {"bk_process_name": f"bench-{run}-{i}", "bk_func_name": "bench"},
        ),
        "update": lambda i: (
            "PUT",
            f"{API}/0/{BIG}/{ids[i % len(ids)]}",
            {"description": f"d{i}"},
        ),
    }


# Variants of the project measured in the same run (issue 7: measure each lever): the
# defaults, and each setting that trades something for speed put back.
ROUNDS = 5
VARIANTS = {
    "project": {},
    "synchronous FULL": {"PROC_SQLITE_SYNCHRONOUS": "FULL"},
    "no request log": {"PROC_LOG_LEVEL": "WARNING"},
}
# Issue 15: the project on a copy of the data whose account has the two custom attributes of
# loader.load(custom=True), with values on every process: what a model of one's own costs.
CUSTOM_VARIANT = "2 custom attributes"


def cost_table(url: str, processes: int, seconds: float, baseline: Path | None = None) -> None:
    """``baseline``: a checkout of an earlier commit (git worktree add), served beside the
    project in the same rounds, on the same data (its migrations are not run)."""
    loader.load(url, processes)
    custom_url = url.replace(".sqlite3", "-custom.sqlite3")
    loader.load(custom_url, processes, custom=True)
    bare = Server("bench.bare:app")
    servers = {}
    if baseline is not None:
        before = {"PROC_MIGRATE_ON_START": "0", "PYTHONPATH": str(baseline)}
        servers[f"before ({baseline.name})"] = Server("wsgi:app", url, before, root=baseline)
    servers |= {name: Server("wsgi:app", url, env) for name, env in VARIANTS.items()}
    servers[CUSTOM_VARIANT] = Server("wsgi:app", custom_url)
    try:
        rows = []
        for scenario in cost_requests(processes):
            # Short rounds, the baseline and each variant in turn, so that the machine's other
            # load falls on all of them alike; each ratio is to the baseline of its round.
            bases, ratios = [], {name: [] for name in servers}
            rates: dict[str, list[float]] = {name: [] for name in servers}
            for _ in range(ROUNDS):
                make = cost_requests(processes)[scenario]
                base = throughput(bare.port, make, seconds / ROUNDS, COST_CLIENTS)
                bases.append(base)
                for name, server in servers.items():
                    make = cost_requests(processes)[scenario]
                    rate = throughput(server.port, make, seconds / ROUNDS, COST_CLIENTS)
                    rates[name].append(rate)
                    ratios[name].append(rate / base)
            rows.append(
                (
                    scenario,
                    statistics.median(bases),
                    {n: (statistics.median(rates[n]), statistics.median(ratios[n])) for n in rates},
                )
            )
        rss = {name: server.peak_rss_mb() for name, server in servers.items()}
    finally:
        for server in (*servers.values(), bare):
            server.stop()
    backend = make_url(url).get_backend_name()
    print(f"\n### cost per request, {backend}, {processes:,} processes ({seconds:g} s each)\n")
    print(
        f"Requests per second (median of {ROUNDS} rounds), and in brackets the median ratio to"
        " bare Flask measured in the same round.\n"
    )
    print("| scenario | bare Flask | " + " | ".join(servers) + " |")
    print("|---|---:|" + "---:|" * len(servers))
    for scenario, base, rates in rows:
        cells = " | ".join(f"{rates[n][0]:.0f} ({rates[n][1]:.2f})" for n in servers)
        print(f"| {scenario} | {base:.0f} | {cells} |")
    for name, peaks in rss.items():
        print(f"\n{name}: worker peak RSS {', '.join(f'{m:.0f} MB' for m in peaks)}")


# --- databases ---------------------------------------------------------------------------------


class PostgresDatabase:
    def __enter__(self) -> str:
        self.name = f"proc_scale_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(loader.libpq(PG_ADMIN), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        return make_url(PG_ADMIN).set(database=self.name).render_as_string(False)

    def __exit__(self, *exc) -> None:
        with psycopg.connect(loader.libpq(PG_ADMIN), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def run(args) -> None:
    backends = args.backends.split(",")
    machine = f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"
    print(f"# bench.scale on {machine}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    if "postgresql" in backends:
        with PostgresDatabase() as url:
            scale_table(url, args.processes, args.rounds)
    with tempfile.TemporaryDirectory() as tmp:
        if "sqlite" in backends:
            scale_table(f"sqlite:///{Path(tmp) / 'scale.sqlite3'}", args.processes, args.rounds)
        if args.cost_processes:
            url = f"sqlite:///{Path(tmp) / 'cost.sqlite3'}"
            baseline = Path(args.baseline_tree).resolve() if args.baseline_tree else None
            cost_table(url, args.cost_processes, args.seconds, baseline)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    load = commands.add_parser("load", help="build the data set in DATABASE_URL")
    load.add_argument("url", metavar="DATABASE_URL")
    load.add_argument("--processes", type=int, default=1_000_000)
    load.add_argument("--no-analyze", action="store_true", help="leave statistics unset")
    bench = commands.add_parser("run", help="measure the tables (own databases)")
    bench.add_argument("--processes", type=int, default=1_000_000)
    bench.add_argument("--backends", default="postgresql,sqlite")
    bench.add_argument("--rounds", type=int, default=9)
    bench.add_argument("--cost-processes", type=int, default=10_000, help="0: skip")
    bench.add_argument("--seconds", type=float, default=5, help="per scenario and server")
    bench.add_argument(
        "--baseline-tree", help="a checkout of an earlier commit, in the cost table beside it"
    )
    args = parser.parse_args()
    if args.command == "load":
        loader.load(args.url, args.processes, analyze=not args.no_analyze)
    else:
        run(args)


if __name__ == "__main__":
    main()
