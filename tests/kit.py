"""The test kit, HTTP side: one source for the request headers, bodies, URLs, envelope checks
and the steps a test takes through a client (each step exists once). dbkit.py reads the
database directly; harness/gunicorn.py starts a real server."""

from __future__ import annotations

import itertools
import re
from urllib.parse import quote

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
