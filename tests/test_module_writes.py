"""create_module, update_module and delete_module (docs/api.md §6): values, validation, uniqueness,
not found.
"""

from __future__ import annotations

import pytest

from .dbkit import snapshot
from .kit import (
    EN,
    ISO_TIME,
    MODULE_FULL,
    err,
    module_search_url,
    module_url,
    new_module,
    new_set,
    ok,
    refused,
)
from .support.topology import (
    MODULE_DEFAULTS,
    MODULE_FIELDS,
    find_modules,
    get_module,
    get_set,
    hdr,
    module_names,
    rejected,
    target_url,
)

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
