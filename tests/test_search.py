"""search_process (POST /api/v3/proc/search/{acct}/{biz}): contract §3 and the limits of §4.

The seed's own search example lives in test_seed.py; this file covers the rest of the grammar:
plain equality, operators, fields, paging, sorting, whitelisting, tenancy, module names and the
number of statements a search costs.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, event, insert

from proc_service.attributes import ATTRIBUTES
from proc_service.models import ProcessBinding

from .helpers import (
    EN,
    ZH,
    create,
    err,
    ok,
    proc_url,
    search,
    search_url,
    skip_unless_linguistic,
    snapshot,
)

ATTRIBUTE_IDS = [a.id for a in ATTRIBUTES]
SYSTEM = ["bk_process_id", "bk_supplier_account", "create_time", "last_time"]
ISO_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00")


def found(client, body, **kw) -> dict:
    """The search's data; checks that info never holds more rows than count says."""
    data = ok(search(client, body, **kw))
    assert len(data["info"]) <= data["count"]
    return data


def matching(client, condition, **kw) -> set[str]:
    """Names of the processes matching ``condition`` (all on one page, so count == len(info))."""
    data = found(client, {"condition": condition}, **kw)
    names = [p["bk_process_name"] for p in data["info"]]
    assert data["count"] == len(names) == len(set(names)), data
    return set(names)


def ordered(client, sort: str, key="bk_process_name", **page) -> list:
    info = found(client, {"page": {"sort": sort, **page}})["info"]
    return [p[key] for p in info]


def bulk(client, count: int, prefix="p", **attrs) -> list[int]:
    return [create(client, bk_process_name=f"{prefix}{i:04}", **attrs) for i in range(count)]


def refused(case, resp, status: int, code: int, field: str | None = None) -> str:
    """err(), saying which case of a table failed."""
    try:
        return err(resp, status, code, field)
    except AssertionError as exc:
        raise AssertionError(f"case {case!r}: {exc}") from None


def check_table(client, cases, **kw) -> None:
    """Every (condition, expected names) row of a table; reports the failing row."""
    for condition, expected in cases:
        assert matching(client, condition, **kw) == expected, condition


# --- the empty body -------------------------------------------------------------------------


def test_empty_body_returns_every_process_with_all_26_fields(client):
    first = create(client, bk_process_name="nginx", port=80, bind_ip=1, proc_num="5")
    second = create(client, bk_process_name="redis", bk_func_name="redis", auto_start=True)

    data = found(client, {})
    assert data["count"] == 2
    assert [p["bk_process_id"] for p in data["info"]] == [first, second]
    for process in data["info"]:
        assert set(process) == set(ATTRIBUTE_IDS) | set(SYSTEM)
        assert len(process) == 26
        assert process["bk_supplier_account"] == "0" and process["bk_biz_id"] == 1
        assert ISO_UTC.fullmatch(process["create_time"]), process["create_time"]
        assert ISO_UTC.fullmatch(process["last_time"]), process["last_time"]
    nginx, redis = data["info"]
    # values as written, normalised (§2), with create's empty values for what was not sent
    assert (nginx["port"], nginx["bind_ip"], nginx["proc_num"], nginx["protocol"]) == (
        "80",
        "1",
        5,
        "1",
    )
    assert (redis["auto_start"], redis["bind_ip"], redis["proc_num"], redis["description"]) == (
        True,
        None,
        None,
        "",
    )


def test_body_must_be_a_json_object(client):
    create(client)
    for raw in ["", "null", "[]", '"x"', "{"]:
        resp = client.post(search_url(), data=raw, content_type="application/json", headers=EN)
        refused(raw, resp, 400, 1199000)


# --- plain equality --------------------------------------------------------------------------

EQUALITY = [
    ({"port": 80}, {"a"}),  # the integer is normalised to the stored "80"
    ({"port": "80"}, {"a"}),  # equality, not substring: "8080" does not match
    ({"port": "8080"}, {"b"}),
    ({"bind_ip": 1}, {"a"}),
    ({"bind_ip": "2"}, {"b"}),
    ({"bind_ip": None}, {"c"}),
    ({"proc_num": "5"}, {"a"}),
    ({"proc_num": 50}, {"b"}),
    ({"proc_num": None}, {"c"}),
    ({"auto_start": True}, {"a"}),
    ({"auto_start": False}, {"b", "c"}),
    ({"protocol": 1}, {"b", "c"}),  # create's default protocol is "1"
    ({"user": "root"}, {"a"}),  # other strings: exact, case-sensitive
    ({"user": "ROOT"}, set()),
    ({"description": ""}, {"b", "c"}),
    ({"description": None}, {"b", "c"}),  # null means the empty string, as on write
    ({"port": 80, "user": "root", "proc_num": "5"}, {"a"}),  # keys are ANDed
    ({"port": 80, "user": "rootless"}, set()),
]


def test_plain_value_is_equality_after_normalisation(client):
    ids = {
        "a": create(
            client, bk_process_name="a", port="80", bind_ip="1", proc_num=5, auto_start=True,
            protocol="2", user="root", description="web",
        ),
        "b": create(
            client, bk_process_name="b", port="8080", bind_ip="2", proc_num=50, user="rootless",
        ),
        "c": create(client, bk_process_name="c"),
    }  # fmt: skip
    check_table(client, EQUALITY)
    assert matching(client, {"bk_process_id": ids["b"]}) == {"b"}
    assert matching(client, {"bk_process_id": str(ids["c"])}) == {"c"}


WRONG_TYPE = [
    ({"auto_start": "yes"}, 1199025, "auto_start"),
    ({"auto_start": 1}, 1199025, "auto_start"),
    ({"proc_num": "abc"}, 1199009, "proc_num"),
    ({"proc_num": 1.5}, 1199009, "proc_num"),
    ({"priority": True}, 1199009, "priority"),
    ({"bk_process_id": "x"}, 1199009, "bk_process_id"),
    ({"bind_ip": True}, 1199007, "bind_ip"),
    ({"description": 5}, 1199007, "description"),
    ({"port": [80]}, 1199007, "port"),
    ({"bk_process_name": 5}, 1199007, "bk_process_name"),
    ({"bk_process_name": ["nginx"]}, 1199007, "bk_process_name"),
]


def test_plain_value_of_the_wrong_type_is_the_section_2_error(client, db_url):
    create(client)
    before = snapshot(db_url)
    for condition, code, field in WRONG_TYPE:
        refused(condition, search(client, {"condition": condition}, headers=EN), 400, code, field)
    assert snapshot(db_url) == before

    body = {"condition": {"auto_start": "yes"}}
    en = err(search(client, body, headers=EN), 400, 1199025, "auto_start")
    zh = err(search(client, body, headers=ZH), 400, 1199025, "auto_start")
    assert en == "'auto_start' must be boolean"
    assert zh == "'auto_start' 必须为布尔类型"


# --- bk_process_name: a literal, case-sensitive substring ------------------------------------

NAMES = ["a.b", "axb", "a%b", "a_b", "A.B", "a*b", "a\\b", "ab", "xa.by", "a[b]"]
SUBSTRING = [
    ("a.b", {"a.b", "xa.by"}),  # "." is not "any character", and A.B differs in case
    ("A.B", {"A.B"}),
    ("a%b", {"a%b"}),  # "%" and "_" are not LIKE wildcards
    ("a_b", {"a_b"}),
    ("%", {"a%b"}),
    ("_", {"a_b"}),
    ("a*b", {"a*b"}),  # "*" is not a glob or a regex quantifier
    ("*", {"a*b"}),
    ("a\\b", {"a\\b"}),  # a backslash escapes nothing
    ("\\", {"a\\b"}),
    ("[b]", {"a[b]"}),
    ("ab", {"ab"}),
    ("x", {"axb", "xa.by"}),
    ("B", {"A.B"}),
    ("b", set(NAMES) - {"A.B"}),
    ("", set(NAMES)),  # the empty string is a substring of every name
    ("a.b.", set()),
]


def test_process_name_is_a_literal_case_sensitive_substring(client):
    for name in NAMES:
        create(client, bk_process_name=name)
    check_table(client, [({"bk_process_name": needle}, names) for needle, names in SUBSTRING])
    # $eq is exact
    assert matching(client, {"bk_process_name": {"$eq": "a.b"}}) == {"a.b"}
    assert matching(client, {"bk_process_name": {"$eq": "a"}}) == set()


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


# --- fields ---------------------------------------------------------------------------------


def test_fields_subset_returns_only_those_keys(client):
    pid = create(client, port="80", proc_num=3, auto_start=True, bind_ip="2")
    full = found(client, {"condition": {"bk_process_id": pid}})["info"][0]
    for fields in [
        ["bk_process_name", "port"],
        ["bk_process_id"],
        ["bk_supplier_account", "create_time", "last_time"],
        ["auto_start", "proc_num", "bind_ip", "bk_biz_id"],
    ]:
        (process,) = found(client, {"fields": fields})["info"]
        assert process == {name: full[name] for name in fields}, fields
    (process,) = found(client, {"fields": []})["info"]
    assert process == full and set(process) == set(ATTRIBUTE_IDS) | set(SYSTEM)


def test_unknown_or_malformed_fields(client):
    create(client)
    for name in ["foo", "bk_module_name", "BK_PROCESS_ID", "*", ""]:
        resp = search(client, {"fields": ["bk_process_id", name]}, headers=EN)
        refused(name, resp, 400, 1199011, name)
    for fields in ["bk_process_name", {"bk_process_name": 1}, 5, True, [5]]:
        resp = search(client, {"fields": fields}, headers=EN)
        assert resp.status_code == 400, fields
        assert "fields" in resp.get_json()["bk_error_msg"], fields


# --- page -----------------------------------------------------------------------------------


def test_page_start_limit_and_count(client):
    ids = bulk(client, 7)
    data = found(client, {"page": {"start": "1", "limit": "2"}})  # numeric strings
    assert data["count"] == 7
    assert [p["bk_process_id"] for p in data["info"]] == ids[1:3]

    # count is the total, independent of the page
    page = found(client, {"page": {"start": 5, "limit": 1}})
    assert page["count"] == 7 and [p["bk_process_id"] for p in page["info"]] == [ids[5]]
    assert found(client, {"page": {"start": 6, "limit": 10}})["count"] == 7
    assert found(client, {"page": {"start": 7}}) == {"count": 7, "info": []}
    assert found(client, {"page": {"start": "1000"}}) == {"count": 7, "info": []}
    narrowed = found(client, {"condition": {"proc_num": None}, "page": {"limit": 2}})
    assert narrowed["count"] == 7 and len(narrowed["info"]) == 2
    assert len(found(client, {"page": {"limit": 200}})["info"]) == 7
    assert len(found(client, {"page": {"limit": "200"}})["info"]) == 7


def test_absent_limit_answers_every_match_up_to_the_batch_limit(client):
    """§3: no page, page {} or limit 0 is "every match, up to 1000" (v3.2's select-all);
    an explicit limit stays 1..200."""
    ids = bulk(client, 201)
    for page in [None, {}, {"limit": 0}, {"limit": "0"}, {"start": 0}, {"sort": ""}]:
        data = found(client, {} if page is None else {"page": page})
        assert data["count"] == 201, page
        assert [p["bk_process_id"] for p in data["info"]] == ids, page
        rest = found(client, {"page": {**(page or {}), "start": 200}})
        assert [p["bk_process_id"] for p in rest["info"]] == ids[200:], page
    assert [p["bk_process_id"] for p in found(client, {"page": {"limit": 200}})["info"]] == ids[
        :200
    ]


BAD_PAGE = [
    ({"start": -1}, 1199006, "start"),
    ({"start": "-1"}, 1199006, "start"),
    ({"limit": 201}, 1199015, "limit"),
    ({"limit": "201"}, 1199015, "limit"),
    ({"limit": 10**6}, 1199015, "limit"),
    ({"start": "abc"}, 1199009, "start"),
    ({"start": 1.5}, 1199009, "start"),
    ({"start": True}, 1199009, "start"),
    ({"start": [0]}, 1199009, "start"),
    ({"start": None}, 1199009, "start"),
    ({"start": "1 0"}, 1199009, "start"),
    ({"limit": "ten"}, 1199009, "limit"),
    ({"limit": 2.5}, 1199009, "limit"),
    ({"limit": False}, 1199009, "limit"),
    ({"limit": None}, 1199009, "limit"),
]


def test_bad_page(client):
    create(client)
    for page, code, field in BAD_PAGE:
        refused(page, search(client, {"page": page}, headers=EN), 400, code, field)
    # §3 only says 1..200 (0 → 200): a negative limit must at least not succeed
    resp = search(client, {"page": {"limit": -1}}, headers=EN)
    assert resp.status_code == 400 and "limit" in resp.get_json()["bk_error_msg"]
    for page in ["x", 5, [], True]:
        resp = search(client, {"page": page}, headers=EN)
        assert resp.status_code == 400 and "page" in resp.get_json()["bk_error_msg"], page


# --- sort -----------------------------------------------------------------------------------


def test_default_order_is_bk_process_id_ascending(client):
    names = ["zeta", "alpha", "mu", "beta"]
    ids = [create(client, bk_process_name=n) for n in names]
    assert [p["bk_process_id"] for p in found(client, {})["info"]] == ids
    assert ordered(client, "") == names


def test_sort_single_field_both_directions(client):
    ids = [
        create(client, bk_process_name=n, proc_num=p)
        for n, p in [("mu", 9), ("alpha", 10), ("zeta", 2), ("beta", 90)]
    ]
    assert ordered(client, "bk_process_name") == ["alpha", "beta", "mu", "zeta"]
    assert ordered(client, "-bk_process_name") == ["zeta", "mu", "beta", "alpha"]
    assert ordered(client, "proc_num") == ["zeta", "mu", "alpha", "beta"]  # as numbers, not text
    assert ordered(client, "-proc_num") == ["beta", "alpha", "mu", "zeta"]
    assert ordered(client, "-bk_process_id", key="bk_process_id") == ids[::-1]
    assert ordered(client, "create_time", key="bk_process_id") == ids
    assert ordered(client, "-create_time", key="bk_process_id") == ids[::-1]


def test_sort_by_several_fields(client):
    for name, bind_ip in [("a", "1"), ("b", "2"), ("c", "1"), ("d", None), ("e", "2"), ("f", None)]:
        create(client, bk_process_name=name, bind_ip=bind_ip)
    assert ordered(client, "bind_ip,-bk_process_name") == ["f", "d", "c", "a", "e", "b"]
    assert ordered(client, "-bind_ip,bk_process_name") == ["b", "e", "a", "c", "d", "f"]


def test_sort_ties_are_broken_by_bk_process_id_ascending(client):
    ids = [create(client, bk_process_name=n) for n in ["z", "y", "x", "w"]]  # same protocol
    assert ordered(client, "protocol", key="bk_process_id") == ids
    assert ordered(client, "-protocol", key="bk_process_id") == ids
    assert ordered(client, "protocol,-bk_process_id", key="bk_process_id") == ids[::-1]


def test_sort_field_need_not_be_returned(client):
    for name in ["b", "c", "a"]:
        create(client, bk_process_name=name, description=f"desc {name}")
    info = found(client, {"fields": ["description"], "page": {"sort": "-bk_process_name"}})["info"]
    assert info == [{"description": "desc c"}, {"description": "desc b"}, {"description": "desc a"}]


def test_paging_with_ties_visits_every_process_exactly_once(client):
    ids = [
        create(
            client, bk_process_name=f"p{i}", protocol=str(i % 2 + 1),
            bind_ip=[None, "1", "2"][i % 3], auto_start=i % 4 == 0,
        )
        for i in range(10)
    ]  # fmt: skip
    for sort in ["protocol", "-protocol,bind_ip", "auto_start", "-auto_start", "-bind_ip"]:
        whole = ordered(client, sort, key="bk_process_id")
        seen = []
        for start in range(0, 12, 3):
            page = {"start": start, "limit": 3, "sort": sort}
            data = found(client, {"fields": ["bk_process_id"], "page": page})
            assert data["count"] == 10
            seen += [p["bk_process_id"] for p in data["info"]]
        assert seen == whole, sort
        assert sorted(seen) == sorted(ids) and len(set(seen)) == 10, sort


def test_unknown_sort_field_is_1199011(client):
    create(client)
    for sort, field in [("foo", "foo"), ("-foo", "foo"), ("bk_process_name,foo", "foo")]:
        refused(sort, search(client, {"page": {"sort": sort}}, headers=EN), 400, 1199011, field)
    resp = search(client, {"page": {"sort": "bk_module_name"}}, headers=EN)
    err(resp, 400, 1199011, "bk_module_name")


def test_nulls_sort_as_smallest(client):
    rows = [("a", "2", 7), ("b", None, None), ("c", "1", 3), ("d", None, None), ("e", "2", None)]
    for name, bind_ip, proc_num in rows:
        create(client, bk_process_name=name, bind_ip=bind_ip, proc_num=proc_num)
    assert ordered(client, "bind_ip") == ["b", "d", "c", "a", "e"]
    assert ordered(client, "-bind_ip") == ["a", "e", "c", "b", "d"]
    assert ordered(client, "proc_num") == ["b", "d", "e", "c", "a"]
    assert ordered(client, "-proc_num") == ["a", "c", "b", "d", "e"]


CODE_POINT_ORDER = ["0", "B", "Z", "_", "a", "ab", "b", "É", "é", "进", "ｚ", "😀"]


def test_strings_sort_by_code_point(client, db_url, backend):
    """On PostgreSQL the test database's own collation is ICU's (conftest), under which
    "a" < "B": the service must still order by code point, as SQLite does."""
    names = CODE_POINT_ORDER[::-1]
    assert sorted(names) == CODE_POINT_ORDER  # Python compares str by code point
    skip_unless_linguistic(db_url, backend)
    for name in names:
        create(client, bk_process_name=name, description=name)
    for field in ("bk_process_name", "description"):
        assert ordered(client, field, key=field) == CODE_POINT_ORDER, field
        assert ordered(client, f"-{field}", key=field) == CODE_POINT_ORDER[::-1], field
        # the comparison operators agree with the sort
        between = {field: {"$gt": "a", "$lt": "ｚ"}}
        assert matching(client, between) == {"ab", "b", "É", "é", "进"}, field


# --- whitelisting: nothing a client sends becomes SQL ----------------------------------------

SQLISH = [
    "bk_process_name; DROP TABLE processes",
    "1=1",
    "bk_process_id desc",
    "(select 1)",
    "bk_process_name--",
    "bk_process_name OR 1=1",
    "bk_process_id); DELETE FROM processes; --",
    '"bk_process_name"',
]


def test_sql_in_keys_fields_and_sort_is_refused(client, db_url):
    create(client, bk_process_name="nginx")
    create(client, bk_process_name="redis")
    before = snapshot(db_url)

    for sql in SQLISH:
        for body in [
            {"condition": {sql: "x"}},
            {"condition": {"bk_process_name": "nginx", sql: {"$eq": 1}}},
            {"fields": [sql]},
            {"fields": ["bk_process_id", sql]},
        ]:
            refused(body, search(client, body, headers=EN), 400, 1199011, sql)
        for sort in [sql, f"bk_process_name,{sql}", f"-{sql}"]:
            refused(sort, search(client, {"page": {"sort": sort}}, headers=EN), 400, 1199011)

    assert snapshot(db_url) == before
    assert found(client, {})["count"] == 2


def test_sql_in_values_is_just_data(client, db_url):
    tricky = "x' OR '1'='1"
    create(client, bk_process_name="nginx")
    create(client, bk_process_name=tricky, description="'; DROP TABLE processes; --")
    create(client, bk_process_name="x")
    before = snapshot(db_url)

    check_table(
        client,
        [
            ({"bk_process_name": tricky}, {tricky}),
            ({"bk_process_name": {"$eq": tricky}}, {tricky}),
            ({"bk_process_name": {"$in": [tricky]}}, {tricky}),
            ({"description": "'; DROP TABLE processes; --"}, {tricky}),
            ({"description": "' OR 1=1 --"}, set()),
            ({"user": "'; DELETE FROM processes; --"}, set()),
            ({"bk_process_name": {"$regex": "' OR '1'='1$"}}, {tricky}),
            ({"bk_module_name": "' OR 1=1 --"}, set()),
        ],
    )
    assert snapshot(db_url) == before


# --- tenancy --------------------------------------------------------------------------------


def test_other_accounts_and_businesses_are_never_returned(client):
    mine = create(client, bk_process_name="nginx")
    other_biz = create(client, biz=2, bk_process_name="nginx")
    other_account = create(client, account="tenant-b", bk_process_name="nginx")
    every = [mine, other_biz, other_account]

    for body, expected in [
        ({}, [mine]),
        ({"condition": {"bk_process_name": "nginx"}}, [mine]),
        ({"condition": {"bk_process_id": {"$in": every}}}, [mine]),
        ({"condition": {"bk_process_id": {"$gte": min(every)}}}, [mine]),
        ({"condition": {"bk_process_id": {"$nin": [mine]}}}, []),
        ({"condition": {"bk_process_id": other_biz}}, []),
        ({"condition": {"bk_process_id": other_account}}, []),
        ({"condition": {"bk_biz_id": 2, "bk_supplier_account": "tenant-b"}}, [mine]),
    ]:
        data = found(client, body)
        assert [p["bk_process_id"] for p in data["info"]] == expected, body
        assert data["count"] == len(expected), body

    assert [p["bk_process_id"] for p in found(client, {}, biz=2)["info"]] == [other_biz]
    (process,) = found(client, {}, account="tenant-b")["info"]
    assert process["bk_process_id"] == other_account
    assert process["bk_supplier_account"] == "tenant-b"
    assert found(client, {}, account="tenant-b", biz=2) == {"count": 0, "info": []}


# --- bk_module_name --------------------------------------------------------------------------


def bind(db_url: str, *pairs: tuple[int, str]) -> None:
    """Bindings written straight into process_bindings (the bind endpoint is not there yet)."""
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            now = datetime.now(UTC)
            rows = [{"bk_process_id": p, "bk_module_name": m, "create_time": now} for p, m in pairs]
            conn.execute(insert(ProcessBinding), rows)
    finally:
        engine.dispose()


MODULE_NAME = [
    ({"bk_module_name": "web"}, {"p1", "p2"}),
    ({"bk_module_name": "Web"}, {"p3"}),  # names are compared exactly
    ({"bk_module_name": "we"}, set()),  # not a substring match
    ({"bk_module_name": "db"}, {"p2"}),
    ({"bk_module_name": "cache"}, set()),  # bound only in another business
    ({"bk_module_name": "nothing"}, set()),
    ({"bk_module_name": {"$in": ["db"]}}, {"p2"}),
    ({"bk_module_name": {"$in": ["web", "db"]}}, {"p1", "p2"}),  # p2 once
    ({"bk_module_name": {"$in": ["db", "Web", "cache"]}}, {"p2", "p3"}),
    ({"bk_module_name": {"$in": []}}, set()),
    ({"bk_module_name": "web", "bk_process_name": "1"}, {"p1"}),
    ({"bk_module_name": "web", "bk_process_name": {"$ne": "p1"}}, {"p2"}),
]


def test_module_name_condition(client, db_url):
    ids = {name: create(client, bk_process_name=name) for name in ["p1", "p2", "p3", "p4"]}
    elsewhere = create(client, biz=2, bk_process_name="p1")
    bind(
        db_url,
        (ids["p1"], "web"),
        (ids["p2"], "web"),
        (ids["p2"], "db"),
        (ids["p3"], "Web"),
        (elsewhere, "web"),
        (elsewhere, "cache"),
    )
    check_table(client, MODULE_NAME)

    data = found(client, {"condition": {"bk_module_name": {"$in": ["web", "cache"]}}}, biz=2)
    assert [p["bk_process_id"] for p in data["info"]] == [elsewhere]
    assert data["count"] == 1


# --- cost: one page query and one count query ------------------------------------------------

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET", "SHOW")


def test_a_search_is_two_statements(app, client, db_url):
    ids = bulk(client, 50, proc_num=1, port=80)
    create(client, bk_process_name="unbound", proc_num=2)
    bind(db_url, *[(pid, "web") for pid in ids])
    found(client, {})  # the pool's first connection may run the dialect's own queries

    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            statements.append(statement)

    engine = app.extensions["db_engine"]
    for body in [
        {"condition": {"port": 80}, "page": {"limit": 50}},
        {"fields": ["bk_process_id", "bk_process_name"], "condition": {"proc_num": 1}},
        {"condition": {"bk_module_name": {"$in": ["web", "db"]}, "proc_num": {"$gte": 1}}},
        {"condition": {"bk_process_name": "p", "port": 80}, "page": {"sort": "-bk_process_name"}},
    ]:
        statements.clear()
        event.listen(engine, "before_cursor_execute", record)
        try:
            data = found(client, body)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert data["count"] == 50 and len(data["info"]) == 50, body
        assert len(statements) == 2, (body, statements)


@pytest.mark.parametrize("pattern", ["a{256}", "a{1,256}", "a{300,}", "(ab){1000}"])
def test_regex_repetition_beyond_255_is_refused_alike_on_both_databases(client, pattern):
    create(client, bk_process_name="aaa")
    err(search(client, {"condition": {"bk_process_name": {"$regex": pattern}}}), 400, 1199006)


def test_regex_repetition_up_to_255_is_served(client):
    create(client, bk_process_name="a" * 255)
    found = ok(search(client, {"condition": {"bk_process_name": {"$regex": "^a{255}$"}}}))
    assert found["count"] == 1


@pytest.mark.parametrize("key", ["condition", "fields", "page"])
def test_null_search_parts_are_refused(client, key):
    err(search(client, {key: None}), 400, 1199006, key)


def test_null_sort_is_not_a_string(client):
    err(search(client, {"page": {"sort": None}}), 400, 1199007, "page.sort")
