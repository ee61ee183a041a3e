"""search_business: the businesses of a supplier account that hold processes or sets."""

from __future__ import annotations

import hashlib
import json

import pytest

from proc_service import create_app

from .kit import EN, create, err, ok


def url(account="0") -> str:
    return f"/api/v3/biz/search/{account}"


def businesses(client, body=None, account="0") -> dict:
    return ok(client.post(url(account), json={} if body is None else body))


def test_lists_businesses_with_processes_or_sets_in_order(client):
    assert businesses(client) == {"count": 0, "info": []}
    for n, biz in enumerate((7, 3, 3, 12)):
        create(client, biz=biz, bk_process_name=f"p{n}")
    ok(client.post("/api/v3/set/9", json={"bk_set_name": "s"}))
    ok(client.post("/api/v3/set/3", json={"bk_set_name": "s"}))
    create(client, account="acme", biz=5)
    found = businesses(client)
    assert found["count"] == 4
    assert [b["bk_biz_id"] for b in found["info"]] == [3, 7, 9, 12]
    assert {b["bk_supplier_account"] for b in found["info"]} == {"0"}
    assert [b["bk_biz_id"] for b in businesses(client, account="acme")["info"]] == [5]
    # paging and order
    page = businesses(client, {"page": {"start": 1, "limit": 2, "sort": "-bk_biz_id"}})
    assert page["count"] == 4 and [b["bk_biz_id"] for b in page["info"]] == [9, 7]
    assert businesses(client, {"page": {"start": 10}})["info"] == []


def test_a_business_whose_data_is_deleted_is_no_longer_listed(client):
    pid = create(client, biz=4)
    assert businesses(client)["count"] == 1
    ok(client.delete(f"/api/v3/proc/0/4/{pid}"))
    assert businesses(client)["count"] == 0


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"page": {"limit": 201}}, 400, 1199015, "page.limit"),
        ({"page": {"start": -1}}, 400, 1199006, "page.start"),
        ({"page": {"limit": "x"}}, 400, 1199009, "page.limit"),
        ({"page": {"sort": "bk_process_name"}}, 400, 1199011, "page.sort"),
        ({"page": {"sort": ""}}, 400, 1199011, "page.sort"),
        ({"page": []}, 400, 1199006, "page"),
        ({"condition": {}}, 400, 1199011, "condition"),
    ],
)
def test_bad_bodies_are_refused_naming_the_field(client, body, status, code, field):
    err(client.post(url(), json=body, headers=EN), status, code, field)


def test_bad_account_and_body(client):
    err(client.post(url("a b"), json={}, headers=EN), 400, 1199003, "bk_supplier_account")
    err(client.post(url(), data="[]"), 400, 1199000)


def test_a_read_only_token_may_list_its_accounts_only(db_url, tmp_path):
    token = "reader-s3cret"
    entry = {"name": "r", "sha256": hashlib.sha256(token.encode()).hexdigest(), "accounts": ["0"]}
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps([entry]))
    app = create_app({"DATABASE_URL": db_url, "LOG_LEVEL": "WARNING", "API_TOKENS_FILE": str(path)})
    try:
        client = app.test_client()
        bearer = {"Authorization": f"Bearer {token}", **EN}
        err(client.post(url(), json={}), 401, 1199027)
        assert ok(client.post(url(), json={}, headers=bearer)) == {"count": 0, "info": []}
        err(client.post(url("acme"), json={}, headers=bearer), 403, 9900403)
    finally:
        app.extensions["db_engine"].dispose()
