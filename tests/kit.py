"""The test kit: one source for the URLs, bodies, creators, readers and the gunicorn launcher.

``Api`` wraps a test client the way flaskr's ``AuthActions`` does; the ``api`` fixture
(conftest.py) hands one to a test. The module-level functions are the same steps for code that
holds a bare client (they are what ``Api`` calls), so each step exists once.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import threading
import time
from datetime import UTC, datetime
from urllib.parse import quote

import psycopg
import pytest
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

from harness.gunicorn import gunicorn
from proc_service.models import Process, ProcessBinding

# --- request headers and recurring values ---------------------------------------------------

EN = {"HTTP_BLUEKING_LANGUAGE": "en"}
ZH = {"HTTP_BLUEKING_LANGUAGE": "zh"}
ACCOUNT_HEADER = "HTTP_BLUEKING_SUPPLIER_ID"
JSON_CT = "application/json; charset=utf-8"
# A create_time / last_time / op_time as the API shows it: UTC, microseconds, explicit offset.
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00")

# docs/api.md §2, copied from the contract rather than read from proc_service.attributes, so that
# the tests notice if the code's table drifts from it.
CONTRACT_ATTRIBUTES = [
    "bk_biz_id", "bk_process_name", "description", "bind_ip", "port", "protocol", "bk_func_id",
    "bk_func_name", "work_path", "user", "proc_num", "priority", "timeout", "start_cmd",
    "stop_cmd", "restart_cmd", "face_stop_cmd", "reload_cmd", "pid_file", "auto_start",
    "auto_time_gap", "bk_start_param_regex",
]  # fmt: skip
SYSTEM_FIELDS = ["bk_process_id", "bk_supplier_account", "create_time", "last_time"]

# --- full request bodies --------------------------------------------------------------------

REQUIRED = {"bk_process_name": "nginx", "bk_func_name": "nginx"}
# A process body that sets every writable attribute to a valid, non-default value.
FULL = {
    "bk_process_name": "nginx",
    "description": "web server",
    "bind_ip": "2",
    "port": "80,443",
    "protocol": "2",
    "bk_func_id": "f-1",
    "bk_func_name": "nginx",
    "work_path": "/data/nginx",
    "user": "www",
    "proc_num": 2,
    "priority": 3,
    "timeout": 30,
    "start_cmd": "./start.sh",
    "stop_cmd": "./stop.sh",
    "restart_cmd": "./restart.sh",
    "face_stop_cmd": "kill -9",
    "reload_cmd": "./reload.sh",
    "pid_file": "/var/run/nginx.pid",
    "auto_start": True,
    "auto_time_gap": 60,
    "bk_start_param_regex": "nginx: master",
}
# FULL as a loose client sends it (enum and port as JSON integers, an int as text) ...
FULL_LOOSE = {**FULL, "bind_ip": 3, "port": 80, "priority": "7"}
# ... and as it is then stored and shown (§2 normalisation).
FULL_LOOSE_STORED = {**FULL, "bind_ip": "3", "port": "80", "priority": 7}
SET_FULL = {
    "bk_set_name": "web-cluster",
    "bk_set_desc": "front",
    "bk_set_env": "1",
    "bk_service_status": "2",
    "bk_capacity": 500,
    "description": "the web tier",
    "default": 1,
}
MODULE_FULL = {
    "bk_module_name": "mysql",
    "bk_module_type": "2",
    "operator": "alice",
    "bk_bak_operator": "bob",
    "default": 2,
}

# The seed API document's own request examples (proc_config_api.txt).
SEED_CREATE = {
    "bk_process_name": "nginx",
    "port": 80,
    "bind_ip": "1",
    "protocol": "1",
    "bk_func_name": "nginx",
    "work_path": "/data/cc/running",
    "user": "cc",
}
SEED_SEARCH = {
    "page": {"start": 0, "limit": 10, "sort": "bk_process_name"},
    "fields": ["bk_process_id", "bk_process_name"],
    "condition": {"bk_biz_id": "12233", "bk_process_name": "nginx"},
}

# --- URLs -----------------------------------------------------------------------------------

BASE = "/api/v3/proc"
AUDIT_URL = "/api/v3/audit/search"


def proc_url(account="0", biz=1, pid=None) -> str:
    """create (POST), batch update (PUT), and with ``pid``: detail, update, delete."""
    return f"{BASE}/{account}/{biz}" + (f"/{pid}" if pid is not None else "")


def search_url(account="0", biz=1) -> str:
    return f"{BASE}/search/{account}/{biz}"


def binding_url(pid, name=None, account="0", biz=1, raw=False) -> str:
    """The bindings of a process; with ``name`` one binding, percent-encoded entirely (so "/"
    travels as %2F) unless ``raw``."""
    url = f"{BASE}/module/{account}/{biz}/{pid}"
    if name is None:
        return url
    return f"{url}/{name if raw else quote(name, safe='')}"


def set_url(biz=1, set_id=None) -> str:
    return f"/api/v3/set/{biz}" + (f"/{set_id}" if set_id is not None else "")


def set_search_url(account="0", biz=1) -> str:
    return f"/api/v3/set/search/{account}/{biz}"


def module_url(biz, set_id, module_id=None) -> str:
    return f"/api/v3/module/{biz}/{set_id}" + (f"/{module_id}" if module_id is not None else "")


def module_search_url(account, biz, set_id) -> str:
    return f"/api/v3/module/search/{account}/{biz}/{set_id}"


# --- envelopes ------------------------------------------------------------------------------


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
    assert resp.headers["Content-Type"] == JSON_CT
    assert body["result"] is False and body["bk_error_code"] == code, body
    assert body["data"] is None
    if field is not None:
        assert field in body["bk_error_msg"], body
    return body["bk_error_msg"]


def refused(case, resp, status: int, code: int, field: str | None = None) -> str:
    """err(), saying which case of a table failed."""
    try:
        return err(resp, status, code, field)
    except AssertionError as exc:
        raise AssertionError(f"case {case!r}: {exc}") from None


LEAKS = ("Traceback", "SELECT", "sqlalchemy")


def refused_cleanly(resp, status: int, code: int, field: str | None = None) -> str:
    """err() plus: no internals leak into the body, and a request id is present."""
    body = resp.get_data(as_text=True)
    for leak in LEAKS:
        assert leak.lower() not in body.lower(), body
    assert resp.headers.get("X-Request-Id")
    return err(resp, status, code, field)


# --- steps ----------------------------------------------------------------------------------

_names = itertools.count()


def fresh(prefix="n") -> str:
    """A name no other object of the test uses."""
    return f"{prefix}{next(_names)}"


def headers_for(account: str | None = None, headers: dict | None = None) -> dict:
    sent = dict(headers or {})
    if account is not None:
        sent[ACCOUNT_HEADER] = account
    return sent


def create(client, account="0", biz=1, **attrs) -> int:
    """A process (nginx unless said otherwise); returns its id."""
    body = {"bk_process_name": "nginx", "bk_func_name": "nginx", **attrs}
    return ok(client.post(proc_url(account, biz), json=body))["bk_process_id"]


def new_set(client, name=None, *, biz=1, account=None, headers=None, **fields) -> dict:
    """A set (a fresh name unless given); returns it as create_set shows it."""
    body = {"bk_set_name": fresh("set") if name is None else name, **fields}
    return ok(client.post(set_url(biz), json=body, headers=headers_for(account, headers)))


def new_module(client, set_id, name=None, *, biz=1, account=None, headers=None, **fields) -> dict:
    """A module of ``set_id`` (a fresh name unless given); returns it as create_module shows it."""
    body = {"bk_module_name": fresh("mod") if name is None else name, **fields}
    url = module_url(biz, set_id)
    return ok(client.post(url, json=body, headers=headers_for(account, headers)))


def search(client, body=None, account="0", biz=1, headers=None):
    return client.post(search_url(account, biz), json=body or {}, headers=headers)


def detail(client, pid, account="0", biz=1) -> dict:
    rows = ok(client.get(proc_url(account, biz, pid), headers=EN))
    return {row["bk_property_id"]: row["bk_property_value"] for row in rows}


def search_one(client, pid, account="0", biz=1) -> dict:
    """One process as search_process shows it (all 22 attributes and the system fields)."""
    found = ok(search(client, {"condition": {"bk_process_id": pid}}, account, biz))
    assert found["count"] == 1 and len(found["info"]) == 1, found
    return found["info"][0]


def search_audit(client, body=None, account=None, headers=None):
    return client.post(
        AUDIT_URL, json={} if body is None else body, headers=headers_for(account, headers)
    )


def bind(client, pid, name, account="0", biz=1, headers=None, **kw):
    return client.put(binding_url(pid, name, account, biz), headers=headers, **kw)


def unbind(client, pid, name, account="0", biz=1, headers=None):
    return client.delete(binding_url(pid, name, account, biz), headers=headers)


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


# --- the client wrapper ---------------------------------------------------------------------


class Api:
    """A test client that knows every endpoint's URL and the common steps (the ``api``
    fixture). ``db_url`` is the database the app serves, for the direct readers."""

    EN, ZH = EN, ZH
    FULL, REQUIRED, SET_FULL, MODULE_FULL = FULL, REQUIRED, SET_FULL, MODULE_FULL
    ISO_TIME = ISO_TIME
    AUDIT_URL = AUDIT_URL

    # URLs
    proc_url = staticmethod(proc_url)
    search_url = staticmethod(search_url)
    binding_url = staticmethod(binding_url)
    set_url = staticmethod(set_url)
    set_search_url = staticmethod(set_search_url)
    module_url = staticmethod(module_url)
    module_search_url = staticmethod(module_search_url)
    # envelopes
    ok = staticmethod(ok)
    err = staticmethod(err)
    refused = staticmethod(refused)
    refused_cleanly = staticmethod(refused_cleanly)
    # the launcher
    gunicorn = staticmethod(gunicorn)

    def __init__(self, client, db_url: str | None = None):
        self.client = client
        self.db_url = db_url

    def __getattr__(self, name):  # api.get / post / put / delete / open: the client's own
        return getattr(self.client, name)

    # creators
    def create(self, account="0", biz=1, **attrs) -> int:
        return create(self.client, account, biz, **attrs)

    def new_set(self, name=None, **kw) -> dict:
        return new_set(self.client, name, **kw)

    def new_module(self, set_id, name=None, **kw) -> dict:
        return new_module(self.client, set_id, name, **kw)

    # requests
    def search(self, body=None, account="0", biz=1, headers=None):
        return search(self.client, body, account, biz, headers)

    def search_one(self, pid, account="0", biz=1) -> dict:
        return search_one(self.client, pid, account, biz)

    def detail(self, pid, account="0", biz=1) -> dict:
        return detail(self.client, pid, account, biz)

    def batch_update(self, body, account="0", biz=1, headers=None):
        return self.client.put(proc_url(account, biz), json=body, headers=headers)

    def search_sets(self, body=None, account="0", biz=1, headers=None):
        return self.client.post(set_search_url(account, biz), json=body or {}, headers=headers)

    def search_modules(self, set_id, body=None, account="0", biz=1, headers=None):
        url = module_search_url(account, biz, set_id)
        return self.client.post(url, json=body or {}, headers=headers)

    def search_audit(self, body=None, account=None, headers=None):
        return search_audit(self.client, body, account, headers)

    def bind(self, pid, name, account="0", biz=1, headers=None, **kw):
        return bind(self.client, pid, name, account, biz, headers, **kw)

    def unbind(self, pid, name, account="0", biz=1, headers=None):
        return unbind(self.client, pid, name, account, biz, headers)

    def bindings(self, pid, account="0", biz=1) -> list[dict]:
        return ok(self.client.get(binding_url(pid, account=account, biz=biz)))

    # readers
    def snapshot(self) -> list[tuple]:
        return snapshot(self.db_url)

    def audit_rows(self) -> list[dict]:
        return audit_rows(self.db_url)

    def binding_rows(self) -> list[tuple[int, str]]:
        return binding_rows(self.db_url)

    def insert_bindings(self, pairs) -> None:
        insert_bindings(self.db_url, pairs)
