"""Audit search (docs/api.md §5): a known history of writes and the readers its tests share."""

from __future__ import annotations

from datetime import datetime

from ..kit import create, new_module, new_set, ok, proc_url, search_audit

ROW_KEYS = {
    "id", "bk_supplier_account", "bk_biz_id", "op_type", "op_target", "inst_id", "op_desc",
    "operator", "op_from", "op_time", "request_id", "content",
}  # fmt: skip

# The history's writes in the order they happen (account "0").
CHRONO = ["create_a", "create_b", "update_a", "create_set", "create_module", "delete_b"]
NEWEST = CHRONO[::-1]
CREATES = ["create_module", "create_set", "create_b", "create_a"]  # newest first


# --- helpers ---------------------------------------------------------------------------------


def found(client, body=None, **kw) -> dict:
    """The search's data; info never holds more rows than count says, and rows are complete."""
    data = ok(search_audit(client, body, **kw))
    assert len(data["info"]) <= data["count"], data
    for row in data["info"]:
        assert set(row) == ROW_KEYS, row
    return data


def rows(client, body=None, **kw) -> list[dict]:
    """Every matching row, on one page (count == len(info))."""
    data = found(client, body, **kw)
    assert data["count"] == len(data["info"]), data
    return data["info"]


def labels(info: list[dict]) -> list[str]:
    return [row["request_id"].removeprefix("req-") for row in info]


def matching(client, condition, **kw) -> list[str]:
    return labels(rows(client, {"condition": condition}, **kw))


def ordered(client, sort: str, **kw) -> list[str]:
    return labels(rows(client, {"sort": sort}, **kw))


def as_user(user: str | None, label: str) -> dict:
    headers = {"X-Request-Id": f"req-{label}"}
    if user is not None:
        headers["BK_User"] = user
    return headers


def history(client) -> dict:
    """Six writes in account "0" (CHRONO order) and one in account "acme" in between.

    create_a   process a, biz 1, alice      create_set     set s, biz 1, carol
    create_b   process b, biz 2, bob        create_module  module m in s, biz 1, alice
    update_a   process a, biz 1, bob        delete_b       process b, biz 2, alice
    """
    post = client.post
    ids = {}
    body = {"bk_process_name": "a", "bk_func_name": "a"}
    ids["a"] = ok(post(proc_url("0", 1), json=body, headers=as_user("alice", "create_a")))[
        "bk_process_id"
    ]
    body = {"bk_process_name": "b", "bk_func_name": "b"}
    ids["b"] = ok(post(proc_url("0", 2), json=body, headers=as_user("bob", "create_b")))[
        "bk_process_id"
    ]
    headers = as_user("bob", "update_a")
    ok(client.put(proc_url("0", 1, ids["a"]), json={"user": "root"}, headers=headers))
    body = {"bk_process_name": "a", "bk_func_name": "a"}
    ids["foreign"] = ok(post(proc_url("acme", 1), json=body, headers=as_user("alice", "foreign")))[
        "bk_process_id"
    ]
    ids["set"] = new_set(client, "s", biz=1, headers=as_user("carol", "create_set"))["bk_set_id"]
    ids["module"] = new_module(
        client, ids["set"], "m", biz=1, headers=as_user("alice", "create_module")
    )["bk_module_id"]
    ok(client.delete(proc_url("0", 2, ids["b"]), headers=as_user("alice", "delete_b")))
    return ids


def bulk(client, count: int) -> list[int]:
    """``count`` creates, then one batch update of them all: 2 * count rows, the last
    ``count`` written by one request."""
    pids = [create(client, bk_process_name=f"p{i:02}") for i in range(count)]
    ok(client.put(proc_url(), json={"bk_process_id": pids, "user": "svc"}))
    return pids


def times(client) -> dict[str, datetime]:
    """Each history row's op_time, parsed."""
    return {label: datetime.fromisoformat(r["op_time"]) for label, r in by_label(client).items()}


def by_label(client, **kw) -> dict[str, dict]:
    info = rows(client, **kw)
    return dict(zip(labels(info), info, strict=True))
