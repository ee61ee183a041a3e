"""Delivery (docs/api.md §15, issue 16), on both databases: the dispatcher POSTs bk-cmdb v3.1's
push body to a callback server written here (on loopback, so these tests allow private
callbacks), at least once, in event order per subscription, through failures, a subscriber that
is down, a dispatcher killed with SIGKILL, two dispatchers at once and the retention."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from proc_service import create_app
from proc_service.data import db
from proc_service.services.delivery import Dispatcher

from .dbkit import audit_rows, event_rows
from .kit import EN, bind, create, new_module, new_set, ok, proc_url, unbind

ROOT = Path(__file__).resolve().parent.parent
SUBSCRIBE = "/api/v3/event/subscribe/0/0"
FAST = {
    "PROC_EVENT_ALLOW_PRIVATE_CALLBACKS": "1",
    "PROC_EVENT_BACKOFF_SECONDS": "0.1",
    "PROC_EVENT_BACKOFF_CAP_SECONDS": "0.5",
    "PROC_EVENT_LEASE_SECONDS": "2",
    "PROC_EVENT_POLL_SECONDS": "0.1",
}


class Callbacks:
    """A subscriber: records each POST (path, body) and answers ``status``/``answer``; while
    ``down``, the port refuses connections (the server is closed and opened again)."""

    def __init__(self):
        self.received: list[tuple[str, dict]] = []
        self.status, self.answer, self.delay = 200, "ok", defaultdict(float)
        self.in_flight: dict[str, int] = defaultdict(int)
        self.most_in_flight: dict[str, int] = defaultdict(int)
        self.lock = threading.Lock()
        self._start(0)

    def _start(self, port: int) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                body = json.loads(self.rfile.read(length))
                with outer.lock:
                    outer.in_flight[self.path] += 1
                    outer.most_in_flight[self.path] = max(
                        outer.most_in_flight[self.path], outer.in_flight[self.path]
                    )
                time.sleep(outer.delay[self.path])
                with outer.lock:
                    outer.in_flight[self.path] -= 1
                    outer.received.append((self.path, body))
                    status, answer = outer.status, outer.answer
                self.send_response(status)
                if 300 <= status < 400:  # a redirect the dispatcher must not follow
                    self.send_header("Location", "/elsewhere")
                self.end_headers()
                self.wfile.write(answer.encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def down(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def up(self) -> None:
        self._start(self.port)

    def bodies(self, path: str) -> list[dict]:
        with self.lock:
            return [body for p, body in self.received if p == path]

    def wait_for(self, path: str, count: int, timeout: float = 30) -> list[dict]:
        """Until ``count`` distinct events reached ``path``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.bodies(path)
            if len({b["event_id"] for b in got}) >= count:
                return got
            time.sleep(0.05)
        raise AssertionError(f"{path}: {len(self.bodies(path))} of {count} events arrived")


@pytest.fixture
def hooks():
    server = Callbacks()
    yield server
    server.down()


@pytest.fixture
def fast(monkeypatch):
    for key, value in FAST.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def app(db_url, fast):
    app = create_app({"DATABASE_URL": db_url, "TESTING": True, "LOG_LEVEL": "WARNING"})
    yield app
    for engine in db.engines(app):
        engine.dispose()


class Running:
    """Dispatchers on threads of this process, stopped at the end."""

    def __init__(self, app):
        self.app, self.stops, self.threads = app, [], []

    def start(self, owner: str | None = None) -> None:
        stop = threading.Event()
        thread = threading.Thread(target=Dispatcher(self.app, owner).run, args=(stop,))
        thread.start()
        self.stops.append(stop)
        self.threads.append(thread)

    def stop(self) -> None:
        for stop in self.stops:
            stop.set()
        for thread in self.threads:
            thread.join(15)


@pytest.fixture
def dispatchers(app):
    running = Running(app)
    yield running
    running.stop()


def subscribe(client, hooks, path, form, **extra) -> int:
    body = {
        "subscription_name": path.strip("/"),
        "callback_url": hooks.url(path),
        "subscription_form": form,
        **extra,
    }
    return ok(client.post(SUBSCRIBE, json=body))["subscription_id"]


def in_order(bodies: list[dict]) -> list[int]:
    """The event ids in the order of their first arrival (a repeat is allowed, §15)."""
    seen: list[int] = []
    for body in bodies:
        if body["event_id"] not in seen:
            seen.append(body["event_id"])
    return seen


def state(client, sid: int) -> dict:
    found = ok(client.post("/api/v3/event/subscribe/search/0/0",
                           json={"condition": {"subscription_id": sid}}))  # fmt: skip
    return found["info"][0]


EVERY = (
    "processcreate,processupdate,processdelete,setcreate,setupdate,setdelete,modulecreate,"
    "moduleupdate,moduledelete,processmodule"
)


def test_every_event_type_arrives_as_bk_cmdb_pushes_it(client, hooks, dispatchers):
    sid = subscribe(client, hooks, "/all", EVERY)
    made = new_set(client, "s1")
    ok(client.put(f"/api/v3/set/1/{made['bk_set_id']}", json={"bk_set_desc": "d"}))
    module = new_module(client, made["bk_set_id"], "m1")
    ok(client.put(f"/api/v3/module/1/{made['bk_set_id']}/{module['bk_module_id']}",
                  json={"operator": "ann"}))  # fmt: skip
    pid = create(client, bk_process_name="api")
    ok(client.put(proc_url(pid=pid), json={"port": "80"}))
    ok(bind(client, pid, "m1"))
    ok(unbind(client, pid, "m1"))
    ok(client.delete(proc_url(pid=pid)))
    ok(client.delete(f"/api/v3/module/1/{made['bk_set_id']}/{module['bk_module_id']}"))
    ok(client.delete(f"/api/v3/set/1/{made['bk_set_id']}"))
    dispatchers.start()
    got = hooks.wait_for("/all", 11)
    assert in_order(got) == sorted(in_order(got))
    first = {b["event_id"]: b for b in reversed(got)}
    kinds = [(first[i]["obj_type"], first[i]["action"]) for i in in_order(got)]
    assert kinds == [
        ("set", "create"), ("set", "update"), ("module", "create"), ("module", "update"),
        ("process", "create"), ("process", "update"), ("processmodule", "create"),
        ("processmodule", "delete"), ("process", "delete"), ("module", "delete"),
        ("set", "delete"),
    ]  # fmt: skip
    body = first[in_order(got)[5]]  # the process update
    assert set(body) == {
        "event_id", "event_type", "action", "action_time", "obj_type", "data",
        "bk_supplier_account", "request_id", "request_time", "distribution_id",
        "subscription_id", "cursor",
    }  # fmt: skip
    assert body["event_type"] == "instdata" and body["subscription_id"] == sid
    (image,) = body["data"]
    assert image["pre_data"]["port"] == "" and image["cur_data"]["port"] == "80"
    relation = first[in_order(got)[6]]
    assert relation["event_type"] == "relation"
    assert relation["data"][0]["cur_data"]["bk_module_name"] == "m1"
    deleted = first[in_order(got)[8]]["data"][0]
    assert deleted["cur_data"] is None and deleted["pre_data"]["bk_process_id"] == pid
    deadline = time.monotonic() + 10
    while state(client, sid)["statistics"]["total"] < 11 and time.monotonic() < deadline:
        time.sleep(0.05)
    shown = state(client, sid)
    assert shown["statistics"] == {"total": 11, "failure": 0}
    assert shown["delivery"]["waiting"] == 0 and shown["delivery"]["last_success_time"]


def test_a_push_body_carries_the_whole_images_of_the_audit_row(client, hooks, dispatchers, db_url):
    """Issue 18 (migration 0008): a process event's row stores no images, only its audit
    row's id; the push body's data is still bk-cmdb's [{cur_data, pre_data}], the whole images
    read from that row (null where there is none). A relation event pushes its own data."""
    subscribe(client, hooks, "/img", "processcreate,processupdate,processdelete,processmodule")
    made = new_set(client, "s1")
    new_module(client, made["bk_set_id"], "m1")
    pid = create(client, bk_process_name="api", port="80")
    ok(client.put(proc_url(pid=pid), json={"port": "81"}))
    ok(bind(client, pid, "m1"))
    ok(client.delete(proc_url(pid=pid)))
    dispatchers.start()
    got = hooks.wait_for("/img", 5)
    first = {b["event_id"]: b for b in reversed(got)}
    bodies = [first[i] for i in in_order(got)]
    assert [(b["obj_type"], b["action"]) for b in bodies] == [
        ("process", "create"), ("process", "update"), ("processmodule", "create"),
        ("process", "delete"), ("processmodule", "delete"),
    ]  # fmt: skip
    created, updated, _, deleted, _ = (b["data"] for b in bodies)
    assert created[0]["pre_data"] is None and created[0]["cur_data"]["port"] == "80"
    assert created[0]["cur_data"]["bk_process_name"] == "api" and len(created[0]["cur_data"]) > 10
    assert (updated[0]["pre_data"]["port"], updated[0]["cur_data"]["port"]) == ("80", "81")
    assert deleted[0]["cur_data"] is None and deleted[0]["pre_data"]["bk_module_names"] == ["m1"]

    rows = {row["id"]: row for row in event_rows(db_url)}
    audits = {row["id"]: row["content"] for row in audit_rows(db_url)}
    for body in bodies:
        row = rows[body["event_id"]]
        if body["event_type"] == "relation":
            assert row["audit_id"] is None and body["data"] == row["data"]
            continue
        assert row["data"] is None
        content = audits[row["audit_id"]]
        assert body["data"] == [
            {"cur_data": content["cur_data"] or None, "pre_data": content["pre_data"] or None}
        ]


def test_a_body_regex_confirms_and_a_refusal_is_retried(client, hooks, dispatchers):
    sid = subscribe(client, hooks, "/re", "processcreate", confirm_mode="regular",
                    confirm_pattern='^\\{"ok": *true')  # fmt: skip
    hooks.answer = '{"ok": false}'
    pid = create(client, bk_process_name="api")
    dispatchers.start()
    hooks.wait_for("/re", 1)
    deadline = time.monotonic() + 10
    while len(hooks.bodies("/re")) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(hooks.bodies("/re")) >= 3  # not confirmed: sent again, with backoff
    shown = state(client, sid)
    assert (
        shown["statistics"]["failure"] >= 2 and "not confirmed" in shown["delivery"]["last_error"]
    )
    hooks.answer = '{"ok": true}'
    deadline = time.monotonic() + 10
    while state(client, sid)["statistics"]["total"] < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state(client, sid)["statistics"]["total"] == 1
    assert {b["data"][0]["cur_data"]["bk_process_id"] for b in hooks.bodies("/re")} == {pid}


def test_a_subscriber_down_for_a_while_gets_everything_in_order(client, hooks, dispatchers):
    """Down for a minute, writes all the while; back up, everything waiting arrives, in
    order."""
    subscribe(client, hooks, "/down", "processcreate,processupdate")
    dispatchers.start()
    hooks.down()
    outage = 60
    end = time.monotonic() + outage
    pids = []
    while time.monotonic() < end:
        pids.append(create(client, bk_process_name=f"p{len(pids)}"))
        time.sleep(outage / 30)
    hooks.up()
    got = hooks.wait_for("/down", len(pids), timeout=30)
    order = in_order(got)
    assert order == sorted(order) and len(order) == len(pids)
    assert [b["data"][0]["cur_data"]["bk_process_id"] for b in got if b["event_id"] in order][
        : len(pids)
    ] == pids


def test_a_slow_subscriber_delays_no_other(client, hooks, dispatchers):
    subscribe(client, hooks, "/slow", "processcreate", time_out=10)
    subscribe(client, hooks, "/quick", "processcreate")
    hooks.delay["/slow"] = 3.0
    for i in range(5):
        create(client, bk_process_name=f"p{i}")
    started = time.monotonic()
    dispatchers.start()
    hooks.wait_for("/quick", 5, timeout=10)
    assert time.monotonic() - started < 2.5  # while /slow is still on its first event
    assert len(hooks.bodies("/slow")) == 0


def test_two_dispatchers_never_deliver_to_one_subscription_at_once(client, hooks, dispatchers):
    for name in ("/a", "/b"):
        subscribe(client, hooks, name, "processcreate")
        hooks.delay[name] = 0.05
    dispatchers.start("one")
    dispatchers.start("two")
    for i in range(20):
        create(client, bk_process_name=f"p{i}")
    for name in ("/a", "/b"):
        got = hooks.wait_for(name, 20)
        assert in_order(got) == sorted(in_order(got))
        assert hooks.most_in_flight[name] == 1


def test_retention_drops_counts_and_expires_cursors(client, hooks, db_url, monkeypatch):
    """Events past the retention go; what a subscription never got is counted and shown, and
    a watch cursor from before them has expired."""
    sid = subscribe(client, hooks, "/late", "processcreate")
    create(client, bk_process_name="a")
    create(client, bk_process_name="b")
    monkeypatch.setenv("PROC_EVENT_RETENTION_HOURS", "0")
    app = create_app({"DATABASE_URL": db_url, "TESTING": True, "LOG_LEVEL": "WARNING"})
    try:
        Dispatcher(app).retain()
    finally:
        for engine in db.engines(app):
            engine.dispose()
    shown = state(client, sid)
    assert shown["delivery"]["dropped"] == 2 and shown["delivery"]["waiting"] == 0
    resp = client.post("/api/v3/event/watch/resource/process", json={"bk_cursor": "0"},
                       headers=EN)  # fmt: skip
    assert resp.status_code == 410 and resp.get_json()["bk_error_code"] == 1103007
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM events")).scalar() == 0
    finally:
        engine.dispose()


def _dispatcher_process(db_url: str) -> subprocess.Popen:
    env = {**os.environ, **FAST, "PROC_DATABASE_URL": db_url, "PROC_LOG_LEVEL": "WARNING"}
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "events", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_a_dispatcher_killed_mid_delivery_loses_nothing(client, hooks, db_url):
    """SIGKILL while deliveries are under way; a new dispatcher (after the lease runs out)
    sends the rest, and the one in flight again: every event arrives, in order."""
    subscribe(client, hooks, "/k", "processcreate")
    hooks.delay["/k"] = 0.1
    pids = [create(client, bk_process_name=f"p{i}") for i in range(30)]
    first = _dispatcher_process(db_url)
    try:
        hooks.wait_for("/k", 8, timeout=30)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    arrived_before = len(in_order(hooks.bodies("/k")))
    assert arrived_before < 30, "all arrived before the kill: nothing was proven"
    second = _dispatcher_process(db_url)
    try:
        got = hooks.wait_for("/k", 30, timeout=60)
    finally:
        second.send_signal(signal.SIGTERM)
        _, errors = second.communicate(timeout=20)
    assert second.returncode == 0, errors.decode()[-2000:]
    assert in_order(got) == sorted(in_order(got))
    ids = [b["data"][0]["cur_data"]["bk_process_id"] for b in got]
    assert sorted(set(ids)) == pids
    repeats = len(got) - len(set(ids))
    # sent again: the one in flight and those confirmed since the cursor last moved (every 0.2 s
    # here, at 0.1 s per event)
    assert repeats <= 4, f"{repeats} events sent twice"


def test_metrics_show_written_delivered_failed_and_waiting(client, hooks, dispatchers):
    sid = subscribe(client, hooks, "/m", "processcreate")
    stuck = subscribe(client, hooks, "/never", "processcreate")
    hooks.status = 200
    create(client, bk_process_name="a")
    create(client, bk_process_name="b")
    ok(client.put(f"{SUBSCRIBE}/{stuck}", json={"callback_url": "http://127.0.0.1:9/closed"}))
    dispatchers.start()
    hooks.wait_for("/m", 2)
    deadline = time.monotonic() + 10
    while state(client, stuck)["statistics"]["failure"] < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    text_ = client.get("/metrics").get_data(as_text=True)
    labels = f'{{account="0",subscription="{sid}"}}'
    stuck_labels = f'{{account="0",subscription="{stuck}"}}'
    assert "proc_service_events_written_total 2.0" in text_
    assert f"proc_service_events_delivered_total{labels} 2.0" in text_
    assert f"proc_service_events_waiting{labels} 0.0" in text_
    assert f"proc_service_events_waiting{stuck_labels} 2.0" in text_
    assert f"proc_service_events_failed_total{stuck_labels} " in text_
    age = float(text_.split(f"proc_service_events_oldest_waiting_seconds{stuck_labels} ")[1]
                .split()[0])  # fmt: skip
    assert age > 0


def test_each_delivery_checks_the_address_again(client, hooks, dispatchers, monkeypatch):
    """Allowed at subscribe time, refused at delivery once private addresses are no longer
    allowed: nothing reaches the subscriber, and the refusal is the subscription's last error."""
    sid = subscribe(client, hooks, "/private", "processcreate")
    monkeypatch.setenv("PROC_EVENT_ALLOW_PRIVATE_CALLBACKS", "0")
    create(client, bk_process_name="a")
    dispatchers.start()
    deadline = time.monotonic() + 10
    while state(client, sid)["statistics"]["failure"] < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "not allowed" in state(client, sid)["delivery"]["last_error"]
    assert hooks.bodies("/private") == []


def test_redirects_are_not_followed_and_answers_are_read_up_to_a_cap(client, hooks, dispatchers):
    """A 302 is not a 200 (and its Location is not visited); a regex that would match only
    past the first 64 KiB of the answer does not confirm."""
    moved = subscribe(client, hooks, "/moved", "processcreate")
    capped = subscribe(client, hooks, "/big", "processcreate", confirm_mode="regular",
                       confirm_pattern="END$")  # fmt: skip
    hooks.status, hooks.answer = 302, "x" * (64 * 1024) + "END"
    create(client, bk_process_name="a")
    dispatchers.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(
        state(client, s)["statistics"]["failure"] >= 1 for s in (moved, capped)
    ):
        time.sleep(0.05)
    assert "HTTP 302" in state(client, moved)["delivery"]["last_error"]
    assert state(client, capped)["statistics"]["total"] == 0
    assert {p for p, _ in hooks.received} == {"/moved", "/big"}  # nothing else was visited
