"""search_set (docs/api.md §6): conditions, operators, paging and sort over sets."""

from __future__ import annotations

import pytest

from .dbkit import snapshot
from .kit import EN, module_search_url, new_module, new_set, refused, set_search_url
from .support.topology import SET_FIELDS, find_sets, module_names, set_names

# --- search_set ---------------------------------------------------------------------------------


@pytest.fixture
def six_sets(client) -> dict[str, dict]:
    """Six sets of business 1 (in creation order, so ids ascending), and noise elsewhere."""
    rows = [
        {"bk_set_name": "alpha", "bk_set_env": "1", "bk_service_status": "1", "bk_capacity": 10},
        {"bk_set_name": "beta", "bk_set_env": "2", "bk_service_status": "2", "bk_capacity": 50},
        {"bk_set_name": "gamma", "bk_set_env": "3", "bk_service_status": "1"},
        {"bk_set_name": "delta", "bk_set_env": "1", "bk_service_status": "2", "bk_capacity": 50},
        {"bk_set_name": "web", "bk_set_desc": "web front", "bk_capacity": 5},
        {"bk_set_name": "idle pool", "default": 1},
    ]
    made = {row["bk_set_name"]: new_set(client, **row) for row in rows}
    new_set(client, biz=2, bk_set_name="alpha")
    new_set(client, account="acme", bk_set_name="alpha")
    return made


ALL6 = {"alpha", "beta", "gamma", "delta", "web", "idle pool"}
SET_CONDITIONS = [
    ({}, ALL6),
    ({"bk_set_name": "alpha"}, {"alpha"}),
    ({"bk_set_name": "a"}, set()),  # equality, not a substring
    ({"bk_set_name": "we"}, set()),
    ({"bk_set_name": "Alpha"}, set()),
    ({"bk_set_env": 1}, {"alpha", "delta"}),
    ({"bk_set_env": "3"}, {"gamma", "web", "idle pool"}),
    ({"bk_capacity": "50"}, {"beta", "delta"}),
    ({"bk_set_desc": "web front"}, {"web"}),
    ({"default": 1}, {"idle pool"}),
    ({"bk_set_env": "1", "bk_service_status": 2}, {"delta"}),  # keys are ANDed
    ({"bk_set_name": {"$eq": "beta"}}, {"beta"}),
    ({"bk_service_status": {"$ne": "1"}}, {"beta", "delta"}),
    ({"bk_set_name": {"$in": ["alpha", "web", "nope"]}}, {"alpha", "web"}),
    ({"bk_set_env": {"$nin": ["1", 2]}}, {"gamma", "web", "idle pool"}),
    ({"bk_capacity": {"$gt": 10}}, {"beta", "delta"}),
    ({"bk_capacity": {"$gte": 10}}, {"alpha", "beta", "delta"}),
    ({"bk_capacity": {"$lt": 50}}, {"alpha", "web"}),
    ({"bk_capacity": {"$lte": "10"}}, {"alpha", "web"}),
    ({"bk_capacity": {"$gt": 5, "$lt": 50}}, {"alpha"}),
    ({"bk_set_name": {"$gt": "d", "$lte": "gamma"}}, {"delta", "gamma"}),
    ({"bk_set_name": {"$regex": "^[a-d]"}}, {"alpha", "beta", "delta"}),
    ({"bk_set_name": {"$regex": "a$"}}, {"alpha", "beta", "gamma", "delta"}),
    ({"bk_set_name": {"$regex": "^A"}}, set()),  # case-sensitive
    ({"bk_set_name": {"$regex": " "}}, {"idle pool"}),
    ({"bk_set_env": {"$in": [1]}, "bk_capacity": {"$ne": 10}}, {"delta"}),
]


def test_search_set_conditions(client, six_sets):
    for condition, expected in SET_CONDITIONS:
        assert set_names(client, condition) == expected, condition
    ids = {name: s["bk_set_id"] for name, s in six_sets.items()}
    assert set_names(client, {"bk_set_id": ids["beta"]}) == {"beta"}
    assert set_names(client, {"bk_set_id": {"$in": [ids["alpha"], ids["web"]]}}) == {
        "alpha",
        "web",
    }
    assert set_names(client, {"bk_set_id": {"$gt": ids["web"]}}) == {"idle pool"}


def test_search_set_returns_full_sets_in_id_order(client, six_sets):
    data = find_sets(client)
    assert data["count"] == 6
    assert data["info"] == list(six_sets.values())
    assert all(list(s) == SET_FIELDS for s in data["info"])
    # the other business and account see only their own
    assert set_names(client, {}, biz=2) == {"alpha"}
    assert set_names(client, {}, account="acme") == {"alpha"}
    assert find_sets(client, biz=3) == {"count": 0, "info": []}


def test_search_set_ignores_business_and_account_in_the_condition(client, six_sets):
    for condition in [
        {"bk_biz_id": 2},
        {"bk_biz_id": "2"},
        {"bk_supplier_account": "acme"},
        {"bk_biz_id": 2, "bk_supplier_account": "acme"},
    ]:
        assert set_names(client, condition) == ALL6, condition
    assert set_names(client, {"bk_biz_id": 1, "bk_set_name": "alpha"}, biz=2) == {"alpha"}


def test_search_set_sort_page_and_fields(client, six_sets):
    def order(sort, **page):
        info = find_sets(client, {"page": {"sort": sort, **page}})["info"]
        return [s["bk_set_name"] for s in info]

    assert order("") == list(six_sets)
    assert order("bk_set_name") == ["alpha", "beta", "delta", "gamma", "idle pool", "web"]
    assert order("-bk_set_name") == ["web", "idle pool", "gamma", "delta", "beta", "alpha"]
    # ties are broken by bk_set_id ascending, whichever direction the sort goes
    assert order("bk_set_env") == ["alpha", "delta", "beta", "gamma", "web", "idle pool"]
    assert order("-bk_set_env") == ["gamma", "web", "idle pool", "beta", "alpha", "delta"]
    assert order("bk_service_status,-bk_set_name") == [
        "web", "idle pool", "gamma", "alpha", "delta", "beta",
    ]  # fmt: skip
    # paging; count is independent of the page
    page = find_sets(client, {"page": {"sort": "bk_set_env", "start": 1, "limit": 2}})
    assert page["count"] == 6
    assert [s["bk_set_name"] for s in page["info"]] == ["delta", "beta"]
    page = find_sets(client, {"page": {"start": "4", "limit": "10"}})
    assert page["count"] == 6 and [s["bk_set_name"] for s in page["info"]] == ["web", "idle pool"]
    assert find_sets(client, {"page": {"start": 6}}) == {"count": 6, "info": []}
    narrowed = find_sets(client, {"condition": {"bk_set_env": "3"}, "page": {"limit": 1}})
    assert narrowed["count"] == 3 and len(narrowed["info"]) == 1
    assert len(find_sets(client, {"page": {"limit": 200}})["info"]) == 6
    # fields
    full = six_sets["beta"]
    body = {"condition": {"bk_set_name": "beta"}, "fields": ["bk_set_name", "bk_capacity"]}
    assert find_sets(client, body)["info"] == [{"bk_set_name": "beta", "bk_capacity": 50}]
    body["fields"] = ["bk_set_id", "bk_supplier_account", "create_time", "last_time"]
    assert find_sets(client, body)["info"] == [{k: full[k] for k in body["fields"]}]
    body["fields"] = []
    assert find_sets(client, body)["info"] == [full]


def test_search_set_refusals(client, db_url, six_sets):
    before = snapshot(db_url)
    url = set_search_url()
    cases = [
        ({"condition": {"foo": 1}}, 400, 1199011, "foo"),
        ({"condition": {"bk_module_name": "web"}}, 400, 1199011, "bk_module_name"),
        ({"condition": {"bk_process_id": 1}}, 400, 1199011, "bk_process_id"),
        ({"condition": {"BK_SET_NAME": "alpha"}}, 400, 1199011, "BK_SET_NAME"),
        ({"fields": ["bk_set_name", "foo"]}, 400, 1199011, "foo"),
        ({"fields": ["bk_module_id"]}, 400, 1199011, "bk_module_id"),
        ({"page": {"sort": "foo"}}, 400, 1199011, "foo"),
        ({"page": {"sort": "-foo"}}, 400, 1199011, "foo"),
        ({"page": {"sort": "bk_set_name,bk_module_name"}}, 400, 1199011, "bk_module_name"),
        ({"page": {"limit": 201}}, 400, 1199015, "limit"),
        ({"page": {"limit": "1000"}}, 400, 1199015, "limit"),
        ({"page": {"start": -1}}, 400, 1199006, "start"),
        ({"page": {"start": "x"}}, 400, 1199009, "start"),
        ({"condition": {"bk_capacity": "abc"}}, 400, 1199009, "bk_capacity"),
        ({"condition": {"bk_set_name": 5}}, 400, 1199007, "bk_set_name"),
        ({"condition": {"bk_set_name": {"$like": "a"}}}, 400, 1199006, "bk_set_name"),
    ]
    for body, status, code, field in cases:
        refused(body, client.post(url, json=body, headers=EN), status, code, field)
    # an operand of the wrong type: the §2 error or 1199006 (§3 allows either), naming it
    resp = client.post(url, json={"condition": {"bk_capacity": {"$gt": "big"}}}, headers=EN)
    body = resp.get_json()
    assert resp.status_code == 400 and body["bk_error_code"] in (1199006, 1199009), body
    assert "bk_capacity" in body["bk_error_msg"], body
    assert snapshot(db_url) == before


SQLISH = [
    "bk_set_name; DROP TABLE sets",
    "1=1",
    "bk_set_id desc",
    "(select 1)",
    "bk_set_name--",
    "bk_set_name OR 1=1",
    "bk_set_id); DELETE FROM modules; --",
    '"bk_set_name"',
]


def test_search_refuses_injection_looking_keys(client, db_url, six_sets):
    sid = six_sets["alpha"]["bk_set_id"]
    new_module(client, sid, biz=1, bk_module_name="web")
    before = snapshot(db_url)
    for sql in SQLISH:
        for url, name in [
            (set_search_url(), "bk_set_name"),
            (module_search_url("0", 1, sid), "bk_module_name"),
        ]:
            bodies = [
                {"condition": {sql: "x"}},
                {"condition": {name: "alpha", sql: {"$eq": 1}}},
                {"fields": [sql]},
                {"fields": [name, sql]},
            ]
            for body in bodies:
                refused((url, body), client.post(url, json=body, headers=EN), 400, 1199011, sql)
            for sort in [sql, f"bk_set_id,{sql}", f"-{sql}"]:
                resp = client.post(url, json={"page": {"sort": sort}}, headers=EN)
                refused((url, sort), resp, 400, 1199011)
    # values are just data
    tricky = "x' OR '1'='1"
    assert set_names(client, {"bk_set_name": tricky}) == set()
    assert set_names(client, {"bk_set_name": {"$in": [tricky, "'; DROP TABLE sets; --"]}}) == set()
    assert snapshot(db_url) == before
    assert find_sets(client)["count"] == 6
    assert module_names(client, sid, {}) == {"web"}
