"""Sets by supplier account (the header), sets not found, and delete_set cascading to its modules
(docs/api.md §6).
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from .dbkit import audit_rows, snapshot
from .kit import (
    ACCOUNT_HEADER,
    EN,
    err,
    module_search_url,
    module_url,
    new_module,
    new_set,
    ok,
    refused,
    set_url,
)
from .support.topology import find_modules, find_sets, get_module, get_set, hdr, set_names

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
