"""Audit search (POST /api/v3/audit/search): contract §1, §5 and §8, with the body rules it shares
with search_process (§3).

Most tests build one small history (``history``) whose writes carry their own X-Request-Id, so
that a row is known by its request id: ``labels`` turns rows back into the names below.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine

from .helpers import EN, ZH, create, err, ok, proc_url, search, skip_unless_linguistic, snapshot

AUDIT = "/api/v3/audit/search"
ACCOUNT = "HTTP_BLUEKING_SUPPLIER_ID"
ROW_KEYS = {
    "id", "bk_supplier_account", "bk_biz_id", "op_type", "op_target", "inst_id", "op_desc",
    "operator", "op_from", "op_time", "request_id", "content",
}  # fmt: skip
ISO_OFFSET = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}[+-]\d{2}:\d{2}")

# The history's writes in the order they happen (account "0").
CHRONO = ["create_a", "create_b", "update_a", "create_set", "create_module", "delete_b"]
NEWEST = CHRONO[::-1]
CREATES = ["create_module", "create_set", "create_b", "create_a"]  # newest first


# --- helpers ---------------------------------------------------------------------------------


def audit(client, body=None, account=None, headers=None):
    sent = dict(headers or {})
    if account is not None:
        sent[ACCOUNT] = account
    return client.post(AUDIT, json={} if body is None else body, headers=sent)


def found(client, body=None, **kw) -> dict:
    """The search's data; info never holds more rows than count says, and rows are complete."""
    data = ok(audit(client, body, **kw))
    assert len(data["info"]) <= data["count"], data
    for row in data["info"]:
        assert set(row) == ROW_KEYS, row
    return data


def rows(client, body=None, **kw) -> list[dict]:
    """Every matching row, on one page (count == len(info))."""
    data = found(client, body, **kw)
    assert data["count"] == len(data["info"]), data
    return data["info"]


def labels(info: list[dict]) -> list[str]:
    return [row["request_id"].removeprefix("req-") for row in info]


def matching(client, condition, **kw) -> list[str]:
    return labels(rows(client, {"condition": condition}, **kw))


def ordered(client, sort: str, **kw) -> list[str]:
    return labels(rows(client, {"sort": sort}, **kw))


def refused(case, resp, status: int, code: int, field: str | None = None) -> str:
    """err(), saying which case of a table failed."""
    try:
        return err(resp, status, code, field)
    except AssertionError as exc:
        raise AssertionError(f"case {case!r}: {exc}") from None


def as_user(user: str | None, label: str) -> dict:
    headers = {"X-Request-Id": f"req-{label}"}
    if user is not None:
        headers["BK_User"] = user
    return headers


def new_set(client, biz=1, name="s", account=None, headers=None) -> dict:
    sent = dict(headers or {})
    if account is not None:
        sent[ACCOUNT] = account
    return ok(client.post(f"/api/v3/set/{biz}", json={"bk_set_name": name}, headers=sent))


def new_module(client, biz, set_id, name="m", account=None, headers=None) -> dict:
    sent = dict(headers or {})
    if account is not None:
        sent[ACCOUNT] = account
    url = f"/api/v3/module/{biz}/{set_id}"
    return ok(client.post(url, json={"bk_module_name": name}, headers=sent))


def process(client, pid: int, account="0", biz=1) -> dict:
    """The process as search_process shows it."""
    info = ok(search(client, {"condition": {"bk_process_id": pid}}, account, biz))["info"]
    assert len(info) == 1, info
    return info[0]


def history(client) -> dict:
    """Six writes in account "0" (CHRONO order) and one in account "acme" in between.

    create_a   process a, biz 1, alice      create_set     set s, biz 1, carol
    create_b   process b, biz 2, bob        create_module  module m in s, biz 1, alice
    update_a   process a, biz 1, bob        delete_b       process b, biz 2, alice
    """
    post = client.post
    ids = {}
    body = {"bk_process_name": "a", "bk_func_name": "a"}
    ids["a"] = ok(post(proc_url("0", 1), json=body, headers=as_user("alice", "create_a")))[
        "bk_process_id"
    ]
    body = {"bk_process_name": "b", "bk_func_name": "b"}
    ids["b"] = ok(post(proc_url("0", 2), json=body, headers=as_user("bob", "create_b")))[
        "bk_process_id"
    ]
    headers = as_user("bob", "update_a")
    ok(client.put(proc_url("0", 1, ids["a"]), json={"user": "root"}, headers=headers))
    body = {"bk_process_name": "a", "bk_func_name": "a"}
    ids["foreign"] = ok(post(proc_url("acme", 1), json=body, headers=as_user("alice", "foreign")))[
        "bk_process_id"
    ]
    ids["set"] = new_set(client, 1, "s", headers=as_user("carol", "create_set"))["bk_set_id"]
    ids["module"] = new_module(
        client, 1, ids["set"], "m", headers=as_user("alice", "create_module")
    )["bk_module_id"]
    ok(client.delete(proc_url("0", 2, ids["b"]), headers=as_user("alice", "delete_b")))
    return ids


def bulk(client, count: int) -> list[int]:
    """``count`` creates, then one batch update of them all: 2 * count rows, the last
    ``count`` written by one request."""
    pids = [create(client, bk_process_name=f"p{i:02}") for i in range(count)]
    ok(client.put(proc_url(), json={"bk_process_id": pids, "user": "svc"}))
    return pids


def times(client) -> dict[str, datetime]:
    """Each history row's op_time, parsed."""
    return {label: datetime.fromisoformat(r["op_time"]) for label, r in by_label(client).items()}


def by_label(client, **kw) -> dict[str, dict]:
    info = rows(client, **kw)
    return dict(zip(labels(info), info, strict=True))


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
        resp = client.post(AUDIT, data=raw, content_type="application/json", headers=EN)
        refused(raw, resp, 400, 1199000)
    # parsed as JSON whatever the Content-Type says
    resp = client.post(AUDIT, data='{"limit": 2}', content_type="text/plain")
    assert len(ok(resp)["info"]) == 2


@pytest.mark.parametrize("key", ["page", "fields", "conditions", "offset", "bk_supplier_account"])
def test_unknown_top_level_key_is_1199011(client, key):
    history(client)
    refused(key, audit(client, {key: 1}, headers=EN), 400, 1199011, key)


def test_condition_must_be_an_object(client):
    for condition in [[], "op_type", 5, None, [["op_type", 1]]]:
        resp = audit(client, {"condition": condition}, headers=EN)
        refused(condition, resp, 400, 1199006, "condition")


def test_searching_writes_no_audit_row(client, db_url):
    history(client)
    before = snapshot(db_url)
    for _ in range(3):
        assert found(client, {})["count"] == 6
        assert found(client, {"condition": {"op_type": 1}, "limit": 1})["count"] == 4
    refused("bad", audit(client, {"limit": 500}), 400, 1199015)
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
        resp = audit(client, {"condition": condition}, headers=EN)
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
        resp = audit(client, {"condition": condition}, headers=EN)
        refused(condition, resp, 400, 1199006, field)


def test_in_and_nin_take_at_most_1000_values(client):
    history(client)
    for op in ("$in", "$nin"):
        for key, values in [
            ("op_type", list(range(1001))),
            ("inst_id", list(range(1, 1002))),
            ("op_target", [f"t{i}" for i in range(1001)]),
        ]:
            resp = audit(client, {"condition": {key: {op: values}}}, headers=EN)
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
            resp = audit(client, {"condition": condition}, headers=EN)
            refused(condition, resp, 400, 1199011, f"'{key}'")
    assert snapshot(db_url) == before


# --- op_time ---------------------------------------------------------------------------------


def iso(moment: datetime, hours: float = 0) -> str:
    return moment.astimezone(timezone(timedelta(hours=hours))).isoformat(timespec="microseconds")


def naive(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def test_op_time_is_iso_8601_with_offset_and_microseconds_and_the_time_of_the_write(client):
    before = datetime.now(UTC)
    create(client)
    after = datetime.now(UTC)
    (row,) = rows(client)
    assert ISO_OFFSET.fullmatch(row["op_time"]), row["op_time"]
    assert before <= datetime.fromisoformat(row["op_time"]) <= after


def test_op_time_range_ends_are_inclusive(client):
    history(client)
    t = times(client)
    assert [t[label] for label in CHRONO] == sorted(t[label] for label in CHRONO)
    assert len({t[label] for label in CHRONO}) == 6
    one = timedelta(microseconds=1)
    cases = [
        ([iso(t["update_a"]), iso(t["update_a"])], ["update_a"]),  # from == to: that instant
        ([iso(t["create_b"]), iso(t["create_set"])], ["create_set", "update_a", "create_b"]),
        ([iso(t["create_a"]), iso(t["delete_b"])], NEWEST),
        ([iso(t["create_b"] + one), iso(t["create_set"] - one)], ["update_a"]),
        ([iso(t["update_a"] + one), iso(t["create_set"] - one)], []),
        ([iso(t["create_a"] - one), iso(t["create_a"])], ["create_a"]),
        ([iso(t["delete_b"]), iso(t["delete_b"] + one)], ["delete_b"]),
    ]
    for condition_time, expected in cases:
        assert matching(client, {"op_time": condition_time}) == expected, condition_time


def test_op_time_open_ends(client):
    history(client)
    t = times(client)
    cases = [
        ([None, iso(t["create_b"])], ["create_b", "create_a"]),
        ([iso(t["create_module"]), None], ["delete_b", "create_module"]),
        ([None, None], NEWEST),
        ([None, iso(t["create_a"] - timedelta(microseconds=1))], []),
        ([iso(t["delete_b"] + timedelta(microseconds=1)), None], []),
        ([iso(datetime.now(UTC) + timedelta(days=1)), None], []),
        ([None, iso(datetime.now(UTC) + timedelta(days=1))], NEWEST),
        (["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59.999999+00:00"], NEWEST),
        (["2000-01-01", None], NEWEST),  # a date alone is midnight
    ]
    for condition_time, expected in cases:
        assert matching(client, {"op_time": condition_time}) == expected, condition_time


def test_op_time_offsets_are_the_same_instant(client):
    history(client)
    t = times(client)
    for hours in (8, -5, 5.5, 14, -12):
        same = [iso(t["update_a"], hours), iso(t["update_a"], hours)]
        assert matching(client, {"op_time": same}) == ["update_a"], same
        mixed = [iso(t["create_b"], hours), iso(t["create_set"], -hours)]
        assert matching(client, {"op_time": mixed}) == ["create_set", "update_a", "create_b"], mixed
        assert matching(client, {"op_time": [None, iso(t["create_b"], hours)]}) == [
            "create_b",
            "create_a",
        ], hours
    zulu = naive(t["update_a"]) + "Z"
    assert matching(client, {"op_time": [zulu, zulu]}) == ["update_a"]
    # the offset moves the instant: the same wall-clock time at +08:00 is 8 hours earlier
    wall = t["update_a"].astimezone(UTC).replace(tzinfo=timezone(timedelta(hours=8)))
    assert matching(client, {"op_time": [wall.isoformat(), wall.isoformat()]}) == []
    assert matching(client, {"op_time": [None, wall.isoformat()]}) == []


@pytest.fixture
def shanghai_clock(monkeypatch):
    """The server's local time zone is UTC+8, so that "naive means UTC" is not an accident of a
    UTC machine."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_op_time_without_offset_means_utc(client, shanghai_clock):
    history(client)
    t = times(client)
    moment = naive(t["update_a"])
    assert "+" not in moment and not moment.endswith("Z")
    assert matching(client, {"op_time": [moment, moment]}) == ["update_a"]
    span = [naive(t["create_b"]), naive(t["create_set"])]
    assert matching(client, {"op_time": span}) == ["create_set", "update_a", "create_b"]
    # one naive end, one with an offset
    assert matching(client, {"op_time": [naive(t["create_b"]), iso(t["create_set"], 8)]}) == [
        "create_set",
        "update_a",
        "create_b",
    ]


BAD_OP_TIME = [
    None,
    "2026-01-01T00:00:00+00:00",
    5,
    {"$gte": "2026-01-01T00:00:00+00:00"},
    [],
    ["2026-01-01T00:00:00+00:00"],
    [None],
    ["2026-01-01", "2026-01-02", "2026-01-03"],
    [1, 2],
    [1700000000, None],
    [None, True],
    ["yesterday", None],
    [None, "tomorrow"],
    ["2026-13-01T00:00:00", None],
    ["2026-02-30T00:00:00", None],
    [None, "2026-01-01T25:00:00"],
    ["2026-01-01T00:00:00+25:00", None],
    [["2026-01-01"], None],
    [{"$gte": "2026-01-01"}, None],
    ["2026-01-02T00:00:00+00:00", "2026-01-01T00:00:00+00:00"],  # from > to
    ["2026-01-01T00:00:00.000001", "2026-01-01T00:00:00"],  # from > to by a microsecond
    # from > to as instants although the wall clocks say otherwise
    ["2026-01-01T03:00:00+00:00", "2026-01-01T10:00:00+08:00"],
]


def test_op_time_invalid_shapes_are_1199006(client, db_url):
    history(client)
    before = snapshot(db_url)
    for value in BAD_OP_TIME:
        resp = audit(client, {"condition": {"op_time": value}}, headers=EN)
        refused(value, resp, 400, 1199006, "op_time")
    assert snapshot(db_url) == before


def test_op_time_order_is_by_instant_not_wall_clock(client):
    history(client)
    # 10:00+08:00 is 02:00 UTC, before 03:00 UTC: a valid range, although 10 > 03
    span = ["2026-01-01T10:00:00+08:00", "2026-01-01T03:00:00+00:00"]
    assert matching(client, {"op_time": span}) == []
    # equal instants written differently are a valid one-instant range
    same = ["2026-01-01T08:00:00+08:00", "2026-01-01T00:00:00Z"]
    assert matching(client, {"op_time": same}) == []


def test_op_time_combined_with_other_keys(client):
    history(client)
    t = times(client)
    since = [iso(t["update_a"], 8), None]
    assert matching(client, {"op_time": since, "operator": "alice"}) == [
        "delete_b",
        "create_module",
    ]
    assert matching(client, {"op_time": since, "op_target": "process"}) == ["delete_b", "update_a"]
    upto = [None, iso(t["create_set"], -3)]
    assert matching(client, {"op_time": upto, "bk_biz_id": 1, "op_type": 1}) == [
        "create_set",
        "create_a",
    ]


# --- account --------------------------------------------------------------------------------


def test_rows_are_only_visible_in_their_own_account(client):
    history(client)  # six rows in "0", one in "acme"
    s = new_set(client, 1, "acme-set", account="acme", headers={"X-Request-Id": "req-acme_set"})
    headers = {"X-Request-Id": "req-acme_mod"}
    new_module(client, 1, s["bk_set_id"], "mm", account="acme", headers=headers)
    # the path's account is authoritative for process writes, whatever the header says
    body = {"bk_process_name": "z", "bk_func_name": "z"}
    headers = {ACCOUNT: "0", "X-Request-Id": "req-acme_z"}
    ok(client.post(proc_url("acme", 3), json=body, headers=headers))

    acme = ["acme_z", "acme_mod", "acme_set", "foreign"]
    for account in (None, "", "0", " 0 "):
        info = rows(client, account=account)
        assert labels(info) == NEWEST, account
        assert {row["bk_supplier_account"] for row in info} == {"0"}
    info = rows(client, account="acme")
    assert labels(info) == acme
    assert {row["bk_supplier_account"] for row in info} == {"acme"}
    assert [row["op_target"] for row in info] == ["process", "module", "set", "process"]
    # the header with dashes is the same header (§1)
    assert labels(rows(client, headers={"HTTP-BLUEKING-SUPPLIER-ID": "acme"})) == acme
    # no other account sees anything, not even one differing in case only
    for account in ("ACME", "acme2", "acm", "1", "a" * 64):
        assert found(client, account=account) == {"count": 0, "info": []}, account
    # conditions cannot widen the account
    assert matching(client, {"bk_biz_id": 1, "op_type": 1}, account="acme") == [
        "acme_mod",
        "acme_set",
        "foreign",
    ]
    assert matching(client, {"bk_biz_id": 3}) == []
    assert matching(client, {"bk_biz_id": 3}, account="acme") == ["acme_z"]
    resp = audit(client, {"condition": {"bk_supplier_account": "acme"}}, headers=EN)
    refused("condition", resp, 400, 1199011, "bk_supplier_account")


@pytest.mark.parametrize("account", ["a b", "a" * 65, "a/b", "acme;", "*", "a'b", "a%20b"])
def test_invalid_account_header_is_1199003(client, account):
    history(client)
    resp = audit(client, {}, account=account, headers=EN)
    message = refused(account, resp, 400, 1199003, "HTTP_BLUEKING_SUPPLIER_ID")
    assert message == "invalid input parameter: 'HTTP_BLUEKING_SUPPLIER_ID'"


# --- paging ---------------------------------------------------------------------------------


def test_default_limit_is_20_and_count_is_the_total(client):
    bulk(client, 11)  # 22 rows
    every = rows(client, {"limit": 200})
    assert len(every) == 22
    for body in [{}, {"limit": 0}, {"limit": "0"}, {"start": 0}]:
        data = found(client, body)
        assert data["count"] == 22, body
        assert data["info"] == every[:20], body
    for limit in (1, "5", 21, 22, 199, 200):
        data = found(client, {"limit": limit})
        assert data["count"] == 22
        assert data["info"] == every[: int(limit)], limit


def test_start_and_limit_windows_cover_every_row_exactly_once(client):
    bulk(client, 11)
    every = [row["id"] for row in rows(client, {"limit": 200})]
    assert every == sorted(every, reverse=True) and len(set(every)) == 22
    for limit in (1, 3, 5, 7, 20):
        seen = []
        for start in range(0, 22, limit):
            data = found(client, {"start": start, "limit": limit})
            assert data["count"] == 22
            assert len(data["info"]) == min(limit, 22 - start)
            seen.extend(row["id"] for row in data["info"])
        assert seen == every, limit
    # digit strings are integers
    data = found(client, {"start": "3", "limit": "4"})
    assert [row["id"] for row in data["info"]] == every[3:7]


def test_paging_a_filtered_and_sorted_search(client):
    pids = bulk(client, 11)
    condition = {"op_type": 2, "inst_id": {"$ne": pids[0]}}
    full = rows(client, {"condition": condition, "sort": "inst_id"})
    assert [row["inst_id"] for row in full] == pids[1:]
    for sort in ("inst_id", "-op_time", "op_type", "-request_id", "operator"):
        every = rows(client, {"condition": condition, "sort": sort})
        seen = []
        for start in range(0, 10, 3):
            data = found(client, {"condition": condition, "sort": sort, "start": start, "limit": 3})
            assert data["count"] == 10
            seen.extend(data["info"])
        assert seen == every, sort


def test_start_at_or_beyond_count_is_an_empty_page_with_the_count(client):
    bulk(client, 3)
    for start in (6, 7, 100, "1000", 2**62):
        assert found(client, {"start": start}) == {"count": 6, "info": []}, start
    assert found(client, {"start": 5})["count"] == 6
    assert len(found(client, {"start": 5})["info"]) == 1
    data = found(client, {"condition": {"op_type": 2}, "start": 3, "limit": 1})
    assert data == {"count": 3, "info": []}


BAD_PAGE = [
    ({"limit": 201}, 1199015, "limit"),
    ({"limit": "201"}, 1199015, "limit"),
    ({"limit": 10**6}, 1199015, "limit"),
    ({"limit": -1}, 1199015, "limit"),
    ({"limit": "-5"}, 1199015, "limit"),
    ({"start": -1}, 1199006, "start"),
    ({"start": "-1"}, 1199006, "start"),
    ({"start": 1.5}, 1199009, "start"),
    ({"start": "1.0"}, 1199009, "start"),
    ({"start": "x"}, 1199009, "start"),
    ({"start": True}, 1199009, "start"),
    ({"start": None}, 1199009, "start"),
    ({"start": [0]}, 1199009, "start"),
    ({"start": ""}, 1199009, "start"),
    ({"limit": 2.5}, 1199009, "limit"),
    ({"limit": "ten"}, 1199009, "limit"),
    ({"limit": False}, 1199009, "limit"),
    ({"limit": None}, 1199009, "limit"),
    ({"limit": {"max": 5}}, 1199009, "limit"),
    ({"limit": "1e2"}, 1199009, "limit"),
]


def test_bad_start_and_limit(client, db_url):
    history(client)
    before = snapshot(db_url)
    for body, code, field in BAD_PAGE:
        refused(body, audit(client, body, headers=EN), 400, code, f"'{field}'")
    assert snapshot(db_url) == before


# --- sort -----------------------------------------------------------------------------------

SORTS = [
    ("-op_time", NEWEST),
    ("op_time", CHRONO),
    ("id", CHRONO),
    ("-id", NEWEST),
    ("op_type", ["create_a", "create_b", "create_set", "create_module", "update_a", "delete_b"]),
    ("-op_type", ["delete_b", "update_a", "create_module", "create_set", "create_b", "create_a"]),
    (
        "op_type,-op_time",
        ["create_module", "create_set", "create_b", "create_a", "update_a", "delete_b"],
    ),
    (
        "-op_type,op_time",
        ["delete_b", "update_a", "create_a", "create_b", "create_set", "create_module"],
    ),
    (
        "-op_type,id",
        ["delete_b", "update_a", "create_a", "create_b", "create_set", "create_module"],
    ),
    ("op_target", ["create_module", "create_a", "create_b", "update_a", "delete_b", "create_set"]),
    ("-op_target", ["create_set", "delete_b", "update_a", "create_b", "create_a", "create_module"]),
    ("bk_biz_id", ["create_a", "update_a", "create_set", "create_module", "create_b", "delete_b"]),
    ("-bk_biz_id", ["delete_b", "create_b", "create_module", "create_set", "update_a", "create_a"]),
    (
        "bk_biz_id,-op_type",
        ["update_a", "create_a", "create_set", "create_module", "delete_b", "create_b"],
    ),
    ("operator", ["create_a", "create_module", "delete_b", "create_b", "update_a", "create_set"]),
    ("-operator", ["create_set", "update_a", "create_b", "delete_b", "create_module", "create_a"]),
    (
        "operator,-op_time",
        ["delete_b", "create_module", "create_a", "update_a", "create_b", "create_set"],
    ),
    ("op_desc", ["create_module", "create_a", "create_b", "create_set", "delete_b", "update_a"]),
    ("-op_desc", ["update_a", "delete_b", "create_set", "create_b", "create_a", "create_module"]),
    ("request_id", ["create_a", "create_b", "create_module", "create_set", "delete_b", "update_a"]),
    (
        "-request_id",
        ["update_a", "delete_b", "create_set", "create_module", "create_b", "create_a"],
    ),
    ("bk_supplier_account", CHRONO),  # all tie: id ascending
    ("-bk_supplier_account", NEWEST),  # all tie: id descending
    ("op_from", CHRONO),
    ("-op_from", NEWEST),
    (
        "op_type,op_type",
        ["create_a", "create_b", "create_set", "create_module", "update_a", "delete_b"],
    ),
    (
        "op_target,-bk_biz_id,op_time",
        ["create_module", "create_b", "delete_b", "create_a", "update_a", "create_set"],
    ),
]


def test_sort_fields_directions_and_tie_rule(client):
    history(client)
    for sort, expected in SORTS:
        assert ordered(client, sort) == expected, sort


def test_sort_by_inst_id(client):
    pids = [create(client, bk_process_name=f"p{i}") for i in range(3)]
    ok(client.put(proc_url(pid=pids[0]), json={"user": "x"}))
    ok(client.delete(proc_url(pid=pids[1])))
    info = rows(client, {"sort": "inst_id"})
    assert [(r["inst_id"], r["op_type"]) for r in info] == [
        (pids[0], 1),
        (pids[0], 2),
        (pids[1], 1),
        (pids[1], 3),
        (pids[2], 1),
    ]
    info = rows(client, {"sort": "-inst_id"})
    assert [(r["inst_id"], r["op_type"]) for r in info] == [
        (pids[2], 1),
        (pids[1], 3),
        (pids[1], 1),
        (pids[0], 2),
        (pids[0], 1),
    ]


def test_default_order_is_reverse_write_order_even_within_one_request(client):
    pids = bulk(client, 6)
    resp = client.put(proc_url(), json={"bk_process_id": pids[::-1], "user": "again"})
    ok(resp)
    info = rows(client)
    ids = [row["id"] for row in info]
    assert ids == sorted(ids, reverse=True)
    assert [row["op_time"] for row in info] == sorted(
        (row["op_time"] for row in info), reverse=True
    )
    assert rows(client, {"sort": "-op_time"}) == info
    assert rows(client, {"sort": "op_time"}) == info[::-1]
    # the last request's six rows come first, all with its request id
    assert {row["request_id"] for row in info[:6]} == {resp.headers["X-Request-Id"]}
    assert sorted(row["inst_id"] for row in info[:6]) == sorted(pids)
    # the twelve update rows tie on op_type, op_target and operator: id decides, in the
    # direction of the first key
    updates = {"condition": {"op_type": 2}}
    for sort in ("op_type", "operator", "op_target", "bk_supplier_account"):
        up = [row["id"] for row in rows(client, {**updates, "sort": sort})]
        down = [row["id"] for row in rows(client, {**updates, "sort": f"-{sort}"})]
        assert len(up) == 12 and up == sorted(up), sort
        assert down == sorted(down, reverse=True), sort


def test_empty_sort_means_the_default_order(client):
    """An empty sort names no field: the default (newest first) applies, as for a limit of 0."""
    history(client)
    assert ordered(client, "") == NEWEST


UNKNOWN_SORTS = [
    "content", "-content", "op_time;drop table audit_log", "op_time; DROP TABLE audit_log",
    "bogus", "op_time,bogus", "-", "op_time desc", "op_time DESC", "bk_process_name",
    "content->pre_data", "(select 1)", "OP_TIME", "+op_time", "--op_time", '"op_time"',
]  # fmt: skip


def test_unknown_sort_field_is_1199011(client, db_url):
    history(client)
    before = snapshot(db_url)
    for sort in UNKNOWN_SORTS:
        refused(sort, audit(client, {"sort": sort}, headers=EN), 400, 1199011)
    for sort in ("content", "op_time;drop table audit_log", "bogus"):
        refused(sort, audit(client, {"sort": sort}, headers=EN), 400, 1199011, f"'{sort}'")
    assert snapshot(db_url) == before
    assert found(client)["count"] == 6


def test_sort_must_be_a_string(client):
    history(client)
    for sort in (5, None, ["op_time"], {"op_time": -1}, True):
        refused(sort, audit(client, {"sort": sort}, headers=EN), 400, 1199007, "sort")


CODE_POINT_ORDER = ["Bob", "Zed", "alice", "carol", "Émile", "émile", "用户"]


def test_text_sorts_and_compares_by_code_point(client, db_url, backend):
    """Same order on both databases (§9), even in a PostgreSQL database whose own collation is
    ICU's (conftest), under which "alice" < "Bob"."""
    skip_unless_linguistic(db_url, backend)
    assert sorted(CODE_POINT_ORDER) == CODE_POINT_ORDER
    for i, user in enumerate(CODE_POINT_ORDER[::-1]):
        body = {"bk_process_name": f"p{i}", "bk_func_name": "f"}
        # the UTF-8 bytes read as Latin-1, as WSGI hands a header over
        headers = {"BK_User": user.encode().decode("latin-1"), "X-Request-Id": f"req-{i}"}
        ok(client.post(proc_url(), json=body, headers=headers))
    assert [r["operator"] for r in rows(client, {"sort": "operator"})] == CODE_POINT_ORDER
    assert [r["operator"] for r in rows(client, {"sort": "-operator"})] == CODE_POINT_ORDER[::-1]
    # the comparison operators agree with the sort
    between = {"operator": {"$gt": "Zed", "$lt": "émile"}}
    assert [r["operator"] for r in rows(client, {"condition": between, "sort": "operator"})] == [
        "alice",
        "carol",
        "Émile",
    ]
    assert [r["request_id"] for r in rows(client, {"sort": "request_id"})] == [
        f"req-{i}" for i in range(7)
    ]


# --- the rows --------------------------------------------------------------------------------


def test_rows_of_create_update_delete_carry_the_process_before_and_after(client):
    headers = {"BK_User": "alice", "X-Request-Id": "req-c"}
    body = {"bk_process_name": "web", "bk_func_name": "w", "port": 80}
    resp = client.post(proc_url("0", 5), json=body, headers=headers)
    pid = ok(resp)["bk_process_id"]
    created = process(client, pid, biz=5)

    body = {"user": "root", "port": "8080"}
    resp = client.put(proc_url("0", 5, pid), json=body, headers={"BK-User": "bob"})
    ok(resp)
    update_request = resp.headers["X-Request-Id"]
    updated = process(client, pid, biz=5)
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
        assert ISO_OFFSET.fullmatch(row["op_time"]), row["op_time"]
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
    before = {pid: process(client, pid) for pid in pids}
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
        assert row["content"] == {"pre_data": before[pid], "cur_data": process(client, pid)}
    assert found(client)["count"] == 7


def test_set_and_module_rows(client):
    headers = {"BK_User": "dave", "X-Request-Id": "req-set"}
    created_set = new_set(client, 4, "web-set", account="acme", headers=headers)
    sid = created_set["bk_set_id"]
    headers = {"X-Request-Id": "req-mod"}
    module = new_module(client, 4, sid, "nginx", account="acme", headers=headers)
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
    sid = new_set(client, 1, "s")["bk_set_id"]
    new_module(client, 1, sid, "gs")
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
    resp = audit(client, {}, headers={"X-Request-Id": "req-search"})
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
    sid = new_set(client, 1, "s")["bk_set_id"]
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
        assert refused(body, audit(client, body, headers=EN), 400, code) == en
        assert refused(body, audit(client, body, headers=ZH), 400, code) == zh
        # Chinese by default; Accept-Language decides when the BlueKing header is absent
        assert refused(body, audit(client, body), 400, code) == zh
        accept = {"Accept-Language": "en-US,en;q=0.9"}
        assert refused(body, audit(client, body, headers=accept), 400, code) == en
    raw = client.post(AUDIT, data="{", content_type="application/json", headers=EN)
    assert refused("{", raw, 400, 1199000) == "Deserializing JSON data failed"
    raw = client.post(AUDIT, data="[]", content_type="application/json", headers=ZH)
    assert refused("[]", raw, 400, 1199000) == "反序列化JSON数据失败"
    resp = audit(client, {}, account="a b", headers=ZH)
    assert refused("header", resp, 400, 1199003) == "输入参数无效: 'HTTP_BLUEKING_SUPPLIER_ID'"
    resp = audit(client, {"condition": {"op_type": {"$in": list(range(1001))}}}, headers=EN)
    assert "exceed the limit 1000" in refused("$in", resp, 400, 1199035, "op_type")
    resp = audit(client, {"condition": {"op_type": {"$in": list(range(1001))}}}, headers=ZH)
    assert "超过限制 1000" in refused("$in", resp, 400, 1199035, "op_type")


def test_regex_on_audit_text_has_the_search_time_limit(db_url):
    """A $regex condition on audit text gets PROC_REGEX_TIMEOUT_MS like search_process: a
    pattern slow on long values ("[ab]*a[ab]{64}c") is refused with 400 / 1199006 naming its
    field, on both databases, instead of holding a worker. Here the limit is 1 ms."""
    from sqlalchemy import insert

    from proc_service import create_app
    from proc_service.models import AuditLog

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
        err(client.post(AUDIT, json=slow, headers=EN), 400, 1199006, "operator")
        # The limit did not outlive its search: the next one on the connection runs freely.
        assert ok(client.post(AUDIT, json={"condition": {"inst_id": 7}}))["count"] == 1
    finally:
        app.extensions["db_engine"].dispose()
