"""Process writes' validation (docs/api.md §2, §8): attribute groups and the write steps its tests
share.
"""

from __future__ import annotations

import json

from ..dbkit import snapshot
from ..kit import CONTRACT_ATTRIBUTES, EN, REQUIRED, create, fresh, ok, proc_url, refused_cleanly

ORDER = CONTRACT_ATTRIBUTES  # the 22 attributes in docs/api.md §2 order
SINGLECHAR = ["bk_process_name", "description", "port", "bk_func_id", "bk_func_name", "user"]
LONGCHAR = [
    "work_path", "start_cmd", "stop_cmd", "restart_cmd", "face_stop_cmd", "reload_cmd",
    "pid_file", "bk_start_param_regex",
]  # fmt: skip
INTS = ["proc_num", "priority", "timeout", "auto_time_gap"]
ENUMS = {"bind_ip": ["1", "2", "3", "4"], "protocol": ["1", "2"]}
OPTIONAL_STRINGS = [
    a for a in SINGLECHAR + LONGCHAR if a not in ("bk_process_name", "bk_func_name")
]


# What create stores for an absent attribute (§2): strings "", ints null, bools false,
# enums null except protocol "1".
DEFAULTS = {
    **dict.fromkeys(OPTIONAL_STRINGS, ""),
    **dict.fromkeys(INTS, None),
    "bind_ip": None,
    "protocol": "1",
    "auto_start": False,
}


MIB = 1024 * 1024
OPS = ("create", "update")


def write(client, db_url, op: str, body: object, *, headers=None, complete=True):
    """Send ``body`` as create (with the required attributes added unless ``complete`` is False)
    or as an update of a fresh process. Returns (response, snapshot before the request)."""
    if op == "create":
        if complete and isinstance(body, dict):
            body = {**REQUIRED, **body}
        before = snapshot(db_url)
        return client.post(proc_url(), json=body, headers=headers), before
    pid = create(client, bk_process_name=fresh("target"))
    before = snapshot(db_url)
    return client.put(proc_url(pid=pid), json=body, headers=headers), before


def write_rejected(client, db_url, op, body, status, code, field, *, complete=True) -> str:
    resp, before = write(client, db_url, op, body, headers=EN, complete=complete)
    assert resp.status_code == status, (op, body, resp.get_json())
    message = refused_cleanly(resp, status, code, field)
    assert snapshot(db_url) == before, f"a refused {op} changed the database: {body}"
    return message


def write_ok(client, op: str, body: dict, pid: int | None = None) -> int:
    """Create a process with ``body`` (plus a fresh name and the function name), or apply
    ``body`` as an update to ``pid`` (a fresh process when None). Returns the process id."""
    if op == "create":
        full = {**REQUIRED, "bk_process_name": fresh("p"), **body}
        resp = client.post(proc_url(), json=full)
        assert resp.status_code == 200, (op, body, resp.get_json())
        return ok(resp)["bk_process_id"]
    pid = pid or create(client, bk_process_name=fresh("p"))
    resp = client.put(proc_url(pid=pid), json=body)
    assert resp.status_code == 200, (op, body, resp.get_json())
    assert ok(resp) == "success"
    return pid


# --- body size ------------------------------------------------------------------------------------


def _padded(body: dict, size: int) -> bytes:
    """``body`` as JSON, padded with insignificant whitespace to exactly ``size`` bytes."""
    raw = json.dumps(body, ensure_ascii=False).encode()
    return raw[:-1] + b" " * (size - len(raw)) + b"}"
