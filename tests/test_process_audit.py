"""delete_process, its audit rows (§5), and a database that is unavailable."""

from __future__ import annotations

from proc_service import create_app

from .dbkit import audit_rows, binding_rows, insert_bindings, snapshot
from .kit import EN, FULL_LOOSE, FULL_LOOSE_STORED, ZH, create, err, ok, proc_url, search
from .support.writes import ATTRIBUTE_IDS

# --- delete_process --------------------------------------------------------------------------


def test_delete_removes_process_and_its_bindings(client, db_url):
    pid = create(client, bk_process_name="a")
    other = create(client, bk_process_name="b")
    insert_bindings(db_url, [(pid, name) for name in ["web", "db", "cache"]])
    insert_bindings(db_url, [(other, name) for name in ["web"]])
    assert ok(client.delete(proc_url(pid=pid))) == "success"
    assert sum(p == pid for p, _ in binding_rows(db_url)) == 0
    assert sum(p == other for p, _ in binding_rows(db_url)) == 1
    assert ok(search(client, {}))["info"][0]["bk_process_id"] == other
    assert ok(search(client, {}))["count"] == 1
    before = snapshot(db_url)
    err(client.delete(proc_url(pid=pid), headers=EN), 404, 1199019, str(pid))
    assert snapshot(db_url) == before


# --- audit log (§5) --------------------------------------------------------------------------


def test_audit_rows_for_create_update_delete(client, db_url):
    acct, biz = "acme", 7
    headers = {"BK_User": "alice", "X-Request-Id": "req-create-1"}
    resp = client.post(proc_url(acct, biz), json=FULL_LOOSE, headers=headers)
    pid = ok(resp)["bk_process_id"]
    assert resp.headers["X-Request-Id"] == "req-create-1"

    resp = client.put(proc_url(acct, biz, pid), json={"user": "root"}, headers={"BK-User": "bob"})
    ok(resp)
    update_request = resp.headers["X-Request-Id"]
    assert update_request

    insert_bindings(db_url, [(pid, name) for name in ["web", "cache", "db"]])
    resp = client.delete(proc_url(acct, biz, pid))
    ok(resp)
    delete_request = resp.headers["X-Request-Id"]
    assert delete_request != update_request

    rows = audit_rows(db_url)
    assert [r["op_type"] for r in rows] == [1, 2, 3]
    assert [r["operator"] for r in rows] == ["alice", "bob", "anonymous"]
    assert [r["request_id"] for r in rows] == ["req-create-1", update_request, delete_request]
    for row in rows:
        assert row["op_target"] == "process"
        assert row["inst_id"] == pid
        assert row["bk_supplier_account"] == acct
        assert row["bk_biz_id"] == biz
    created, updated, deleted = (r["content"] for r in rows)

    attrs = {"bk_biz_id": biz, **FULL_LOOSE_STORED}
    assert created["pre_data"] == {}
    assert {k: created["cur_data"][k] for k in ATTRIBUTE_IDS} == attrs
    assert created["cur_data"]["bk_process_id"] == pid

    assert {k: updated["pre_data"][k] for k in ATTRIBUTE_IDS} == attrs
    assert {k: updated["cur_data"][k] for k in ATTRIBUTE_IDS} == {**attrs, "user": "root"}

    assert deleted["cur_data"] == {}
    assert {k: deleted["pre_data"][k] for k in ATTRIBUTE_IDS} == {**attrs, "user": "root"}
    assert deleted["pre_data"]["bk_module_names"] == ["cache", "db", "web"]


def test_audit_rows_for_batch_update(client, db_url):
    ids = [create(client, bk_process_name=f"p{i}") for i in range(3)]
    start = len(audit_rows(db_url))
    resp = client.put(
        proc_url(),
        json={"bk_process_id": ids[:2], "user": "svc"},
        headers={"BK_User": "carol"},
    )
    ok(resp)
    new = audit_rows(db_url)[start:]
    assert sorted(r["inst_id"] for r in new) == ids[:2]
    for row in new:
        assert (row["op_type"], row["op_target"], row["operator"]) == (2, "process", "carol")
        assert row["request_id"] == resp.headers["X-Request-Id"]
        assert row["content"]["pre_data"]["user"] == ""
        assert row["content"]["cur_data"]["user"] == "svc"
        assert row["content"]["cur_data"]["bk_process_id"] == row["inst_id"]


def test_deleted_process_without_bindings_records_empty_module_list(client, db_url):
    pid = create(client)
    ok(client.delete(proc_url(pid=pid)))
    assert audit_rows(db_url)[-1]["content"]["pre_data"]["bk_module_names"] == []


def test_failed_writes_write_no_audit_row(client, db_url):
    pid = create(client, bk_process_name="a")
    create(client, bk_process_name="b")
    before = snapshot(db_url)
    failures = [
        client.post(proc_url(), json={"bk_process_name": "a", "bk_func_name": "a"}),  # 409
        client.post(proc_url(), json={"bk_func_name": "a"}),  # 400
        client.put(proc_url(pid=pid), json={"bk_process_name": "b"}),  # 409
        client.put(proc_url(pid=pid), json={"timeout": 0}),  # 400
        client.put(proc_url(pid=pid + 100), json={}),  # 404
        client.delete(proc_url(pid=pid + 100)),  # 404
        client.put(proc_url(), json={"bk_process_id": str(pid)}),  # 400
    ]
    assert [r.status_code for r in failures] == [409, 400, 409, 400, 404, 404, 400]
    assert snapshot(db_url) == before


# --- database unavailable --------------------------------------------------------------------

LEAKS = ("SELECT", "INSERT", "UPDATE ", "DELETE FROM", "psycopg", "sqlalchemy", "Operational",
         "127.0.0.1", "connection", "Traceback", "/", "port 1")  # fmt: skip


def test_database_unavailable_is_503_without_detail():
    app = create_app(
        {"DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none", "LOG_LEVEL": "WARNING"}
    )
    client = app.test_client()
    try:
        cases = [
            (client.post, proc_url(), {"bk_process_name": "a", "bk_func_name": "a"}, 1108008),
            (client.post, "/api/v3/proc/search/0/1", {}, 1108006),
            (client.get, proc_url(pid=1), None, 1108001),
            (client.put, proc_url(pid=1), {"user": "x"}, 1108005),
            (client.put, proc_url(), {"bk_process_id": "1,2", "user": "x"}, 1108005),
            (client.delete, proc_url(pid=1), None, 1108007),
            (client.get, "/api/v3/proc/module/0/1/1", None, 1108004),
            (client.put, "/api/v3/proc/module/0/1/1/gs", None, 1108002),
            (client.delete, "/api/v3/proc/module/0/1/1/gs", None, 1108003),
            (client.post, "/api/v3/set/1", {"bk_set_name": "a"}, 1108008),
            (client.put, "/api/v3/set/1/1", {}, 1108005),
            (client.delete, "/api/v3/set/1/1", None, 1108007),
            (client.post, "/api/v3/set/search/0/1", {}, 1108006),
            (client.post, "/api/v3/module/1/1", {"bk_module_name": "a"}, 1108008),
            (client.put, "/api/v3/module/1/1/1", {}, 1108005),
            (client.delete, "/api/v3/module/1/1/1", None, 1108007),
            (client.post, "/api/v3/module/search/0/1/1", {}, 1108006),
            (client.post, "/api/v3/audit/search", {}, 1108006),
        ]
        for method, url, body, code in cases:
            for headers in (EN, ZH):
                resp = (
                    method(url, json=body, headers=headers)
                    if body is not None
                    else method(url, headers=headers)
                )
                msg = err(resp, 503, code)
                assert msg, code
                assert not any(leak in msg for leak in LEAKS), msg
                if headers is EN:
                    assert msg.startswith("database unavailable"), msg
    finally:
        app.extensions["db_engine"].dispose()
