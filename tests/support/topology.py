"""Sets and modules (docs/api.md §6): field lists, defaults and the steps their tests share."""

from __future__ import annotations

from ..dbkit import snapshot
from ..kit import (
    ACCOUNT_HEADER,
    EN,
    fresh,
    module_search_url,
    module_url,
    new_module,
    new_set,
    ok,
    refused,
    set_search_url,
    set_url,
)

SET_FIELDS = [
    "bk_biz_id", "bk_set_name", "bk_set_desc", "bk_set_env", "bk_service_status", "bk_capacity",
    "description", "default", "bk_set_id", "bk_supplier_account", "create_time", "last_time",
]  # fmt: skip
MODULE_FIELDS = [
    "bk_biz_id", "bk_set_id", "bk_module_name", "bk_module_type", "operator", "bk_bak_operator",
    "default", "bk_module_id", "bk_supplier_account", "create_time", "last_time",
]  # fmt: skip
SET_DEFAULTS = {
    "bk_set_desc": "",
    "bk_set_env": "3",
    "bk_service_status": "1",
    "bk_capacity": None,
    "description": "",
    "default": 0,
}
MODULE_DEFAULTS = {"bk_module_type": "1", "operator": "", "bk_bak_operator": "", "default": 0}


# --- helpers ----------------------------------------------------------------------------------


def hdr(account: str | None = None, **extra) -> dict:
    headers = dict(EN, **extra)
    if account is not None:
        headers[ACCOUNT_HEADER] = account
    return headers


def find_sets(client, body=None, account="0", biz=1) -> dict:
    data = ok(client.post(set_search_url(account, biz), json=body or {}, headers=EN))
    assert len(data["info"]) <= data["count"], data
    return data


def find_modules(client, set_id, body=None, account="0", biz=1) -> dict:
    url = module_search_url(account, biz, set_id)
    data = ok(client.post(url, json=body or {}, headers=EN))
    assert len(data["info"]) <= data["count"], data
    return data


def get_set(client, set_id, account="0", biz=1) -> dict:
    data = find_sets(client, {"condition": {"bk_set_id": set_id}}, account, biz)
    assert data["count"] == 1, data
    return data["info"][0]


def get_module(client, set_id, module_id, account="0", biz=1) -> dict:
    data = find_modules(client, set_id, {"condition": {"bk_module_id": module_id}}, account, biz)
    assert data["count"] == 1, data
    return data["info"][0]


def set_names(client, condition, account="0", biz=1) -> set[str]:
    data = find_sets(client, {"condition": condition}, account, biz)
    names = [s["bk_set_name"] for s in data["info"]]
    assert data["count"] == len(names), data
    return set(names)


def module_names(client, set_id, condition, account="0", biz=1) -> set[str]:
    data = find_modules(client, set_id, {"condition": condition}, account, biz)
    names = [m["bk_module_name"] for m in data["info"]]
    assert data["count"] == len(names), data
    return set(names)


def target_url(client, op: str, kind: str) -> str:
    """Where a create or an update of a set or module of business 1 goes (a fresh target)."""
    if kind == "set":
        return set_url() if op == "create" else set_url(1, new_set(client)["bk_set_id"])
    parent = new_set(client)["bk_set_id"]
    if op == "create":
        return module_url(1, parent)
    return module_url(1, parent, new_module(client, parent, biz=1)["bk_module_id"])


def send(client, op: str, kind: str, url: str, body):
    """Create (adding the required name when ``body`` is a dict without it) or update."""
    if op == "update":
        return client.put(url, json=body, headers=EN)
    name = "bk_set_name" if kind == "set" else "bk_module_name"
    if isinstance(body, dict) and name not in body:
        body = {name: fresh(kind), **body}
    return client.post(url, json=body, headers=EN)


def rejected(client, db_url, op, kind, body, code, field, url=None) -> str:
    """``body`` is refused with 400 / ``code`` naming ``field``, and nothing is written.
    ``url``: the target (a refused write leaves it as it was, so one can serve many cases)."""
    url = url or target_url(client, op, kind)
    before = snapshot(db_url)
    resp = send(client, op, kind, url, body)
    message = refused((op, kind, body), resp, 400, code, field)
    assert message.startswith(f"'{field}' "), message
    assert snapshot(db_url) == before, (op, kind, body)
    return message
