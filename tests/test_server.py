"""A real gunicorn process, started as the README starts it: headers with underscores reach the
app, migrations run on start, metrics add up across workers."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess

import pytest
import requests

from harness.gunicorn import ROOT

from .dbkit import audit_rows, set_names_in_db
from .kit import SEED_CREATE, SEED_SEARCH


@pytest.fixture
def db_url(empty_url):
    """gunicorn gets an empty database: it has to migrate it before serving."""
    return empty_url


@pytest.mark.slow
def test_underscore_headers_reach_the_app(server, db_url):
    headers = {"BK_User": "alice", "HTTP_BLUEKING_LANGUAGE": "en", "X-Request-Id": "req-42"}
    body = {"bk_process_name": "nginx", "bk_func_name": "nginx", "port": 80}
    created = requests.post(f"{server}/api/v3/proc/0/7", json=body, headers=headers, timeout=5)
    assert created.status_code == 200
    assert created.headers["X-Request-Id"] == "req-42"

    # Language header honoured: the English message, not bk-cmdb's Chinese default.
    refused = requests.post(f"{server}/api/v3/proc/0/7", json=body, headers=headers, timeout=5)
    assert refused.status_code == 409
    assert refused.json()["bk_error_msg"] == (
        "duplicated instances exist, bk_process_name duplicated"
    )
    chinese = requests.post(f"{server}/api/v3/proc/0/7", json=body, timeout=5)
    assert chinese.json()["bk_error_msg"] == "数据唯一性校验失败， bk_process_name 重复"

    # Operator header honoured, in either spelling.
    pid = created.json()["data"]["bk_process_id"]
    requests.put(
        f"{server}/api/v3/proc/0/7/{pid}",
        json={"user": "cc"},
        headers={"BK-User": "bob"},
        timeout=5,
    )
    assert [row["operator"] for row in audit_rows(db_url)] == ["alice", "bob"]
    assert audit_rows(db_url)[0]["request_id"] == "req-42"


@pytest.mark.slow
def test_seed_examples_and_metrics_over_http(server):
    created = requests.post(f"{server}/api/v3/proc/0/12233", json=SEED_CREATE, timeout=5).json()
    assert created["result"] is True
    search_url = f"{server}/api/v3/proc/search/0/12233"
    found = requests.post(search_url, json=SEED_SEARCH, timeout=5).json()
    assert found["data"]["info"] == [
        {"bk_process_id": created["data"]["bk_process_id"], "bk_process_name": "nginx"}
    ]
    for _ in range(6):  # spread over both workers
        requests.post(search_url, json=SEED_SEARCH, timeout=5)

    metrics = requests.get(f"{server}/metrics", timeout=5).text
    searches = [
        line
        for line in metrics.splitlines()
        if line.startswith("proc_service_requests_total{")
        and 'endpoint="process.search_process"' in line
    ]
    assert searches and float(searches[0].rsplit(" ", 1)[1]) == 7.0


def _readme_walkthrough(base: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- walkthrough -->\n```sh\n", 1)[1].split("```", 1)[0]
    assert "http://127.0.0.1:8000/api/v3" in block  # the README's serve command's address
    return block.replace("http://127.0.0.1:8000", base)


@pytest.mark.slow
def test_readme_walkthrough_runs_as_written(server):
    """The README's walk-through block, run by bash as a user would paste it, twice (it cleans
    up after itself)."""
    script = _readme_walkthrough(server)
    for _ in range(2):
        run = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        outputs = [json.loads(line) for line in run.stdout.splitlines()]
        assert all(out["result"] is True for out in outputs), outputs
        modules = [m["data"] for m in outputs[:2]]
        assert [m["bk_module_name"] for m in modules] == ["gameserver", "db"]
        assert outputs[2]["data"] == "success"
        assert outputs[3]["data"] == [
            {"bk_module_name": "gameserver", "set_num": 1, "is_bind": 1},
            {"bk_module_name": "db", "set_num": 1, "is_bind": 0},
        ]
        found = outputs[4]["data"]
        assert found["count"] == 1 and found["info"][0]["bk_process_name"] == "gamesvr"
        trail = outputs[5]["data"]["info"]
        # in Chinese: the walk-through sends no language header (§1, §5)
        assert [row["op_desc"] for row in trail] == [
            "绑定模块 [gameserver]",
            "创建进程",
            "创建模块",
            "创建模块",
            "创建集群",
        ]
        assert {row["operator"] for row in trail} == {"admin"}
        assert [out["data"] for out in outputs[6:]] == ["success", "success"]


@pytest.mark.slow
def test_module_name_that_is_not_utf8_is_refused(server):
    """gunicorn hands the path's raw bytes over; bytes that are not UTF-8 are not a name."""
    created = requests.post(
        f"{server}/api/v3/proc/0/7", json={"bk_process_name": "a", "bk_func_name": "a"}, timeout=5
    ).json()["data"]["bk_process_id"]
    host, port = server.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request("PUT", f"/api/v3/proc/module/0/7/{created}/ok%FFname")
        resp = conn.getresponse()
        body = json.loads(resp.read())
    finally:
        conn.close()
    assert resp.status == 400
    assert body["bk_error_code"] == 1199003 and "bk_module_name" in body["bk_error_msg"]


@pytest.mark.slow
def test_a_module_name_too_long_for_the_contract_gets_the_envelope(server):
    """A request line of 5-8 KB reaches the app (gunicorn's default stops at 4094 bytes with an
    HTML 414), so an over-long name is refused like any other: 400 / 1199003 in the envelope."""
    resp = requests.put(f"{server}/api/v3/proc/module/0/7/1/{'x' * 6000}", timeout=5)
    assert resp.status_code == 400
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    assert resp.json()["bk_error_code"] == 1199003


@pytest.mark.slow
def test_a_chunked_body_over_the_limit_is_413_not_cut_short(server, db_url):
    """gunicorn ends a chunked body where the app stops reading: a body over 1 MiB must be
    refused, not read up to 1 MiB and used."""

    def chunks():
        yield b'{"bk_set_name": "big"}'
        for _ in range(30):
            yield b" " * 65536

    resp = requests.post(f"{server}/api/v3/set/7", data=chunks(), timeout=10)
    assert resp.request.headers.get("Transfer-Encoding") == "chunked"
    assert resp.status_code == 413
    assert resp.json()["bk_error_code"] == 1199035
    assert set_names_in_db(db_url) == []
    # Under the limit, a chunked body is read whole.
    small = requests.post(f"{server}/api/v3/set/7", data=iter([b'{"bk_set_name": "s"}']), timeout=5)
    assert small.json()["data"]["bk_set_name"] == "s"


@pytest.mark.slow
def test_a_body_shorter_than_its_content_length_is_refused(server, db_url):
    """A client that stops before its Content-Length did not send that body: 400, no write."""
    body = b'{"bk_set_name": "cut"}'
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /api/v3/set/7 HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
            % (len(body) + 50, body)
        )
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert json.loads(payload)["bk_error_code"] == 1199000
    assert set_names_in_db(db_url) == []
