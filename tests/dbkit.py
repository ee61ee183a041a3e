"""The test kit's side of the database: reading it directly (what the API would not show),
racing requests, and PostgreSQL's own facilities. kit.py holds the HTTP side."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

from proc_service.data.models import Process, ProcessBinding

# --- reading the database directly ----------------------------------------------------------

SNAPSHOT_TABLES = (
    ("processes", "bk_process_id"),
    ("sets", "bk_set_id"),
    ("modules", "bk_module_id"),
    ("process_bindings", "bk_process_id, bk_module_name"),
    ("audit_log", "id"),
)


@contextlib.contextmanager
def _connect(db_url: str):
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def snapshot(db_url: str) -> list[tuple]:
    """Every process, set, module, binding and audit row, read straight from the database."""
    with _connect(db_url) as conn:
        rows = []
        for table, key in SNAPSHOT_TABLES:
            found = conn.execute(text(f"SELECT * FROM {table} ORDER BY {key}")).all()
            rows.extend((table, *r) for r in found)
        return rows


def audit_rows(db_url: str) -> list[dict]:
    """Every audit row, oldest first, with its content as JSON."""
    with _connect(db_url) as conn:
        rows = conn.execute(text("SELECT * FROM audit_log ORDER BY id")).mappings().all()
    out = [dict(r) for r in rows]
    for row in out:  # SQLite hands JSON back as text through a plain SELECT
        if isinstance(row["content"], str):
            row["content"] = json.loads(row["content"])
    return out


def event_rows(db_url: str) -> list[dict]:
    """Every row of events as stored, oldest first: ``data`` is the row's own (null for an
    instance event, which names its audit row in ``audit_id``), as JSON."""
    with _connect(db_url) as conn:
        rows = conn.execute(text("SELECT * FROM events ORDER BY id")).mappings().all()
    out = [dict(r) for r in rows]
    for row in out:
        if isinstance(row["data"], str):
            row["data"] = json.loads(row["data"])
    return out


def binding_rows(db_url: str) -> list[tuple[int, str]]:
    """Every row of process_bindings as (bk_process_id, bk_module_name), sorted."""
    with _connect(db_url) as conn:
        rows = conn.execute(text("SELECT bk_process_id, bk_module_name FROM process_bindings"))
        return sorted((r[0], r[1]) for r in rows.all())


def insert_bindings(db_url: str, pairs) -> None:
    """(bk_process_id, bk_module_name) rows written straight into process_bindings, for tests
    of what reads them without going through the bind endpoint; each carries its process's
    account and business, as the bind endpoint writes them."""
    now = datetime.now(UTC)
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            columns = (Process.bk_process_id, Process.bk_supplier_account, Process.bk_biz_id)
            scope = {pid: (account, biz) for pid, account, biz in conn.execute(select(*columns))}
            rows = [
                {
                    "bk_process_id": p,
                    "bk_module_name": m,
                    "create_time": now,
                    "bk_supplier_account": scope[p][0],
                    "bk_biz_id": scope[p][1],
                }
                for p, m in pairs
            ]
            conn.execute(insert(ProcessBinding), rows)
    finally:
        engine.dispose()


def set_names_in_db(db_url: str) -> list[str]:
    with _connect(db_url) as conn:
        return list(conn.execute(text("SELECT bk_set_name FROM sets")).scalars())


# --- concurrency and PostgreSQL -------------------------------------------------------------


def race(app, calls) -> list[tuple[int, dict]]:
    """Run each call on its own test client in its own thread, released together; returns
    the responses' (status, body)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        client = app.test_client()
        barrier.wait(timeout=10)
        try:
            resp = call(client)
            results[i] = (resp.status_code, resp.get_json())
        except Exception as exc:  # reported below, never swallowed
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a concurrent request hung"
    for result in results:
        assert not isinstance(result, Exception), result
    return results


def libpq(db_url: str) -> str:
    """A PostgreSQL SQLAlchemy URL as psycopg takes it."""
    return make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)


def wait_until_a_session_waits_for_a_lock(db_url: str, seconds: float = 10) -> None:
    """PostgreSQL: poll until some session of this database waits on a lock (or time runs
    out), so that a test knows its request is blocked where it meant it to be."""
    with psycopg.connect(libpq(db_url), autocommit=True) as watcher:
        deadline = time.monotonic() + seconds
        while (
            time.monotonic() < deadline
            and not watcher.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            ).fetchone()[0]
        ):
            time.sleep(0.02)


def skip_unless_linguistic(db_url: str, backend: str) -> None:
    """Skip a code-point-order test on a PostgreSQL without ICU, which sorts by code point
    anyway and so could not show the difference."""
    if backend != "postgresql":
        return
    with _connect(db_url) as conn:
        linguistic = conn.execute(text("SELECT 'a' < 'B'")).scalar()
    if not linguistic:
        pytest.skip("this PostgreSQL has no ICU: the database sorts by code point anyway")
