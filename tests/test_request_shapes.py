"""Malformed bodies, body size and path parameters (docs/api.md §1, §8)."""

from __future__ import annotations

import itertools
import json

import pytest

from .dbkit import snapshot
from .kit import (
    EN,
    JSON_CT,
    REQUIRED,
    create,
    detail,
    ok,
    proc_url,
    refused_cleanly,
    search,
    search_url,
)
from .support.validation import MIB, _padded

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
