"""search_process (docs/api.md §3): operators, their limits, malformed operators, condition keys."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from .dbkit import snapshot
from .kit import EN, ZH, create, err, ok, proc_url, refused, search
from .support.search import check_table, found, matching

# --- operators -------------------------------------------------------------------------------


@pytest.fixture
def op_set(client) -> dict[str, int]:
    """Five processes, created in this order (ids and create_time ascending)."""
    rows = [
        {"bk_process_name": "alpha", "proc_num": 1, "bind_ip": "1", "auto_start": True},
        {"bk_process_name": "beta", "proc_num": 5, "bind_ip": "2", "port": "443"},
        {"bk_process_name": "gamma", "proc_num": 10, "bind_ip": "3", "auto_start": True},
        {"bk_process_name": "delta", "protocol": "2"},  # proc_num and bind_ip null
        {"bk_process_name": "epsilon", "proc_num": 100, "bind_ip": "1", "user": "root"},
    ]
    rows[0]["port"], rows[2]["port"] = "80", "8080"
    return {row["bk_process_name"]: create(client, **row) for row in rows}


ALL5 = {"alpha", "beta", "gamma", "delta", "epsilon"}
OPERATORS = {
    "int": [
        ({"proc_num": {"$eq": 5}}, {"beta"}),
        ({"proc_num": {"$eq": "5"}}, {"beta"}),
        ({"proc_num": {"$eq": None}}, {"delta"}),
        ({"proc_num": {"$ne": 5}}, ALL5 - {"beta"}),  # null is "not equal" too
        ({"proc_num": {"$in": [1, "10"]}}, {"alpha", "gamma"}),
        ({"proc_num": {"$in": []}}, set()),
        ({"proc_num": {"$in": [None, 1]}}, {"alpha", "delta"}),
        ({"proc_num": {"$nin": [1, 10]}}, {"beta", "delta", "epsilon"}),  # null included
        ({"proc_num": {"$nin": []}}, ALL5),
        ({"proc_num": {"$gt": 5}}, {"gamma", "epsilon"}),  # null is in no range
        ({"proc_num": {"$gte": 5}}, {"beta", "gamma", "epsilon"}),
        ({"proc_num": {"$lt": 10}}, {"alpha", "beta"}),
        ({"proc_num": {"$lte": "10"}}, {"alpha", "beta", "gamma"}),
        ({"proc_num": {"$gt": 1, "$lt": 100}}, {"beta", "gamma"}),
        ({"proc_num": {"$gte": 5, "$lte": 10, "$ne": 10}}, {"beta"}),
        ({"proc_num": {"$gt": 10, "$lt": 5}}, set()),
        ({"proc_num": {"$in": [1, 5, 10], "$nin": [5]}}, {"alpha", "gamma"}),
    ],
    "enum": [  # codes are strings; integers are normalised
        ({"bind_ip": {"$eq": 3}}, {"gamma"}),
        ({"bind_ip": {"$ne": "1"}}, {"beta", "gamma", "delta"}),  # null included
        ({"bind_ip": {"$in": [1, "2"]}}, {"alpha", "beta", "epsilon"}),
        ({"bind_ip": {"$nin": ["1", "2"]}}, {"gamma", "delta"}),  # null included
        ({"bind_ip": {"$gt": "1"}}, {"beta", "gamma"}),
        ({"bind_ip": {"$lte": 2}}, {"alpha", "beta", "epsilon"}),
        ({"bind_ip": {"$regex": "^[12]$"}}, {"alpha", "beta", "epsilon"}),
        ({"bind_ip": {"$gte": 2, "$nin": [3]}}, {"beta"}),
        ({"protocol": {"$ne": 1}}, {"delta"}),
    ],
    "bool": [
        ({"auto_start": {"$eq": True}}, {"alpha", "gamma"}),
        ({"auto_start": {"$ne": True}}, {"beta", "delta", "epsilon"}),
        ({"auto_start": {"$in": [False]}}, {"beta", "delta", "epsilon"}),
        ({"auto_start": {"$nin": [False]}}, {"alpha", "gamma"}),
        ({"auto_start": {"$in": [True, False]}}, ALL5),
        ({"auto_start": {"$eq": True, "$ne": False}}, {"alpha", "gamma"}),
    ],
    "string": [
        ({"bk_process_name": {"$ne": "alpha"}}, ALL5 - {"alpha"}),
        ({"bk_process_name": {"$in": ["alpha", "zeta"]}}, {"alpha"}),
        ({"bk_process_name": {"$nin": ["alpha", "beta"]}}, {"gamma", "delta", "epsilon"}),
        ({"bk_process_name": {"$gt": "c"}}, {"gamma", "delta", "epsilon"}),
        ({"bk_process_name": {"$gte": "beta", "$lt": "epsilon"}}, {"beta", "delta"}),
        ({"bk_process_name": {"$lte": "beta"}}, {"alpha", "beta"}),
        ({"bk_process_name": {"$regex": "^[a-d]"}}, {"alpha", "beta", "delta"}),
        ({"bk_process_name": {"$regex": "a$"}}, {"alpha", "beta", "gamma", "delta"}),
        ({"bk_process_name": {"$regex": "a$", "$nin": ["beta"]}}, {"alpha", "gamma", "delta"}),
        ({"bk_process_name": {"$regex": "^A"}}, set()),  # case-sensitive
        ({"bk_process_name": {"$regex": "^(al|ep)", "$gt": "b"}}, {"epsilon"}),
        ({"user": {"$eq": "root"}}, {"epsilon"}),
        ({"user": {"$ne": ""}}, {"epsilon"}),
        ({"port": {"$in": [80, 443]}}, {"alpha", "beta"}),  # integer ports normalised
        ({"port": {"$regex": "^8"}}, {"alpha", "gamma"}),
    ],
    "several fields": [  # every one must hold
        ({"proc_num": {"$gte": 5}, "bind_ip": {"$ne": "1"}}, {"beta", "gamma"}),
        ({"auto_start": True, "port": {"$nin": ["80"]}}, {"gamma"}),
        ({"bk_process_name": "a", "proc_num": {"$lt": 5}, "auto_start": {"$ne": False}}, {"alpha"}),
    ],
}


@pytest.mark.parametrize("kind", list(OPERATORS))
def test_operators(client, op_set, kind):
    check_table(client, OPERATORS[kind])


def test_operators_on_bk_process_id(client, op_set):
    ids = op_set
    check_table(
        client,
        [
            ({"bk_process_id": {"$eq": ids["gamma"]}}, {"gamma"}),
            ({"bk_process_id": {"$ne": ids["gamma"]}}, ALL5 - {"gamma"}),
            ({"bk_process_id": {"$in": [ids["alpha"], str(ids["delta"])]}}, {"alpha", "delta"}),
            ({"bk_process_id": {"$nin": [ids["alpha"], ids["beta"]]}}, ALL5 - {"alpha", "beta"}),
            ({"bk_process_id": {"$gt": ids["delta"]}}, {"epsilon"}),
            ({"bk_process_id": {"$gte": ids["delta"]}}, {"delta", "epsilon"}),
            ({"bk_process_id": {"$lt": ids["beta"]}}, {"alpha"}),
            ({"bk_process_id": {"$lte": ids["beta"]}}, {"alpha", "beta"}),
            (
                {
                    "bk_process_id": {
                        "$gte": str(ids["beta"]),
                        "$lte": ids["delta"],
                        "$ne": ids["gamma"],
                    }
                },
                {"beta", "delta"},
            ),
        ],
    )


def test_operators_on_create_time_and_last_time(client, op_set):
    info = found(client, {})["info"]
    t = {p["bk_process_name"]: p["create_time"] for p in info}
    created = [t[name] for name in ("alpha", "beta", "gamma", "delta", "epsilon")]
    assert created == sorted(created) and len(set(created)) == 5  # precondition: distinct

    gamma = t["gamma"]
    # the same instant written with another UTC offset, or with "Z", is the same time
    instant = datetime.fromisoformat(gamma)
    plus8 = instant.astimezone(timezone(timedelta(hours=8))).isoformat(timespec="microseconds")
    check_table(
        client,
        [
            ({"create_time": gamma}, {"gamma"}),
            ({"create_time": {"$eq": gamma}}, {"gamma"}),
            ({"create_time": {"$gt": gamma}}, {"delta", "epsilon"}),
            ({"create_time": {"$gte": gamma}}, {"gamma", "delta", "epsilon"}),
            ({"create_time": {"$lt": gamma}}, {"alpha", "beta"}),
            ({"create_time": {"$lte": gamma}}, {"alpha", "beta", "gamma"}),
            ({"create_time": {"$ne": gamma}}, ALL5 - {"gamma"}),
            ({"create_time": {"$in": [t["alpha"], gamma]}}, {"alpha", "gamma"}),
            ({"create_time": {"$nin": [t["alpha"]]}}, ALL5 - {"alpha"}),
            ({"create_time": {"$gt": t["alpha"], "$lt": t["epsilon"]}}, {"beta", "gamma", "delta"}),
            ({"create_time": {"$eq": plus8}}, {"gamma"}),
            ({"create_time": gamma.replace("+00:00", "Z")}, {"gamma"}),
        ],
    )

    # last_time moves on update; create_time does not
    ok(client.put(proc_url(pid=op_set["beta"]), json={}))
    check_table(
        client,
        [
            ({"last_time": {"$gt": t["epsilon"]}}, {"beta"}),
            ({"last_time": {"$lte": t["epsilon"]}}, ALL5 - {"beta"}),
            ({"create_time": {"$gt": t["epsilon"]}}, set()),
        ],
    )


def test_malformed_operands_of_times_and_wrong_types(client):
    create(client)
    for condition in [
        {"create_time": {"$gt": "yesterday"}},
        {"create_time": {"$gt": 5}},
        {"last_time": {"$lt": "2026-13-01T00:00:00+00:00"}},
        {"last_time": {"$in": ["not a time"]}},
    ]:
        field = next(iter(condition))
        refused(
            condition, search(client, {"condition": condition}, headers=EN), 400, 1199006, field
        )

    # §3 says both "wrong type → the §2 error" and "malformed operand → 1199006": either code.
    for condition in [
        {"proc_num": {"$gt": "abc"}},
        {"proc_num": {"$in": [1, "abc"]}},
        {"auto_start": {"$eq": "yes"}},
        {"bind_ip": {"$nin": [True]}},
    ]:
        field = next(iter(condition))
        resp = search(client, {"condition": condition}, headers=EN)
        body = resp.get_json()
        assert resp.status_code == 400 and body["result"] is False, condition
        assert body["bk_error_code"] in (1199006, 1199007, 1199009, 1199025), condition
        assert field in body["bk_error_msg"], condition


# --- operator limits and malformed operators --------------------------------------------------


def test_in_and_nin_take_at_most_1000_values(client):
    pid = create(client, bk_process_name="nginx", proc_num=7)
    stored = {"bk_process_name": "nginx", "bk_process_id": pid, "proc_num": 7}
    for field, make in [
        ("bk_process_name", lambda i: f"n{i}"),
        ("bk_process_id", lambda i: pid + 500 - i),  # the process's id is among them
        ("proc_num", lambda i: i + 1),
    ]:
        values = [make(i) for i in range(1000)]
        listed = stored[field] in values
        for op in ("$in", "$nin"):
            data = found(client, {"condition": {field: {op: values}}})
            assert data["count"] == int(listed == (op == "$in")), (field, op)
            resp = search(client, {"condition": {field: {op: [*values, make(1000)]}}}, headers=EN)
            assert "1000" in refused((field, op), resp, 400, 1199035, field)

    names = [f"m{i}" for i in range(1000)]
    ok(search(client, {"condition": {"bk_module_name": {"$in": names}}}))
    resp = search(client, {"condition": {"bk_module_name": {"$in": [*names, "m"]}}}, headers=EN)
    assert "1000" in err(resp, 400, 1199035, "bk_module_name")


def test_regex_takes_at_most_256_characters(client):
    create(client, bk_process_name="a")
    create(client, bk_process_name="b")
    pattern = "x?" * 128  # 256 characters that match everything
    assert len(pattern) == 256
    assert matching(client, {"bk_process_name": {"$regex": pattern}}) == {"a", "b"}
    resp = search(client, {"condition": {"bk_process_name": {"$regex": pattern + "y"}}}, headers=EN)
    assert "256" in err(resp, 400, 1199035, "bk_process_name")


MALFORMED = {
    "unknown operator": [
        {"bk_process_name": {"$where": "1 == 1"}},
        {"proc_num": {"$or": [{"$eq": 1}]}},
        {"proc_num": {"$exists": True}},
        {"proc_num": {"eq": 1}},
        {"bk_process_name": {"$EQ": "nginx"}},
        {"proc_num": {"$eq": 1, "$and": [1]}},
    ],
    "malformed operand": [
        {"proc_num": {"$in": 5}},
        {"proc_num": {"$in": "1,2"}},
        {"bk_process_name": {"$nin": {"a": 1}}},
        {"bk_process_name": {"$regex": 5}},
        {"bk_process_name": {"$regex": ["^n"]}},
        {"bk_process_name": {"$regex": None}},
        {"bk_process_name": {"$regex": "("}},  # not a valid pattern
        {"proc_num": {"$gt": None}},  # nothing is greater than null
        {"bk_module_name": {"$nin": ["web"]}},
        {"bk_module_name": 5},
    ],
    "regex on a non-text field": [
        {"proc_num": {"$regex": "1"}},
        {"priority": {"$regex": "^1$"}},
        {"bk_process_id": {"$regex": "1"}},
    ],
}


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_unknown_operator_or_malformed_operand_is_1199006(client, db_url, kind):
    create(client)
    before = snapshot(db_url)
    for condition in MALFORMED[kind]:
        field = next(iter(condition))
        resp = search(client, {"condition": condition}, headers=EN)
        refused(condition, resp, 400, 1199006, field)
    assert snapshot(db_url) == before


def test_backtracking_traps_are_answered_or_refused(client):
    """Patterns that make backtracking engines explode are plain work for RE2; the ones outside
    the portable dialect are refused."""
    for i in range(20):
        create(client, bk_process_name="a" * (200 + i) + "!")
    for pattern in ["(a+)+$", "(a*)*b", "(a|a)*b", "(x+x+)+y", "(a|aa)+$"]:
        resp = search(client, {"condition": {"bk_process_name": {"$regex": pattern}}}, headers=EN)
        assert ok(resp)["count"] == 0, pattern  # none of these matches "aaa…a!"
    for pattern in ["(a)\\1", "a{300}"]:
        resp = search(client, {"condition": {"bk_process_name": {"$regex": pattern}}}, headers=EN)
        refused(pattern, resp, 400, 1199006, "bk_process_name")


# --- condition keys -------------------------------------------------------------------------


def test_unknown_condition_key_is_1199011(client):
    create(client)
    for key in ["foo", "bk_module_id", "bk_set_id", "$where", "BK_PROCESS_NAME", "processes.port"]:
        en = refused(key, search(client, {"condition": {key: "x"}}, headers=EN), 400, 1199011, key)
        assert en == f"'{key}' the parameter is invalid or does not exist"
        zh = refused(key, search(client, {"condition": {key: "x"}}, headers=ZH), 400, 1199011, key)
        assert zh == f"'{key}' 参数无效或不存在"


def test_business_and_account_in_condition_are_ignored(client):
    own = create(client, bk_process_name="own")
    create(client, biz=2, bk_process_name="elsewhere")
    create(client, account="other", bk_process_name="foreign")
    for condition in [
        {"bk_biz_id": 2},
        {"bk_biz_id": "2"},
        {"bk_biz_id": "12233"},
        {"bk_supplier_account": "other"},
        {"bk_biz_id": 2, "bk_supplier_account": "other"},
    ]:
        data = found(client, {"condition": condition})
        assert data["count"] == 1, condition
        assert [p["bk_process_id"] for p in data["info"]] == [own], condition


def test_condition_must_be_an_object(client):
    create(client)
    for condition in [[], "x", 5]:
        body = search(client, {"condition": condition}, headers=EN).get_json()
        assert body["result"] is False and body["bk_error_code"] in (1199006, 1199011), condition
        assert "condition" in body["bk_error_msg"], condition


def test_regex_literal_prefix_is_a_range_that_changes_no_answer(client):
    """A pattern anchored on literal text is also searched as a range of the name index
    (issue 7); the answers are the pattern's own, at the edges of the range too."""
    for name in ["ab", "abc", "ab\u00ff", "ab\U0001f600x", "aa\uffff", "ac", "a", "b", "abd-1"]:
        create(client, bk_process_name=name, bk_func_name=f"f-{name}")
    cases = {
        "^ab": {"ab", "abc", "ab\u00ff", "ab\U0001f600x", "abd-1"},
        "^abc?$": {"ab", "abc"},
        "^ab+c": {"abc"},
        "^a.": {"ab", "abc", "ab\u00ff", "ab\U0001f600x", "aa\uffff", "ac", "abd-1"},
        "^abd\\-1$": {"abd-1"},
        "^ab\U0001f600": {"ab\U0001f600x"},
        "^a|^b": {"ab", "abc", "ab\u00ff", "ab\U0001f600x", "aa\uffff", "ac", "a", "b", "abd-1"},
    }
    for pattern, expected in cases.items():
        body = {
            "condition": {"bk_process_name": {"$regex": pattern}},
            "fields": ["bk_process_name"],
        }
        found = {row["bk_process_name"] for row in ok(search(client, body))["info"]}
        assert found == expected, pattern
