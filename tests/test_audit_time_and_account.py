"""Audit search (docs/api.md §5): op_time ranges and the supplier account."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from .dbkit import snapshot
from .kit import (
    ACCOUNT_HEADER,
    EN,
    ISO_TIME,
    create,
    new_module,
    new_set,
    ok,
    proc_url,
    refused,
    search_audit,
)
from .support.audit import CHRONO, NEWEST, found, history, labels, matching, rows, times

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
    assert ISO_TIME.fullmatch(row["op_time"]), row["op_time"]
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
        resp = search_audit(client, {"condition": {"op_time": value}}, headers=EN)
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
    s = new_set(client, "acme-set", biz=1, account="acme", headers={"X-Request-Id": "req-acme_set"})
    headers = {"X-Request-Id": "req-acme_mod"}
    new_module(client, s["bk_set_id"], "mm", biz=1, account="acme", headers=headers)
    # the path's account is authoritative for process writes, whatever the header says
    body = {"bk_process_name": "z", "bk_func_name": "z"}
    headers = {ACCOUNT_HEADER: "0", "X-Request-Id": "req-acme_z"}
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
    resp = search_audit(client, {"condition": {"bk_supplier_account": "acme"}}, headers=EN)
    refused("condition", resp, 400, 1199011, "bk_supplier_account")


@pytest.mark.parametrize("account", ["a b", "a" * 65, "a/b", "acme;", "*", "a'b", "a%20b"])
def test_invalid_account_header_is_1199003(client, account):
    history(client)
    resp = search_audit(client, {}, account=account, headers=EN)
    message = refused(account, resp, 400, 1199003, "HTTP_BLUEKING_SUPPLIER_ID")
    assert message == "invalid input parameter: 'HTTP_BLUEKING_SUPPLIER_ID'"
