"""Validation of process writes and the request/response conventions (contract §1, §2, §4, §8).

create_process (POST /api/v3/proc/{acct}/{biz}) and update_process (PUT .../{id}): defaults,
every validation code with its field, validation order, string lengths in characters, the port
grammar, enum and int normalisation, malformed and oversized bodies, path parameters, messages
in both languages, the Content-Type and X-Request-Id headers, unknown routes and methods.
"""

from __future__ import annotations

import itertools
import json

import pytest

from .helpers import (
    CONTRACT_ATTRIBUTES,
    EN,
    SYSTEM_FIELDS,
    ZH,
    create,
    detail,
    ok,
    proc_url,
    search,
    search_url,
    snapshot,
)
from .kit import FULL, JSON_CT, LEAKS, REQUIRED, fresh, refused_cleanly

ORDER = CONTRACT_ATTRIBUTES  # the 22 attributes in contract §2 order
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


def one(client, pid, biz=1) -> dict:
    """The process as search_process returns it (all attributes and system fields)."""
    found = ok(search(client, {"condition": {"bk_process_id": pid}}, biz=biz))
    assert found["count"] == 1, found
    return found["info"][0]


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


# --- defaults on create ---------------------------------------------------------------------------


def test_create_fills_every_absent_attribute(client):
    pid = create(client, biz=7)
    rows = ok(client.get(proc_url(biz=7, pid=pid), headers=EN))
    assert [row["bk_property_id"] for row in rows] == ORDER
    expected = {"bk_biz_id": 7, **REQUIRED, **DEFAULTS}
    assert {row["bk_property_id"]: row["bk_property_value"] for row in rows} == expected

    process = one(client, pid, biz=7)
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
    assert {k: v for k, v in one(client, pid).items() if k in FULL} == FULL


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
            assert one(client, pid)[name] == stored, (op, sent)


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
        assert one(client, pid)[name] == longest, (op, char)
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
        assert one(client, pid)["port"] == "80", op
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
            assert one(client, pid)[name] == code, (op, sent)
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
        assert one(client, pid)[name] == ""


PARTIAL_CHANGES = [
    {"description": "new"}, {"port": "81"}, {"proc_num": 9}, {"auto_start": False},
    {"bind_ip": "3"}, {"bk_process_name": "renamed"}, {"work_path": "/w", "user": "u2"},
]  # fmt: skip


def test_update_is_partial(client):
    pid = ok(client.post(proc_url(), json=FULL))["bk_process_id"]
    for change in PARTIAL_CHANGES:
        before = one(client, pid)
        ok(client.put(proc_url(pid=pid), json=change))
        after = one(client, pid)
        assert after["last_time"] > before["last_time"], change
        assert after == {**before, **change, "last_time": after["last_time"]}, change


def test_empty_update_only_moves_last_time(client):
    pid = ok(client.post(proc_url(), json=FULL))["bk_process_id"]
    before = one(client, pid)
    for _ in range(2):
        assert ok(client.put(proc_url(pid=pid), json={})) == "success"
        after = one(client, pid)
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


# --- malformed bodies -----------------------------------------------------------------------------

MALFORMED = [
    b"",
    b"   ",
    b"{",
    b'{"bk_process_name": "a",}',
    b"{'bk_process_name': 'a'}",
    b"null",
    b"[]",
    b'[{"bk_process_name": "a", "bk_func_name": "a"}]',
    b'"a string"',
    b"1",
    b"true",
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b'{"bk_process_name": "a", "bk_func_name": "a", "proc_num": NaN}',
    b'{"bk_process_name": "a", "bk_func_name": "a", "timeout": Infinity}',
    b'{"bk_process_name": "a\xff", "bk_func_name": "a"}',
    b'{"a": 1} {"b": 2}',
]


def _endpoints(client):
    """(method, url, valid body) for create, update, batch update and search."""
    pid = create(client, bk_process_name="existing")
    return {
        "create": ("POST", proc_url(), {**REQUIRED}),
        "update": ("PUT", proc_url(pid=pid), {"user": "u"}),
        "batch": ("PUT", proc_url(), {"bk_process_id": str(pid), "user": "u"}),
        "search": ("POST", search_url(), {"condition": {}}),
    }


@pytest.mark.parametrize("target", ["create", "update", "batch", "search"])
def test_malformed_body_is_1199000(client, db_url, target):
    method, url, _ = _endpoints(client)[target]
    before = snapshot(db_url)
    for raw in MALFORMED:
        for content_type in ("application/json", "text/plain", None):
            resp = client.open(url, method=method, data=raw, content_type=content_type, headers=EN)
            message = refused_cleanly(resp, 400, 1199000)
            assert message == "Deserializing JSON data failed", raw
    assert snapshot(db_url) == before


@pytest.mark.parametrize(
    ("depth", "code"),
    [
        (100_000, 1199000),  # deeper than the parser goes: not JSON it can read
        (500, 1199007),  # JSON, but a list where a string belongs
    ],
)
def test_deeply_nested_json_is_a_client_error(client, db_url, depth, code):
    before = snapshot(db_url)
    raw = '{"bk_process_name": "a", "bk_func_name": "a", "description": ' + "[" * depth
    raw += "]" * depth + "}"
    resp = client.post(proc_url(), data=raw, content_type="application/json", headers=EN)
    message = refused_cleanly(resp, 400, code)
    if code == 1199007:
        assert message == "'description' must be a string type"
    assert snapshot(db_url) == before


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_body_is_json_whatever_the_content_type(client, content_type):
    endpoints = _endpoints(client)
    for target in ("update", "batch", "search", "create"):
        method, url, body = endpoints[target]
        raw = json.dumps(body).encode()
        resp = client.open(url, method=method, data=raw, content_type=content_type)
        assert resp.status_code == 200, (target, resp.get_json())
        data = ok(resp)
        assert resp.headers["Content-Type"] == JSON_CT
        if target == "create":
            assert detail(client, data["bk_process_id"])["bk_process_name"] == "nginx"
        elif target in ("update", "batch"):
            assert ok(search(client, {"condition": {"user": "u"}}))["count"] == 1
        else:
            assert data["count"] == 1


# --- body size ------------------------------------------------------------------------------------


def _padded(body: dict, size: int) -> bytes:
    """``body`` as JSON, padded with insignificant whitespace to exactly ``size`` bytes."""
    raw = json.dumps(body, ensure_ascii=False).encode()
    return raw[:-1] + b" " * (size - len(raw)) + b"}"


@pytest.mark.parametrize("target", ["create", "update", "batch", "search"])
def test_body_over_one_mib_is_413(client, db_url, target):
    method, url, body = _endpoints(client)[target]
    before = snapshot(db_url)
    resp = client.open(url, method=method, data=_padded(body, MIB + 1), headers=EN)
    message = refused_cleanly(resp, 413, 1199035)
    assert str(MIB) in message and "exceed the limit" in message
    # far larger, and a body that is one big (otherwise valid) string
    huge = json.dumps({**body, "description": "进" * MIB}, ensure_ascii=False).encode()
    refused_cleanly(client.open(url, method=method, data=huge, headers=EN), 413, 1199035)
    assert snapshot(db_url) == before


@pytest.mark.parametrize("target", ["create", "update", "batch", "search"])
def test_body_of_exactly_one_mib_is_read(client, target):
    method, url, body = _endpoints(client)[target]
    resp = client.open(url, method=method, data=_padded(body, MIB))
    ok(resp)


# --- path parameters ------------------------------------------------------------------------------

BAD_IDS = [
    "abc", "0", "-1", "1.5", "%201", "1%20", "12345678901234567890", "9223372036854775808",
    "1e3", "0x10", "++5", "%2B-5", "%EF%BC%91",
]  # fmt: skip


def test_bad_business_id_in_the_path(client, db_url):
    pid = create(client)
    before = snapshot(db_url)
    for raw, method in itertools.product(BAD_IDS, ("POST", "PUT")):
        url = f"/api/v3/proc/0/{raw}" + (f"/{pid}" if method == "PUT" else "")
        resp = client.open(
            url, method=method, json={**REQUIRED, "bk_process_name": "x"}, headers=EN
        )
        assert resp.status_code == 400, (method, raw, resp.get_json())
        message = refused_cleanly(resp, 400, 1199003, "bk_biz_id")
        assert message == "invalid input parameter: 'bk_biz_id'"
    assert snapshot(db_url) == before


def test_bad_process_id_in_the_path(client, db_url):
    create(client)
    before = snapshot(db_url)
    for raw in BAD_IDS:
        resp = client.put(f"/api/v3/proc/0/1/{raw}", json={"user": "x"}, headers=EN)
        assert resp.status_code == 400, (raw, resp.get_json())
        assert refused_cleanly(resp, 400, 1199003) == "invalid input parameter: 'bk_process_id'"
    assert snapshot(db_url) == before


def test_plus_sign_and_largest_ids_are_accepted(client):
    created = ok(client.post("/api/v3/proc/0/+5", json=REQUIRED))["bk_process_id"]
    assert detail(client, created, biz=5)["bk_biz_id"] == 5
    ok(client.put(f"/api/v3/proc/0/+5/+{created}", json={"user": "plus"}))
    assert detail(client, created, biz=5)["user"] == "plus"

    biggest = 2**63 - 1
    other = ok(client.post(f"/api/v3/proc/0/{biggest}", json=REQUIRED))["bk_process_id"]
    assert detail(client, other, biz=biggest)["bk_biz_id"] == biggest
    # the largest process id is valid as a parameter: it just does not exist
    refused_cleanly(client.put(f"/api/v3/proc/0/1/{biggest}", json={}), 404, 1199019)


def test_bad_supplier_account_in_the_path(client, db_url):
    pid = create(client)
    before = snapshot(db_url)
    bad = ["a%20b", "a$", "x" * 65, "%E4%B8%AD", "a:b", "a@b", "a%00"]
    for account, method in itertools.product(bad, ("POST", "PUT")):
        url = f"/api/v3/proc/{account}/1" + (f"/{pid}" if method == "PUT" else "")
        resp = client.open(url, method=method, json=REQUIRED, headers=EN)
        assert resp.status_code == 400, (method, account, resp.get_json())
        assert (
            refused_cleanly(resp, 400, 1199003) == "invalid input parameter: 'bk_supplier_account'"
        )
    assert snapshot(db_url) == before


def test_good_supplier_account_in_the_path(client):
    for account in ["x" * 64, "a_b.c-D", "9"]:
        pid = ok(client.post(f"/api/v3/proc/{account}/1", json=REQUIRED))["bk_process_id"]
        ok(client.put(f"/api/v3/proc/{account}/1/{pid}", json={"user": "a"}))
        assert detail(client, pid, account=account)["user"] == "a"
        # and nothing of it is visible in account "0"
        refused_cleanly(client.get(proc_url(pid=pid)), 404, 1199019)


# --- messages and language ------------------------------------------------------------------------


def _sample_errors(client):
    """Requests producing one error of each code whose full text we check, by code."""
    pid = create(client)
    return {
        1199000: lambda h: client.post(proc_url(), data=b"{", headers=h),
        1199003: lambda h: client.post("/api/v3/proc/0/abc", json=REQUIRED, headers=h),
        1199006: lambda h: client.put(proc_url(pid=pid), json={"proc_num": 0}, headers=h),
        1199007: lambda h: client.put(proc_url(pid=pid), json={"description": 1}, headers=h),
        1199009: lambda h: client.put(proc_url(pid=pid), json={"timeout": "x"}, headers=h),
        1199010: lambda h: client.put(proc_url(pid=pid), json={"bk_func_name": ""}, headers=h),
        1199011: lambda h: client.put(proc_url(pid=pid), json={"foo": 1}, headers=h),
        1199015: lambda h: client.put(proc_url(pid=pid), json={"user": "u" * 257}, headers=h),
        1199016: lambda h: client.put(proc_url(pid=pid), json={"port": "080"}, headers=h),
        1199025: lambda h: client.put(proc_url(pid=pid), json={"auto_start": 1}, headers=h),
    }


# Full texts from the §8 table with %s filled in.
MESSAGES = {
    1199000: ("Deserializing JSON data failed", "反序列化JSON数据失败"),
    1199003: ("invalid input parameter: 'bk_biz_id'", "输入参数无效: 'bk_biz_id'"),
    1199006: (
        "'proc_num' data parameter verification does not pass",
        "'proc_num' 数据参数校验不通过",
    ),
    1199007: ("'description' must be a string type", "'description' 必须为字符串类型"),
    1199009: ("'timeout' parameters must be integral", "'timeout' 参数必须是整型"),
    1199010: ("'bk_func_name' unassigned", "'bk_func_name' 未赋值"),
    1199011: ("'foo' the parameter is invalid or does not exist", "'foo' 参数无效或不存在"),
    1199015: ("'user' data out of range", "'user' 数据越界"),
    1199016: ("'port' field regular check failed", "'port' 字段正则校验失败"),
    1199025: ("'auto_start' must be boolean", "'auto_start' 必须为布尔类型"),
}


def test_messages_match_the_catalogue_in_both_languages(client):
    for code, send in _sample_errors(client).items():
        en, zh = MESSAGES[code]
        assert refused_cleanly(send(EN), 400, code) == en
        assert refused_cleanly(send(ZH), 400, code) == zh


def test_not_found_message_in_both_languages(client):
    url = proc_url(pid=424242)
    assert refused_cleanly(client.put(url, json={}, headers=EN), 404, 1199019).startswith(
        "No relevant data found: "
    )
    assert refused_cleanly(client.put(url, json={}, headers=ZH), 404, 1199019).startswith(
        "未找到相关数据: "
    )


def test_body_too_large_message_in_both_languages(client):
    raw = _padded(REQUIRED, MIB + 1)
    en = refused_cleanly(client.post(proc_url(), data=raw, headers=EN), 413, 1199035)
    zh = refused_cleanly(client.post(proc_url(), data=raw, headers=ZH), 413, 1199035)
    assert en.endswith(f" exceed the limit {MIB}")
    assert zh.endswith(f" 超过限制 {MIB}")


LANGUAGE_CASES = [
    ({"HTTP_BLUEKING_LANGUAGE": "en"}, "en"),
    ({"HTTP-BLUEKING-LANGUAGE": "en"}, "en"),
    ({"http_blueking_language": "en"}, "en"),
    ({"HTTP_BLUEKING_LANGUAGE": "zh"}, "zh"),
    ({"HTTP_BLUEKING_LANGUAGE": "zh-cn"}, "zh"),
    ({"HTTP_BLUEKING_LANGUAGE": "fr"}, "zh"),
    ({"HTTP_BLUEKING_LANGUAGE": "fr", "Accept-Language": "en-US,en"}, "zh"),
    ({"HTTP_BLUEKING_LANGUAGE": "en", "Accept-Language": "zh-CN"}, "en"),
    ({"Accept-Language": "en-US,en"}, "en"),
    ({"Accept-Language": "en"}, "en"),
    ({"Accept-Language": "en-GB;q=0.9"}, "en"),
    ({"Accept-Language": "zh-CN"}, "zh"),
    ({"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}, "zh"),
    ({"Accept-Language": "en;q=0.8,zh-CN;q=0.9"}, "zh"),
    ({"Accept-Language": "fr,en;q=0.5"}, "en"),
    ({"Accept-Language": "en;q=0"}, "zh"),
    ({"Accept-Language": "*"}, "zh"),
    ({}, "zh"),
]


def test_language_selection(client):
    pid = create(client)
    en, zh = MESSAGES[1199016]
    for headers, lang in LANGUAGE_CASES:
        resp = client.put(proc_url(pid=pid), json={"port": "0"}, headers=headers)
        assert refused_cleanly(resp, 400, 1199016, "port") == (en if lang == "en" else zh), headers


# --- headers on every response --------------------------------------------------------------------


def _responses(client):
    """One of each kind of response: successes and errors of every status we can provoke."""
    pid = create(client)
    return [
        client.post(proc_url(), json={**REQUIRED, "bk_process_name": "h"}),
        client.put(proc_url(pid=pid), json={"user": "x"}),
        client.get(proc_url(pid=pid)),
        search(client),
        client.put(proc_url(pid=pid), json={"port": "0"}),
        client.post(proc_url(), data=b"nope"),
        client.post("/api/v3/proc/0/abc", json=REQUIRED),
        client.put(proc_url(pid=pid + 100), json={}),
        client.post(proc_url(), json=REQUIRED),  # 409: the name is taken
        client.post(proc_url(), data=_padded(REQUIRED, MIB + 1)),
        client.get("/api/v3/no/such/route"),
        client.patch(proc_url(pid=pid), json={}),
    ]


def test_every_response_is_json_utf8_with_a_request_id(client):
    responses = _responses(client)
    assert [r.status_code for r in responses] == [
        200, 200, 200, 200, 400, 400, 400, 404, 409, 413, 404, 405,
    ]  # fmt: skip
    ids = set()
    for resp in responses:
        assert resp.headers["Content-Type"] == JSON_CT
        assert set(resp.get_json()) == {"result", "bk_error_code", "bk_error_msg", "data"}
        assert resp.headers["X-Request-Id"]
        ids.add(resp.headers["X-Request-Id"])
        for leak in LEAKS:
            assert leak.lower() not in resp.get_data(as_text=True).lower()
    assert len(ids) == len(responses), "each request gets a new id"


def test_request_id_is_echoed(client):
    pid = create(client)
    for sent in ["abc-123", "7f3c2a90d4e611eea1b2c3d4e5f60789", "req.1:2_3"]:
        header = {"X-Request-Id": sent}
        for resp in [
            client.put(proc_url(pid=pid), json={"user": "x"}, headers=header),
            client.put(proc_url(pid=pid), json={"port": "x"}, headers=header),
            client.post(proc_url(), data=b"[", headers=header),
            client.get("/api/v3/nowhere", headers=header),
        ]:
            assert resp.headers["X-Request-Id"] == sent
            assert resp.headers["Content-Type"] == JSON_CT


# --- unknown routes and wrong methods -------------------------------------------------------------


UNKNOWN_ROUTES = [
    "/api/v3/nothing", "/api/v3/proc/0/1/2/3/4", "/nope", "/api/v3/proc", "/api/v4/proc/0/1",
]  # fmt: skip


def test_unknown_route_is_404_in_the_envelope(client):
    for url, method in itertools.product(UNKNOWN_ROUTES, ("GET", "POST", "PUT")):
        resp = client.open(url, method=method, json={}, headers=EN)
        assert resp.status_code == 404, (method, url)
        assert refused_cleanly(resp, 404, 1199019).startswith("No relevant data found: ")


WRONG_METHODS = [
    ("PATCH", proc_url(pid=1)), ("POST", proc_url(pid=1)), ("DELETE", proc_url()),
    ("GET", proc_url()), ("PATCH", proc_url()), ("PATCH", search_url()),
]  # fmt: skip


def test_wrong_method_is_405_in_the_envelope(client, db_url):
    create(client)
    before = snapshot(db_url)
    for method, url in WRONG_METHODS:
        resp = client.open(url, method=method, json={**REQUIRED, "bk_process_name": "m"})
        body = resp.get_json()
        assert resp.status_code == 405, (method, url, body)
        assert resp.headers["Content-Type"] == JSON_CT
        assert resp.headers["X-Request-Id"]
        assert body["result"] is False and body["bk_error_code"] > 0 and body["data"] is None
        assert body["bk_error_msg"]
        for leak in LEAKS:
            assert leak.lower() not in resp.get_data(as_text=True).lower()
    assert snapshot(db_url) == before


def test_empty_string_clears_an_optional_enum_like_null(client):
    """bk-cmdb clients send "" for an enum with no choice; it means the same as null."""
    pid = create(client, bind_ip="", protocol="2")
    assert detail(client, pid)["bind_ip"] is None
    ok(client.put(proc_url(pid=pid), json={"bind_ip": "3"}))
    ok(client.put(proc_url(pid=pid), json={"bind_ip": "", "protocol": ""}))
    values = detail(client, pid)
    assert values["bind_ip"] is None
    assert values["protocol"] == "1"  # protocol's empty value is its default
    found = ok(search(client, {"condition": {"bind_ip": ""}, "fields": ["bk_process_id"]}))
    assert found["info"] == [{"bk_process_id": pid}]
