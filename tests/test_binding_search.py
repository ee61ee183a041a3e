"""search_process by bk_module_name (docs/api.md §3), and bindings under concurrency (§9)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from .dbkit import audit_rows, binding_rows, race
from .kit import EN, bind, create, err, new_module, new_set, ok, proc_url, search
from .plans import observed
from .support.bindings import binding_audits, bound, bound_to, listing

# --- search_process: the bk_module_name condition --------------------------------------------


@pytest.fixture
def bound_world(client):
    """p1: web · p2: web, db · p3: Web · p4: nothing · a process of business 2 and one of
    account tenant-b, both named p1 and bound to web and cache."""
    s1 = new_set(client, "set")["bk_set_id"]
    for name in ["web", "db", "Web", "cache"]:
        new_module(client, s1, name)
    ids = {}
    for i, name in enumerate(["p1", "p2", "p3", "p4"], 1):
        ids[name] = create(client, bk_process_name=name, proc_num=i)
    for process, name in [("p1", "web"), ("p2", "web"), ("p2", "db"), ("p3", "Web")]:
        bound(client, ids[process], name)
    for biz, account in [(2, "0"), (1, "tenant-b")]:
        s = new_set(client, "set", biz=biz, account=account)["bk_set_id"]
        for name in ["web", "cache"]:
            new_module(client, s, name, biz=biz, account=account)
        pid = create(client, account, biz, bk_process_name="p1")
        ids[f"{account}/{biz}"] = pid
        bound(client, pid, "web", account=account, biz=biz)
        bound(client, pid, "cache", account=account, biz=biz)
    return ids


SEARCHES = [
    ("web", ["p1", "p2"]),
    ("Web", ["p3"]),  # exact, case-sensitive
    ("we", []),  # not a substring match
    ("db", ["p2"]),
    ("cache", []),  # bound only in another business and account
    ("nothing", []),
    ({"$in": ["db"]}, ["p2"]),
    ({"$in": ["web", "db"]}, ["p1", "p2"]),  # p2 once
    ({"$in": ["db", "Web", "cache", "nothing"]}, ["p2", "p3"]),
    ({"$in": []}, []),
]


def test_search_by_module_name(client, bound_world):
    name_of = {pid: name for name, pid in bound_world.items()}
    for condition, expected in SEARCHES:
        found = [name_of[pid] for pid in bound_to(client, condition)]
        assert found == expected, condition


def test_search_by_module_name_and_other_conditions(client, bound_world):
    ids = bound_world

    def names(condition, **page):
        data = ok(search(client, {"condition": condition, "page": page}))
        return data["count"], [p["bk_process_name"] for p in data["info"]]

    assert names({"bk_module_name": "web", "bk_process_name": "1"}) == (1, ["p1"])
    assert names({"bk_module_name": "web", "proc_num": {"$gte": 2}}) == (1, ["p2"])
    assert names({"bk_module_name": {"$in": ["web", "Web"]}, "proc_num": {"$ne": 2}}) == (
        2,
        ["p1", "p3"],
    )
    assert names({"bk_module_name": "db", "bk_process_id": ids["p1"]}) == (0, [])
    # count is the total, whatever the page
    assert names({"bk_module_name": "web"}, limit=1) == (2, ["p1"])
    assert names({"bk_module_name": "web"}, start=1, limit=1) == (2, ["p2"])
    assert names({"bk_module_name": "web"}, sort="-bk_process_name") == (2, ["p2", "p1"])
    # the other business and account see only their own process
    for account, biz in [("0", 2), ("tenant-b", 1)]:
        key = f"{account}/{biz}"
        assert bound_to(client, "web", account, biz) == [ids[key]]
        assert bound_to(client, {"$in": ["cache", "db"]}, account, biz) == [ids[key]]
        assert bound_to(client, "db", account, biz) == []


@pytest.mark.parametrize(
    "value",
    [
        {"$eq": "web"},
        {"$ne": "web"},
        {"$nin": ["web"]},
        {"$regex": "web"},
        {"$in": "web"},
        {"$in": ["web", 5]},
        {"$in": ["web", None]},
        {"$in": ["web"], "$eq": "web"},
        {},
        5,
        None,
        True,
        ["web"],
    ],
    ids=[
        "$eq",
        "$ne",
        "$nin",
        "$regex",
        "$in-string",
        "$in-number",
        "$in-null",
        "$in-and-$eq",
        "empty-object",
        "number",
        "null",
        "bool",
        "list",
    ],
)
def test_search_by_a_malformed_module_name_is_400(client, value):
    new_module(client, new_set(client, "set")["bk_set_id"], "web")
    bound(client, create(client), "web")
    resp = search(client, {"condition": {"bk_module_name": value}}, headers=EN)
    body = resp.get_json()
    assert resp.status_code == 400, body
    assert body["bk_error_code"] in (1199006, 1199007), body
    err(resp, 400, body["bk_error_code"], "bk_module_name")


def test_search_by_module_name_takes_at_most_1000_names(client):
    new_module(client, new_set(client, "set")["bk_set_id"], "web")
    pid = create(client)
    bound(client, pid, "web")
    names = [f"n{i}" for i in range(999)] + ["web"]
    assert bound_to(client, {"$in": names}) == [pid]
    resp = search(client, {"condition": {"bk_module_name": {"$in": [*names, "m"]}}}, headers=EN)
    assert "1000" in err(resp, 400, 1199035, "bk_module_name")


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET", "SHOW")


def test_search_by_module_name_costs_the_same_statements_for_2_or_30_processes(app, client):
    s1 = new_set(client, "set")["bk_set_id"]
    new_module(client, s1, "web")
    new_module(client, s1, "db")
    engine = app.extensions["db_engine"]
    statements: list[str] = []

    def record(_connection, statement, _parameters):
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            statements.append(statement)

    def cost(expected: int) -> int:
        body = {"condition": {"bk_module_name": {"$in": ["web", "db"]}}, "page": {"limit": 200}}
        ok(search(client, body))  # the pool's first connection may run the dialect's queries
        statements.clear()
        # through the session, or on the driver's connection (data/prepared.py)
        with observed(engine, record):
            data = ok(search(client, body))
        assert data["count"] == expected == len(data["info"])
        return len(statements)

    pids = [create(client, bk_process_name=f"p{i:02}") for i in range(30)]
    for pid in pids[:2]:
        bound(client, pid, "web")
        bound(client, pid, "db")
    few = cost(2)
    for pid in pids[2:]:
        bound(client, pid, "web" if pid % 2 else "db")
    many = cost(30)
    assert few == many, statements
    # the account's model version (§14, one row by its key), the count and the page
    assert many == 3, statements
    assert sum("model_versions" in s for s in statements) == 1, statements


# --- concurrency (§9) ------------------------------------------------------------------------


def test_concurrent_binds_of_one_name_make_one_row_and_one_audit_row(app, client, db_url):
    new_module(client, new_set(client, "set")["bk_set_id"], "web")
    pid = create(client)
    results = race(app, [lambda c: bind(c, pid, "web") for _ in range(6)])
    assert [status for status, _ in results] == [200] * 6, results
    assert all(body["data"] == "success" for _, body in results)
    assert binding_rows(db_url) == [(pid, "web")]
    (row,) = binding_audits(db_url)
    assert row["content"] == {
        "pre_data": {"bk_module_names": []},
        "cur_data": {"bk_module_names": ["web"]},
    }


def test_concurrent_binds_of_different_names_all_land_and_audit_in_turn(app, client, db_url):
    s1 = new_set(client, "set")["bk_set_id"]
    names = [f"m{i}" for i in range(6)]
    for name in names:
        new_module(client, s1, name)
    pid = create(client)
    results = race(app, [lambda c, n=n: bind(c, pid, n) for n in names])
    assert [status for status, _ in results] == [200] * 6, results
    assert binding_rows(db_url) == [(pid, n) for n in names]
    assert listing(client, pid) == [(n, 1, 1) for n in names]
    # each row saw every earlier bind: the lists grow by one name at a time, none lost
    rows = binding_audits(db_url)
    assert len(rows) == 6
    seen: list[str] = []
    for row in rows:
        pre = row["content"]["pre_data"]["bk_module_names"]
        cur = row["content"]["cur_data"]["bk_module_names"]
        assert pre == sorted(seen)
        (added,) = set(cur) - set(pre)
        assert cur == sorted([*pre, added]) and row["op_desc"] == f"bind module [{added}]"
        seen.append(added)
    assert sorted(seen) == names


def test_bind_racing_delete_process_leaves_no_binding_behind(app, client, db_url):
    s1 = new_set(client, "set")["bk_set_id"]
    names = ["a", "b", "c", "d"]
    for name in names:
        new_module(client, s1, name)
    pid = create(client)
    calls = [lambda c: c.delete(proc_url(pid=pid))]
    calls += [lambda c, n=n: bind(c, pid, n) for n in names]
    results = race(app, calls)
    assert results[0][0] == 200, results
    won = {n for n, (status, _) in zip(names, results[1:], strict=True) if status == 200}
    assert all(status in (200, 404) for status, _ in results[1:]), results
    assert binding_rows(db_url) == []
    # a bind that succeeded happened before the delete, whose audit row lists it
    (deleted,) = [r for r in audit_rows(db_url) if r["op_type"] == 3]
    assert set(deleted["content"]["pre_data"]["bk_module_names"]) == won


def test_a_module_name_with_a_newline_binds_and_unbinds(client, db_url):
    """Any UTF-8 text is a name, line breaks included: the path's rest is the name, "\\n" too."""
    set_id = ok(client.post("/api/v3/set/1", json={"bk_set_name": "s"}))["bk_set_id"]
    ok(client.post(f"/api/v3/module/1/{set_id}", json={"bk_module_name": "a\nb"}))
    pid = create(client)
    url = f"/api/v3/proc/module/0/1/{pid}/{quote('a' + chr(10) + 'b', safe='')}"
    assert ok(client.put(url)) == "success"
    listed = ok(client.get(f"/api/v3/proc/module/0/1/{pid}"))
    assert listed == [{"bk_module_name": "a\nb", "set_num": 1, "is_bind": 1}]
    assert ok(client.delete(url)) == "success"
    assert ok(client.get(f"/api/v3/proc/module/0/1/{pid}"))[0]["is_bind"] == 0
