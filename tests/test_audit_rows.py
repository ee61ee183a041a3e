"""Audit search (docs/api.md §5): the rows each write leaves, and messages in both languages."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import create_engine

from .kit import (
    AUDIT_URL,
    EN,
    ISO_TIME,
    ZH,
    create,
    err,
    new_module,
    new_set,
    ok,
    proc_url,
    refused,
    search_audit,
    search_one,
)
from .support.audit import found, labels, matching, rows

# --- the rows --------------------------------------------------------------------------------


def test_rows_of_create_update_delete_carry_the_process_before_and_after(client):
    headers = {"BK_User": "alice", "X-Request-Id": "req-c"}
    body = {"bk_process_name": "web", "bk_func_name": "w", "port": 80}
    resp = client.post(proc_url("0", 5), json=body, headers=headers)
    pid = ok(resp)["bk_process_id"]
    created = search_one(client, pid, biz=5)

    body = {"user": "root", "port": "8080"}
    resp = client.put(proc_url("0", 5, pid), json=body, headers={"BK-User": "bob"})
    ok(resp)
    update_request = resp.headers["X-Request-Id"]
    updated = search_one(client, pid, biz=5)
    assert updated["last_time"] != created["last_time"]

    resp = client.delete(proc_url("0", 5, pid))
    ok(resp)
    delete_request = resp.headers["X-Request-Id"]
    assert len({"req-c", update_request, delete_request}) == 3

    deleted, update, create_ = rows(client, headers=EN)
    for row in (deleted, update, create_):
        assert (row["bk_supplier_account"], row["bk_biz_id"]) == ("0", 5)
        assert (row["op_target"], row["inst_id"]) == ("process", pid)
        assert isinstance(row["id"], int) and isinstance(row["op_from"], str)
        assert ISO_TIME.fullmatch(row["op_time"]), row["op_time"]
    assert [create_["op_type"], update["op_type"], deleted["op_type"]] == [1, 2, 3]
    assert [create_["op_desc"], update["op_desc"], deleted["op_desc"]] == [
        "create process",
        "update process",
        "delete process",
    ]
    assert [create_["operator"], update["operator"], deleted["operator"]] == [
        "alice",
        "bob",
        "anonymous",
    ]
    assert [create_["request_id"], update["request_id"], deleted["request_id"]] == [
        "req-c",
        update_request,
        delete_request,
    ]
    assert create_["content"] == {"pre_data": {}, "cur_data": created}
    assert create_["content"]["cur_data"]["port"] == "80"
    assert update["content"] == {"pre_data": created, "cur_data": updated}
    assert deleted["content"] == {
        "pre_data": {**updated, "bk_module_names": []},
        "cur_data": {},
    }


def test_batch_update_writes_one_row_per_process(client):
    pids = [create(client, bk_process_name=f"p{i}") for i in range(4)]
    before = {pid: search_one(client, pid) for pid in pids}
    resp = client.put(
        proc_url(), json={"bk_process_id": f"{pids[2]},{pids[0]},{pids[1]}", "user": "svc"},
        headers={"BK_User": "carol"},
    )  # fmt: skip
    ok(resp)
    info = rows(client, {"condition": {"op_type": 2}}, headers=EN)
    assert sorted(row["inst_id"] for row in info) == sorted(pids[:3])
    for row in info:
        pid = row["inst_id"]
        assert (row["op_target"], row["op_desc"], row["operator"]) == (
            "process",
            "update process",
            "carol",
        )
        assert row["request_id"] == resp.headers["X-Request-Id"]
        assert row["content"] == {"pre_data": before[pid], "cur_data": search_one(client, pid)}
    assert found(client)["count"] == 7


def test_set_and_module_rows(client):
    headers = {"BK_User": "dave", "X-Request-Id": "req-set"}
    created_set = new_set(client, "web-set", biz=4, account="acme", headers=headers)
    sid = created_set["bk_set_id"]
    headers = {"X-Request-Id": "req-mod"}
    module = new_module(client, sid, "nginx", biz=4, account="acme", headers=headers)
    info = rows(client, account="acme", headers=EN)
    assert labels(info) == ["mod", "set"]
    mod_row, set_row = info
    scope = ("bk_supplier_account", "bk_biz_id", "op_type", "op_target")
    assert [set_row[k] for k in scope] == ["acme", 4, 1, "set"]
    assert [mod_row[k] for k in scope] == ["acme", 4, 1, "module"]
    assert (set_row["inst_id"], set_row["op_desc"], set_row["operator"]) == (
        sid,
        "create set",
        "dave",
    )
    assert set_row["content"] == {"pre_data": {}, "cur_data": created_set}
    assert (mod_row["inst_id"], mod_row["op_desc"], mod_row["operator"]) == (
        module["bk_module_id"],
        "create module",
        "anonymous",
    )
    assert mod_row["content"] == {"pre_data": {}, "cur_data": module}
    assert matching(client, {"op_target": "set"}, account="acme") == ["set"]
    condition = {"op_target": "module", "inst_id": module["bk_module_id"]}
    assert matching(client, condition, account="acme") == ["mod"]
    assert found(client) == {"count": 0, "info": []}


def test_bind_and_unbind_rows(client):
    sid = new_set(client, "s", biz=1)["bk_set_id"]
    new_module(client, sid, "gs", biz=1)
    pid = create(client)
    bind = f"/api/v3/proc/module/0/1/{pid}/gs"
    ok(client.put(bind, headers={"X-Request-Id": "req-bind", "BK_User": "erin"}))
    ok(client.put(bind))  # binding twice changes nothing: no row
    ok(client.delete(bind, headers={"X-Request-Id": "req-unbind"}))
    ok(client.delete(bind))  # nothing to unbind: no row
    info = rows(client, {"condition": {"op_type": 2}}, headers=EN)
    assert labels(info) == ["unbind", "bind"]
    unbind, bound = info
    assert (bound["op_desc"], bound["op_target"], bound["inst_id"], bound["operator"]) == (
        "bind module [gs]",
        "process",
        pid,
        "erin",
    )
    assert bound["content"] == {
        "pre_data": {"bk_module_names": []},
        "cur_data": {"bk_module_names": ["gs"]},
    }
    assert unbind["op_desc"] == "unbind module [gs]"
    assert unbind["content"] == {
        "pre_data": {"bk_module_names": ["gs"]},
        "cur_data": {"bk_module_names": []},
    }
    assert found(client)["count"] == 5


def test_request_id_is_the_responses_x_request_id(client):
    sent = {"X-Request-Id": "abc.DEF_1:2-3"}
    echoed = client.post(
        proc_url(), json={"bk_process_name": "a", "bk_func_name": "a"}, headers=sent
    )
    assert ok(echoed) and echoed.headers["X-Request-Id"] == "abc.DEF_1:2-3"
    generated = client.post(proc_url(), json={"bk_process_name": "b", "bk_func_name": "b"})
    ok(generated)
    refused_id = client.post(
        proc_url(),
        json={"bk_process_name": "c", "bk_func_name": "c"},
        headers={"X-Request-Id": "not plain!"},
    )
    ok(refused_id)
    assert refused_id.headers["X-Request-Id"] != "not plain!"
    assert [row["request_id"] for row in rows(client)] == [
        refused_id.headers["X-Request-Id"],
        generated.headers["X-Request-Id"],
        "abc.DEF_1:2-3",
    ]
    # the search's own response carries a request id too, but records nothing
    resp = search_audit(client, {}, headers={"X-Request-Id": "req-search"})
    assert resp.headers["X-Request-Id"] == "req-search"
    assert matching(client, {"operator": "anonymous"}) == [
        refused_id.headers["X-Request-Id"],
        generated.headers["X-Request-Id"],
        "abc.DEF_1:2-3",
    ]


def test_operator_is_the_bk_user_header(client):
    for i, headers in enumerate(
        [{"BK_User": "alice"}, {"BK-User": "bob"}, {"bk_user": "carol"}, {}, {"BK_User": "  "}]
    ):
        body = {"bk_process_name": f"p{i}", "bk_func_name": "f"}
        ok(client.post(proc_url(), json=body, headers=headers))
    info = rows(client, {"sort": "id"})
    assert [row["operator"] for row in info] == ["alice", "bob", "carol", "anonymous", "anonymous"]
    assert len(matching(client, {"operator": "anonymous"})) == 2
    assert len(matching(client, {"operator": "bob"})) == 1


def test_failed_writes_write_no_row(client):
    pid = create(client, bk_process_name="a")
    create(client, bk_process_name="b")
    sid = new_set(client, "s", biz=1)["bk_set_id"]
    failures = [
        client.post(proc_url(), json={"bk_process_name": "a", "bk_func_name": "a"}),  # 409
        client.post(proc_url(), json={"bk_func_name": "a"}),  # 400
        client.put(proc_url(pid=pid), json={"bk_process_name": "b"}),  # 409
        client.put(proc_url(pid=pid), json={"timeout": 0}),  # 400
        client.put(proc_url(pid=pid + 100), json={}),  # 404
        client.delete(proc_url(pid=pid + 100)),  # 404
        client.delete(proc_url("acme", 1, pid)),  # 404: another account's id
        client.put(proc_url(), json={"bk_process_id": f"{pid},{pid + 100}", "user": "x"}),  # 404
        client.post("/api/v3/set/1", json={"bk_set_name": "s"}),  # 409
        client.post(f"/api/v3/module/1/{sid}", json={}),  # 400
        client.post(f"/api/v3/module/1/{sid + 100}", json={"bk_module_name": "m"}),  # 404
        client.put(f"/api/v3/proc/module/0/1/{pid}/nosuchmodule"),  # 404
    ]
    statuses = [409, 400, 409, 400, 404, 404, 404, 404, 409, 400, 404, 404]
    assert [r.status_code for r in failures] == statuses
    assert found(client)["count"] == 3
    assert found(client, account="acme")["count"] == 0


# --- language --------------------------------------------------------------------------------

MESSAGES = [
    ({"limit": 201}, 1199015, "'limit' data out of range", "'limit' 数据越界"),
    (
        {"condition": {"foo": 1}},
        1199011,
        "'foo' the parameter is invalid or does not exist",
        "'foo' 参数无效或不存在",
    ),
    (
        {"sort": "content"},
        1199011,
        "'content' the parameter is invalid or does not exist",
        "'content' 参数无效或不存在",
    ),
    (
        {"condition": {"op_time": ["b", "a"]}},
        1199006,
        "'op_time' data parameter verification does not pass",
        "'op_time' 数据参数校验不通过",
    ),
    (
        {"start": -1},
        1199006,
        "'start' data parameter verification does not pass",
        "'start' 数据参数校验不通过",
    ),
    ({"start": "x"}, 1199009, "'start' parameters must be integral", "'start' 参数必须是整型"),
    (
        {"condition": {"op_type": "x"}},
        1199009,
        "'op_type' parameters must be integral",
        "'op_type' 参数必须是整型",
    ),
    (
        {"condition": {"operator": 1}},
        1199007,
        "'operator' must be a string type",
        "'operator' 必须为字符串类型",
    ),
]


def test_messages_in_english_and_chinese(client):
    for body, code, en, zh in MESSAGES:
        assert refused(body, search_audit(client, body, headers=EN), 400, code) == en
        assert refused(body, search_audit(client, body, headers=ZH), 400, code) == zh
        # Chinese by default; Accept-Language decides when the BlueKing header is absent
        assert refused(body, search_audit(client, body), 400, code) == zh
        accept = {"Accept-Language": "en-US,en;q=0.9"}
        assert refused(body, search_audit(client, body, headers=accept), 400, code) == en
    raw = client.post(AUDIT_URL, data="{", content_type="application/json", headers=EN)
    assert refused("{", raw, 400, 1199000) == "Deserializing JSON data failed"
    raw = client.post(AUDIT_URL, data="[]", content_type="application/json", headers=ZH)
    assert refused("[]", raw, 400, 1199000) == "反序列化JSON数据失败"
    resp = search_audit(client, {}, account="a b", headers=ZH)
    assert refused("header", resp, 400, 1199003) == "输入参数无效: 'HTTP_BLUEKING_SUPPLIER_ID'"
    resp = search_audit(client, {"condition": {"op_type": {"$in": list(range(1001))}}}, headers=EN)
    assert "exceed the limit 1000" in refused("$in", resp, 400, 1199035, "op_type")
    resp = search_audit(client, {"condition": {"op_type": {"$in": list(range(1001))}}}, headers=ZH)
    assert "超过限制 1000" in refused("$in", resp, 400, 1199035, "op_type")


def test_regex_on_audit_text_has_the_search_time_limit(db_url):
    """A $regex condition on audit text gets PROC_REGEX_TIMEOUT_MS like search_process: a
    pattern slow on long values ("[ab]*a[ab]{64}c") is refused with 400 / 1199006 naming its
    field, on both databases, instead of holding a worker. Here the limit is 1 ms."""
    from sqlalchemy import insert

    from proc_service import create_app
    from proc_service.data.models import AuditLog

    # Rows any writer can cause (BK_User is the operator), inserted directly for speed.
    engine = create_engine(db_url)
    row = {"bk_supplier_account": "0", "bk_biz_id": 1, "op_type": 1, "op_target": "process",
           "op_desc": "create process", "operator": "ab" * 128, "op_from": "",
           "op_time": datetime.now(UTC), "request_id": "r", "content": {}}  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(AuditLog), [{**row, "inst_id": i} for i in range(2000)])
    engine.dispose()
    app = create_app({"DATABASE_URL": db_url, "LOG_LEVEL": "WARNING", "REGEX_TIMEOUT_MS": 1})
    client = app.test_client()
    try:
        slow = {"condition": {"operator": {"$regex": "[ab]*a[ab]{64}c"}}}
        err(client.post(AUDIT_URL, json=slow, headers=EN), 400, 1199006, "operator")
        # The limit did not outlive its search: the next one on the connection runs freely.
        assert ok(client.post(AUDIT_URL, json={"condition": {"inst_id": 7}}))["count"] == 1
    finally:
        app.extensions["db_engine"].dispose()
