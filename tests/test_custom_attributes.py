"""Custom attributes (docs/api.md §14, issue 15): each account extends the process, set and module
models through bk-cmdb v3.1's model API, and a custom attribute then works wherever a preset one
does. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, text

from proc_service import create_app
from proc_service.data import db

from .dbkit import audit_rows, race
from .kit import (
    EN,
    create,
    err,
    new_set,
    ok,
    proc_url,
    search,
    set_search_url,
)

ATTR = "/api/v3/object/attr"
# One attribute of each type, as bk-cmdb v3.1's model page sends them (§14: no isonly key on
# create, enum options without "type", option null for the types that take none).
EACH_TYPE = [
    {"bk_property_id": "owner", "bk_property_type": "singlechar", "option": "^[a-z]+$"},
    {"bk_property_id": "notes", "bk_property_type": "longchar", "option": ""},
    {"bk_property_id": "weight", "bk_property_type": "int", "option": {"min": "0", "max": "100"}},
    {"bk_property_id": "ratio", "bk_property_type": "float", "option": {"min": "", "max": "1"}},
    {
        "bk_property_id": "tier",
        "bk_property_type": "enum",
        "option": [
            {"id": "gold", "name": "Gold", "is_default": False},
            {"id": "iron", "name": "Iron", "is_default": True},
        ],
    },
    {"bk_property_id": "managed", "bk_property_type": "bool", "option": None},
    {"bk_property_id": "since", "bk_property_type": "date", "option": None},
    {"bk_property_id": "checked", "bk_property_type": "time", "option": None},
    {"bk_property_id": "admins", "bk_property_type": "objuser", "option": None},
    {"bk_property_id": "zone", "bk_property_type": "timezone", "option": None},
]
VALUES = {
    "owner": "ops",
    "notes": "long text " * 50,
    "weight": 40,
    "ratio": 0.25,
    "tier": "gold",
    "managed": True,
    "since": "2024-02-29",
    "checked": "2024-02-29 23:59:59",
    "admins": "alice,bob",
    "zone": "Asia/Shanghai",
}


def define(client, obj="process", account=None, **body):
    body = {"bk_obj_id": obj, "bk_property_name": body.get("bk_property_id", "x"), **body}
    headers = {**EN, **({"HTTP_BLUEKING_SUPPLIER_ID": account} if account else {})}
    return client.post(ATTR, json=body, headers=headers)


def defined(client, **body) -> dict:
    return ok(define(client, **body))


def details(client, pid, account="0") -> dict:
    rows = ok(client.get(proc_url(account, 1, pid), headers=EN))
    return {row["bk_property_id"]: row["bk_property_value"] for row in rows}


def custom_column(db_url: str, table: str = "processes") -> dict[int, dict]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            key = {"processes": "bk_process_id", "sets": "bk_set_id"}[table]
            rows = conn.execute(text(f"SELECT {key}, custom FROM {table}")).all()
    finally:
        engine.dispose()
    return {k: json.loads(v) if isinstance(v, str) else v for k, v in rows}


def test_a_flow_from_bk_cmdb_v31_documents(client, db_url):
    """Create one attribute of each type; create a process with them; search, detail, update,
    batch update; delete an attribute: its values go with it."""
    made = [defined(client, **spec) for spec in EACH_TYPE]
    assert [m["bk_property_id"] for m in made] == [s["bk_property_id"] for s in EACH_TYPE]
    assert made[0]["id"] > 10000 and made[0]["ispre"] is False and made[0]["isonly"] is False

    # §11 lists preset attributes first, then the account's own in creation order
    listed = ok(client.post(f"{ATTR}/search", json={"bk_obj_id": "process"}, headers=EN))
    assert [a["bk_property_id"] for a in listed[-10:]] == [s["bk_property_id"] for s in EACH_TYPE]
    assert all(a["ispre"] for a in listed[:-10])

    pid = create(client, bk_process_name="api", **VALUES)
    other = create(client, bk_process_name="web", owner="dev", weight=7)
    shown = details(client, pid)
    assert {k: shown[k] for k in VALUES} == VALUES
    # the detail rows: the preset ones, then the custom ones in definition order
    assert list(shown)[-10:] == [s["bk_property_id"] for s in EACH_TYPE]
    # an enum's default fills a create that leaves it out; other absent values are null
    assert details(client, other)["tier"] == "iron"
    assert details(client, other)["since"] is None

    def ids(condition, **body):
        found = ok(search(client, {"condition": condition, **body}))
        return [row["bk_process_id"] for row in found["info"]]

    assert ids({"owner": "ops"}) == [pid]
    assert ids({"weight": {"$in": [7, 40]}}, page={"sort": "-weight"}) == [pid, other]
    assert ids({"weight": {"$gt": 10}}) == [pid]
    assert ids({"ratio": {"$lte": 0.3}}) == [pid]
    assert ids({"managed": True}) == [pid]
    assert ids({"owner": {"$regex": "^d"}}) == [other]
    assert ids({"since": None}) == [other]
    assert ids({"checked": {"$gte": "2024-01-01 00:00:00"}}) == [pid]
    found = ok(search(client, {"fields": ["bk_process_id", "owner", "ratio"]}))
    assert found["info"] == [
        {"bk_process_id": pid, "owner": "ops", "ratio": 0.25},
        {"bk_process_id": other, "owner": "dev", "ratio": None},
    ]

    ok(client.put(proc_url(pid=pid), json={"weight": 41, "notes": None, "admins": ""}))
    shown = details(client, pid)
    assert (shown["weight"], shown["notes"], shown["admins"]) == (41, None, None)
    ok(client.put(proc_url(), json={"bk_process_id": f"{pid},{other}", "zone": "UTC"}))
    assert custom_column(db_url)[pid]["zone"] == "UTC", custom_column(db_url)
    assert ids({"zone": "UTC"}) == [pid, other]
    assert "notes" not in custom_column(db_url)[pid]  # null is no value, not a stored null

    # delete "weight": its values go in the same transaction, and it is unknown from now on
    weight = next(m["id"] for m in made if m["bk_property_id"] == "weight")
    resp = client.delete(f"{ATTR}/{weight}", headers=EN)
    assert resp.get_json() == {"result": True, "bk_error_code": 0, "bk_error_msg": "", "data": None}
    assert all("weight" not in values for values in custom_column(db_url).values())
    assert "weight" not in details(client, pid)
    err(search(client, {"condition": {"weight": 41}}, headers=EN), 400, 1199011, "weight")
    err(client.put(proc_url(pid=pid), json={"weight": 1}, headers=EN), 400, 1199011, "weight")


def test_another_account_neither_accepts_nor_shows_the_attribute(client):
    defined(client, bk_property_id="owner", bk_property_type="singlechar")
    pid = create(client, account="0", owner="ops")
    theirs = create(client, account="acme")
    body = {"bk_process_name": "x", "bk_func_name": "x", "owner": "ops"}
    err(client.post(proc_url("acme", 1), json=body, headers=EN), 400, 1199011, "owner")
    assert "owner" not in details(client, theirs, "acme")
    err(search(client, {"condition": {"owner": "ops"}}, "acme", headers=EN), 400, 1199011)
    assert details(client, pid)["owner"] == "ops"
    # acme's own attribute of the same id is its own, of its own type
    defined(client, account="acme", bk_property_id="owner", bk_property_type="int")
    ok(client.put(proc_url("acme", 1, theirs), json={"owner": 5}))
    assert details(client, theirs, "acme")["owner"] == 5
    assert details(client, pid)["owner"] == "ops"


def test_the_next_request_on_another_worker_sees_the_change(db_url):
    """Two apps on one database stand for two workers: neither restarts."""
    first, second = (
        create_app({"DATABASE_URL": db_url, "TESTING": True, "LOG_LEVEL": "WARNING"})
        for _ in range(2)
    )
    try:
        a, b = first.test_client(), second.test_client()
        body = {"bk_process_name": "x", "bk_func_name": "x", "owner": "ops"}
        err(b.post(proc_url(), json=body, headers=EN), 400, 1199011, "owner")
        made = defined(a, bk_property_id="owner", bk_property_type="singlechar")
        pid = ok(b.post(proc_url(), json=body))["bk_process_id"]
        assert details(b, pid)["owner"] == "ops"
        ok(a.put(f"{ATTR}/{made['id']}", json={"isrequired": True}))
        err(b.post(proc_url(), json={"bk_process_name": "y", "bk_func_name": "y"}, headers=EN),
            400, 1199010, "owner")  # fmt: skip
        ok(a.delete(f"{ATTR}/{made['id']}"))
        err(b.post(proc_url(), json=body, headers=EN), 400, 1199011, "owner")
        # a detail is read on the driver's connection against the model b holds (issue 18):
        # b rebuilds it when the version moved, so the next detail shows the change
        assert "owner" not in details(b, pid)
        defined(a, bk_property_id="team", bk_property_type="singlechar")
        assert details(b, pid)["team"] is None
    finally:
        for app in (first, second):
            for engine in db.engines(app):
                engine.dispose()


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"bk_property_id": "bk_owner"}, 1199006, "bk_property_id"),  # bk_ is reserved
        ({"bk_property_id": "port"}, 1199006, "bk_property_id"),  # a preset attribute
        ({"bk_property_id": "bk_process_id"}, 1199006, "bk_property_id"),  # a system field
        ({"bk_property_id": "default"}, 1199006, "bk_property_id"),
        ({"bk_property_id": "1st"}, 1199006, "bk_property_id"),
        ({"bk_property_id": "a" * 129}, 1199015, "bk_property_id"),
        ({"bk_property_type": "singleasst"}, 1199006, "bk_property_type"),
        ({"bk_property_type": "multiasst"}, 1199006, "bk_property_type"),
        ({"bk_obj_id": "host"}, 1199006, "bk_obj_id"),
        ({"bk_property_name": ""}, 1199006, "bk_property_name"),
        ({"ispre": True}, 1199006, "ispre"),
        ({"isonly": "yes"}, 1199025, "isonly"),
        ({"bk_property_type": "bool", "isonly": True}, 1199006, "isonly"),
        ({"bk_property_type": "int", "option": {"min": "5", "max": "1"}}, 1199006, "option"),
        ({"bk_property_type": "int", "option": {"min": "x"}}, 1199006, "option"),
        ({"bk_property_type": "float", "option": {"max": "inf"}}, 1199006, "option"),
        ({"bk_property_type": "singlechar", "option": "(?i)x"}, 1199006, "option"),
        ({"bk_property_type": "singlechar", "option": "\\1"}, 1199006, "option"),
        ({"bk_property_type": "date", "option": {"min": "1"}}, 1199006, "option"),
        ({"bk_property_type": "enum", "option": []}, 1199006, "option"),
        (
            {"bk_property_type": "enum", "option": [{"id": "a", "name": "A"}] * 2},
            1199006,
            "option",
        ),
        (
            {
                "bk_property_type": "enum",
                "option": [
                    {"id": "a", "name": "A", "is_default": True},
                    {"id": "b", "name": "B", "is_default": True},
                ],
            },
            1199006,
            "option",
        ),
        ({"surprise": 1}, 1199011, "surprise"),
    ],
)
def test_bad_definitions_are_refused_and_nothing_is_written(client, db_url, body, code, field):
    full = {"bk_property_id": "owner", "bk_property_type": "singlechar", **body}
    err(define(client, **full), 400, code, field)
    listed = ok(client.post(f"{ATTR}/search", json={"bk_obj_id": "process"}, headers=EN))
    assert not any(a["id"] > 10000 for a in listed)
    assert audit_rows(db_url) == []


def test_duplicates_presets_and_limits(client):
    made = defined(client, bk_property_id="owner", bk_property_type="singlechar")
    err(
        define(client, bk_property_id="owner", bk_property_type="int"),
        409,
        1199014,
        "bk_property_id",
    )
    # the same id on another kind is another attribute
    defined(client, obj="set", bk_property_id="owner", bk_property_type="singlechar")
    # preset attributes are not the model API's (their ids are §11's)
    err(client.put(f"{ATTR}/1002", json={"bk_property_name": "x"}, headers=EN), 400, 1199054)
    err(client.delete(f"{ATTR}/1002", headers=EN), 400, 1199054)
    err(client.delete(f"{ATTR}/99999", headers=EN), 404, 1199019)
    # a changed type is refused; the unchanged one, as the v3.1 edit form sends it, is not
    url = f"{ATTR}/{made['id']}"
    err(client.put(url, json={"bk_property_type": "int"}, headers=EN), 400, 1199006)
    form = {**made, "bk_property_name": "Owner", "bk_asst_obj_id": "", "bk_asst_forward": ""}
    ok(client.put(url, json=form))
    # 64 per kind and account
    for n in range(63):
        defined(client, bk_property_id=f"extra{n}", bk_property_type="int")
    err(define(client, bk_property_id="one_more", bk_property_type="int"), 400, 1199035)
    defined(client, account="acme", bk_property_id="one_more", bk_property_type="int")


def test_values_are_checked_as_their_type(client):
    for spec in EACH_TYPE:
        defined(client, **spec)
    bad = {
        "owner": ("OPS", 1199016),  # outside the pattern
        "weight": (101, 1199006),
        "ratio": (2.5, 1199006),
        "tier": ("bronze", 1199006),
        "managed": ("yes", 1199025),
        "since": ("2023-02-29", 1199006),
        "checked": ("2024-01-01T00:00:00", 1199006),
        "admins": ("x" * 2001, 1199015),
        "zone": ("Mars/Olympus", 1199006),
        "notes": (5, 1199007),
    }
    for key, (value, code) in bad.items():
        body = {"bk_process_name": "x", "bk_func_name": "x", key: value}
        err(client.post(proc_url(), json=body, headers=EN), 400, code, key)
    assert ok(search(client))["count"] == 0


def test_isonly_is_kept_by_the_database(client, db_url):
    made = defined(client, bk_property_id="serial", bk_property_type="singlechar", isonly=True)
    first = create(client, bk_process_name="a", serial="S1")
    err(client.post(proc_url(), json={"bk_process_name": "b", "bk_func_name": "b", "serial": "S1"},
                    headers=EN), 409, 1199014, "serial")  # fmt: skip
    second = create(client, bk_process_name="b")  # no value: no conflict
    create(client, bk_process_name="c")
    create(client, biz=2, bk_process_name="a", serial="S1")  # another business
    err(client.put(proc_url(pid=second), json={"serial": "S1"}, headers=EN), 409, 1199014)
    assert first != second
    # two concurrent creates of one value: one wins, the other is a 409, never a 500
    results = race(
        make_app_for(db_url),
        [
            lambda c, n=n: c.post(
                proc_url(), json={"bk_process_name": f"r{n}", "bk_func_name": "r", "serial": "R"}
            )
            for n in range(4)
        ],
    )
    assert sorted(status for status, _ in results) == [200, 409, 409, 409]
    # dropping isonly drops the index; making it again finds the duplicate
    ok(client.put(f"{ATTR}/{made['id']}", json={"isonly": False}))
    create(client, bk_process_name="d", serial="S1")
    err(client.put(f"{ATTR}/{made['id']}", json={"isonly": True}, headers=EN), 409, 1199014)
    assert not ok(client.post(f"{ATTR}/search", json={"bk_obj_id": "process"}))[-1]["isonly"]


def make_app_for(db_url: str):
    app = create_app({"DATABASE_URL": db_url, "TESTING": True, "LOG_LEVEL": "WARNING"})
    return app


def test_an_option_that_strands_values_is_refused_with_the_count(client):
    tier = defined(client, **EACH_TYPE[4])
    weight = defined(client, **EACH_TYPE[2])
    for n in range(3):
        create(client, bk_process_name=f"p{n}", tier="gold", weight=50 + n)
    narrower = {"option": [{"id": "iron", "name": "Iron"}]}
    msg = err(client.put(f"{ATTR}/{tier['id']}", json=narrower, headers=EN), 409, 1199056)
    assert "3 instances" in msg
    msg = err(
        client.put(
            f"{ATTR}/{weight['id']}", json={"option": {"min": "0", "max": "51"}}, headers=EN
        ),
        409,
        1199056,
    )
    assert "1 instances" in msg
    ok(client.put(f"{ATTR}/{weight['id']}", json={"option": {"min": "50", "max": "60"}}))
    # a wider enum is fine, and the definition shows it
    wider = {"option": [*EACH_TYPE[4]["option"], {"id": "lead", "name": "Lead"}]}
    ok(client.put(f"{ATTR}/{tier['id']}", json=wider))


def test_every_model_change_is_audited(client, db_url):
    made = defined(client, bk_property_id="owner", bk_property_type="singlechar")
    ok(client.put(f"{ATTR}/{made['id']}", json={"bk_property_name": "Owner"}))
    ok(client.delete(f"{ATTR}/{made['id']}"))
    rows = [r for r in audit_rows(db_url) if r["op_target"] == "attribute"]
    assert [(r["op_type"], r["inst_id"]) for r in rows] == [(1, made["id"])] * 1 + [
        (2, made["id"]),
        (3, made["id"]),
    ]
    assert rows[1]["content"]["pre_data"]["bk_property_name"] == "owner"
    assert rows[1]["content"]["cur_data"]["bk_property_name"] == "Owner"
    found = ok(client.post("/api/v3/audit/search", json={"condition": {"op_target": "attribute"}}))
    assert found["count"] == 3


def test_audit_images_carry_custom_values(client, db_url):
    defined(client, bk_property_id="owner", bk_property_type="singlechar")
    pid = create(client, owner="ops")
    ok(client.put(proc_url(pid=pid), json={"owner": "dev"}))
    rows = [r for r in audit_rows(db_url) if r["op_target"] == "process"]
    assert rows[0]["content"]["cur_data"]["owner"] == "ops"
    assert rows[1]["content"]["pre_data"]["owner"] == "ops"
    assert rows[1]["content"]["cur_data"]["owner"] == "dev"


def test_sets_and_modules_take_custom_attributes(client):
    defined(client, obj="set", bk_property_id="region", bk_property_type="singlechar")
    made = new_set(client, region="east")
    assert made["region"] == "east"
    found = ok(client.post(set_search_url(), json={"condition": {"region": "east"}}))
    assert [s["bk_set_id"] for s in found["info"]] == [made["bk_set_id"]]
    # a process does not take a set's attribute
    err(client.post(proc_url(), json={"bk_process_name": "x", "bk_func_name": "x",
                                      "region": "east"}, headers=EN), 400, 1199011)  # fmt: skip


def test_a_model_change_racing_writes_leaves_no_value_behind(db_url):
    """Writers set an attribute while it is deleted: each write is either done before the
    delete (and its value removed with it) or refused after it (1199011); no row keeps a value
    of an attribute that no longer exists, and nothing answers 500."""
    app = make_app_for(db_url)
    try:
        client = app.test_client()
        made = defined(client, bk_property_id="owner", bk_property_type="singlechar")
        pids = [create(client, bk_process_name=f"p{n}") for n in range(6)]
        calls = [
            lambda c, pid=pid: c.put(proc_url(pid=pid), json={"owner": "x"}, headers=EN)
            for pid in pids
        ]
        calls.append(lambda c: c.delete(f"{ATTR}/{made['id']}"))
        results = race(app, calls)
        for status, body in results:
            assert (status, body["bk_error_code"]) in ((200, 0), (400, 1199011)), body
        assert all("owner" not in v for v in custom_column(db_url).values())
    finally:
        for engine in db.engines(app):
            engine.dispose()


def test_the_flow_through_gunicorn_with_two_workers(server):
    """The bk-cmdb v3.1 flow over HTTP against gunicorn (2 workers, each with its own cache of
    models): every request after a model change sees it, whichever worker answers."""
    import requests

    def send(method, path, body=None):
        resp = requests.request(method, server + path, json=body, headers=EN, timeout=10)
        return resp.status_code, resp.json()

    def good(method, path, body=None):
        status, out = send(method, path, body)
        assert status == 200 and out["result"], (method, path, out)
        return out["data"]

    made = [good("POST", ATTR, {"bk_obj_id": "process", "bk_property_name": s["bk_property_id"],
                                **s}) for s in EACH_TYPE]  # fmt: skip
    # each worker answers some of these: all know the new model at once
    for n in range(6):
        pid = good("POST", proc_url(), {"bk_process_name": f"p{n}", "bk_func_name": "f",
                                        **VALUES})["bk_process_id"]  # fmt: skip
    found = good("POST", "/api/v3/proc/search/0/1", {"condition": {"tier": {"$in": ["gold"]}}})
    assert found["count"] == 6
    rows = good("GET", proc_url(pid=pid))
    assert {r["bk_property_id"]: r["bk_property_value"] for r in rows}["zone"] == "Asia/Shanghai"
    good("PUT", proc_url(pid=pid), {"weight": 1})
    ids = ",".join(str(i["bk_process_id"]) for i in found["info"])
    good("PUT", proc_url(), {"bk_process_id": ids, "owner": "dev"})
    assert good("POST", "/api/v3/proc/search/0/1", {"condition": {"owner": "dev"}})["count"] == 6
    owner = made[0]["id"]
    good("DELETE", f"{ATTR}/{owner}")
    for _ in range(6):  # no worker still takes it
        status, out = send("POST", "/api/v3/proc/search/0/1", {"condition": {"owner": "dev"}})
        assert (status, out["bk_error_code"]) == (400, 1199011), out
