"""Sets and modules: path ids and bodies, audit rows (§5), concurrency, and bindings outliving
module changes.
"""

from __future__ import annotations

from sqlalchemy import create_engine, text

from .dbkit import audit_rows, binding_rows, race, snapshot
from .kit import (
    ACCOUNT_HEADER,
    EN,
    MODULE_FULL,
    SET_FULL,
    binding_url,
    err,
    module_search_url,
    module_url,
    new_module,
    new_set,
    ok,
    refused,
    set_search_url,
    set_url,
)
from .support.topology import find_modules, find_sets, get_module, get_set

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
    assert ok(client.get(binding_url(pid, biz=biz))) == [
        {"bk_module_name": "web", "set_num": 2, "is_bind": 1},
        {"bk_module_name": "db", "set_num": 1, "is_bind": 0},
    ]

    ok(client.delete(module_url(biz, a, web_a)))
    assert ok(client.get(binding_url(pid, biz=biz))) == [
        {"bk_module_name": "web", "set_num": 1, "is_bind": 1},
        {"bk_module_name": "db", "set_num": 1, "is_bind": 0},
    ]
    # deleting the set that holds the last "web" module keeps the binding, with set_num 0
    ok(client.delete(set_url(biz, b)))
    assert ok(client.get(binding_url(pid, biz=biz))) == [
        {"bk_module_name": "db", "set_num": 1, "is_bind": 0},
        {"bk_module_name": "web", "set_num": 0, "is_bind": 1},
    ]
    assert len(binding_rows(db_url)) == 1

    # renaming a bound module: the binding stays with the old name
    ok(client.put(f"/api/v3/proc/module/0/{biz}/{pid}/db"))
    ok(client.put(module_url(biz, a, db_a), json={"bk_module_name": "database"}))
    listed = ok(client.get(binding_url(pid, biz=biz)))
    assert listed[0] == {"bk_module_name": "database", "set_num": 1, "is_bind": 0}
    # orphaned bindings come after the others; their order among themselves is not specified
    orphans = sorted(listed[1:], key=lambda e: e["bk_module_name"])
    assert orphans == [
        {"bk_module_name": "db", "set_num": 0, "is_bind": 1},
        {"bk_module_name": "web", "set_num": 0, "is_bind": 1},
    ]
    assert len(binding_rows(db_url)) == 2
    # a new module with the old name picks the binding up again
    new_module(client, a, biz=biz, bk_module_name="web")
    assert {"bk_module_name": "web", "set_num": 1, "is_bind": 1} in ok(
        client.get(binding_url(pid, biz=biz))
    )


def test_only_normal_modules_are_listed_for_binding(client):
    sid = new_set(client)["bk_set_id"]
    new_module(client, sid, biz=1, bk_module_name="idle", default=1)
    new_module(client, sid, biz=1, bk_module_name="fault", default=2)
    new_module(client, sid, biz=1, bk_module_name="web")
    body = {"bk_process_name": "nginx", "bk_func_name": "nginx"}
    pid = ok(client.post("/api/v3/proc/0/1", json=body))["bk_process_id"]
    assert ok(client.get(binding_url(pid, biz=1))) == [
        {"bk_module_name": "web", "set_num": 1, "is_bind": 0}
    ]
    resp = client.put(f"/api/v3/proc/module/0/1/{pid}/idle", headers=EN)
    err(resp, 404, 1199019, "idle")
