"""Process bindings (docs/api.md §3): the steps and readers their tests share."""

from __future__ import annotations

import pytest

from ..dbkit import audit_rows
from ..kit import bind, binding_url, ok, search

# --- helpers ---------------------------------------------------------------------------------


def module_path(set_id, module_id, biz=1) -> str:
    return f"/api/v3/module/{biz}/{set_id}/{module_id}"


def bound(client, pid, name, **kw) -> None:
    assert ok(bind(client, pid, name, **kw)) == "success"


def listing(client, pid, account="0", biz=1) -> list[tuple[str, int, int]]:
    """get_process_bind_module as (bk_module_name, set_num, is_bind) tuples, after checking
    that each entry has exactly those keys and that the numbers are JSON integers, not bools."""
    entries = ok(client.get(binding_url(pid, account=account, biz=biz)))
    assert isinstance(entries, list), entries
    out = []
    for entry in entries:
        assert set(entry) == {"bk_module_name", "set_num", "is_bind"}, entry
        assert type(entry["set_num"]) is int and type(entry["is_bind"]) is int, entry
        assert entry["is_bind"] in (0, 1), entry
        out.append((entry["bk_module_name"], entry["set_num"], entry["is_bind"]))
    return out


def binding_audits(db_url: str) -> list[dict]:
    """The audit rows of binds and unbinds (op_type 2 on a process), oldest first."""
    return [r for r in audit_rows(db_url) if r["op_target"] == "process" and r["op_type"] == 2]


def bound_to(client, condition, account="0", biz=1) -> list[int]:
    """Ids of the processes a bk_module_name search finds; count must agree with the page."""
    data = ok(search(client, {"condition": {"bk_module_name": condition}}, account, biz))
    ids = [p["bk_process_id"] for p in data["info"]]
    assert data["count"] == len(ids), data
    return ids


UNKNOWN_PROCESS = pytest.mark.parametrize(
    "account, biz, offset",
    [("0", 1, 1000), ("other", 1, 0), ("0", 2, 0)],
    ids=["unknown-id", "other-account", "other-business"],
)
