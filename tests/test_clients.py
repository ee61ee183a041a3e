"""Issue 9: requests exactly as clients written outside this project send them (bk-cmdb's web UI
v3.1.0 / v3.2, its web_server proxy, the BlueKing ESB "cc" component), read the way each client
reads the answer; and the contract changes they showed (§3, §5, §7, §8, §10).
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from proc_service import create_app
from proc_service.config import ConfigError

from .dbkit import audit_rows, snapshot
from .kit import EN, create, err, ok

ROOT = Path(__file__).resolve().parent.parent
# bk-cmdb's web_server proxy forwards the browser's session in these spellings.
WEB_SERVER = {
    "Bk_user": "admin",
    "Http_blueking_language": "zh-cn",
    "Http_blueking_supplier_id": "0",
}
# The ESB "cc" component: BK_USER, and a body that is the JSON *string* "{}", no Content-Type.
ESB = {"BK_USER": "esb-user", "HTTP_BLUEKING_SUPPLIER_ID": "0"}
ESB_BODY = b'"{}"'


def esb(client, method: str, url: str):
    """An ESB request: no Content-Type header at all, the body the bytes "{}" with quotes."""
    resp = client.open(url, method=method, data=ESB_BODY, headers=ESB, content_type=None)
    assert "CONTENT_TYPE" not in resp.request.environ
    return resp


def topology(client, biz=3) -> tuple[int, list[int]]:
    """A set with two modules, created as the v3.1 topology page does (web_server headers)."""
    sid = ok(client.post(f"/api/v3/set/{biz}", json={"bk_set_name": "web"}, headers=WEB_SERVER))[
        "bk_set_id"
    ]
    mids = [
        ok(
            client.post(
                f"/api/v3/module/{biz}/{sid}", json={"bk_module_name": name}, headers=WEB_SERVER
            )
        )["bk_module_id"]
        for name in ("gameserver", "db")
    ]
    return sid, mids


# --- 1. v3.1.0's topology page sorts sets and modules by "id" ---------------------------------


def test_v310_topology_page_opens_sets_and_modules_sorted_by_id(client):
    sid, mids = topology(client)
    other = ok(client.post("/api/v3/set/3", json={"bk_set_name": "db"}, headers=WEB_SERVER))
    body = {"page": {"sort": "id"}, "fields": [], "condition": {"bk_set_id": sid}}
    sets = ok(client.post("/api/v3/set/search/0/3", json=body, headers=WEB_SERVER))
    assert sets["count"] == 1
    assert [s["bk_set_id"] for s in sets["info"]] == [sid]
    assert sets["info"][0]["bk_set_name"] == "web"
    modules = ok(client.post(f"/api/v3/module/search/0/3/{sid}", json=body, headers=WEB_SERVER))
    assert [m["bk_module_id"] for m in modules["info"]] == mids
    # "id" is the kind's own id field, in either direction, for every kind
    everything = {"page": {"sort": "-id"}}
    found = ok(client.post("/api/v3/set/search/0/3", json=everything))
    assert [s["bk_set_id"] for s in found["info"]] == [other["bk_set_id"], sid]
    found = ok(client.post(f"/api/v3/module/search/0/3/{sid}", json=everything))
    assert [m["bk_module_id"] for m in found["info"]] == mids[::-1]
    pids = [create(client, biz=3, bk_process_name=n) for n in ("b", "a")]
    found = ok(client.post("/api/v3/proc/search/0/3", json={"page": {"sort": "-id"}}))
    assert [p["bk_process_id"] for p in found["info"]] == pids[::-1]
    found = ok(client.post("/api/v3/proc/search/0/3", json={"page": {"sort": "bk_func_name,id"}}))
    assert [p["bk_process_id"] for p in found["info"]] == pids
    # still an unknown field for anything else
    err(client.post("/api/v3/set/search/0/3", json={"page": {"sort": "ids"}}), 400, 1199011, "ids")


# --- 2. v3.2's "select all pages" then batch edit ---------------------------------------------


def test_v32_select_all_pages_then_batch_edit_reaches_every_process(client):
    pids = [
        ok(
            client.post(
                "/api/v3/proc/0/4",
                json={"bk_process_name": f"p{i:03}", "bk_func_name": "f"},
                headers=WEB_SERVER,
            )
        )["bk_process_id"]
        for i in range(201)
    ]
    body = {"page": {}, "fields": ["bk_process_id"], "condition": {}}
    selected = ok(client.post("/api/v3/proc/search/0/4", json=body, headers=WEB_SERVER))
    assert selected["count"] == 201
    ids = [p["bk_process_id"] for p in selected["info"]]
    assert ids == pids
    edit = {"bk_process_id": ",".join(map(str, ids)), "user": "svc", "bk_biz_id": 4}
    ok(client.put("/api/v3/proc/0/4", json=edit, headers=WEB_SERVER))
    users = ok(client.post("/api/v3/proc/search/0/4", json={"fields": ["user"]}))
    assert [p["user"] for p in users["info"]] == ["svc"] * 201
    # an explicit limit is still 1..200
    err(client.post("/api/v3/proc/search/0/4", json={"page": {"limit": 201}}), 400, 1199015)


def test_absent_limit_stops_at_the_batch_limit(client, app):
    from proc_service.values import BATCH_LIMIT

    with app.app_context():  # 1001 rows straight in: the limit, not the API, is under test
        from proc_service.data import db
        from proc_service.data.models import Set

        sess = db.session()
        now = datetime.now(ZoneInfo("UTC"))
        sess.add_all(
            Set(
                bk_supplier_account="0",
                bk_biz_id=5,
                bk_set_name=f"s{i:04}",
                create_time=now,
                last_time=now,
            )
            for i in range(BATCH_LIMIT + 1)
        )
        sess.commit()
    found = ok(client.post("/api/v3/set/search/0/5", json={"page": {}}))
    assert found["count"] == BATCH_LIMIT + 1
    assert len(found["info"]) == BATCH_LIMIT


# --- 3, 4. the history tab: "" as an open end, times in PROC_TIME_ZONE ------------------------


def test_v32_history_tab_open_ends_as_empty_strings(client):
    pid = create(client, biz=6)
    body = {
        "condition": {"op_target": "process", "inst_id": pid, "op_time": ["", ""]},
        "start": 0,
        "limit": 10,
        "sort": "-op_time",
    }
    found = ok(client.post("/api/v3/audit/search", json=body, headers=WEB_SERVER))
    assert found["count"] == 1
    assert found["info"][0]["op_desc"] == "创建进程"
    for span in (["", None], [None, ""], ["2000-01-01 00:00:00", ""], ["", "2999-01-01 00:00:00"]):
        body["condition"]["op_time"] = span
        assert ok(client.post("/api/v3/audit/search", json=body))["count"] == 1, span
    body["condition"]["op_time"] = ["", "2000-01-01 00:00:00"]
    assert ok(client.post("/api/v3/audit/search", json=body))["count"] == 0


@pytest.fixture
def shanghai_client(db_url):
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "TESTING": True,
            "LOG_LEVEL": "WARNING",
            "TIME_ZONE": ZoneInfo("Asia/Shanghai"),
        }
    )
    yield app.test_client()
    app.extensions["db_engine"].dispose()


def test_history_times_without_offset_are_read_in_proc_time_zone(shanghai_client):
    client = shanghai_client
    pid = create(client, biz=7)
    row = ok(client.post("/api/v3/audit/search", json={"condition": {"inst_id": pid}}))["info"][0]
    at = datetime.fromisoformat(row["op_time"])  # UTC
    local = at.astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)

    def count(low: datetime, high: datetime) -> int:
        span = [low.strftime("%Y-%m-%d %H:%M:%S"), high.strftime("%Y-%m-%d %H:%M:%S")]
        body = {"condition": {"inst_id": pid, "op_time": span}}
        return ok(client.post("/api/v3/audit/search", json=body))["count"]

    minute = timedelta(minutes=1)
    # the UTC+8 wall clock around the write finds it; the UTC wall clock does not
    assert count(local - minute, local + minute) == 1
    utc_wall = at.replace(tzinfo=None)
    assert count(utc_wall - minute, utc_wall + minute) == 0
    # an explicit offset is still the instant it names
    span = [(at - minute).isoformat(), (at + minute).isoformat()]
    body = {"condition": {"inst_id": pid, "op_time": span}}
    assert ok(client.post("/api/v3/audit/search", json=body))["count"] == 1


@pytest.mark.parametrize("zone", ["Mars/Olympus", "utc+8", "../../etc/passwd", "Asia"])
def test_a_bad_proc_time_zone_stops_start_up(monkeypatch, zone, tmp_path):
    monkeypatch.setenv("PROC_TIME_ZONE", zone)
    with pytest.raises(ConfigError, match="PROC_TIME_ZONE"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"})


@pytest.mark.slow
def test_gunicorn_refuses_to_start_with_a_bad_time_zone(tmp_path):
    env = {
        **os.environ,
        "PROC_TIME_ZONE": "Mars/Olympus",
        "PROC_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
        "PROC_BIND": "127.0.0.1:0",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    gunicorn = Path(sys.executable).parent / "gunicorn"
    done = subprocess.run(
        [str(gunicorn), "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "PROC_TIME_ZONE='Mars/Olympus' is not an IANA time zone name" in done.stderr


# --- 5. op_desc in the request's language ------------------------------------------------------


def test_op_desc_is_answered_in_the_requests_language_and_stored_in_english(client, db_url):
    sid, mids = topology(client, biz=8)
    pid = create(client, biz=8)
    ok(client.put(f"/api/v3/proc/0/8/{pid}", json={"user": "u"}))
    ok(client.put(f"/api/v3/set/8/{sid}", json={"bk_set_desc": "d"}))
    ok(client.put(f"/api/v3/module/8/{sid}/{mids[1]}", json={"operator": "o"}))
    ok(client.put(f"/api/v3/proc/module/0/8/{pid}/gameserver"))
    ok(client.delete(f"/api/v3/proc/module/0/8/{pid}/gameserver"))
    ok(client.delete(f"/api/v3/proc/0/8/{pid}"))
    ok(client.delete(f"/api/v3/module/8/{sid}/{mids[1]}"))
    ok(client.delete(f"/api/v3/set/8/{sid}"))
    english = [
        "create set", "create module", "create module", "create process", "update process",
        "update set", "update module", "bind module [gameserver]", "unbind module [gameserver]",
        "delete process", "delete module", "delete module", "delete set",
    ]  # fmt: skip
    chinese = [
        "创建集群", "创建模块", "创建模块", "创建进程", "更新进程", "更新集群", "更新模块",
        "绑定模块 [gameserver]", "解绑模块 [gameserver]", "删除进程", "删除模块", "删除模块",
        "删除集群",
    ]  # fmt: skip
    body = {"condition": {"bk_biz_id": 8}, "sort": "id", "limit": 200}

    def descriptions(headers):
        found = ok(client.post("/api/v3/audit/search", json=body, headers=headers))
        return [row["op_desc"] for row in found["info"]]

    assert descriptions(EN) == english
    assert descriptions({"HTTP_BLUEKING_LANGUAGE": "en"}) == english
    assert descriptions(WEB_SERVER) == chinese  # Http_blueking_language: zh-cn
    assert descriptions({"Accept-Language": "en-US,en;q=0.9"}) == english
    assert descriptions({}) == chinese  # bk-cmdb's default language
    # stored rows keep the canonical English text whatever the writer's language
    assert [r["op_desc"] for r in audit_rows(db_url)] == english


def test_module_names_that_look_like_descriptions_stay_as_they_are(client):
    sid = ok(client.post("/api/v3/set/9", json={"bk_set_name": "s"}))["bk_set_id"]
    name = "x] [bind module [y"
    ok(client.post(f"/api/v3/module/9/{sid}", json={"bk_module_name": name}))
    pid = create(client, biz=9)
    ok(client.put(f"/api/v3/proc/module/0/9/{pid}/x%5D%20%5Bbind%20module%20%5By"))
    body = {"condition": {"inst_id": pid, "op_type": 2}}
    found = ok(client.post("/api/v3/audit/search", json=body))
    assert [r["op_desc"] for r in found["info"]] == [f"绑定模块 [{name}]"]


# --- §8: a method the route does not take is 405 ----------------------------------------------


def test_put_on_the_search_route_is_405_not_an_update_of_account_search(client, db_url):
    pid = create(client)
    before = snapshot(db_url)
    for method, url in [
        ("PUT", "/api/v3/proc/search/0/1"),
        ("GET", "/api/v3/proc/search/0/1"),
        ("DELETE", "/api/v3/proc/search/0/1"),
        ("PATCH", f"/api/v3/proc/0/1/{pid}"),
        ("POST", f"/api/v3/proc/module/0/1/{pid}"),
        ("PUT", "/api/v3/set/search/0/1"),
    ]:
        resp = client.open(url, method=method, json={"user": "x"}, headers=EN)
        msg = err(resp, 405, 1199003, "'method'")
        assert msg == "invalid input parameter: 'method'"
        assert resp.headers["Allow"], url
    assert "POST" in client.put("/api/v3/proc/search/0/1").headers["Allow"]
    assert snapshot(db_url) == before


def test_search_and_module_are_route_words_never_accounts_in_proc_paths(client):
    for word in ("search", "module"):
        err(client.post(f"/api/v3/proc/{word}/1", json={"bk_process_name": "a"}), 404, 1199019)
    # GET /proc/search/1/1 is the search route with a method it does not take
    err(client.get("/api/v3/proc/search/1/1"), 405, 1199003, "method")
    err(client.get("/api/v3/proc/module/1/1"), 404, 1199019, "route")
    # an account that merely starts with one works
    pid = create(client, account="searcher")
    assert ok(client.get(f"/api/v3/proc/searcher/1/{pid}"))
    assert ok(client.post("/api/v3/proc/search/modules/1", json={}))["count"] == 0


# --- the ESB "cc" component: BK_USER, body "{}" as a JSON string, no Content-Type ------------


def test_esb_bind_list_and_unbind_with_a_string_body_and_no_content_type(client, db_url):
    sid, _ = topology(client, biz=10)
    pid = create(client, biz=10)
    ok(esb(client, "PUT", f"/api/v3/proc/module/0/10/{pid}/gameserver"))
    listed = ok(esb(client, "GET", f"/api/v3/proc/module/0/10/{pid}"))
    assert listed == [
        {"bk_module_name": "gameserver", "set_num": 1, "is_bind": 1},
        {"bk_module_name": "db", "set_num": 1, "is_bind": 0},
    ]
    ok(esb(client, "DELETE", f"/api/v3/proc/module/0/10/{pid}/gameserver"))
    listed = ok(esb(client, "GET", f"/api/v3/proc/module/0/10/{pid}"))
    assert [m["is_bind"] for m in listed] == [0, 0]
    rows = [r for r in audit_rows(db_url) if r["op_desc"].endswith("module [gameserver]")]
    assert [(r["op_desc"], r["operator"]) for r in rows] == [
        ("bind module [gameserver]", "esb-user"),
        ("unbind module [gameserver]", "esb-user"),
    ]
    assert sid


def test_web_server_headers_reach_the_service(client, db_url):
    pid = ok(
        client.post(
            "/api/v3/proc/0/11",
            json={"bk_process_name": "n", "bk_func_name": "f"},
            headers={**WEB_SERVER, "Bk_user": "web-admin"},
        )
    )["bk_process_id"]
    rows = audit_rows(db_url)
    assert rows[-1]["operator"] == "web-admin" and rows[-1]["inst_id"] == pid
    # Http_blueking_language: zh-cn answers Chinese; Http_blueking_supplier_id "" means "0"
    resp = client.get(f"/api/v3/proc/0/11/{pid}", headers=WEB_SERVER)
    assert ok(resp)[1]["bk_property_name"] == "进程名称"
    found = ok(
        client.post(
            "/api/v3/audit/search",
            json={"condition": {"inst_id": pid}},
            headers={"Http_blueking_supplier_id": ""},
        )
    )
    assert found["count"] == 1
