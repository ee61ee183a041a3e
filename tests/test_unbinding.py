"""delete_process_module_binding, the audit rows of bindings, and delete_process (docs/api.md §3,
§5)."""

from __future__ import annotations

import pytest

from .dbkit import audit_rows, binding_rows, snapshot
from .kit import (
    ACCOUNT_HEADER,
    EN,
    bind,
    binding_url,
    create,
    err,
    new_module,
    new_set,
    ok,
    proc_url,
    unbind,
)
from .support.bindings import UNKNOWN_PROCESS, binding_audits, bound, bound_to, listing, module_path

# --- delete_process_module_binding -----------------------------------------------------------


def test_unbind_removes_only_that_binding(client, db_url):
    s1 = new_set(client, "set")["bk_set_id"]
    for name in ["web", "db"]:
        new_module(client, s1, name)
    p1 = create(client, bk_process_name="p1")
    p2 = create(client, bk_process_name="p2")
    for pid in (p1, p2):
        bound(client, pid, "web")
        bound(client, pid, "db")
    assert ok(unbind(client, p1, "web")) == "success"
    assert binding_rows(db_url) == sorted([(p1, "db"), (p2, "web"), (p2, "db")])
    assert listing(client, p1) == [("web", 1, 0), ("db", 1, 1)]
    assert listing(client, p2) == [("web", 1, 1), ("db", 1, 1)]
    assert bound_to(client, "web") == [p2]
    # and it can be bound again
    bound(client, p1, "web")
    assert listing(client, p1) == [("web", 1, 1), ("db", 1, 1)]


@pytest.mark.parametrize(
    "name",
    ["db", "no-such-module", "Web", "web "],
    ids=["module-not-bound", "no-module-at-all", "other-case", "trailing-space"],
)
def test_unbinding_what_is_not_bound_is_a_silent_success(client, db_url, name):
    s1 = new_set(client, "set")["bk_set_id"]
    new_module(client, s1, "web")
    new_module(client, s1, "db")
    pid = create(client)
    bound(client, pid, "web")
    before = snapshot(db_url)
    assert ok(unbind(client, pid, name)) == "success"
    assert binding_rows(db_url) == [(pid, "web")]
    assert snapshot(db_url) == before
    assert listing(client, pid) == [("web", 1, 1), ("db", 1, 0)]


def test_unbinding_twice_is_audited_once(client, db_url):
    new_module(client, new_set(client, "set")["bk_set_id"], "web")
    pid = create(client)
    bound(client, pid, "web")
    ok(unbind(client, pid, "web"))
    ok(unbind(client, pid, "web"))
    descs = [r["op_desc"] for r in binding_audits(db_url)]
    assert descs == ["bind module [web]", "unbind module [web]"]


@UNKNOWN_PROCESS
def test_unbind_of_an_unknown_process_is_404_and_changes_nothing(
    client, db_url, account, biz, offset
):
    new_module(client, new_set(client, "set")["bk_set_id"], "web")
    pid = create(client)
    bound(client, pid, "web")
    before = snapshot(db_url)
    missing = pid + offset
    msg = err(unbind(client, missing, "web", account, biz, headers=EN), 404, 1199019)
    assert "bk_process_id" in msg and str(missing) in msg
    assert binding_rows(db_url) == [(pid, "web")]
    assert snapshot(db_url) == before


def test_a_dangling_binding_can_be_unbound(client, db_url):
    s1 = new_set(client, "set")["bk_set_id"]
    web = new_module(client, s1, "web")["bk_module_id"]
    new_module(client, s1, "db")
    pid = create(client)
    bound(client, pid, "web")
    ok(client.delete(module_path(s1, web)))
    assert listing(client, pid) == [("db", 1, 0), ("web", 0, 1)]
    assert ok(unbind(client, pid, "web")) == "success"
    assert binding_rows(db_url) == []
    assert listing(client, pid) == [("db", 1, 0)]
    last = binding_audits(db_url)[-1]
    assert last["op_desc"] == "unbind module [web]"
    assert last["content"] == {
        "pre_data": {"bk_module_names": ["web"]},
        "cur_data": {"bk_module_names": []},
    }
    # and with no module left of that name, it cannot be bound again
    err(bind(client, pid, "web"), 404, 1199019, "bk_module_name")


# --- audit (§5) ------------------------------------------------------------------------------


def test_bind_and_unbind_audit_rows(client, db_url):
    account, biz = "acct-x", 7
    s1 = new_set(client, "set", biz=biz, account=account)["bk_set_id"]
    for name in ["zeta", "alpha", "mid"]:
        new_module(client, s1, name, biz=biz, account=account)
    pid = create(client, account, biz)
    steps = [
        (bind, "zeta", [], ["zeta"]),
        (bind, "alpha", ["zeta"], ["alpha", "zeta"]),
        (bind, "mid", ["alpha", "zeta"], ["alpha", "mid", "zeta"]),
        (unbind, "zeta", ["alpha", "mid", "zeta"], ["alpha", "mid"]),
    ]
    request_ids = []
    for i, (call, name, _, _) in enumerate(steps):
        headers = {"BK_User": "alice", "X-Request-Id": f"req-bind-{i}"}
        resp = call(client, pid, name, account, biz, headers=headers)
        ok(resp)
        request_ids.append(resp.headers["X-Request-Id"])
    assert request_ids == [f"req-bind-{i}" for i in range(4)]

    rows = binding_audits(db_url)
    assert len(rows) == 4
    for row, (call, name, pre, cur), request_id in zip(rows, steps, request_ids, strict=True):
        verb = "bind" if call is bind else "unbind"
        assert row["op_desc"] == f"{verb} module [{name}]"
        assert row["op_type"] == 2 and row["op_target"] == "process"
        assert row["inst_id"] == pid
        assert row["bk_supplier_account"] == account and row["bk_biz_id"] == biz
        assert row["operator"] == "alice"
        assert row["request_id"] == request_id
        assert row["content"] == {
            "pre_data": {"bk_module_names": pre},
            "cur_data": {"bk_module_names": cur},
        }

    # the rows are what audit search shows for the process
    found = ok(
        client.post(
            "/api/v3/audit/search",
            json={"condition": {"op_target": "process", "inst_id": pid, "op_type": 2}},
            headers={ACCOUNT_HEADER: account, "HTTP_BLUEKING_LANGUAGE": "en"},
        )
    )
    assert found["count"] == 4
    assert sorted(r["op_desc"] for r in found["info"]) == sorted(r["op_desc"] for r in rows)


def test_bind_audit_operator_defaults_to_anonymous(client, db_url):
    new_module(client, new_set(client, "set")["bk_set_id"], "web")
    pid = create(client)
    bound(client, pid, "web")
    ok(unbind(client, pid, "web", headers={"BK-User": "bob"}))
    assert [r["operator"] for r in binding_audits(db_url)] == ["anonymous", "bob"]


def test_failed_and_idle_binding_calls_write_no_audit_row(client, db_url):
    new_module(client, new_set(client, "set")["bk_set_id"], "web")
    pid = create(client)
    bound(client, pid, "web")
    before = snapshot(db_url)
    calls = [
        bind(client, pid, "web"),  # already bound
        bind(client, pid, "nope"),  # 404 module
        bind(client, pid + 99, "web"),  # 404 process
        unbind(client, pid, "nope"),  # not bound
        unbind(client, pid + 99, "web"),  # 404 process
        bind(client, pid, "x" * 257),  # 400
    ]
    assert [r.status_code for r in calls] == [200, 404, 404, 200, 404, 400]
    assert snapshot(db_url) == before


# --- delete_process --------------------------------------------------------------------------


def test_delete_process_removes_its_bindings_and_audits_them(client, db_url):
    s1 = new_set(client, "set")["bk_set_id"]
    modules = {
        name: new_module(client, s1, name)["bk_module_id"]
        for name in ["web", "db", "gone", "cache"]
    }
    attrs = {"bk_process_name": "victim", "bk_func_name": "victim", "port": "8080", "user": "u"}
    pid = create(client, **attrs)
    other = create(client, bk_process_name="other")
    for name in ["web", "gone", "db"]:
        bound(client, pid, name)
    bound(client, other, "web")
    ok(client.delete(module_path(s1, modules["gone"])))  # a dangling binding goes too

    assert ok(client.delete(proc_url(pid=pid), headers={"BK_User": "carol"})) == "success"

    assert binding_rows(db_url) == [(other, "web")]
    assert bound_to(client, "web") == [other]
    assert bound_to(client, {"$in": ["db", "gone"]}) == []
    err(client.get(binding_url(pid)), 404, 1199019)
    err(bind(client, pid, "web", headers=EN), 404, 1199019, "bk_process_id")
    err(unbind(client, pid, "web", headers=EN), 404, 1199019, "bk_process_id")

    (deleted,) = [r for r in audit_rows(db_url) if r["op_type"] == 3 and r["inst_id"] == pid]
    assert deleted["op_target"] == "process" and deleted["operator"] == "carol"
    pre = deleted["content"]["pre_data"]
    assert pre["bk_module_names"] == ["db", "gone", "web"]
    assert {k: pre[k] for k in attrs} == attrs
    assert pre["bk_process_id"] == pid
    assert deleted["content"]["cur_data"] == {}
    assert listing(client, other) == [("web", 1, 1), ("db", 1, 0), ("cache", 1, 0)]


def test_delete_process_without_bindings_records_an_empty_list(client, db_url):
    new_module(client, new_set(client, "set")["bk_set_id"], "web")
    pid = create(client)
    bound(client, pid, "web")
    ok(unbind(client, pid, "web"))
    ok(client.delete(proc_url(pid=pid)))
    (deleted,) = [r for r in audit_rows(db_url) if r["op_type"] == 3]
    assert deleted["content"]["pre_data"]["bk_module_names"] == []


def test_a_new_process_after_a_delete_is_bound_to_nothing(client, db_url):
    s1 = new_set(client, "set")["bk_set_id"]
    new_module(client, s1, "web")
    new_module(client, s1, "db")
    pid = create(client, bk_process_name="same")
    bound(client, pid, "web")
    bound(client, pid, "db")
    ok(client.delete(proc_url(pid=pid)))
    again = create(client, bk_process_name="same")
    assert again != pid
    assert listing(client, again) == [("web", 1, 0), ("db", 1, 0)]
    assert bound_to(client, {"$in": ["web", "db"]}) == []
    assert binding_rows(db_url) == []
