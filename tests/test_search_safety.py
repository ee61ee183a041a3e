"""search_process (docs/api.md §3): whitelisting, tenancy, bk_module_name and query cost."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from .dbkit import insert_bindings, snapshot
from .kit import EN, create, err, ok, refused, search
from .support.search import bulk, check_table, found

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
    insert_bindings(
        db_url,
        [
            (ids["p1"], "web"),
            (ids["p2"], "web"),
            (ids["p2"], "db"),
            (ids["p3"], "Web"),
            (elsewhere, "web"),
            (elsewhere, "cache"),
        ],
    )
    check_table(client, MODULE_NAME)

    data = found(client, {"condition": {"bk_module_name": {"$in": ["web", "cache"]}}}, biz=2)
    assert [p["bk_process_id"] for p in data["info"]] == [elsewhere]
    assert data["count"] == 1


# --- cost: one page query and one count query ------------------------------------------------

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET", "SHOW")


def test_a_search_is_three_statements(app, client, db_url, backend):
    """The account's model version (§14: one row by its key), the count, the page: however
    many rows and conditions. The version is read on the driver's connection (its cost through
    SQLAlchemy was most of a detail's model overhead), which SQLAlchemy's events do not see:
    they see the other two. On SQLite a name substring of 3 characters or more takes one more:
    how many rows its trigram index finds the text in (sql.trigram_choice, issue 18)."""
    ids = bulk(client, 50, proc_num=1, port=80)
    create(client, bk_process_name="unbound", proc_num=2)
    insert_bindings(db_url, [(pid, "web") for pid in ids])
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
        {"condition": {"bk_process_name": "p00", "port": 80}},
    ]:
        statements.clear()
        event.listen(engine, "before_cursor_execute", record)
        try:
            data = found(client, body)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert data["count"] == 50 and len(data["info"]) == 50, body
        looked_up = backend == "sqlite" and len(body["condition"].get("bk_process_name", "")) >= 3
        assert len(statements) == 2 + looked_up, (body, statements)
        assert not any("model_versions" in s for s in statements), statements


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
