"""Events (docs/api.md §15, issue 16), on both databases: the transactional event log, the watch
(bk-cmdb v3.8's resource_watch), subscriptions (v3.1's event_subscribe) and their URL rules.
Delivery by the dispatcher is tests/test_event_delivery.py."""

from __future__ import annotations

import threading
import time

import pytest

from proc_service import create_app
from proc_service.data import db

from .dbkit import audit_rows, event_rows, race
from .kit import EN, bind, create, err, new_module, new_set, ok, proc_url, unbind

WATCH = "/api/v3/event/watch/resource"
SUBSCRIBE = "/api/v3/event/subscribe/0/0"


@pytest.fixture
def app(db_url):
    # a short hold, so that a watch with nothing new answers quickly
    app = create_app(
        {"DATABASE_URL": db_url, "TESTING": True, "LOG_LEVEL": "WARNING",
         "WATCH_HOLD_SECONDS": 0.3, "WATCH_POLL_SECONDS": 0.05}
    )  # fmt: skip
    yield app
    for engine in db.engines(app):
        engine.dispose()


def watch(client, resource="process", headers=None, **body):
    return client.post(f"{WATCH}/{resource}", json=body, headers=headers or {})


def events(client, resource="process", cursor="0", **body) -> list[dict]:
    """Every event of the resource after ``cursor``, page after page."""
    found = []
    while True:
        got = ok(watch(client, resource, bk_cursor=cursor, **body))
        if not got["bk_watched"]:
            return found
        found += got["bk_events"]
        cursor = got["bk_events"][-1]["bk_cursor"]


def test_every_change_makes_its_event_in_order(client):
    pid = create(client, bk_process_name="api", port="80")
    ok(client.put(proc_url(pid=pid), json={"port": "81"}))
    other = create(client, bk_process_name="web")
    ok(client.put(proc_url(), json={"bk_process_id": f"{pid},{other}", "description": "b"}))
    ok(client.delete(proc_url(pid=other)))
    seen = events(client)
    assert [(e["bk_event_type"], e["bk_detail"]["bk_process_id"]) for e in seen] == [
        ("create", pid), ("update", pid), ("create", other),
        ("update", pid), ("update", other),  # a batch: one event per process
        ("delete", other),
    ]  # fmt: skip
    assert seen[1]["bk_detail"]["port"] == "81"
    assert seen[-1]["bk_detail"]["bk_process_name"] == "web"  # a delete shows what went
    cursors = [int(e["bk_cursor"]) for e in seen]
    assert cursors == sorted(cursors) and len(set(cursors)) == len(cursors)


def test_bindings_sets_and_modules_make_events(client):
    made = new_set(client, "s1")
    module = new_module(client, made["bk_set_id"], "m1")
    pid = create(client, bk_process_name="api")
    ok(bind(client, pid, "m1"))
    ok(bind(client, pid, "m1"))  # already bound: nothing changes, no event
    ok(unbind(client, pid, "m1"))
    ok(bind(client, pid, "m1"))
    ok(client.delete(proc_url(pid=pid)))  # its binding goes with it: a relation delete too
    relation = events(client, "process_module")
    assert [(e["bk_event_type"], e["bk_detail"]) for e in relation] == [
        (kind, {"bk_process_id": pid, "bk_module_name": "m1", "bk_supplier_account": "0",
                "bk_biz_id": 1})
        for kind in ("create", "delete", "create", "delete")
    ]  # fmt: skip
    assert [e["bk_detail"]["bk_set_id"] for e in events(client, "set")] == [made["bk_set_id"]]
    assert [e["bk_detail"]["bk_module_id"] for e in events(client, "module")] == [
        module["bk_module_id"]
    ]
    # the process's own events are not the relation's
    assert [e["bk_event_type"] for e in events(client)] == ["create", "delete"]


def test_an_instance_event_refers_to_its_audit_row_and_shows_its_whole_images(client, db_url):
    """Issue 18 (migration 0008): a process, set or module event stores no copy of its images,
    only the id of its audit row, and the watch shows the whole images read from there; a
    relation event stores its own."""
    made = new_set(client, "s1")
    new_module(client, made["bk_set_id"], "m1")
    pid = create(client, bk_process_name="api", port="80")
    other = create(client, bk_process_name="web")
    ok(client.put(proc_url(), json={"bk_process_id": f"{pid},{other}", "description": "b"}))
    ok(bind(client, pid, "m1"))
    ok(client.delete(proc_url(pid=other)))
    audits = {row["id"]: row for row in audit_rows(db_url)}
    rows = event_rows(db_url)
    instance = [r for r in rows if r["event_type"] == "instdata"]
    assert [(r["obj_type"], r["action"]) for r in instance] == [
        ("set", "create"), ("module", "create"), ("process", "create"), ("process", "create"),
        ("process", "update"), ("process", "update"), ("process", "delete"),
    ]  # fmt: skip
    assert all(r["data"] is None for r in instance)
    referred = [audits[r["audit_id"]] for r in instance]
    assert [(a["op_target"], a["inst_id"]) for a in referred] == [
        (r["obj_type"], r["inst_id"]) for r in instance
    ]
    (relation,) = [r for r in rows if r["event_type"] == "relation"]
    assert relation["audit_id"] is None and relation["data"][0]["cur_data"]["bk_process_id"] == pid

    seen = events(client)
    images = [
        audits[r["audit_id"]]["content"]["pre_data" if r["action"] == "delete" else "cur_data"]
        for r in instance
        if r["obj_type"] == "process"
    ]
    assert [e["bk_detail"] for e in seen] == images
    assert seen[0]["bk_detail"]["port"] == "80" and seen[0]["bk_detail"]["bk_process_name"] == "api"
    assert seen[2]["bk_detail"]["description"] == "b" and len(seen[2]["bk_detail"]) > 10
    assert seen[-1]["bk_detail"]["bk_process_name"] == "web"
    assert events(client, "set")[0]["bk_detail"]["bk_set_name"] == "s1"
    assert [e["bk_detail"] for e in events(client, "process_module")] == [
        relation["data"][0]["cur_data"]
    ]


def test_a_batchs_events_are_in_the_order_of_its_audit_rows(client, db_url):
    """A batch update writes one event per process in the order of its audit rows (id order);
    on PostgreSQL one statement writes both, the events from the rows its CTE returned."""
    ids = [create(client, bk_process_name=f"p{i}") for i in range(40)]
    batch = ",".join(map(str, reversed(ids)))
    ok(client.put(proc_url(), json={"bk_process_id": batch, "description": "b"}))
    updates = [r for r in event_rows(db_url) if r["action"] == "update"]
    audits = {row["id"]: row["inst_id"] for row in audit_rows(db_url)}
    assert [r["inst_id"] for r in updates] == sorted(ids)
    assert [r["audit_id"] for r in updates] == sorted(r["audit_id"] for r in updates)
    assert [audits[r["audit_id"]] for r in updates] == sorted(ids)


def test_a_write_that_fails_makes_no_event(client):
    pid = create(client, bk_process_name="api")
    before = events(client)
    resp = client.post(proc_url(), json={"bk_process_name": "api", "bk_func_name": "x"})
    assert resp.status_code == 409
    resp = client.put(proc_url(), json={"bk_process_id": f"{pid},999", "port": "80"})
    assert resp.status_code == 404
    resp = client.put(proc_url(pid=pid), json={"port": "not a port"})
    assert resp.status_code == 400
    assert events(client) == before


def test_fields_types_and_accounts_filter_the_watch(client):
    pid = create(client, bk_process_name="api", port="80")
    ok(client.put(proc_url(pid=pid), json={"port": "81"}))
    create(client, account="other", bk_process_name="theirs")
    only = events(client, bk_event_types=["update"], bk_fields=["bk_process_id", "port"])
    assert [e["bk_detail"] for e in only] == [{"bk_process_id": pid, "port": "81"}]
    theirs = ok(
        watch(client, headers={"HTTP_BLUEKING_SUPPLIER_ID": "other"}, bk_cursor="0")
    )["bk_events"]  # fmt: skip
    assert [e["bk_detail"]["bk_process_name"] for e in theirs] == ["theirs"]


def test_a_watch_from_now_is_held_until_an_event_commits(app, client):
    create(client, bk_process_name="old")
    app.config["WATCH_HOLD_SECONDS"] = 5
    got: dict = {}

    def watcher():
        got["answer"] = ok(app.test_client().post(f"{WATCH}/process", json={}))
        got["at"] = time.monotonic()

    thread = threading.Thread(target=watcher)
    thread.start()
    time.sleep(0.4)
    created_at = time.monotonic()
    pid = create(client, bk_process_name="new")
    thread.join(10)
    assert got["answer"]["bk_watched"] is True
    assert [e["bk_detail"]["bk_process_id"] for e in got["answer"]["bk_events"]] == [pid]
    assert got["at"] - created_at < 1.0  # woken by the commit, not by the end of the hold


def test_nothing_new_answers_the_cursor_to_go_on_from(client):
    pid = create(client, bk_process_name="api")
    made = new_set(client, "s1")  # an event of another resource moves the cursor too
    got = ok(watch(client, bk_cursor=events(client)[-1]["bk_cursor"]))
    assert got["bk_watched"] is False
    (event,) = got["bk_events"]
    shown = (event["bk_event_type"], event["bk_detail"], event["bk_resource"])
    assert shown == ("", None, "process")
    assert int(event["bk_cursor"]) > 1 and made and pid


def test_start_from_a_time(client):
    create(client, bk_process_name="before")
    time.sleep(1.1)
    since = int(time.time())
    pid = create(client, bk_process_name="after")
    got = ok(watch(client, bk_start_from=since))
    assert [e["bk_detail"]["bk_process_id"] for e in got["bk_events"]] == [pid]


def test_bad_watch_bodies(client):
    err(watch(client, bk_cursor="abc"), 400, 1199006, "bk_cursor")
    err(watch(client, bk_event_types=["created"]), 400, 1199006, "bk_event_types")
    err(watch(client, bk_start_from="yesterday"), 400, 1199009, "bk_start_from")
    err(watch(client, bk_resource="set"), 400, 1199006, "bk_resource")
    err(watch(client, bk_fields=["x"] * 201), 400, 1199006, "bk_fields")
    err(watch(client, bk_cursor="1" * 20), 400, 1199006, "bk_cursor")
    page = {"page": {"limit": 201}}
    err(client.post("/api/v3/event/subscribe/search/0/0", json=page), 400, 1199006, "limit")
    err(client.post("/api/v3/event/subscribe/search/0/0", json={"condition": {"x": 1}}), 400,
        1199011, "x")  # fmt: skip
    assert client.post(f"{WATCH}/host", json={}).status_code == 404
    # an unknown key from the ESB (bk_app_code) is not an error
    assert ok(watch(client, bk_app_code="x", bk_cursor="0"))["bk_watched"] is False


def test_an_expired_cursor_gets_bk_cmdbs_answer(client, db_url):
    from sqlalchemy import create_engine, text

    create(client, bk_process_name="a")
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:  # what the retention leaves behind (services/delivery.py)
            conn.execute(text("DELETE FROM events"))
            conn.execute(text("UPDATE event_horizon SET removed_through = 1"))
    finally:
        engine.dispose()
    body = err(watch(client, headers=EN, bk_cursor="0"), 410, 1103007)
    assert "expired" in body
    assert ok(watch(client, bk_cursor="1"))["bk_watched"] is False


def test_concurrent_writers_and_a_watcher_see_every_event_once(app, client):
    """16 writers against one watcher reading from cursor to cursor: every committed event
    exactly once, none skipped, in cursor order."""
    ids: list[int] = []
    stop = threading.Event()
    seen: list[dict] = []

    def watcher():
        c, cursor = app.test_client(), "0"
        while True:  # until an answer after the last write that has nothing new
            finished = stop.is_set()
            got = ok(c.post(f"{WATCH}/process", json={"bk_cursor": cursor}))
            if got["bk_watched"]:
                seen.extend(got["bk_events"])
            cursor = got["bk_events"][-1]["bk_cursor"]
            if finished and not got["bk_watched"]:
                break

    thread = threading.Thread(target=watcher)
    thread.start()
    calls = [
        lambda c, i=i: c.post(proc_url(), json={"bk_process_name": f"p{i}", "bk_func_name": "f"})
        for i in range(16)
    ]
    for round_ in range(3):
        results = race(app, calls if round_ == 0 else [
            lambda c, i=i, r=round_: c.put(proc_url(pid=ids[i]), json={"description": f"r{r}"})
            for i in range(16)
        ])  # fmt: skip
        if round_ == 0:
            ids.extend(body["data"]["bk_process_id"] for _, body in results)
        assert all(status == 200 for status, _ in results)
    stop.set()
    thread.join(30)
    assert not thread.is_alive()
    cursors = [int(e["bk_cursor"]) for e in seen]
    assert cursors == sorted(cursors)
    assert len(cursors) == len(set(cursors)) == 16 * 3
    committed = [e["bk_cursor"] for e in events(client)]
    assert [e["bk_cursor"] for e in seen] == committed


# --- subscriptions -------------------------------------------------------------------------

BODY = {
    "subscription_name": "mon",
    "system_name": "monitor",
    "callback_url": "http://127.0.0.1:9/hook",
    "confirm_mode": "httpstatus",
    "confirm_pattern": "",
    "subscription_form": "processupdate,processcreate,processmodule",
    "time_out": 0,
}


@pytest.fixture
def private_ok(monkeypatch):
    monkeypatch.setenv("PROC_EVENT_ALLOW_PRIVATE_CALLBACKS", "1")


def test_subscribe_update_search_and_unsubscribe(client, private_ok):
    sid = ok(client.post(SUBSCRIBE, json=BODY))["subscription_id"]
    # the same name again is v3.1's rebook: the same subscription, updated
    again = ok(client.post(SUBSCRIBE, json={**BODY, "system_name": "mon2"}))["subscription_id"]
    assert again == sid
    found = ok(client.post("/api/v3/event/subscribe/search/0/0", json={}))
    assert found["count"] == 1
    (row,) = found["info"]
    assert row["subscription_form"] == "processcreate,processmodule,processupdate"  # sorted
    assert (row["time_out"], row["confirm_pattern"], row["system_name"]) == (10, "200", "mon2")
    assert row["statistics"] == {"total": 0, "failure": 0}
    assert row["delivery"]["waiting"] == 0
    pid = create(client, bk_process_name="api")
    ok(client.put(proc_url(pid=pid), json={"port": "80"}))
    ok(client.delete(proc_url(pid=pid)))  # processdelete: not in the form
    found = ok(client.post("/api/v3/event/subscribe/search/0/0", json={}))
    assert found["info"][0]["delivery"]["waiting"] == 2

    resp = client.put(f"{SUBSCRIBE}/{sid}", json={"time_out": 5, "timeout": 7})
    assert resp.get_json()["data"] is None and resp.status_code == 200
    found = ok(client.post("/api/v3/event/subscribe/search/0/0",
                           json={"condition": {"subscription_id": sid}}))  # fmt: skip
    assert found["info"][0]["time_out"] == 5  # time_out wins over timeout
    # another account sees none of it
    other = {"HTTP_BLUEKING_SUPPLIER_ID": "x"}
    assert (
        ok(client.post("/api/v3/event/subscribe/search/x/0", json={}, headers=other))["count"] == 0
    )
    err(client.delete(f"/api/v3/event/subscribe/x/0/{sid}"), 404, 1199019)
    ok(client.delete(f"{SUBSCRIBE}/{sid}"))
    assert ok(client.post("/api/v3/event/subscribe/search/0/0", json={}))["count"] == 0


@pytest.mark.parametrize(
    "change, field",
    [
        ({"subscription_form": "processcreat"}, "subscription_form"),
        ({"subscription_form": "processmodulecreate"}, "subscription_form"),
        ({"confirm_mode": "status"}, "confirm_mode"),
        ({"confirm_mode": "regular", "confirm_pattern": "(unclosed"}, "confirm_pattern"),
        ({"confirm_pattern": "2xx"}, "confirm_pattern"),
        ({"callback_url": "ftp://example.com/x"}, "callback_url"),
        ({"callback_url": "not a url"}, "callback_url"),
        ({"time_out": "10"}, "time_out"),
        ({"subscription_name": None}, "subscription_name"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_subscriptions_are_refused(client, private_ok, change, field):
    resp = client.post(SUBSCRIBE, json={**BODY, **change}, headers=EN)
    assert resp.status_code == 400, resp.get_json()
    assert field in resp.get_json()["bk_error_msg"]
    assert ok(client.post("/api/v3/event/subscribe/search/0/0", json={}))["count"] == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[fd00:ec2::254]/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
    ],
)
def test_private_and_metadata_addresses_are_refused(client, monkeypatch, url):
    """Refused after resolution, without a connection: the URL names an address (or a name
    that resolves to one) that the rules refuse, so nothing is ever dialled."""
    monkeypatch.delenv("PROC_EVENT_ALLOW_PRIVATE_CALLBACKS", raising=False)
    err(client.post(SUBSCRIBE, json={**BODY, "callback_url": url}, headers=EN), 400, 1199006,
        "callback_url")  # fmt: skip
    body = err(client.post("/api/v3/event/subscribe/ping", json={"callback_url": url},
                           headers=EN), 400, 1103004)  # fmt: skip
    assert "not allowed" in body
    err(client.post("/api/v3/event/subscribe/telnet", json={"callback_url": url}), 400, 1103005)


def test_ids_follow_commit_order_on_postgresql(app, client, db_url, backend):
    """A transaction that drew an event id and has not committed holds back every other
    event-writing transaction (migration 0006's lock): a watcher can never see a higher id
    while a lower one may still commit."""
    if backend != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    import psycopg

    from .conftest import _libpq

    with psycopg.connect(_libpq(db_url)) as slow:
        slow.execute(
            "INSERT INTO events (bk_supplier_account, bk_biz_id, event_type, obj_type, action,"
            " inst_id, action_time, request_id, data) VALUES ('0', 1, 'instdata', 'process',"
            " 'create', 424242, now(), 'slow', '[]')"
        )
        done = threading.Event()

        def fast():
            create(app.test_client(), bk_process_name="fast")
            done.set()

        thread = threading.Thread(target=fast)
        thread.start()
        assert not done.wait(0.8), "a second writer drew an id while the first was open"
        slow.commit()
    thread.join(10)
    assert done.is_set()
    seen = events(client)
    assert [e["bk_detail"] and e["bk_detail"].get("bk_process_name") for e in seen] == [
        None,  # the slow one's (its data is empty), first: it drew the lower id
        "fast",
    ]
