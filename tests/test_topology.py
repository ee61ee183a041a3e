"""Sets and modules (contract §6), with their audit rows (§5) and their effect on bindings (§3).

create/update/delete/search of sets (/api/v3/set/...) and modules (/api/v3/module/...): output
fields and defaults, every validation code with its field, validation order, null resetting to
the default, partial updates, uniqueness of set names per business and module names per set,
the supplier account taken from the HTTP_BLUEKING_SUPPLIER_ID header on writes and from the path
on searches, not-found scoping, path and body errors, delete_set cascading to modules, the audit
rows of every write (and none for a failed one), process bindings surviving module deletes and
renames, and the search grammar of §3 applied to sets and modules.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, text

from .helpers import (
    EN,
    ZH,
    audit_rows,
    err,
    libpq,
    ok,
    race,
    snapshot,
    wait_until_a_session_waits_for_a_lock,
)
from .kit import (
    ACCOUNT_HEADER,
    ISO_TIME,
    MODULE_FULL,
    SET_FULL,
    fresh,
    module_search_url,
    module_url,
    new_module,
    new_set,
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


# --- create_set ---------------------------------------------------------------------------------


def test_create_set_answers_every_field_in_order_with_defaults(client):
    data = ok(client.post(set_url(5), json={"bk_set_name": "web"}))
    assert list(data) == SET_FIELDS
    assert {k: data[k] for k in SET_DEFAULTS} == SET_DEFAULTS
    assert data["bk_biz_id"] == 5 and data["bk_set_name"] == "web"
    assert data["bk_supplier_account"] == "0"
    assert isinstance(data["bk_set_id"], int) and data["bk_set_id"] > 0
    assert ISO_TIME.fullmatch(data["create_time"]) and ISO_TIME.fullmatch(data["last_time"])
    # search shows the same set, the same way
    found = find_sets(client, biz=5)
    assert found["count"] == 1
    assert found["info"] == [data]
    assert list(found["info"][0]) == SET_FIELDS


def test_create_set_stores_every_field_as_sent(client):
    data = new_set(client, **SET_FULL)
    assert {k: data[k] for k in SET_FULL} == SET_FULL
    assert get_set(client, data["bk_set_id"]) == data


def test_set_ids_are_distinct_and_increasing(client):
    ids = [new_set(client)["bk_set_id"] for _ in range(3)]
    assert ids == sorted(ids) and len(set(ids)) == 3


@pytest.mark.parametrize("op", ["create", "update"])
def test_set_enum_and_int_normalisation(client, op):
    cases = [
        ({"bk_set_env": 1}, {"bk_set_env": "1"}),
        ({"bk_set_env": "2"}, {"bk_set_env": "2"}),
        ({"bk_set_env": 3}, {"bk_set_env": "3"}),
        ({"bk_service_status": 2}, {"bk_service_status": "2"}),
        ({"bk_capacity": "42"}, {"bk_capacity": 42}),
        ({"bk_capacity": 1}, {"bk_capacity": 1}),
        ({"bk_capacity": 999999999}, {"bk_capacity": 999999999}),
        ({"default": "1"}, {"default": 1}),
        ({"default": 0}, {"default": 0}),
    ]
    for sent, stored in cases:
        if op == "create":
            sid = new_set(client, **sent)["bk_set_id"]
        else:
            sid = new_set(client)["bk_set_id"]
            assert ok(client.put(set_url(1, sid), json=sent)) == "success"
        got = get_set(client, sid)
        assert {k: got[k] for k in stored} == stored, (op, sent)


@pytest.mark.parametrize("op", ["create", "update"])
def test_set_name_limit_counts_characters(client, db_url, op):
    for char in ("a", "进", "𠀀"):
        name = char * 256
        if op == "create":
            sid = new_set(client, bk_set_name=name, bk_set_desc=name)["bk_set_id"]
        else:
            sid = new_set(client)["bk_set_id"]
            ok(client.put(set_url(1, sid), json={"bk_set_name": name, "bk_set_desc": name}))
        got = get_set(client, sid)
        assert got["bk_set_name"] == name and got["bk_set_desc"] == name, char
        ok(client.delete(set_url(1, sid)))
        for field in ("bk_set_name", "bk_set_desc", "description"):
            rejected(client, db_url, op, "set", {field: char * 257}, 1199015, field)


@pytest.mark.parametrize("op", ["create", "update"])
def test_set_ignores_parent_business_and_account_in_the_body(client, op):
    ignored = {"bk_parent_id": 77, "bk_biz_id": 999, "bk_supplier_account": "other"}
    if op == "create":
        data = ok(client.post(set_url(3), json={"bk_set_name": "s", **ignored}))
        sid = data["bk_set_id"]
        assert data["bk_biz_id"] == 3 and data["bk_supplier_account"] == "0"
    else:
        sid = new_set(client, biz=3, bk_set_name="s")["bk_set_id"]
        assert ok(client.put(set_url(3, sid), json=ignored)) == "success"
        # even values that would not be valid as those fields are not an error
        odd = {
            "bk_parent_id": "x",
            "bk_biz_id": "abc",
            "bk_supplier_account": 5,
            "description": "d",
        }
        assert ok(client.put(set_url(3, sid), json=odd)) == "success"
        assert get_set(client, sid, biz=3)["description"] == "d"
    got = get_set(client, sid, biz=3)
    assert got["bk_biz_id"] == 3 and got["bk_supplier_account"] == "0"
    assert find_sets(client, biz=999)["count"] == 0
    assert find_sets(client, account="other", biz=3)["count"] == 0


# --- set validation ---------------------------------------------------------------------------

SET_CODE_CASES = [
    ({"foo": 1}, 1199011, "foo"),
    ({"bk_set_name_x": "a"}, 1199011, "bk_set_name_x"),
    ({"bk_set_id": 1}, 1199011, "bk_set_id"),
    ({"create_time": "2026-01-01T00:00:00.000000+00:00"}, 1199011, "create_time"),
    ({"last_time": "2026-01-01T00:00:00.000000+00:00"}, 1199011, "last_time"),
    ({"bk_module_name": "m"}, 1199011, "bk_module_name"),
    ({"bk_set_name": 5}, 1199007, "bk_set_name"),
    ({"bk_set_name": ["web"]}, 1199007, "bk_set_name"),
    ({"bk_set_desc": True}, 1199007, "bk_set_desc"),
    ({"description": {"a": 1}}, 1199007, "description"),
    ({"bk_set_env": True}, 1199007, "bk_set_env"),
    ({"bk_service_status": ["1"]}, 1199007, "bk_service_status"),
    ({"bk_set_name": "a" * 257}, 1199015, "bk_set_name"),
    ({"bk_set_desc": "进" * 257}, 1199015, "bk_set_desc"),
    ({"description": "a" * 257}, 1199015, "description"),
    ({"bk_capacity": "abc"}, 1199009, "bk_capacity"),
    ({"bk_capacity": 1.5}, 1199009, "bk_capacity"),
    ({"bk_capacity": True}, 1199009, "bk_capacity"),
    ({"bk_capacity": "1.5"}, 1199009, "bk_capacity"),
    ({"bk_capacity": ""}, 1199009, "bk_capacity"),
    ({"bk_capacity": " 5"}, 1199009, "bk_capacity"),
    ({"default": "x"}, 1199009, "default"),
    ({"default": False}, 1199009, "default"),
    ({"bk_set_env": "4"}, 1199006, "bk_set_env"),
    ({"bk_set_env": 0}, 1199006, "bk_set_env"),
    ({"bk_set_env": "test"}, 1199006, "bk_set_env"),
    ({"bk_service_status": "3"}, 1199006, "bk_service_status"),
    ({"bk_service_status": "open"}, 1199006, "bk_service_status"),
    ({"bk_capacity": 0}, 1199006, "bk_capacity"),
    ({"bk_capacity": -1}, 1199006, "bk_capacity"),
    ({"bk_capacity": 1000000000}, 1199006, "bk_capacity"),
    ({"bk_capacity": "1000000000"}, 1199006, "bk_capacity"),
    ({"default": 2}, 1199006, "default"),
    ({"default": -1}, 1199006, "default"),
    ({"bk_set_name": None}, 1199010, "bk_set_name"),
    ({"bk_set_name": ""}, 1199010, "bk_set_name"),
]


@pytest.mark.parametrize("op", ["create", "update"])
def test_invalid_set_field_is_refused_naming_it(client, db_url, op):
    url = target_url(client, op, "set")
    for body, code, field in SET_CODE_CASES:
        rejected(client, db_url, op, "set", body, code, field, url)


def test_create_set_without_a_name(client, db_url):
    for body in [{}, {"bk_set_desc": "d"}, {"bk_parent_id": 1}]:
        before = snapshot(db_url)
        resp = client.post(set_url(), json=body, headers=EN)
        message = refused(body, resp, 400, 1199010, "bk_set_name")
        assert message == "'bk_set_name' unassigned"
        assert snapshot(db_url) == before
    zh = err(client.post(set_url(), json={}, headers=ZH), 400, 1199010, "bk_set_name")
    assert zh == "'bk_set_name' 未赋值"


SET_ORDER_CASES = [
    # an unknown key (sent first) and a bad field: the field is reported
    ({"zzz": 1, "bk_capacity": 0}, 1199006, "bk_capacity"),
    ({"bk_set_id": 3, "default": 7}, 1199006, "default"),
    # two bad fields: the earlier in field order, whatever the body's order
    ({"default": 5, "bk_set_env": "9"}, 1199006, "bk_set_env"),
    ({"description": 1, "bk_set_desc": "a" * 257}, 1199015, "bk_set_desc"),
    ({"bk_capacity": "x", "bk_service_status": "9"}, 1199006, "bk_service_status"),
    ({"bk_service_status": "9", "bk_set_name": ""}, 1199010, "bk_set_name"),
]


@pytest.mark.parametrize(("body", "code", "field"), SET_ORDER_CASES)
def test_set_first_failure_in_field_order_then_unknown_keys(client, db_url, body, code, field):
    for op in ("create", "update"):
        message = rejected(client, db_url, op, "set", body, code, field)
        assert not any(f"'{k}'" in message for k in body if k != field), message


def test_missing_set_name_is_reported_before_later_fields(client, db_url):
    before = snapshot(db_url)
    resp = client.post(set_url(), json={"bk_set_env": "9", "foo": 1}, headers=EN)
    refused("missing name", resp, 400, 1199010, "bk_set_name")
    assert snapshot(db_url) == before


# --- null, partial update, {} -----------------------------------------------------------------


def test_null_resets_set_fields_to_their_defaults(client):
    created = new_set(client, **dict.fromkeys(SET_DEFAULTS))
    assert {k: created[k] for k in SET_DEFAULTS} == SET_DEFAULTS

    sid = new_set(client, **SET_FULL)["bk_set_id"]
    assert ok(client.put(set_url(1, sid), json=dict.fromkeys(SET_DEFAULTS))) == "success"
    got = get_set(client, sid)
    assert {k: got[k] for k in SET_DEFAULTS} == SET_DEFAULTS
    assert got["bk_set_name"] == SET_FULL["bk_set_name"]


def test_update_set_is_partial(client):
    before = new_set(client, **SET_FULL)
    sid = before["bk_set_id"]
    assert ok(client.put(set_url(1, sid), json={"bk_capacity": 7})) == "success"
    after = get_set(client, sid)
    assert after["bk_capacity"] == 7
    unchanged = [f for f in SET_FIELDS if f not in ("bk_capacity", "last_time")]
    assert {f: after[f] for f in unchanged} == {f: before[f] for f in unchanged}

    ok(client.put(set_url(1, sid), json={"bk_set_name": "renamed"}))
    assert get_set(client, sid)["bk_set_name"] == "renamed"
    assert set_names(client, {}) == {"renamed"}


def test_empty_set_update_moves_only_last_time(client):
    before = new_set(client, **SET_FULL)
    sid = before["bk_set_id"]
    for _ in range(2):  # twice in a row: last_time still moves
        assert ok(client.put(set_url(1, sid), json={})) == "success"
        after = get_set(client, sid)
        assert after["last_time"] > before["last_time"]
        assert ISO_TIME.fullmatch(after["last_time"])
        assert {k: v for k, v in after.items() if k != "last_time"} == {
            k: v for k, v in before.items() if k != "last_time"
        }
        before = after


# --- set uniqueness -----------------------------------------------------------------------------


def test_set_name_unique_per_business(client, db_url):
    new_set(client, biz=1, bk_set_name="web")
    before = snapshot(db_url)
    resp = client.post(set_url(1), json={"bk_set_name": "web"}, headers=EN)
    message = err(resp, 409, 1199014, "bk_set_name")
    assert message.startswith("duplicated instances exist")
    assert snapshot(db_url) == before
    err(client.post(set_url(1), json={"bk_set_name": "web"}, headers=ZH), 409, 1199014)
    # names are compared exactly: another case or a suffix is another name
    for name in ["Web", "web ", "web2"]:
        new_set(client, biz=1, bk_set_name=name)
    # the same name in another business or another account is fine
    other_biz = new_set(client, biz=2, bk_set_name="web")
    other_acct = new_set(client, biz=1, account="acme", bk_set_name="web")
    assert other_biz["bk_biz_id"] == 2 and other_acct["bk_supplier_account"] == "acme"
    assert set_names(client, {"bk_set_name": "web"}) == {"web"}
    assert set_names(client, {"bk_set_name": "web"}, account="acme") == {"web"}
    assert set_names(client, {"bk_set_name": "web"}, biz=2) == {"web"}


def test_set_rename_to_a_taken_name_conflicts_and_changes_nothing(client, db_url):
    new_set(client, bk_set_name="a")
    sid = new_set(client, bk_set_name="b")["bk_set_id"]
    before = snapshot(db_url)
    resp = client.put(set_url(1, sid), json={"bk_set_name": "a", "bk_capacity": 5}, headers=EN)
    err(resp, 409, 1199014, "bk_set_name")
    assert snapshot(db_url) == before
    assert get_set(client, sid)["bk_set_name"] == "b"
    # keeping its own name is no conflict
    ok(client.put(set_url(1, sid), json={"bk_set_name": "b"}))


def test_deleted_set_name_can_be_used_again(client):
    sid = new_set(client, bk_set_name="web")["bk_set_id"]
    ok(client.delete(set_url(1, sid)))
    again = new_set(client, bk_set_name="web")
    assert again["bk_set_id"] != sid


# --- supplier account from the header ----------------------------------------------------------


def test_set_writes_take_the_account_from_the_header(client):
    data = ok(client.post(set_url(4), json={"bk_set_name": "s"}, headers={ACCOUNT_HEADER: "acme"}))
    assert data["bk_supplier_account"] == "acme"
    sid = data["bk_set_id"]
    assert find_sets(client, account="acme", biz=4)["info"] == [data]
    assert find_sets(client, account="0", biz=4)["count"] == 0
    # the set exists only for that account: without the header ("0") it is not found
    err(client.put(set_url(4, sid), json={}, headers=EN), 404, 1199019, f"bk_set_id {sid}")
    ok(client.put(set_url(4, sid), json={"description": "x"}, headers={ACCOUNT_HEADER: "acme"}))
    assert get_set(client, sid, account="acme", biz=4)["description"] == "x"
    # an empty header means "0"
    empty = ok(client.post(set_url(4), json={"bk_set_name": "t"}, headers={ACCOUNT_HEADER: ""}))
    assert empty["bk_supplier_account"] == "0"
    assert set_names(client, {}, biz=4) == {"t"}
    ok(client.delete(set_url(4, sid), headers={ACCOUNT_HEADER: "acme"}))
    assert find_sets(client, account="acme", biz=4)["count"] == 0


def test_module_writes_take_the_account_from_the_header(client):
    acme = {ACCOUNT_HEADER: "acme"}
    sid = ok(client.post(set_url(4), json={"bk_set_name": "s"}, headers=acme))["bk_set_id"]
    module = ok(client.post(module_url(4, sid), json={"bk_module_name": "m"}, headers=acme))
    assert module["bk_supplier_account"] == "acme"
    mid = module["bk_module_id"]
    ok(client.put(module_url(4, sid, mid), json={"operator": "op"}, headers=acme))
    assert get_module(client, sid, mid, account="acme", biz=4)["operator"] == "op"
    # account "0" sees neither the set nor the module
    url = module_search_url("0", 4, sid)
    err(client.post(url, json={}, headers=EN), 404, 1199019, f"bk_set_id {sid}")
    err(client.put(module_url(4, sid, mid), json={}, headers=EN), 404, 1199019, "bk_set_id")
    err(client.delete(module_url(4, sid, mid), headers=EN), 404, 1199019, "bk_set_id")
    ok(client.delete(module_url(4, sid, mid), headers=acme))
    assert find_modules(client, sid, account="acme", biz=4)["count"] == 0


@pytest.mark.parametrize("account", ["a b", "a/b", "x" * 65, "a;b"])
def test_invalid_account_header_is_refused_on_every_write(client, db_url, account):
    sid = new_set(client)["bk_set_id"]
    mid = new_module(client, sid, biz=1)["bk_module_id"]
    before = snapshot(db_url)
    bad = hdr(account)
    for resp in [
        client.post(set_url(), json={"bk_set_name": "new"}, headers=bad),
        client.put(set_url(1, sid), json={"description": "x"}, headers=bad),
        client.delete(set_url(1, sid), headers=bad),
        client.post(module_url(1, sid), json={"bk_module_name": "new"}, headers=bad),
        client.put(module_url(1, sid, mid), json={"operator": "x"}, headers=bad),
        client.delete(module_url(1, sid, mid), headers=bad),
    ]:
        refused(account, resp, 400, 1199003, ACCOUNT_HEADER)
    assert snapshot(db_url) == before


# --- sets not found -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "account, biz, offset",
    [("0", 1, 1000), ("other", 1, 0), ("0", 2, 0)],
    ids=["unknown-id", "other-account", "other-business"],
)
def test_set_update_and_delete_not_found(client, db_url, account, biz, offset):
    sid = new_set(client, bk_set_name="web")["bk_set_id"]
    new_module(client, sid, biz=1, bk_module_name="m")
    missing = sid + offset
    before = snapshot(db_url)
    headers = hdr(account)
    for resp in [
        client.put(set_url(biz, missing), json={"bk_set_name": "x"}, headers=headers),
        client.put(set_url(biz, missing), json={}, headers=headers),
        client.delete(set_url(biz, missing), headers=headers),
    ]:
        message = err(resp, 404, 1199019, f"bk_set_id {missing}")
        assert message.startswith("No relevant data found")
    assert snapshot(db_url) == before
    assert get_set(client, sid)["bk_set_name"] == "web"


def test_deleted_set_is_gone(client, db_url):
    sid = new_set(client)["bk_set_id"]
    keep = new_set(client, bk_set_name="keep")["bk_set_id"]
    assert ok(client.delete(set_url(1, sid))) == "success"
    assert [s["bk_set_id"] for s in find_sets(client)["info"]] == [keep]
    before = snapshot(db_url)
    err(client.delete(set_url(1, sid), headers=EN), 404, 1199019, f"bk_set_id {sid}")
    err(client.put(set_url(1, sid), json={}, headers=EN), 404, 1199019, f"bk_set_id {sid}")
    url = module_url(1, sid)
    err(client.post(url, json={"bk_module_name": "m"}, headers=EN), 404, 1199019, "bk_set_id")
    assert snapshot(db_url) == before


# --- delete_set cascades to its modules ---------------------------------------------------------


def test_delete_set_deletes_its_modules_with_an_audit_row_each(client, db_url):
    doomed = new_set(client, biz=2, bk_set_name="doomed")
    sid = doomed["bk_set_id"]
    kept = new_set(client, biz=2, bk_set_name="kept")["bk_set_id"]
    modules = [new_module(client, sid, biz=2, bk_module_name=n) for n in ("web", "db", "cache")]
    other = new_module(client, kept, biz=2, bk_module_name="web")
    module_ids = [m["bk_module_id"] for m in modules]
    start = len(audit_rows(db_url))

    deleted = client.delete(set_url(2, sid), headers={"BK_User": "carol"})
    assert ok(deleted) == "success"

    assert [s["bk_set_id"] for s in find_sets(client, biz=2)["info"]] == [kept]
    assert find_modules(client, kept, biz=2)["info"] == [other]
    err(client.post(module_search_url("0", 2, sid), json={}, headers=EN), 404, 1199019)
    for mid in module_ids:  # the modules are gone, not just hidden behind their set
        resp = client.put(module_url(2, sid, mid), json={}, headers=EN)
        err(resp, 404, 1199019)
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            left = conn.execute(text("SELECT bk_module_id FROM modules ORDER BY 1")).scalars()
            assert list(left) == [other["bk_module_id"]]
    finally:
        engine.dispose()

    new = audit_rows(db_url)[start:]
    assert len(new) == 4
    assert all(r["request_id"] == deleted.headers["X-Request-Id"] for r in new)
    module_rows = [r for r in new if r["op_target"] == "module"]
    set_rows = [r for r in new if r["op_target"] == "set"]
    assert sorted(r["inst_id"] for r in module_rows) == sorted(module_ids)
    by_id = {m["bk_module_id"]: m for m in modules}
    for row in module_rows:
        assert row["op_type"] == 3 and row["operator"] == "carol"
        assert (row["bk_biz_id"], row["bk_supplier_account"]) == (2, "0")
        assert row["content"] == {"pre_data": by_id[row["inst_id"]], "cur_data": {}}
    (set_row,) = set_rows
    assert (set_row["op_type"], set_row["inst_id"], set_row["operator"]) == (3, sid, "carol")
    assert (set_row["bk_biz_id"], set_row["bk_supplier_account"]) == (2, "0")
    assert set_row["content"] == {"pre_data": doomed, "cur_data": {}}


def test_delete_set_audit_rows_carry_the_request_id(client, db_url):
    sid = new_set(client)["bk_set_id"]
    new_module(client, sid, biz=1)
    new_module(client, sid, biz=1)
    start = len(audit_rows(db_url))
    resp = client.delete(set_url(1, sid), headers={"X-Request-Id": "req-del-set"})
    ok(resp)
    new = audit_rows(db_url)[start:]
    assert [r["request_id"] for r in new] == ["req-del-set"] * 3
    assert sorted(r["op_target"] for r in new) == ["module", "module", "set"]


def test_delete_empty_set_writes_one_row(client, db_url):
    data = new_set(client)
    start = len(audit_rows(db_url))
    ok(client.delete(set_url(1, data["bk_set_id"])))
    (row,) = audit_rows(db_url)[start:]
    assert (row["op_target"], row["op_type"], row["inst_id"]) == ("set", 3, data["bk_set_id"])


# --- create_module ------------------------------------------------------------------------------


def test_create_module_answers_every_field_in_order_with_defaults(client):
    sid = new_set(client, biz=6)["bk_set_id"]
    data = ok(client.post(module_url(6, sid), json={"bk_module_name": "web"}))
    assert list(data) == MODULE_FIELDS
    assert {k: data[k] for k in MODULE_DEFAULTS} == MODULE_DEFAULTS
    assert (data["bk_biz_id"], data["bk_set_id"], data["bk_module_name"]) == (6, sid, "web")
    assert data["bk_supplier_account"] == "0"
    assert isinstance(data["bk_module_id"], int) and data["bk_module_id"] > 0
    assert ISO_TIME.fullmatch(data["create_time"]) and ISO_TIME.fullmatch(data["last_time"])
    found = find_modules(client, sid, biz=6)
    assert found["count"] == 1 and found["info"] == [data]
    assert list(found["info"][0]) == MODULE_FIELDS


def test_create_module_stores_every_field_as_sent(client):
    sid = new_set(client)["bk_set_id"]
    data = new_module(client, sid, biz=1, **MODULE_FULL)
    assert {k: data[k] for k in MODULE_FULL} == MODULE_FULL
    assert get_module(client, sid, data["bk_module_id"]) == data


@pytest.mark.parametrize("op", ["create", "update"])
def test_module_enum_and_int_normalisation(client, op):
    sid = new_set(client)["bk_set_id"]
    cases = [
        ({"bk_module_type": 2}, {"bk_module_type": "2"}),
        ({"bk_module_type": 1}, {"bk_module_type": "1"}),
        ({"default": "2"}, {"default": 2}),
        ({"default": 1}, {"default": 1}),
        ({"default": 0}, {"default": 0}),
    ]
    for sent, stored in cases:
        if op == "create":
            mid = new_module(client, sid, biz=1, **sent)["bk_module_id"]
        else:
            mid = new_module(client, sid, biz=1)["bk_module_id"]
            assert ok(client.put(module_url(1, sid, mid), json=sent)) == "success"
        got = get_module(client, sid, mid)
        assert {k: got[k] for k in stored} == stored, (op, sent)


@pytest.mark.parametrize("op", ["create", "update"])
def test_module_ignores_parent_account_business_and_set_in_the_body(client, op):
    sid = new_set(client, biz=3)["bk_set_id"]
    elsewhere = new_set(client, biz=3)["bk_set_id"]
    ignored = {
        "bk_parent_id": elsewhere,
        "bk_supplier_account": "other",
        "bk_biz_id": 999,
        "bk_set_id": elsewhere,
    }
    if op == "create":
        data = ok(client.post(module_url(3, sid), json={"bk_module_name": "m", **ignored}))
        mid = data["bk_module_id"]
        assert (data["bk_biz_id"], data["bk_set_id"], data["bk_supplier_account"]) == (3, sid, "0")
    else:
        mid = new_module(client, sid, biz=3, bk_module_name="m")["bk_module_id"]
        assert ok(client.put(module_url(3, sid, mid), json=ignored)) == "success"
    got = get_module(client, sid, mid, biz=3)
    assert (got["bk_biz_id"], got["bk_set_id"], got["bk_supplier_account"]) == (3, sid, "0")
    assert find_modules(client, elsewhere, biz=3)["count"] == 0


@pytest.mark.parametrize("op", ["create", "update"])
def test_module_string_limits_count_characters(client, db_url, op):
    sid = new_set(client)["bk_set_id"]
    for char in ("a", "进", "𠀀"):
        value = char * 256
        fields = {"bk_module_name": value, "operator": value, "bk_bak_operator": value}
        if op == "create":
            mid = new_module(client, sid, biz=1, **fields)["bk_module_id"]
        else:
            mid = new_module(client, sid, biz=1)["bk_module_id"]
            ok(client.put(module_url(1, sid, mid), json=fields))
        got = get_module(client, sid, mid)
        assert {k: got[k] for k in fields} == fields, char
        ok(client.delete(module_url(1, sid, mid)))
        for field in fields:
            rejected(client, db_url, op, "module", {field: char * 257}, 1199015, field)


MODULE_CODE_CASES = [
    ({"foo": 1}, 1199011, "foo"),
    ({"bk_module_id": 1}, 1199011, "bk_module_id"),
    ({"create_time": "2026-01-01T00:00:00.000000+00:00"}, 1199011, "create_time"),
    ({"last_time": "2026-01-01T00:00:00.000000+00:00"}, 1199011, "last_time"),
    ({"bk_set_name": "s"}, 1199011, "bk_set_name"),
    ({"bk_module_name": 5}, 1199007, "bk_module_name"),
    ({"operator": ["alice"]}, 1199007, "operator"),
    ({"bk_bak_operator": False}, 1199007, "bk_bak_operator"),
    ({"bk_module_type": True}, 1199007, "bk_module_type"),
    ({"bk_module_type": {"v": "1"}}, 1199007, "bk_module_type"),
    ({"bk_module_name": "m" * 257}, 1199015, "bk_module_name"),
    ({"default": "x"}, 1199009, "default"),
    ({"default": 1.5}, 1199009, "default"),
    ({"default": True}, 1199009, "default"),
    ({"default": ""}, 1199009, "default"),
    ({"bk_module_type": "3"}, 1199006, "bk_module_type"),
    ({"bk_module_type": 0}, 1199006, "bk_module_type"),
    ({"bk_module_type": "common"}, 1199006, "bk_module_type"),
    ({"default": 3}, 1199006, "default"),
    ({"default": -1}, 1199006, "default"),
    ({"bk_module_name": None}, 1199010, "bk_module_name"),
    ({"bk_module_name": ""}, 1199010, "bk_module_name"),
]


@pytest.mark.parametrize("op", ["create", "update"])
def test_invalid_module_field_is_refused_naming_it(client, db_url, op):
    url = target_url(client, op, "module")
    for body, code, field in MODULE_CODE_CASES:
        rejected(client, db_url, op, "module", body, code, field, url)


def test_create_module_without_a_name(client, db_url):
    sid = new_set(client)["bk_set_id"]
    before = snapshot(db_url)
    for body in [{}, {"operator": "alice"}, {"bk_parent_id": sid}]:
        resp = client.post(module_url(1, sid), json=body, headers=EN)
        message = refused(body, resp, 400, 1199010, "bk_module_name")
        assert message == "'bk_module_name' unassigned"
    assert snapshot(db_url) == before


MODULE_ORDER_CASES = [
    ({"zzz": 1, "default": 9}, 1199006, "default"),
    ({"bk_module_id": 1, "operator": 5}, 1199007, "operator"),
    ({"default": 9, "operator": 5}, 1199007, "operator"),
    ({"bk_bak_operator": 1, "bk_module_type": "9"}, 1199006, "bk_module_type"),
    ({"bk_module_type": "9", "bk_module_name": ""}, 1199010, "bk_module_name"),
]


@pytest.mark.parametrize(("body", "code", "field"), MODULE_ORDER_CASES)
def test_module_first_failure_in_field_order_then_unknown_keys(client, db_url, body, code, field):
    for op in ("create", "update"):
        message = rejected(client, db_url, op, "module", body, code, field)
        assert not any(f"'{k}'" in message for k in body if k != field), message


def test_null_resets_module_fields_to_their_defaults(client):
    sid = new_set(client)["bk_set_id"]
    created = new_module(client, sid, biz=1, **dict.fromkeys(MODULE_DEFAULTS))
    assert {k: created[k] for k in MODULE_DEFAULTS} == MODULE_DEFAULTS

    mid = new_module(client, sid, biz=1, **MODULE_FULL)["bk_module_id"]
    resp = client.put(module_url(1, sid, mid), json=dict.fromkeys(MODULE_DEFAULTS))
    assert ok(resp) == "success"
    got = get_module(client, sid, mid)
    assert {k: got[k] for k in MODULE_DEFAULTS} == MODULE_DEFAULTS
    assert got["bk_module_name"] == MODULE_FULL["bk_module_name"]


def test_update_module_is_partial_and_empty_update_moves_last_time(client):
    sid = new_set(client)["bk_set_id"]
    before = new_module(client, sid, biz=1, **MODULE_FULL)
    mid = before["bk_module_id"]
    ok(client.put(module_url(1, sid, mid), json={"operator": "carol"}))
    after = get_module(client, sid, mid)
    assert after["operator"] == "carol"
    unchanged = [f for f in MODULE_FIELDS if f not in ("operator", "last_time")]
    assert {f: after[f] for f in unchanged} == {f: before[f] for f in unchanged}
    assert after["last_time"] > before["last_time"]

    assert ok(client.put(module_url(1, sid, mid), json={})) == "success"
    again = get_module(client, sid, mid)
    assert again["last_time"] > after["last_time"]
    assert {k: v for k, v in again.items() if k != "last_time"} == {
        k: v for k, v in after.items() if k != "last_time"
    }


def test_delete_module(client, db_url):
    sid = new_set(client)["bk_set_id"]
    gone = new_module(client, sid, biz=1, bk_module_name="gone")["bk_module_id"]
    kept = new_module(client, sid, biz=1, bk_module_name="kept")
    assert ok(client.delete(module_url(1, sid, gone))) == "success"
    assert find_modules(client, sid)["info"] == [kept]
    assert get_set(client, sid)["bk_set_id"] == sid  # the set stays
    before = snapshot(db_url)
    resp = client.delete(module_url(1, sid, gone), headers=EN)
    err(resp, 404, 1199019, f"bk_module_id {gone}")
    assert snapshot(db_url) == before
    # the name is free again
    new_module(client, sid, biz=1, bk_module_name="gone")


# --- module uniqueness --------------------------------------------------------------------------


def test_module_name_unique_per_set_not_per_business(client, db_url):
    a = new_set(client)["bk_set_id"]
    b = new_set(client)["bk_set_id"]
    new_module(client, a, biz=1, bk_module_name="web")
    before = snapshot(db_url)
    resp = client.post(module_url(1, a), json={"bk_module_name": "web"}, headers=EN)
    message = err(resp, 409, 1199014, "bk_module_name")
    assert message.startswith("duplicated instances exist")
    assert snapshot(db_url) == before
    # the same name in another set of the business, or in another business, is fine
    in_b = new_module(client, b, biz=1, bk_module_name="web")
    assert in_b["bk_set_id"] == b
    c = new_set(client, biz=2)["bk_set_id"]
    new_module(client, c, biz=2, bk_module_name="web")
    assert module_names(client, a, {}) == {"web"}
    assert module_names(client, b, {}) == {"web"}


def test_module_rename_conflicts_only_within_its_set(client, db_url):
    a = new_set(client)["bk_set_id"]
    b = new_set(client)["bk_set_id"]
    new_module(client, a, biz=1, bk_module_name="web")
    mid = new_module(client, a, biz=1, bk_module_name="db")["bk_module_id"]
    new_module(client, b, biz=1, bk_module_name="cache")
    before = snapshot(db_url)
    resp = client.put(module_url(1, a, mid), json={"bk_module_name": "web"}, headers=EN)
    err(resp, 409, 1199014, "bk_module_name")
    assert snapshot(db_url) == before
    assert get_module(client, a, mid)["bk_module_name"] == "db"
    # a name used in another set is free here
    ok(client.put(module_url(1, a, mid), json={"bk_module_name": "cache"}))
    assert module_names(client, a, {}) == {"web", "cache"}
    # keeping its own name is no conflict
    ok(client.put(module_url(1, a, mid), json={"bk_module_name": "cache"}))


# --- modules not found --------------------------------------------------------------------------


def test_module_of_another_set_is_not_found(client, db_url):
    a = new_set(client)["bk_set_id"]
    b = new_set(client)["bk_set_id"]
    mid = new_module(client, a, biz=1, bk_module_name="web")["bk_module_id"]
    before = snapshot(db_url)
    for resp in [
        client.put(module_url(1, b, mid), json={"operator": "x"}, headers=EN),
        client.delete(module_url(1, b, mid), headers=EN),
        client.put(module_url(1, a, mid + 1000), json={}, headers=EN),
        client.delete(module_url(1, a, mid + 1000), headers=EN),
    ]:
        message = err(resp, 404, 1199019, "bk_module_id")
        assert "bk_set_id" not in message
    assert snapshot(db_url) == before
    assert get_module(client, a, mid)["operator"] == ""


@pytest.mark.parametrize(
    "account, biz, offset",
    [("0", 1, 1000), ("other", 1, 0), ("0", 2, 0)],
    ids=["unknown-set", "other-account", "other-business"],
)
def test_module_paths_with_an_unknown_set_are_not_found(client, db_url, account, biz, offset):
    sid = new_set(client)["bk_set_id"]
    mid = new_module(client, sid, biz=1, bk_module_name="web")["bk_module_id"]
    missing = sid + offset
    before = snapshot(db_url)
    headers = hdr(account)
    named = f"bk_set_id {missing}"
    for resp in [
        client.post(module_url(biz, missing), json={"bk_module_name": "x"}, headers=headers),
        client.put(module_url(biz, missing, mid), json={"operator": "x"}, headers=headers),
        client.delete(module_url(biz, missing, mid), headers=headers),
        client.post(module_search_url(account, biz, missing), json={}, headers=EN),
    ]:
        message = err(resp, 404, 1199019, named)
        assert message.startswith("No relevant data found")
    assert snapshot(db_url) == before


# --- path ids and bodies ------------------------------------------------------------------------

BAD_IDS = ["abc", "0", "-1", "1.5", "99999999999999999999"]


def test_bad_path_ids_are_1199003_naming_the_parameter(client, db_url):
    sid = new_set(client)["bk_set_id"]
    mid = new_module(client, sid, biz=1)["bk_module_id"]
    before = snapshot(db_url)
    set_body, module_body = {"bk_set_name": "x"}, {"bk_module_name": "x"}
    for bad in BAD_IDS:
        cases = [
            ("bk_biz_id", client.post(f"/api/v3/set/{bad}", json=set_body, headers=EN)),
            ("bk_biz_id", client.put(f"/api/v3/set/{bad}/{sid}", json={}, headers=EN)),
            ("bk_set_id", client.put(f"/api/v3/set/1/{bad}", json={}, headers=EN)),
            ("bk_biz_id", client.delete(f"/api/v3/set/{bad}/{sid}", headers=EN)),
            ("bk_set_id", client.delete(f"/api/v3/set/1/{bad}", headers=EN)),
            ("bk_biz_id", client.post(f"/api/v3/set/search/0/{bad}", json={}, headers=EN)),
            ("bk_biz_id", client.post(f"/api/v3/module/{bad}/{sid}", json=module_body)),
            ("bk_set_id", client.post(f"/api/v3/module/1/{bad}", json=module_body)),
            ("bk_biz_id", client.put(f"/api/v3/module/{bad}/{sid}/{mid}", json={})),
            ("bk_set_id", client.put(f"/api/v3/module/1/{bad}/{mid}", json={})),
            ("bk_module_id", client.put(f"/api/v3/module/1/{sid}/{bad}", json={})),
            ("bk_biz_id", client.delete(f"/api/v3/module/{bad}/{sid}/{mid}")),
            ("bk_set_id", client.delete(f"/api/v3/module/1/{bad}/{mid}")),
            ("bk_module_id", client.delete(f"/api/v3/module/1/{sid}/{bad}")),
            ("bk_biz_id", client.post(f"/api/v3/module/search/0/{bad}/{sid}", json={})),
            ("bk_set_id", client.post(f"/api/v3/module/search/0/1/{bad}", json={})),
        ]
        for field, resp in cases:
            refused((bad, field), resp, 400, 1199003, field)
    for bad in ["a b", "x" * 65, "a;b"]:
        for url in [set_search_url(bad, 1), module_search_url(bad, 1, sid)]:
            refused(url, client.post(url, json={}, headers=EN), 400, 1199003, "bk_supplier_account")
    assert snapshot(db_url) == before


BAD_BODIES = [b"", b"{", b"null", b"[]", b'"x"', b"5", b"[{}]", b"{'a': 1}"]


def test_body_must_be_a_json_object(client, db_url):
    sid = new_set(client)["bk_set_id"]
    mid = new_module(client, sid, biz=1)["bk_module_id"]
    before = snapshot(db_url)
    for raw in BAD_BODIES:
        for method, url in [
            (client.post, set_url()),
            (client.put, set_url(1, sid)),
            (client.post, set_search_url()),
            (client.post, module_url(1, sid)),
            (client.put, module_url(1, sid, mid)),
            (client.post, module_search_url("0", 1, sid)),
        ]:
            resp = method(url, data=raw, content_type="application/json", headers=EN)
            refused((raw, url), resp, 400, 1199000)
    assert snapshot(db_url) == before


# --- audit (§5) ---------------------------------------------------------------------------------


def test_set_writes_are_audited(client, db_url):
    acme = {ACCOUNT_HEADER: "acme"}
    resp = client.post(
        set_url(7),
        json=SET_FULL,
        headers={**acme, "BK_User": "alice", "X-Request-Id": "req-set-1"},
    )
    created = ok(resp)
    sid = created["bk_set_id"]
    resp = client.put(set_url(7, sid), json={"bk_capacity": 9}, headers={**acme, "BK-User": "bob"})
    ok(resp)
    update_request = resp.headers["X-Request-Id"]
    updated = get_set(client, sid, account="acme", biz=7)
    resp = client.delete(set_url(7, sid), headers=acme)
    ok(resp)
    delete_request = resp.headers["X-Request-Id"]

    rows = audit_rows(db_url)
    assert [r["op_type"] for r in rows] == [1, 2, 3]
    assert [r["operator"] for r in rows] == ["alice", "bob", "anonymous"]
    assert [r["request_id"] for r in rows] == ["req-set-1", update_request, delete_request]
    for row in rows:
        assert row["op_target"] == "set"
        assert row["inst_id"] == sid
        assert row["bk_supplier_account"] == "acme"
        assert row["bk_biz_id"] == 7
    assert rows[0]["content"] == {"pre_data": {}, "cur_data": created}
    assert rows[1]["content"] == {"pre_data": created, "cur_data": updated}
    assert updated["bk_capacity"] == 9
    assert rows[2]["content"] == {"pre_data": updated, "cur_data": {}}


def test_module_writes_are_audited(client, db_url):
    acme = {ACCOUNT_HEADER: "acme"}
    sid = ok(client.post(set_url(8), json={"bk_set_name": "s"}, headers=acme))["bk_set_id"]
    start = len(audit_rows(db_url))
    headers = {**acme, "BK_User": "alice"}
    created = ok(client.post(module_url(8, sid), json=MODULE_FULL, headers=headers))
    mid = created["bk_module_id"]
    ok(client.put(module_url(8, sid, mid), json={"operator": "dave"}, headers=headers))
    updated = get_module(client, sid, mid, account="acme", biz=8)
    ok(client.delete(module_url(8, sid, mid), headers=acme))

    rows = audit_rows(db_url)[start:]
    assert [r["op_type"] for r in rows] == [1, 2, 3]
    assert [r["operator"] for r in rows] == ["alice", "alice", "anonymous"]
    for row in rows:
        assert row["op_target"] == "module"
        assert row["inst_id"] == mid
        assert row["bk_supplier_account"] == "acme"
        assert row["bk_biz_id"] == 8
    assert rows[0]["content"] == {"pre_data": {}, "cur_data": created}
    assert rows[1]["content"] == {"pre_data": created, "cur_data": updated}
    assert updated["operator"] == "dave"
    assert rows[2]["content"] == {"pre_data": updated, "cur_data": {}}


def test_failed_topology_writes_write_nothing(client, db_url):
    a = new_set(client, bk_set_name="a")["bk_set_id"]
    new_set(client, bk_set_name="b")
    mid = new_module(client, a, biz=1, bk_module_name="web")["bk_module_id"]
    new_module(client, a, biz=1, bk_module_name="db")
    before = snapshot(db_url)
    failures = [
        (409, client.post(set_url(), json={"bk_set_name": "a"})),
        (409, client.put(set_url(1, a), json={"bk_set_name": "b"})),
        (400, client.post(set_url(), json={"bk_set_name": "c", "bk_capacity": 0})),
        (400, client.put(set_url(1, a), json={"bk_set_env": "9"})),
        (404, client.put(set_url(1, a + 100), json={})),
        (404, client.delete(set_url(1, a + 100))),
        (409, client.post(module_url(1, a), json={"bk_module_name": "web"})),
        (409, client.put(module_url(1, a, mid), json={"bk_module_name": "db"})),
        (400, client.post(module_url(1, a), json={"bk_module_name": "x", "default": 3})),
        (400, client.put(module_url(1, a, mid), json={"bk_module_type": "5"})),
        (404, client.put(module_url(1, a, mid + 100), json={})),
        (404, client.delete(module_url(1, a, mid + 100))),
        (404, client.post(module_url(1, a + 100), json={"bk_module_name": "x"})),
    ]
    assert [r.status_code for _, r in failures] == [s for s, _ in failures]
    assert snapshot(db_url) == before


# --- concurrency ------------------------------------------------------------------------------


def test_concurrent_creates_of_one_name_make_one_set_and_one_module(app, client, db_url):
    post = lambda url, body: lambda c: c.post(url, json=body)  # noqa: E731
    results = race(app, [post(set_url(), {"bk_set_name": "same"})] * 4)
    assert sorted(status for status, _ in results) == [200, 409, 409, 409], results
    assert all(b["bk_error_code"] == 1199014 for s, b in results if s == 409), results
    (only,) = find_sets(client)["info"]
    sid = only["bk_set_id"]

    results = race(app, [post(module_url(1, sid), {"bk_module_name": "m"})] * 4)
    assert sorted(status for status, _ in results) == [200, 409, 409, 409], results
    assert find_modules(client, sid)["count"] == 1
    assert [r["op_target"] for r in audit_rows(db_url)] == ["set", "module"]


def test_delete_set_racing_create_module_leaves_no_module_behind(app, client, db_url):
    for round_ in range(3):
        sid = new_set(client, biz=2)["bk_set_id"]
        start = len(audit_rows(db_url))
        results = race(
            app,
            [
                lambda c, sid=sid: c.post(module_url(2, sid), json={"bk_module_name": "m"}),
                lambda c, sid=sid: c.delete(set_url(2, sid)),
            ],
        )
        (created, _), (deleted, _) = results
        assert deleted == 200 and created in (200, 404), (round_, results)
        engine = create_engine(db_url)
        try:
            with engine.connect() as conn:
                left = conn.execute(text("SELECT count(*) FROM modules")).scalar()
        finally:
            engine.dispose()
        assert left == 0, (round_, results)
        new = [(r["op_target"], r["op_type"]) for r in audit_rows(db_url)[start:]]
        if created == 200:  # created first, then deleted with its set, each audited
            assert sorted(new) == [("module", 1), ("module", 3), ("set", 3)], new
        else:
            assert new == [("set", 3)], new


# --- process bindings survive module deletes and renames ----------------------------------------


def bindings_of(client, biz, pid) -> list[dict]:
    return ok(client.get(f"/api/v3/proc/module/0/{biz}/{pid}"))


def count_bindings(db_url) -> int:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM process_bindings")).scalar()
    finally:
        engine.dispose()


def test_module_deletes_and_renames_never_touch_bindings(client, db_url):
    biz = 3
    a = new_set(client, biz=biz, bk_set_name="a")["bk_set_id"]
    b = new_set(client, biz=biz, bk_set_name="b")["bk_set_id"]
    web_a = new_module(client, a, biz=biz, bk_module_name="web")["bk_module_id"]
    new_module(client, b, biz=biz, bk_module_name="web")
    db_a = new_module(client, a, biz=biz, bk_module_name="db")["bk_module_id"]
    body = {"bk_process_name": "nginx", "bk_func_name": "nginx"}
    pid = ok(client.post(f"/api/v3/proc/0/{biz}", json=body))["bk_process_id"]
    ok(client.put(f"/api/v3/proc/module/0/{biz}/{pid}/web"))
    assert bindings_of(client, biz, pid) == [
        {"bk_module_name": "web", "set_num": 2, "is_bind": 1},
        {"bk_module_name": "db", "set_num": 1, "is_bind": 0},
    ]

    ok(client.delete(module_url(biz, a, web_a)))
    assert bindings_of(client, biz, pid) == [
        {"bk_module_name": "web", "set_num": 1, "is_bind": 1},
        {"bk_module_name": "db", "set_num": 1, "is_bind": 0},
    ]
    # deleting the set that holds the last "web" module keeps the binding, with set_num 0
    ok(client.delete(set_url(biz, b)))
    assert bindings_of(client, biz, pid) == [
        {"bk_module_name": "db", "set_num": 1, "is_bind": 0},
        {"bk_module_name": "web", "set_num": 0, "is_bind": 1},
    ]
    assert count_bindings(db_url) == 1

    # renaming a bound module: the binding stays with the old name
    ok(client.put(f"/api/v3/proc/module/0/{biz}/{pid}/db"))
    ok(client.put(module_url(biz, a, db_a), json={"bk_module_name": "database"}))
    listed = bindings_of(client, biz, pid)
    assert listed[0] == {"bk_module_name": "database", "set_num": 1, "is_bind": 0}
    # orphaned bindings come after the others; their order among themselves is not specified
    orphans = sorted(listed[1:], key=lambda e: e["bk_module_name"])
    assert orphans == [
        {"bk_module_name": "db", "set_num": 0, "is_bind": 1},
        {"bk_module_name": "web", "set_num": 0, "is_bind": 1},
    ]
    assert count_bindings(db_url) == 2
    # a new module with the old name picks the binding up again
    new_module(client, a, biz=biz, bk_module_name="web")
    assert {"bk_module_name": "web", "set_num": 1, "is_bind": 1} in bindings_of(client, biz, pid)


def test_only_normal_modules_are_listed_for_binding(client):
    sid = new_set(client)["bk_set_id"]
    new_module(client, sid, biz=1, bk_module_name="idle", default=1)
    new_module(client, sid, biz=1, bk_module_name="fault", default=2)
    new_module(client, sid, biz=1, bk_module_name="web")
    body = {"bk_process_name": "nginx", "bk_func_name": "nginx"}
    pid = ok(client.post("/api/v3/proc/0/1", json=body))["bk_process_id"]
    assert bindings_of(client, 1, pid) == [{"bk_module_name": "web", "set_num": 1, "is_bind": 0}]
    resp = client.put(f"/api/v3/proc/module/0/1/{pid}/idle", headers=EN)
    err(resp, 404, 1199019, "idle")


# --- search_set ---------------------------------------------------------------------------------


@pytest.fixture
def six_sets(client) -> dict[str, dict]:
    """Six sets of business 1 (in creation order, so ids ascending), and noise elsewhere."""
    rows = [
        {"bk_set_name": "alpha", "bk_set_env": "1", "bk_service_status": "1", "bk_capacity": 10},
        {"bk_set_name": "beta", "bk_set_env": "2", "bk_service_status": "2", "bk_capacity": 50},
        {"bk_set_name": "gamma", "bk_set_env": "3", "bk_service_status": "1"},
        {"bk_set_name": "delta", "bk_set_env": "1", "bk_service_status": "2", "bk_capacity": 50},
        {"bk_set_name": "web", "bk_set_desc": "web front", "bk_capacity": 5},
        {"bk_set_name": "idle pool", "default": 1},
    ]
    made = {row["bk_set_name"]: new_set(client, **row) for row in rows}
    new_set(client, biz=2, bk_set_name="alpha")
    new_set(client, account="acme", bk_set_name="alpha")
    return made


ALL6 = {"alpha", "beta", "gamma", "delta", "web", "idle pool"}
SET_CONDITIONS = [
    ({}, ALL6),
    ({"bk_set_name": "alpha"}, {"alpha"}),
    ({"bk_set_name": "a"}, set()),  # equality, not a substring
    ({"bk_set_name": "we"}, set()),
    ({"bk_set_name": "Alpha"}, set()),
    ({"bk_set_env": 1}, {"alpha", "delta"}),
    ({"bk_set_env": "3"}, {"gamma", "web", "idle pool"}),
    ({"bk_capacity": "50"}, {"beta", "delta"}),
    ({"bk_set_desc": "web front"}, {"web"}),
    ({"default": 1}, {"idle pool"}),
    ({"bk_set_env": "1", "bk_service_status": 2}, {"delta"}),  # keys are ANDed
    ({"bk_set_name": {"$eq": "beta"}}, {"beta"}),
    ({"bk_service_status": {"$ne": "1"}}, {"beta", "delta"}),
    ({"bk_set_name": {"$in": ["alpha", "web", "nope"]}}, {"alpha", "web"}),
    ({"bk_set_env": {"$nin": ["1", 2]}}, {"gamma", "web", "idle pool"}),
    ({"bk_capacity": {"$gt": 10}}, {"beta", "delta"}),
    ({"bk_capacity": {"$gte": 10}}, {"alpha", "beta", "delta"}),
    ({"bk_capacity": {"$lt": 50}}, {"alpha", "web"}),
    ({"bk_capacity": {"$lte": "10"}}, {"alpha", "web"}),
    ({"bk_capacity": {"$gt": 5, "$lt": 50}}, {"alpha"}),
    ({"bk_set_name": {"$gt": "d", "$lte": "gamma"}}, {"delta", "gamma"}),
    ({"bk_set_name": {"$regex": "^[a-d]"}}, {"alpha", "beta", "delta"}),
    ({"bk_set_name": {"$regex": "a$"}}, {"alpha", "beta", "gamma", "delta"}),
    ({"bk_set_name": {"$regex": "^A"}}, set()),  # case-sensitive
    ({"bk_set_name": {"$regex": " "}}, {"idle pool"}),
    ({"bk_set_env": {"$in": [1]}, "bk_capacity": {"$ne": 10}}, {"delta"}),
]


def test_search_set_conditions(client, six_sets):
    for condition, expected in SET_CONDITIONS:
        assert set_names(client, condition) == expected, condition
    ids = {name: s["bk_set_id"] for name, s in six_sets.items()}
    assert set_names(client, {"bk_set_id": ids["beta"]}) == {"beta"}
    assert set_names(client, {"bk_set_id": {"$in": [ids["alpha"], ids["web"]]}}) == {
        "alpha",
        "web",
    }
    assert set_names(client, {"bk_set_id": {"$gt": ids["web"]}}) == {"idle pool"}


def test_search_set_returns_full_sets_in_id_order(client, six_sets):
    data = find_sets(client)
    assert data["count"] == 6
    assert data["info"] == list(six_sets.values())
    assert all(list(s) == SET_FIELDS for s in data["info"])
    # the other business and account see only their own
    assert set_names(client, {}, biz=2) == {"alpha"}
    assert set_names(client, {}, account="acme") == {"alpha"}
    assert find_sets(client, biz=3) == {"count": 0, "info": []}


def test_search_set_ignores_business_and_account_in_the_condition(client, six_sets):
    for condition in [
        {"bk_biz_id": 2},
        {"bk_biz_id": "2"},
        {"bk_supplier_account": "acme"},
        {"bk_biz_id": 2, "bk_supplier_account": "acme"},
    ]:
        assert set_names(client, condition) == ALL6, condition
    assert set_names(client, {"bk_biz_id": 1, "bk_set_name": "alpha"}, biz=2) == {"alpha"}


def test_search_set_sort_page_and_fields(client, six_sets):
    def order(sort, **page):
        info = find_sets(client, {"page": {"sort": sort, **page}})["info"]
        return [s["bk_set_name"] for s in info]

    assert order("") == list(six_sets)
    assert order("bk_set_name") == ["alpha", "beta", "delta", "gamma", "idle pool", "web"]
    assert order("-bk_set_name") == ["web", "idle pool", "gamma", "delta", "beta", "alpha"]
    # ties are broken by bk_set_id ascending, whichever direction the sort goes
    assert order("bk_set_env") == ["alpha", "delta", "beta", "gamma", "web", "idle pool"]
    assert order("-bk_set_env") == ["gamma", "web", "idle pool", "beta", "alpha", "delta"]
    assert order("bk_service_status,-bk_set_name") == [
        "web", "idle pool", "gamma", "alpha", "delta", "beta",
    ]  # fmt: skip
    # paging; count is independent of the page
    page = find_sets(client, {"page": {"sort": "bk_set_env", "start": 1, "limit": 2}})
    assert page["count"] == 6
    assert [s["bk_set_name"] for s in page["info"]] == ["delta", "beta"]
    page = find_sets(client, {"page": {"start": "4", "limit": "10"}})
    assert page["count"] == 6 and [s["bk_set_name"] for s in page["info"]] == ["web", "idle pool"]
    assert find_sets(client, {"page": {"start": 6}}) == {"count": 6, "info": []}
    narrowed = find_sets(client, {"condition": {"bk_set_env": "3"}, "page": {"limit": 1}})
    assert narrowed["count"] == 3 and len(narrowed["info"]) == 1
    assert len(find_sets(client, {"page": {"limit": 200}})["info"]) == 6
    # fields
    full = six_sets["beta"]
    body = {"condition": {"bk_set_name": "beta"}, "fields": ["bk_set_name", "bk_capacity"]}
    assert find_sets(client, body)["info"] == [{"bk_set_name": "beta", "bk_capacity": 50}]
    body["fields"] = ["bk_set_id", "bk_supplier_account", "create_time", "last_time"]
    assert find_sets(client, body)["info"] == [{k: full[k] for k in body["fields"]}]
    body["fields"] = []
    assert find_sets(client, body)["info"] == [full]


def test_search_set_refusals(client, db_url, six_sets):
    before = snapshot(db_url)
    url = set_search_url()
    cases = [
        ({"condition": {"foo": 1}}, 400, 1199011, "foo"),
        ({"condition": {"bk_module_name": "web"}}, 400, 1199011, "bk_module_name"),
        ({"condition": {"bk_process_id": 1}}, 400, 1199011, "bk_process_id"),
        ({"condition": {"BK_SET_NAME": "alpha"}}, 400, 1199011, "BK_SET_NAME"),
        ({"fields": ["bk_set_name", "foo"]}, 400, 1199011, "foo"),
        ({"fields": ["bk_module_id"]}, 400, 1199011, "bk_module_id"),
        ({"page": {"sort": "foo"}}, 400, 1199011, "foo"),
        ({"page": {"sort": "-foo"}}, 400, 1199011, "foo"),
        ({"page": {"sort": "bk_set_name,bk_module_name"}}, 400, 1199011, "bk_module_name"),
        ({"page": {"limit": 201}}, 400, 1199015, "limit"),
        ({"page": {"limit": "1000"}}, 400, 1199015, "limit"),
        ({"page": {"start": -1}}, 400, 1199006, "start"),
        ({"page": {"start": "x"}}, 400, 1199009, "start"),
        ({"condition": {"bk_capacity": "abc"}}, 400, 1199009, "bk_capacity"),
        ({"condition": {"bk_set_name": 5}}, 400, 1199007, "bk_set_name"),
        ({"condition": {"bk_set_name": {"$like": "a"}}}, 400, 1199006, "bk_set_name"),
    ]
    for body, status, code, field in cases:
        refused(body, client.post(url, json=body, headers=EN), status, code, field)
    # an operand of the wrong type: the §2 error or 1199006 (§3 allows either), naming it
    resp = client.post(url, json={"condition": {"bk_capacity": {"$gt": "big"}}}, headers=EN)
    body = resp.get_json()
    assert resp.status_code == 400 and body["bk_error_code"] in (1199006, 1199009), body
    assert "bk_capacity" in body["bk_error_msg"], body
    assert snapshot(db_url) == before


SQLISH = [
    "bk_set_name; DROP TABLE sets",
    "1=1",
    "bk_set_id desc",
    "(select 1)",
    "bk_set_name--",
    "bk_set_name OR 1=1",
    "bk_set_id); DELETE FROM modules; --",
    '"bk_set_name"',
]


def test_search_refuses_injection_looking_keys(client, db_url, six_sets):
    sid = six_sets["alpha"]["bk_set_id"]
    new_module(client, sid, biz=1, bk_module_name="web")
    before = snapshot(db_url)
    for sql in SQLISH:
        for url, name in [
            (set_search_url(), "bk_set_name"),
            (module_search_url("0", 1, sid), "bk_module_name"),
        ]:
            bodies = [
                {"condition": {sql: "x"}},
                {"condition": {name: "alpha", sql: {"$eq": 1}}},
                {"fields": [sql]},
                {"fields": [name, sql]},
            ]
            for body in bodies:
                refused((url, body), client.post(url, json=body, headers=EN), 400, 1199011, sql)
            for sort in [sql, f"bk_set_id,{sql}", f"-{sql}"]:
                resp = client.post(url, json={"page": {"sort": sort}}, headers=EN)
                refused((url, sort), resp, 400, 1199011)
    # values are just data
    tricky = "x' OR '1'='1"
    assert set_names(client, {"bk_set_name": tricky}) == set()
    assert set_names(client, {"bk_set_name": {"$in": [tricky, "'; DROP TABLE sets; --"]}}) == set()
    assert snapshot(db_url) == before
    assert find_sets(client)["count"] == 6
    assert module_names(client, sid, {}) == {"web"}


# --- search_module ------------------------------------------------------------------------------


@pytest.fixture
def modules_in_a_set(client) -> tuple[int, int, dict[str, dict]]:
    """Set A with four modules (creation order), set B with a "web" module, noise elsewhere."""
    a = new_set(client, bk_set_name="A")["bk_set_id"]
    b = new_set(client, bk_set_name="B")["bk_set_id"]
    rows = [
        {"bk_module_name": "web", "operator": "alice"},
        {"bk_module_name": "db", "bk_module_type": "2", "operator": "bob"},
        {"bk_module_name": "cache", "bk_bak_operator": "carol"},
        {"bk_module_name": "idle", "default": 1},
    ]
    made = {row["bk_module_name"]: new_module(client, a, biz=1, **row) for row in rows}
    new_module(client, b, biz=1, bk_module_name="web")
    new_module(client, b, biz=1, bk_module_name="queue")
    c = new_set(client, biz=2, bk_set_name="A")["bk_set_id"]
    new_module(client, c, biz=2, bk_module_name="web")
    return a, b, made


ALL4 = {"web", "db", "cache", "idle"}
MODULE_CONDITIONS = [
    ({}, ALL4),
    ({"bk_module_name": "web"}, {"web"}),
    ({"bk_module_name": "we"}, set()),  # equality, not a substring
    ({"bk_module_name": "queue"}, set()),  # in the other set
    ({"bk_module_type": 2}, {"db"}),
    ({"bk_module_type": "1"}, {"web", "cache", "idle"}),
    ({"operator": "alice"}, {"web"}),
    ({"bk_bak_operator": "carol"}, {"cache"}),
    ({"default": "1"}, {"idle"}),
    ({"operator": {"$ne": ""}}, {"web", "db"}),
    ({"bk_module_name": {"$eq": "db"}}, {"db"}),
    ({"bk_module_name": {"$in": ["web", "db", "queue"]}}, {"web", "db"}),
    ({"bk_module_name": {"$nin": ["web"]}}, {"db", "cache", "idle"}),
    ({"bk_module_name": {"$gt": "cache"}}, {"db", "idle", "web"}),
    ({"bk_module_name": {"$gte": "db", "$lt": "web"}}, {"db", "idle"}),
    ({"bk_module_name": {"$lte": "db"}}, {"cache", "db"}),
    ({"bk_module_name": {"$regex": "e$"}}, {"cache", "idle"}),
    ({"bk_module_name": {"$regex": "^W"}}, set()),
    ({"default": {"$gt": 0}}, {"idle"}),
    ({"default": {"$lte": 0}, "bk_module_type": {"$ne": "2"}}, {"web", "cache"}),
]


def test_search_module_conditions(client, modules_in_a_set):
    a, _, made = modules_in_a_set
    for condition, expected in MODULE_CONDITIONS:
        assert module_names(client, a, condition) == expected, condition
    assert module_names(client, a, {"bk_module_id": made["db"]["bk_module_id"]}) == {"db"}
    ids = [made["web"]["bk_module_id"], made["idle"]["bk_module_id"]]
    assert module_names(client, a, {"bk_module_id": {"$in": ids}}) == {"web", "idle"}


def test_search_module_returns_the_sets_modules_in_id_order(client, modules_in_a_set):
    a, b, made = modules_in_a_set
    data = find_modules(client, a)
    assert data["count"] == 4
    assert data["info"] == list(made.values())
    assert all(list(m) == MODULE_FIELDS for m in data["info"])
    assert module_names(client, b, {}) == {"web", "queue"}
    # another account does not see the set at all
    resp = client.post(module_search_url("acme", 1, a), json={}, headers=EN)
    err(resp, 404, 1199019, f"bk_set_id {a}")
    resp = client.post(module_search_url("0", 2, a), json={}, headers=EN)
    err(resp, 404, 1199019, f"bk_set_id {a}")


def test_search_module_ignores_business_account_and_set_in_the_condition(client, modules_in_a_set):
    a, b, _ = modules_in_a_set
    for condition in [
        {"bk_set_id": b},
        {"bk_set_id": str(b)},
        {"bk_biz_id": 2},
        {"bk_supplier_account": "acme"},
        {"bk_biz_id": 2, "bk_supplier_account": "acme", "bk_set_id": b},
    ]:
        assert module_names(client, a, condition) == ALL4, condition
    assert module_names(client, b, {"bk_set_id": a, "bk_module_name": "web"}) == {"web"}


def test_search_module_sort_page_and_fields(client, modules_in_a_set):
    a, _, made = modules_in_a_set

    def order(sort, **page):
        info = find_modules(client, a, {"page": {"sort": sort, **page}})["info"]
        return [m["bk_module_name"] for m in info]

    assert order("") == ["web", "db", "cache", "idle"]
    assert order("bk_module_name") == ["cache", "db", "idle", "web"]
    assert order("-bk_module_name") == ["web", "idle", "db", "cache"]
    assert order("bk_module_type") == ["web", "cache", "idle", "db"]  # ties by id
    assert order("-bk_module_type") == ["db", "web", "cache", "idle"]
    assert order("default,-operator") == ["db", "web", "cache", "idle"]
    page = find_modules(client, a, {"page": {"sort": "bk_module_name", "start": 1, "limit": 2}})
    assert page["count"] == 4 and [m["bk_module_name"] for m in page["info"]] == ["db", "idle"]
    body = {"condition": {"bk_module_name": "db"}, "fields": ["bk_module_id", "operator"]}
    expected = {"bk_module_id": made["db"]["bk_module_id"], "operator": "bob"}
    assert find_modules(client, a, body)["info"] == [expected]


def test_search_module_refusals(client, db_url, modules_in_a_set):
    a, _, _ = modules_in_a_set
    before = snapshot(db_url)
    url = module_search_url("0", 1, a)
    cases = [
        ({"condition": {"foo": 1}}, 1199011, "foo"),
        ({"condition": {"bk_set_name": "A"}}, 1199011, "bk_set_name"),
        ({"condition": {"bk_process_name": "x"}}, 1199011, "bk_process_name"),
        ({"fields": ["bk_set_name"]}, 1199011, "bk_set_name"),
        ({"fields": ["bk_module_name", "foo"]}, 1199011, "foo"),
        ({"page": {"sort": "bk_set_name"}}, 1199011, "bk_set_name"),
        ({"page": {"sort": "-foo"}}, 1199011, "foo"),
        ({"page": {"limit": 201}}, 1199015, "limit"),
        ({"condition": {"default": "x"}}, 1199009, "default"),
        ({"condition": {"operator": 5}}, 1199007, "operator"),
        ({"condition": {"bk_module_name": {"$where": "1"}}}, 1199006, "bk_module_name"),
    ]
    for body, code, field in cases:
        refused(body, client.post(url, json=body, headers=EN), 400, code, field)
    assert snapshot(db_url) == before


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # SQLite serialises writers
def test_delete_set_audits_a_module_as_a_concurrent_rename_left_it(app, client, db_url):
    """delete_set locks the set's modules before reading them: a rename that commits while it
    waits is what its audit row records, not the name from before the rename."""
    import psycopg

    set_id = ok(client.post("/api/v3/set/1", json={"bk_set_name": "s"}))["bk_set_id"]
    module = ok(client.post(f"/api/v3/module/1/{set_id}", json={"bk_module_name": "old"}))
    answers = {}

    def delete():
        answers["delete"] = app.test_client().delete(f"/api/v3/set/1/{set_id}")

    with psycopg.connect(libpq(db_url)) as other:  # a rename in flight holds the module's row lock
        other.execute(
            "UPDATE modules SET bk_module_name = 'new' WHERE bk_module_id = %s",
            (module["bk_module_id"],),
        )
        worker = threading.Thread(target=delete)
        worker.start()
        wait_until_a_session_waits_for_a_lock(db_url)
        other.commit()
        worker.join(timeout=30)
    ok(answers["delete"])
    deleted = [r for r in audit_rows(db_url) if r["op_type"] == 3 and r["op_target"] == "module"]
    assert [r["content"]["pre_data"]["bk_module_name"] for r in deleted] == ["new"]
