"""Audit search (docs/api.md §5): paging and sort."""

from __future__ import annotations

from .dbkit import skip_unless_linguistic, snapshot
from .kit import EN, create, ok, proc_url, refused, search_audit
from .support.audit import CHRONO, NEWEST, bulk, found, history, ordered, rows

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
        refused(body, search_audit(client, body, headers=EN), 400, code, f"'{field}'")
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
        refused(sort, search_audit(client, {"sort": sort}, headers=EN), 400, 1199011)
    for sort in ("content", "op_time;drop table audit_log", "bogus"):
        refused(sort, search_audit(client, {"sort": sort}, headers=EN), 400, 1199011, f"'{sort}'")
    assert snapshot(db_url) == before
    assert found(client)["count"] == 6


def test_sort_must_be_a_string(client):
    history(client)
    for sort in (5, None, ["op_time"], {"op_time": -1}, True):
        refused(sort, search_audit(client, {"sort": sort}, headers=EN), 400, 1199007, "sort")


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
