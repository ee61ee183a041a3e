"""Audit search (docs/api.md §5): the body and its conditions."""

from __future__ import annotations

import pytest

from .dbkit import snapshot
from .kit import AUDIT_URL, EN, ok, refused, search, search_audit
from .support.audit import CREATES, NEWEST, by_label, found, history, labels, matching

# --- the body --------------------------------------------------------------------------------


def test_empty_body_returns_the_accounts_rows_newest_first(client):
    history(client)
    data = found(client, {})
    assert data["count"] == 6
    assert labels(data["info"]) == NEWEST
    ids = [row["id"] for row in data["info"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 6


def test_body_must_be_a_json_object(client):
    history(client)
    for raw in ["", "null", "[]", '"x"', "5", "{", "{'condition': {}}"]:
        resp = client.post(AUDIT_URL, data=raw, content_type="application/json", headers=EN)
        refused(raw, resp, 400, 1199000)
    # parsed as JSON whatever the Content-Type says
    resp = client.post(AUDIT_URL, data='{"limit": 2}', content_type="text/plain")
    assert len(ok(resp)["info"]) == 2


@pytest.mark.parametrize("key", ["page", "fields", "conditions", "offset", "bk_supplier_account"])
def test_unknown_top_level_key_is_1199011(client, key):
    history(client)
    refused(key, search_audit(client, {key: 1}, headers=EN), 400, 1199011, key)


def test_condition_must_be_an_object(client):
    for condition in [[], "op_type", 5, None, [["op_type", 1]]]:
        resp = search_audit(client, {"condition": condition}, headers=EN)
        refused(condition, resp, 400, 1199006, "condition")


def test_searching_writes_no_audit_row(client, db_url):
    history(client)
    before = snapshot(db_url)
    for _ in range(3):
        assert found(client, {})["count"] == 6
        assert found(client, {"condition": {"op_type": 1}, "limit": 1})["count"] == 4
    refused("bad", search_audit(client, {"limit": 500}), 400, 1199015)
    ok(search(client, {}))
    assert snapshot(db_url) == before


# --- conditions ------------------------------------------------------------------------------

CONDITIONS = [
    ({}, NEWEST),
    # bk_biz_id
    ({"bk_biz_id": 1}, ["create_module", "create_set", "update_a", "create_a"]),
    ({"bk_biz_id": "2"}, ["delete_b", "create_b"]),
    ({"bk_biz_id": 3}, []),
    ({"bk_biz_id": {"$in": [2, 3]}}, ["delete_b", "create_b"]),
    ({"bk_biz_id": {"$gt": 1}}, ["delete_b", "create_b"]),
    ({"bk_biz_id": {"$ne": "2"}}, ["create_module", "create_set", "update_a", "create_a"]),
    # op_type
    ({"op_type": 1}, CREATES),
    ({"op_type": 2}, ["update_a"]),
    ({"op_type": "3"}, ["delete_b"]),
    ({"op_type": 9}, []),
    ({"op_type": 0}, []),
    ({"op_type": -1}, []),
    ({"op_type": 2**40}, []),
    ({"op_type": {"$eq": 2}}, ["update_a"]),
    ({"op_type": {"$eq": "1"}}, CREATES),
    ({"op_type": {"$ne": 1}}, ["delete_b", "update_a"]),
    ({"op_type": {"$in": [2, "3"]}}, ["delete_b", "update_a"]),
    ({"op_type": {"$in": []}}, []),
    ({"op_type": {"$in": [9]}}, []),
    ({"op_type": {"$nin": [1, 3]}}, ["update_a"]),
    ({"op_type": {"$nin": []}}, NEWEST),
    ({"op_type": {"$gt": 1}}, ["delete_b", "update_a"]),
    ({"op_type": {"$gte": 2}}, ["delete_b", "update_a"]),
    ({"op_type": {"$lt": 2}}, CREATES),
    (
        {"op_type": {"$lte": "2"}},
        ["create_module", "create_set", "update_a", "create_b", "create_a"],
    ),
    ({"op_type": {"$gt": 1, "$lt": 3}}, ["update_a"]),
    ({"op_type": {"$gte": 1, "$lte": 3, "$ne": 2}}, ["delete_b", *CREATES]),
    ({"op_type": {"$gt": 3, "$lt": 1}}, []),
    ({"op_type": {"$in": [1, 2, 3], "$nin": [1]}}, ["delete_b", "update_a"]),
    # op_target: exact, case-sensitive
    ({"op_target": "process"}, ["delete_b", "update_a", "create_b", "create_a"]),
    ({"op_target": "set"}, ["create_set"]),
    ({"op_target": "module"}, ["create_module"]),
    ({"op_target": "proc"}, []),
    ({"op_target": "Process"}, []),
    ({"op_target": ""}, []),
    ({"op_target": {"$eq": "set"}}, ["create_set"]),
    ({"op_target": {"$ne": "process"}}, ["create_module", "create_set"]),
    ({"op_target": {"$in": ["set", "module"]}}, ["create_module", "create_set"]),
    ({"op_target": {"$nin": ["process", "set"]}}, ["create_module"]),
    # operator: exact, case-sensitive
    ({"operator": "alice"}, ["delete_b", "create_module", "create_a"]),
    ({"operator": "bob"}, ["update_a", "create_b"]),
    ({"operator": "carol"}, ["create_set"]),
    ({"operator": "ali"}, []),
    ({"operator": "Alice"}, []),
    ({"operator": "alice "}, []),
    ({"operator": "anonymous"}, []),
    ({"operator": {"$in": ["bob", "carol"]}}, ["create_set", "update_a", "create_b"]),
    ({"operator": {"$nin": ["alice", "bob"]}}, ["create_set"]),
    ({"operator": {"$ne": "alice"}}, ["create_set", "update_a", "create_b"]),
    # keys are ANDed
    ({"op_target": "process", "operator": "bob"}, ["update_a", "create_b"]),
    ({"op_target": "process", "op_type": 1, "bk_biz_id": 2}, ["create_b"]),
    ({"operator": "alice", "op_type": {"$ne": 1}}, ["delete_b"]),
    ({"bk_biz_id": 1, "op_target": "process", "op_type": {"$gte": 2}}, ["update_a"]),
    ({"bk_biz_id": 1, "operator": "alice"}, ["create_module", "create_a"]),
    ({"operator": "carol", "op_target": "process"}, []),
    ({"bk_biz_id": 2, "op_type": 3, "op_target": "process", "operator": "alice"}, ["delete_b"]),
]


def test_condition_keys_alone_and_combined(client):
    history(client)
    for condition, expected in CONDITIONS:
        assert matching(client, condition) == expected, condition


def test_inst_id_alone_and_combined(client):
    ids = history(client)
    every = by_label(client)

    def holding(inst_id):  # the rows of account "0" whose inst_id is this id, newest first
        return [label for label in NEWEST if every[label]["inst_id"] == inst_id]

    assert matching(client, {"inst_id": ids["a"], "op_target": "process"}) == [
        "update_a",
        "create_a",
    ]
    assert matching(client, {"inst_id": str(ids["b"]), "op_target": "process"}) == [
        "delete_b",
        "create_b",
    ]
    assert matching(client, {"inst_id": ids["set"], "op_target": "set"}) == ["create_set"]
    assert matching(client, {"inst_id": ids["module"], "op_target": "module"}) == ["create_module"]
    assert matching(client, {"inst_id": {"$in": [ids["a"], ids["b"]]}, "op_target": "process"}) == [
        "delete_b",
        "update_a",
        "create_b",
        "create_a",
    ]
    for key in ("a", "b", "set", "module", "foreign"):
        assert matching(client, {"inst_id": ids[key]}) == holding(ids[key]), key
    assert "create_a" in holding(ids["a"]) and "update_a" in holding(ids["a"])
    assert matching(client, {"inst_id": 10**12}) == []
    assert matching(client, {"inst_id": {"$gt": max(ids.values())}}) == []
    # the acme process's rows are only acme's
    assert matching(client, {"inst_id": ids["foreign"]}, account="acme") == ["foreign"]


WRONG_TYPE = [
    ({"bk_biz_id": "x"}, 1199009, "bk_biz_id"),
    ({"bk_biz_id": 1.5}, 1199009, "bk_biz_id"),
    ({"op_type": True}, 1199009, "op_type"),
    ({"op_type": "create"}, 1199009, "op_type"),
    ({"op_type": [1]}, 1199009, "op_type"),
    ({"inst_id": "1a"}, 1199009, "inst_id"),
    ({"op_type": {"$in": ["x"]}}, 1199009, "op_type"),
    ({"op_type": {"$gt": "x"}}, 1199009, "op_type"),
    ({"op_target": 5}, 1199007, "op_target"),
    ({"op_target": ["process"]}, 1199007, "op_target"),
    ({"operator": True}, 1199007, "operator"),
    ({"operator": {"$in": [1]}}, 1199007, "operator"),
    ({"operator": {"$eq": 5}}, 1199007, "operator"),
]


def test_condition_value_of_the_wrong_type(client, db_url):
    history(client)
    before = snapshot(db_url)
    for condition, code, field in WRONG_TYPE:
        resp = search_audit(client, {"condition": condition}, headers=EN)
        refused(condition, resp, 400, code, field)
    assert snapshot(db_url) == before


MALFORMED = [
    ({"op_type": {"$foo": 1}}, "op_type"),
    ({"op_type": {"$eq": 1, "$like": 1}}, "op_type"),
    ({"operator": {"$like": "a%"}}, "operator"),
    ({"bk_biz_id": {"eq": 1}}, "bk_biz_id"),
    ({"inst_id": {"$in": 1}}, "inst_id"),
    ({"op_target": {"$nin": "process"}}, "op_target"),
    ({"op_type": {"$gt": None}}, "op_type"),
]


def test_unknown_operator_or_malformed_operand_is_1199006(client):
    history(client)
    for condition, field in MALFORMED:
        resp = search_audit(client, {"condition": condition}, headers=EN)
        refused(condition, resp, 400, 1199006, field)


def test_in_and_nin_take_at_most_1000_values(client):
    history(client)
    for op in ("$in", "$nin"):
        for key, values in [
            ("op_type", list(range(1001))),
            ("inst_id", list(range(1, 1002))),
            ("op_target", [f"t{i}" for i in range(1001)]),
        ]:
            resp = search_audit(client, {"condition": {key: {op: values}}}, headers=EN)
            message = refused((key, op), resp, 400, 1199035, key)
            assert "1000" in message, message
    # 1000 is still fine
    assert matching(client, {"op_type": {"$in": list(range(1000))}}) == NEWEST
    assert matching(client, {"op_type": {"$nin": list(range(2, 1002))}}) == CREATES
    many = ["set", *(f"t{i}" for i in range(999))]
    assert matching(client, {"op_target": {"$in": many}}) == ["create_set"]


UNKNOWN_KEYS = [
    "bk_supplier_account", "content", "op_desc", "op_from", "request_id", "id", "foo",
    "bk_process_name", "op_time; DROP TABLE audit_log", "", "OP_TYPE",
]  # fmt: skip


def test_unknown_condition_key_is_1199011(client, db_url):
    history(client)
    before = snapshot(db_url)
    for key in UNKNOWN_KEYS:
        for condition in [{key: "0"}, {"op_type": 1, key: {"$eq": "x"}}]:
            resp = search_audit(client, {"condition": condition}, headers=EN)
            refused(condition, resp, 400, 1199011, f"'{key}'")
    assert snapshot(db_url) == before
