"""Small helpers the test modules share."""

from __future__ import annotations

import json
import threading
import time

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

BASE = "/api/v3/proc"
# Contract §2, copied from the contract rather than read from proc_service.attributes, so that
# the tests notice if the code's table drifts from it.
CONTRACT_ATTRIBUTES = [
    "bk_biz_id", "bk_process_name", "description", "bind_ip", "port", "protocol", "bk_func_id",
    "bk_func_name", "work_path", "user", "proc_num", "priority", "timeout", "start_cmd",
    "stop_cmd", "restart_cmd", "face_stop_cmd", "reload_cmd", "pid_file", "auto_start",
    "auto_time_gap", "bk_start_param_regex",
]  # fmt: skip
SYSTEM_FIELDS = ["bk_process_id", "bk_supplier_account", "create_time", "last_time"]
EN = {"HTTP_BLUEKING_LANGUAGE": "en"}
ZH = {"HTTP_BLUEKING_LANGUAGE": "zh"}


def proc_url(account="0", biz=1, pid=None) -> str:
    return f"{BASE}/{account}/{biz}" + (f"/{pid}" if pid is not None else "")


def search_url(account="0", biz=1) -> str:
    return f"{BASE}/search/{account}/{biz}"


def ok(resp, status=200):
    """The success envelope; returns its data."""
    body = resp.get_json()
    assert resp.status_code == status, body
    assert body["result"] is True and body["bk_error_code"] == 0, body
    return body["data"]


def err(resp, status: int, code: int, field: str | None = None) -> str:
    """The error envelope with this status and code, naming ``field``; returns the message."""
    body = resp.get_json()
    assert resp.status_code == status, body
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    assert body["result"] is False and body["bk_error_code"] == code, body
    assert body["data"] is None
    if field is not None:
        assert field in body["bk_error_msg"], body
    return body["bk_error_msg"]


def create(client, account="0", biz=1, **attrs) -> int:
    body = {"bk_process_name": "nginx", "bk_func_name": "nginx", **attrs}
    return ok(client.post(proc_url(account, biz), json=body))["bk_process_id"]


def search(client, body=None, account="0", biz=1, headers=None):
    return client.post(search_url(account, biz), json=body or {}, headers=headers)


def detail(client, pid, account="0", biz=1) -> dict:
    rows = ok(client.get(proc_url(account, biz, pid), headers=EN))
    return {row["bk_property_id"]: row["bk_property_value"] for row in rows}


def snapshot(db_url: str) -> list[tuple]:
    """Every process, set, module, binding and audit row, read straight from the database."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = []
            for table, key in SNAPSHOT_TABLES:
                found = conn.execute(text(f"SELECT * FROM {table} ORDER BY {key}")).all()
                rows.extend((table, *r) for r in found)
        return rows
    finally:
        engine.dispose()


SNAPSHOT_TABLES = (
    ("processes", "bk_process_id"),
    ("sets", "bk_set_id"),
    ("modules", "bk_module_id"),
    ("process_bindings", "bk_process_id, bk_module_name"),
    ("audit_log", "id"),
)


def audit_rows(db_url: str) -> list[dict]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT * FROM audit_log ORDER BY id")).mappings().all()
        out = [dict(r) for r in rows]
        for row in out:  # SQLite hands JSON back as text through a plain SELECT
            if isinstance(row["content"], str):
                row["content"] = json.loads(row["content"])
        return out
    finally:
        engine.dispose()


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
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            linguistic = conn.execute(text("SELECT 'a' < 'B'")).scalar()
    finally:
        engine.dispose()
    if not linguistic:
        pytest.skip("this PostgreSQL has no ICU: the database sorts by code point anyway")
