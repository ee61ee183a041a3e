"""Process create and update (docs/api.md §2): defaults, every code, order, lengths, ports, enums,
partial updates.
"""

from __future__ import annotations

import itertools

import pytest

from .dbkit import snapshot
from .kit import (
    EN,
    FULL,
    REQUIRED,
    SYSTEM_FIELDS,
    create,
    detail,
    ok,
    proc_url,
    refused_cleanly,
    search,
    search_one,
)
from .support.validation import (
    DEFAULTS,
    ENUMS,
    INTS,
    LONGCHAR,
    OPS,
    OPTIONAL_STRINGS,
    ORDER,
    SINGLECHAR,
    write_ok,
    write_rejected,
)

# --- defaults on create ---------------------------------------------------------------------------


def test_create_fills_every_absent_attribute(client):
    pid = create(client, biz=7)
    rows = ok(client.get(proc_url(biz=7, pid=pid), headers=EN))
    assert [row["bk_property_id"] for row in rows] == ORDER
    expected = {"bk_biz_id": 7, **REQUIRED, **DEFAULTS}
    assert {row["bk_property_id"]: row["bk_property_value"] for row in rows} == expected

    process = search_one(client, pid, biz=7)
    assert set(process) == set(ORDER) | set(SYSTEM_FIELDS)
    assert {k: process[k] for k in ORDER} == expected
    assert process["bk_process_id"] == pid and process["bk_supplier_account"] == "0"


def test_create_with_null_optional_attributes_stores_the_defaults(client):
    body = {**REQUIRED, **dict.fromkeys(DEFAULTS)}
    pid = ok(client.post(proc_url(), json=body))["bk_process_id"]
    assert {k: v for k, v in detail(client, pid).items() if k in DEFAULTS} == DEFAULTS


def test_create_stores_every_attribute_as_sent(client):
    pid = ok(client.post(proc_url(), json=FULL))["bk_process_id"]
    assert detail(client, pid) == {"bk_biz_id": 1, **FULL}
    assert {k: v for k, v in search_one(client, pid).items() if k in FULL} == FULL


# --- every code, with its field named -------------------------------------------------------------

CODE_CASES = [
    # unknown key and the system fields: 1199011
    ({"foo": 1}, 1199011, "foo"),
    ({"bk_process_name_x": "a"}, 1199011, "bk_process_name_x"),
    *[({name: 1}, 1199011, name) for name in SYSTEM_FIELDS],
    ({"create_time": "2026-01-01T00:00:00+00:00"}, 1199011, "create_time"),
    # string expected: 1199007
    ({"bk_process_name": 1}, 1199007, "bk_process_name"),
    ({"description": 5}, 1199007, "description"),
    ({"description": True}, 1199007, "description"),
    ({"user": ["root"]}, 1199007, "user"),
    ({"bk_func_id": {"a": 1}}, 1199007, "bk_func_id"),
    ({"work_path": 1.5}, 1199007, "work_path"),
    ({"bk_start_param_regex": False}, 1199007, "bk_start_param_regex"),
    ({"port": True}, 1199007, "port"),
    ({"port": [80]}, 1199007, "port"),
    ({"port": 80.5}, 1199007, "port"),
    ({"bind_ip": True}, 1199007, "bind_ip"),
    ({"protocol": ["1"]}, 1199007, "protocol"),
    # too long: 1199015
    ({"description": "a" * 257}, 1199015, "description"),
    ({"bk_process_name": "a" * 257}, 1199015, "bk_process_name"),
    ({"start_cmd": "a" * 2001}, 1199015, "start_cmd"),
    # bad port: 1199016
    ({"port": "80;81"}, 1199016, "port"),
    ({"port": 0}, 1199016, "port"),
    ({"port": 65536}, 1199016, "port"),
    # int expected: 1199009
    ({"proc_num": True}, 1199009, "proc_num"),
    ({"priority": False}, 1199009, "priority"),
    ({"timeout": 1.5}, 1199009, "timeout"),
    ({"auto_time_gap": "abc"}, 1199009, "auto_time_gap"),
    ({"proc_num": "1.5"}, 1199009, "proc_num"),
    ({"proc_num": ""}, 1199009, "proc_num"),
    ({"proc_num": " 5"}, 1199009, "proc_num"),
    ({"proc_num": [1]}, 1199009, "proc_num"),
    ({"proc_num": {"n": 1}}, 1199009, "proc_num"),
    # out of range / not an enum option: 1199006
    ({"proc_num": 0}, 1199006, "proc_num"),
    ({"proc_num": 10001}, 1199006, "proc_num"),
    ({"priority": -1}, 1199006, "priority"),
    ({"timeout": 10**30}, 1199006, "timeout"),
    ({"auto_time_gap": "10001"}, 1199006, "auto_time_gap"),
    ({"bind_ip": "5"}, 1199006, "bind_ip"),
    ({"bind_ip": 5}, 1199006, "bind_ip"),
    ({"bind_ip": "127.0.0.1"}, 1199006, "bind_ip"),
    ({"protocol": "3"}, 1199006, "protocol"),
    ({"protocol": "TCP"}, 1199006, "protocol"),
    # bool expected: 1199025
    ({"auto_start": 1}, 1199025, "auto_start"),
    ({"auto_start": 0}, 1199025, "auto_start"),
    ({"auto_start": "true"}, 1199025, "auto_start"),
    ({"auto_start": "false"}, 1199025, "auto_start"),
    # required null or "": 1199010
    ({"bk_process_name": None}, 1199010, "bk_process_name"),
    ({"bk_process_name": ""}, 1199010, "bk_process_name"),
    ({"bk_func_name": None}, 1199010, "bk_func_name"),
    ({"bk_func_name": ""}, 1199010, "bk_func_name"),
]


@pytest.mark.parametrize("code", sorted({code for _, code, _ in CODE_CASES}))
def test_invalid_attribute_is_refused_naming_it(client, db_url, code):
    for body, field in [(b, f) for b, c, f in CODE_CASES if c == code]:
        for op in OPS:
            message = write_rejected(client, db_url, op, body, 400, code, field)
            assert message.startswith(f"'{field}' "), message


@pytest.mark.parametrize("missing", ["bk_process_name", "bk_func_name"])
def test_create_without_a_required_attribute(client, db_url, missing):
    body = {k: v for k, v in REQUIRED.items() if k != missing}
    write_rejected(client, db_url, "create", body, 400, 1199010, missing, complete=False)


def test_create_with_an_empty_object_names_the_first_required_attribute(client, db_url):
    write_rejected(client, db_url, "create", {}, 400, 1199010, "bk_process_name", complete=False)


def test_update_need_not_repeat_required_attributes(client):
    pid = create(client)
    ok(client.put(proc_url(pid=pid), json={"description": "only this"}))
    assert detail(client, pid)["bk_process_name"] == "nginx"


@pytest.mark.parametrize("name", INTS)
def test_int_accepts_bounds_and_digit_strings(client, name):
    for op in OPS:
        pid = None
        for sent, stored in [(1, 1), (10000, 10000), ("5", 5), ("10000", 10000)]:
            pid = write_ok(client, op, {name: sent}, pid)
            assert detail(client, pid)[name] == stored, (op, sent)
            assert search_one(client, pid)[name] == stored, (op, sent)


@pytest.mark.parametrize("op", ["create", "update"])
def test_bk_biz_id_in_the_body_is_ignored(client, op):
    if op == "create":
        pid = ok(client.post(proc_url(biz=3), json={**REQUIRED, "bk_biz_id": 999}))
        pid = pid["bk_process_id"]
    else:
        pid = create(client, biz=3)
        assert ok(client.put(proc_url(biz=3, pid=pid), json={"bk_biz_id": 999})) == "success"
    # even a value that would not be valid as bk_biz_id is not an error
    ok(client.put(proc_url(biz=3, pid=pid), json={"bk_biz_id": "abc", "user": "u"}))
    assert detail(client, pid, biz=3)["bk_biz_id"] == 3
    assert ok(search(client, biz=999))["count"] == 0
    refused_cleanly(client.get(proc_url(biz=999, pid=pid)), 404, 1199019)


# --- validation order -----------------------------------------------------------------------------

ORDER_CASES = [
    # an unknown key (sent first) and a bad attribute: the attribute is reported
    ({"zzz": 1, "port": "0"}, 1199016, "port"),
    ({"bk_process_id": 5, "description": 1}, 1199007, "description"),
    ({"last_time": "x", "auto_start": "yes"}, 1199025, "auto_start"),
    # two bad attributes: the earlier one in §2 order, whatever the body's key order
    ({"proc_num": 0, "port": "0"}, 1199016, "port"),
    ({"auto_start": 1, "description": 5}, 1199007, "description"),
    ({"bk_start_param_regex": 1, "auto_time_gap": 0, "timeout": "x"}, 1199009, "timeout"),
    ({"protocol": "9", "bind_ip": "9"}, 1199006, "bind_ip"),
    ({"work_path": "a" * 2001, "bk_func_name": ""}, 1199010, "bk_func_name"),
]


@pytest.mark.parametrize(("body", "code", "field"), ORDER_CASES)
def test_first_failure_in_table_order_then_unknown_keys(client, db_url, body, code, field):
    for op in OPS:
        message = write_rejected(client, db_url, op, body, 400, code, field)
        others = {k for k in body if k != field}
        assert not any(f"'{k}'" in message for k in others), message


def test_missing_required_attribute_comes_before_later_failures(client, db_url):
    # bk_process_name (#2) is missing; port (#5) is bad: #2 is reported
    body = {"port": "0", "bk_func_name": "x"}
    write_rejected(client, db_url, "create", body, 400, 1199010, "bk_process_name", complete=False)
    # bk_func_name (#8) is missing; port (#5) is bad: #5 is reported
    body = {"bk_process_name": "x", "port": "0"}
    write_rejected(client, db_url, "create", body, 400, 1199016, "port", complete=False)


# --- string lengths in characters -----------------------------------------------------------------

# "进" is 3 bytes and "𠀀" (outside the BMP) 4 bytes in UTF-8: the limits count characters.
LENGTH_CASES = [(name, 256) for name in SINGLECHAR if name != "port"] + [
    (name, 2000) for name in LONGCHAR
]


@pytest.mark.parametrize(("name", "limit"), LENGTH_CASES)
def test_string_limit_counts_characters(client, db_url, name, limit):
    for op, char in itertools.product(OPS, ("进", "𠀀", "a")):
        longest = char * limit
        pid = write_ok(client, op, {name: longest})
        assert detail(client, pid)[name] == longest, (op, char)
        assert search_one(client, pid)[name] == longest, (op, char)
        ok(client.delete(proc_url(pid=pid)))  # frees the value for the next round
        write_rejected(client, db_url, op, {name: char * (limit + 1)}, 400, 1199015, name)


# --- port grammar ---------------------------------------------------------------------------------

PORTS_OK = ["80", "8080-8089", "8080-8089,8199", "1,2,3", "1", "65535", "1-65535", "80-80"]
PORTS_BAD = [
    "0", "65536", "080", "80,", "80 ,81", "80;81", "90-80", "a",
    " 80", "80 ", ",80", "80-", "-80", "80--81", "80-0", "1-65536", "00", "8o", "80,,81",
]  # fmt: skip


def test_ports_that_pass(client):
    for op, port in itertools.product(OPS, PORTS_OK):
        pid = write_ok(client, op, {"port": port})
        assert detail(client, pid)["port"] == port, (op, port)


def test_ports_that_fail(client, db_url):
    for op, port in itertools.product(OPS, PORTS_BAD):
        message = write_rejected(client, db_url, op, {"port": port}, 400, 1199016, "port")
        assert message == "'port' field regular check failed"


def test_integer_port_is_stored_as_a_string(client):
    for op in OPS:
        pid = write_ok(client, op, {"port": 80})
        assert detail(client, pid)["port"] == "80", op
        assert search_one(client, pid)["port"] == "80", op
        # and found by either form
        for form in (80, "80"):
            found = ok(search(client, {"condition": {"port": form, "bk_process_id": pid}}))
            assert found["count"] == 1, (op, form)


def test_empty_port_is_allowed(client):
    pid = create(client, port="80")
    ok(client.put(proc_url(pid=pid), json={"port": ""}))
    assert detail(client, pid)["port"] == ""


# --- enums ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ENUMS))
def test_enum_code_as_string_or_integer(client, name):
    for op, code in itertools.product(OPS, ENUMS[name]):
        for sent in (code, int(code)):
            pid = write_ok(client, op, {name: sent})
            assert detail(client, pid)[name] == code, (op, sent)
            assert search_one(client, pid)[name] == code, (op, sent)
            # the stored string is found by a search for either form
            for form in (code, int(code)):
                found = ok(search(client, {"condition": {name: form, "bk_process_id": pid}}))
                assert found["count"] == 1, (op, sent, form)


# --- null clears, partial update, {} --------------------------------------------------------------


def test_null_clears_every_optional_attribute(client, db_url):
    pid = ok(client.post(proc_url(), json=FULL))["bk_process_id"]
    # protocol's cleared value is left out: §2 gives it a default ("1") but says null clears.
    cleared = {k: v for k, v in DEFAULTS.items() if k != "protocol"}
    ok(client.put(proc_url(pid=pid), json=dict.fromkeys(cleared)))
    after = detail(client, pid)
    assert {k: after[k] for k in cleared} == cleared
    assert {k: after[k] for k in ("bk_process_name", "bk_func_name")} == REQUIRED
    for name in OPTIONAL_STRINGS:
        assert search_one(client, pid)[name] == ""


PARTIAL_CHANGES = [
    {"description": "new"}, {"port": "81"}, {"proc_num": 9}, {"auto_start": False},
    {"bind_ip": "3"}, {"bk_process_name": "renamed"}, {"work_path": "/w", "user": "u2"},
]  # fmt: skip


def test_update_is_partial(client):
    pid = ok(client.post(proc_url(), json=FULL))["bk_process_id"]
    for change in PARTIAL_CHANGES:
        before = search_one(client, pid)
        ok(client.put(proc_url(pid=pid), json=change))
        after = search_one(client, pid)
        assert after["last_time"] > before["last_time"], change
        assert after == {**before, **change, "last_time": after["last_time"]}, change


def test_empty_update_only_moves_last_time(client):
    pid = ok(client.post(proc_url(), json=FULL))["bk_process_id"]
    before = search_one(client, pid)
    for _ in range(2):
        assert ok(client.put(proc_url(pid=pid), json={})) == "success"
        after = search_one(client, pid)
        assert after["last_time"] > before["last_time"]
        assert {**after, "last_time": None} == {**before, "last_time": None}
        assert after["create_time"] == before["create_time"]
        before = after


def test_update_of_an_unknown_process_is_404(client, db_url):
    pid = create(client)
    before = snapshot(db_url)
    refused_cleanly(
        client.put(proc_url(pid=pid + 1000), json={"user": "x"}, headers=EN), 404, 1199019
    )
    refused_cleanly(client.put(proc_url(pid=pid + 1000), json={}, headers=EN), 404, 1199019)
    # the same id in another business or account is unknown there
    refused_cleanly(client.put(proc_url(biz=2, pid=pid), json={"user": "x"}), 404, 1199019)
    refused_cleanly(
        client.put(proc_url(account="other", pid=pid), json={"user": "x"}), 404, 1199019
    )
    assert snapshot(db_url) == before


def test_validation_failure_on_update_changes_nothing(client, db_url):
    pid = ok(client.post(proc_url(), json=FULL))["bk_process_id"]
    before = snapshot(db_url)
    # a valid change alongside an invalid one is not applied
    resp = client.put(proc_url(pid=pid), json={"description": "x", "proc_num": 0}, headers=EN)
    refused_cleanly(resp, 400, 1199006, "proc_num")
    assert snapshot(db_url) == before
