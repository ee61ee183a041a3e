"""Benchmark: bindings and module-name search, as ratios against a plain search in the same run.

    .venv/bin/python -m bench.topology [--processes 5000] [--names 50] [--rounds 30] [--postgres]

Seeds one business with ``--processes`` processes, ``--names`` module names (two sets, so every
name has two modules) and two bindings per process, then times each scenario through the Flask
test client (the whole request path: routing, validation, SQL, serialisation). Each figure is
the median of ``--rounds`` requests; the ratio is against ``search, no condition`` (a 200-row
page) measured in the same run, so machines and loads compare. Nothing is asserted: see
BENCHMARKS.md for what was measured and when.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from proc_service import create_app
from proc_service.data import db
from proc_service.data.migrate import upgrade
from proc_service.data.models import Module, Process, ProcessBinding, Set

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BIZ = 1


def seed(url: str, processes: int, names: int) -> None:
    now = datetime.now(UTC)
    engine = db.make_engine(url)
    common = {"bk_supplier_account": "0", "bk_biz_id": BIZ, "create_time": now, "last_time": now}
    with engine.begin() as conn:
        conn.execute(
            insert(Set),
            [{**common, "bk_set_name": f"set{i}", "bk_set_desc": "", "description": "",
              "default": 0} for i in (1, 2)],
        )  # fmt: skip
        conn.execute(
            insert(Module),
            [{**common, "bk_set_id": s, "bk_module_name": f"module{n}", "operator": "",
              "bk_bak_operator": "", "default": 0} for s in (1, 2) for n in range(names)],
        )  # fmt: skip
        empty = {c.name: "" for c in Process.__table__.columns if str(c.type).startswith("VARCHAR")}
        conn.execute(
            insert(Process),
            [{**empty, **common, "bk_process_name": f"p{i}", "bk_func_name": f"f{i}",
              "protocol": "1", "auto_start": False} for i in range(processes)],
        )  # fmt: skip
        conn.execute(
            insert(ProcessBinding),
            [{"bk_process_id": pid, "bk_module_name": f"module{(pid + k) % names}",
              "create_time": now, "bk_supplier_account": "0", "bk_biz_id": BIZ}
             for pid in range(1, processes + 1) for k in (0, 7)],
        )  # fmt: skip
    if engine.dialect.name == "postgresql":
        # What autovacuum would soon do in production; a fresh bulk load has no statistics.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def median_ms(call, rounds: int) -> float:
    call()  # warm caches and the statement cache
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        resp = call()
        times.append(time.perf_counter() - start)
        assert resp.status_code == 200, resp.get_json()
    return statistics.median(times) * 1000


def run(url: str, args) -> None:
    seed(url, args.processes, args.names)
    app = create_app({"DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
    client = app.test_client()
    search = f"/api/v3/proc/search/0/{BIZ}"
    fields = ["bk_process_id", "bk_process_name"]
    in_names = [f"module{n}" for n in range(10)]
    scenarios = {
        "search, no condition": lambda: client.post(search, json={"fields": fields}),
        "search by bk_module_name": lambda: client.post(
            search, json={"condition": {"bk_module_name": "module3"}, "fields": fields}
        ),
        "search by bk_module_name $in (10)": lambda: client.post(
            search, json={"condition": {"bk_module_name": {"$in": in_names}}, "fields": fields}
        ),
        "get_process_bind_module": lambda: client.get(f"/api/v3/proc/module/0/{BIZ}/42"),
        "bind + unbind": lambda: (
            client.put(f"/api/v3/proc/module/0/{BIZ}/42/module20"),
            client.delete(f"/api/v3/proc/module/0/{BIZ}/42/module20"),
        )[1],
        "audit search (newest 20)": lambda: client.post("/api/v3/audit/search", json={}),
    }
    results = {name: median_ms(call, args.rounds) for name, call in scenarios.items()}
    base = results["search, no condition"]
    backend = make_url(url).get_backend_name()
    print(f"\n{backend}: {args.processes} processes, {args.names} module names, "
          f"{2 * args.processes} bindings, median of {args.rounds}")  # fmt: skip
    for name, ms in results.items():
        print(f"  {name:<36} {ms:8.2f} ms   x{ms / base:5.2f}")
    app.extensions["db_engine"].dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=5000)
    parser.add_argument("--names", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--postgres", action="store_true", help="also on local PostgreSQL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        upgrade(url)
        run(url, args)
    if args.postgres:
        name = f"proc_bench_{uuid.uuid4().hex[:8]}"
        admin = make_url(PG_ADMIN).set(drivername="postgresql").render_as_string(False)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            url = make_url(PG_ADMIN).set(database=name).render_as_string(False)
            upgrade(url)
            run(url, args)
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
