"""create_set and update_set (docs/api.md §6): stored values, validation, null and partial updates,
uniqueness.
"""

from __future__ import annotations

import pytest

from .dbkit import snapshot
from .kit import EN, ISO_TIME, SET_FULL, ZH, err, new_set, ok, refused, set_url
from .support.topology import (
    SET_DEFAULTS,
    SET_FIELDS,
    find_sets,
    get_set,
    rejected,
    set_names,
    target_url,
)

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
