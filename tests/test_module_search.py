"""search_module (docs/api.md §6): the modules of one set, by condition."""

from __future__ import annotations

import threading

import pytest

from .dbkit import audit_rows, libpq, snapshot, wait_until_a_session_waits_for_a_lock
from .kit import EN, err, module_search_url, new_module, new_set, ok, refused
from .support.topology import MODULE_FIELDS, find_modules, module_names

# --- search_module ------------------------------------------------------------------------------


@pytest.fixture
def modules_in_a_set(client) -> tuple[int, int, dict[str, dict]]:
    """Set A with four modules (creation order), set B with a "web" module, noise elsewhere."""
    a = new_set(client, bk_set_name="A")["bk_set_id"]
    b = new_set(client, bk_set_name="B")["bk_set_id"]
    rows = [
        {"bk_module_name": "web", "operator": "alice"},
        {"bk_module_name": "db", "bk_module_type": "2", "operator": "bob"},
        {"bk_module_name": "cache", "bk_bak_operator": "carol"},
        {"bk_module_name": "idle", "default": 1},
    ]
    made = {row["bk_module_name"]: new_module(client, a, biz=1, **row) for row in rows}
    new_module(client, b, biz=1, bk_module_name="web")
    new_module(client, b, biz=1, bk_module_name="queue")
    c = new_set(client, biz=2, bk_set_name="A")["bk_set_id"]
    new_module(client, c, biz=2, bk_module_name="web")
    return a, b, made


ALL4 = {"web", "db", "cache", "idle"}
MODULE_CONDITIONS = [
    ({}, ALL4),
    ({"bk_module_name": "web"}, {"web"}),
    ({"bk_module_name": "we"}, set()),  # equality, not a substring
    ({"bk_module_name": "queue"}, set()),  # in the other set
    ({"bk_module_type": 2}, {"db"}),
    ({"bk_module_type": "1"}, {"web", "cache", "idle"}),
    ({"operator": "alice"}, {"web"}),
    ({"bk_bak_operator": "carol"}, {"cache"}),
    ({"default": "1"}, {"idle"}),
    ({"operator": {"$ne": ""}}, {"web", "db"}),
    ({"bk_module_name": {"$eq": "db"}}, {"db"}),
    ({"bk_module_name": {"$in": ["web", "db", "queue"]}}, {"web", "db"}),
    ({"bk_module_name": {"$nin": ["web"]}}, {"db", "cache", "idle"}),
    ({"bk_module_name": {"$gt": "cache"}}, {"db", "idle", "web"}),
    ({"bk_module_name": {"$gte": "db", "$lt": "web"}}, {"db", "idle"}),
    ({"bk_module_name": {"$lte": "db"}}, {"cache", "db"}),
    ({"bk_module_name": {"$regex": "e$"}}, {"cache", "idle"}),
    ({"bk_module_name": {"$regex": "^W"}}, set()),
    ({"default": {"$gt": 0}}, {"idle"}),
    ({"default": {"$lte": 0}, "bk_module_type": {"$ne": "2"}}, {"web", "cache"}),
]


def test_search_module_conditions(client, modules_in_a_set):
    a, _, made = modules_in_a_set
    for condition, expected in MODULE_CONDITIONS:
        assert module_names(client, a, condition) == expected, condition
    assert module_names(client, a, {"bk_module_id": made["db"]["bk_module_id"]}) == {"db"}
    ids = [made["web"]["bk_module_id"], made["idle"]["bk_module_id"]]
    assert module_names(client, a, {"bk_module_id": {"$in": ids}}) == {"web", "idle"}


def test_search_module_returns_the_sets_modules_in_id_order(client, modules_in_a_set):
    a, b, made = modules_in_a_set
    data = find_modules(client, a)
    assert data["count"] == 4
    assert data["info"] == list(made.values())
    assert all(list(m) == MODULE_FIELDS for m in data["info"])
    assert module_names(client, b, {}) == {"web", "queue"}
    # another account does not see the set at all
    resp = client.post(module_search_url("acme", 1, a), json={}, headers=EN)
    err(resp, 404, 1199019, f"bk_set_id {a}")
    resp = client.post(module_search_url("0", 2, a), json={}, headers=EN)
    err(resp, 404, 1199019, f"bk_set_id {a}")


def test_search_module_ignores_business_account_and_set_in_the_condition(client, modules_in_a_set):
    a, b, _ = modules_in_a_set
    for condition in [
        {"bk_set_id": b},
        {"bk_set_id": str(b)},
        {"bk_biz_id": 2},
        {"bk_supplier_account": "acme"},
        {"bk_biz_id": 2, "bk_supplier_account": "acme", "bk_set_id": b},
    ]:
        assert module_names(client, a, condition) == ALL4, condition
    assert module_names(client, b, {"bk_set_id": a, "bk_module_name": "web"}) == {"web"}


def test_search_module_sort_page_and_fields(client, modules_in_a_set):
    a, _, made = modules_in_a_set

    def order(sort, **page):
        info = find_modules(client, a, {"page": {"sort": sort, **page}})["info"]
        return [m["bk_module_name"] for m in info]

    assert order("") == ["web", "db", "cache", "idle"]
    assert order("bk_module_name") == ["cache", "db", "idle", "web"]
    assert order("-bk_module_name") == ["web", "idle", "db", "cache"]
    assert order("bk_module_type") == ["web", "cache", "idle", "db"]  # ties by id
    assert order("-bk_module_type") == ["db", "web", "cache", "idle"]
    assert order("default,-operator") == ["db", "web", "cache", "idle"]
    page = find_modules(client, a, {"page": {"sort": "bk_module_name", "start": 1, "limit": 2}})
    assert page["count"] == 4 and [m["bk_module_name"] for m in page["info"]] == ["db", "idle"]
    body = {"condition": {"bk_module_name": "db"}, "fields": ["bk_module_id", "operator"]}
    expected = {"bk_module_id": made["db"]["bk_module_id"], "operator": "bob"}
    assert find_modules(client, a, body)["info"] == [expected]


def test_search_module_refusals(client, db_url, modules_in_a_set):
    a, _, _ = modules_in_a_set
    before = snapshot(db_url)
    url = module_search_url("0", 1, a)
    cases = [
        ({"condition": {"foo": 1}}, 1199011, "foo"),
        ({"condition": {"bk_set_name": "A"}}, 1199011, "bk_set_name"),
        ({"condition": {"bk_process_name": "x"}}, 1199011, "bk_process_name"),
        ({"fields": ["bk_set_name"]}, 1199011, "bk_set_name"),
        ({"fields": ["bk_module_name", "foo"]}, 1199011, "foo"),
        ({"page": {"sort": "bk_set_name"}}, 1199011, "bk_set_name"),
        ({"page": {"sort": "-foo"}}, 1199011, "foo"),
        ({"page": {"limit": 201}}, 1199015, "limit"),
        ({"condition": {"default": "x"}}, 1199009, "default"),
        ({"condition": {"operator": 5}}, 1199007, "operator"),
        ({"condition": {"bk_module_name": {"$where": "1"}}}, 1199006, "bk_module_name"),
    ]
    for body, code, field in cases:
        refused(body, client.post(url, json=body, headers=EN), 400, code, field)
    assert snapshot(db_url) == before


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # SQLite serialises writers
def test_delete_set_audits_a_module_as_a_concurrent_rename_left_it(app, client, db_url):
    """delete_set locks the set's modules before reading them: a rename that commits while it
    waits is what its audit row records, not the name from before the rename."""
    import psycopg

    set_id = ok(client.post("/api/v3/set/1", json={"bk_set_name": "s"}))["bk_set_id"]
    module = ok(client.post(f"/api/v3/module/1/{set_id}", json={"bk_module_name": "old"}))
    answers = {}

    def delete():
        answers["delete"] = app.test_client().delete(f"/api/v3/set/1/{set_id}")

    with psycopg.connect(libpq(db_url)) as other:  # a rename in flight holds the module's row lock
        other.execute(
            "UPDATE modules SET bk_module_name = 'new' WHERE bk_module_id = %s",
            (module["bk_module_id"],),
        )
        worker = threading.Thread(target=delete)
        worker.start()
        wait_until_a_session_waits_for_a_lock(db_url)
        other.commit()
        worker.join(timeout=30)
    ok(answers["delete"])
    deleted = [r for r in audit_rows(db_url) if r["op_type"] == 3 and r["op_target"] == "module"]
    assert [r["content"]["pre_data"]["bk_module_name"] for r in deleted] == ["new"]
