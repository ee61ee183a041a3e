"""Smoke test of the running compose stack, through nginx: .ci/smoke starts the stack and runs

    python3 .ci/smoke.py http://127.0.0.1:PORT DB_CONTAINER APP_CONTAINER

The seed's examples and the README walk-through, /readyz and /docs, nginx's limits and headers,
20 slow clients, a body slower than nginx's timeout, a database restart and a stop of the app
during batches. Standard library only; every failure raises (exit status 1), nothing skips.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BASE, DB, APP = sys.argv[1], sys.argv[2], sys.argv[3]
HOST, PORT = urlsplit(BASE).hostname, urlsplit(BASE).port
# The seed document's create and search bodies (tests/test_seed.py).
SEED_CREATE = {
    "bk_process_name": "nginx", "port": 80, "bind_ip": "1", "protocol": "1",
    "bk_func_name": "nginx", "work_path": "/data/cc/running", "user": "cc",
}  # fmt: skip
SEED_SEARCH = {
    "page": {"start": 0, "limit": 10, "sort": "bk_process_name"},
    "fields": ["bk_process_id", "bk_process_name"],
    "condition": {"bk_biz_id": "12233", "bk_process_name": "nginx"},
}
EN = {"HTTP_BLUEKING_LANGUAGE": "en"}


def step(name: str):
    print(f"smoke: {name}", flush=True)


def call(method: str, path: str, body=None, headers=None, timeout: float = 10, raw=None):
    """(status, headers, parsed JSON body) of one request on a new connection."""
    conn = http.client.HTTPConnection(HOST, PORT, timeout=timeout)
    try:
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        conn.request(method, path, body=data, headers=headers or {})
        resp = conn.getresponse()
        payload = resp.read()
    finally:
        conn.close()
    ctype = resp.getheader("Content-Type", "")
    parsed = json.loads(payload) if ctype.startswith("application/json") else payload
    return resp.status, resp, parsed


def ok(method, path, body=None, headers=None):
    status, _, out = call(method, path, body, headers)
    assert status == 200 and out["result"] is True, (method, path, status, out)
    return out["data"]


def envelope_error(out, code: int) -> None:
    assert isinstance(out, dict), out
    assert set(out) == {"result", "bk_error_code", "bk_error_msg", "data"}, out
    assert out["result"] is False and out["bk_error_code"] == code and out["data"] is None, out


def psql(sql: str) -> str:
    return subprocess.run(
        ["podman", "exec", DB, "psql", "-U", "postgres", "-d", "proc", "-Atc", sql],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def podman(*args: str) -> str:
    return subprocess.run(
        ["podman", *args], check=True, capture_output=True, text=True
    ).stdout.strip()


NGINX_RESOLVER_VALID_S = 5


def wait_ready(seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if call("GET", "/readyz", timeout=3)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError("the stack did not become ready")


def check_readyz_and_docs():
    step("/readyz, /healthz, /docs and its assets")
    assert ok("GET", "/readyz") == "ready"
    assert ok("GET", "/healthz") == "ok"
    status, _, page = call("GET", "/docs")
    assert status == 200 and b"/docs/assets/swagger-ui-bundle.js" in page, page[:500]
    assert b"https://" not in page and b"http://" not in page, "/docs refers to another host"
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        status, _, content = call("GET", f"/docs/assets/{asset}")
        assert status == 200 and len(content) > 10_000, asset
    status, _, spec = call("GET", "/openapi.json")
    assert status == 200 and spec["paths"], spec


def check_seed_examples():
    step("seed examples: create, search, detail, update, batch, delete")
    pid = ok("POST", "/api/v3/proc/0/12233", SEED_CREATE, {"BK_User": "admin"})["bk_process_id"]
    found = ok("POST", "/api/v3/proc/search/0/12233", SEED_SEARCH)
    assert found == {"count": 1, "info": [{"bk_process_id": pid, "bk_process_name": "nginx"}]}
    rows = ok("GET", f"/api/v3/proc/0/12233/{pid}", headers=EN)
    assert {r["bk_property_id"]: r["bk_property_value"] for r in rows}["port"] == "80"
    assert ok("PUT", f"/api/v3/proc/0/12233/{pid}", {"bk_process_name": "nginx"}) == "success"
    others = [
        ok("POST", "/api/v3/proc/0/12233", {**SEED_CREATE, "bk_process_name": f"n{i}"})[
            "bk_process_id"
        ]
        for i in range(4)
    ]
    ids = ",".join(str(i) for i in [pid, *others])
    batch = {"bk_process_id": ids, "start_cmd": "./start.sh 8080", "port": "1000"}
    assert ok("PUT", "/api/v3/proc/0/12233", batch) == "success"
    info = ok("POST", "/api/v3/proc/search/0/12233", {})["info"]
    assert {(p["start_cmd"], p["port"]) for p in info} == {("./start.sh 8080", "1000")}
    for one in [pid, *others]:
        assert ok("DELETE", f"/api/v3/proc/0/12233/{one}") == "success"
    status, _, out = call("GET", f"/api/v3/proc/0/12233/{pid}")
    assert status == 404
    envelope_error(out, 1199019)


def check_readme_walkthrough():
    step("README walk-through: sets, modules, bind, list modules, audit")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- walkthrough -->\n```sh\n", 1)[1].split("```", 1)[0]
    script = block.replace("http://127.0.0.1:8000", BASE)
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    outputs = [json.loads(line) for line in run.stdout.splitlines()]
    assert all(out["result"] is True for out in outputs), outputs
    assert outputs[3]["data"] == [
        {"bk_module_name": "gameserver", "set_num": 1, "is_bind": 1},
        {"bk_module_name": "db", "set_num": 1, "is_bind": 0},
    ], outputs[3]
    assert outputs[4]["data"]["count"] == 1


def check_headers():
    step("underscore headers, X-Request-Id, a request line over 8 KB, SCRIPT_NAME dropped")
    headers = {"BK_User": "under_score", "X-Request-Id": "smoke-req-1", **EN}
    status, resp, out = call("POST", "/api/v3/set/501", {"bk_set_name": "hdr"}, headers)
    assert status == 200 and resp.getheader("X-Request-Id") == "smoke-req-1", out
    assert psql("SELECT operator FROM audit_log WHERE request_id = 'smoke-req-1'") == "under_score"
    status, _, out = call("POST", "/api/v3/set/501", {"bk_set_name": "hdr"}, EN)
    assert status == 409 and "duplicated" in out["bk_error_msg"], out  # English: header passed
    # A malformed request id is replaced, never echoed (nginx puts it into its own errors too).
    status, resp, _ = call("GET", "/healthz", headers={"X-Request-Id": 'bad"id'})
    assert status == 200 and '"' not in resp.getheader("X-Request-Id")
    # A request line nginx refuses (over its 8 KB buffers): the envelope, not HTML.
    status, resp, out = call("PUT", f"/api/v3/proc/module/0/501/1/{'x' * 9000}", headers=EN)
    assert status == 400, (status, out)
    envelope_error(out, 1199003)
    # gunicorn would take a SCRIPT_NAME header as the routing prefix (then: 404).
    status, _, out = call("POST", "/api/v3/proc/search/0/501", {}, {"SCRIPT_NAME": "/api"})
    assert status == 200 and out["result"] is True, out


def check_body_limits():
    step("oversized bodies: 413 in the envelope from nginx, nothing written")
    big = b'{"bk_set_name": "big"' + b" " * (1024 * 1024) + b"}"
    status, resp, out = call("POST", "/api/v3/set/502", raw=big, headers=EN)
    assert status == 413, (status, out)
    envelope_error(out, 1199035)
    assert resp.getheader("Content-Type") == "application/json; charset=utf-8"
    assert resp.getheader("X-Request-Id")

    def chunks():
        yield b'{"bk_set_name": "big"'
        for _ in range(20):
            yield b" " * 65536

    conn = http.client.HTTPConnection(HOST, PORT, timeout=10)
    try:
        conn.request("POST", "/api/v3/set/502", body=chunks(), encode_chunked=True)
        resp = conn.getresponse()
        out = json.loads(resp.read())
    finally:
        conn.close()
    assert resp.status == 413
    envelope_error(out, 1199035)
    assert psql("SELECT count(*) FROM sets WHERE bk_biz_id = 502") == "0"


def slow_body(count: int, stop: threading.Event, biz: int):
    """``count`` connections sending a create_set body at one byte per second until ``stop``,
    then disconnecting mid-body."""
    body = b'{"bk_set_name": "slow-client"}'
    head = b"POST /api/v3/set/%d HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (
        biz,
        len(body),
    )
    socks = [socket.create_connection((HOST, PORT), timeout=5) for _ in range(count)]
    sent = 0
    while not stop.is_set() and sent < len(body) - 1:
        for sock in socks:
            sock.sendall(head + body[:1] if sent == 0 else body[sent : sent + 1])
        sent += 1
        stop.wait(1.0)
    for sock in socks:
        sock.close()


def check_body_slower_than_nginx_timeout():
    """A client that stops sending mid-body is dropped by nginx (client_body_timeout, 10 s);
    the app never sees the request. Returns elapsed seconds."""
    sock = socket.create_connection((HOST, PORT), timeout=30)
    start = time.monotonic()
    with sock:
        sock.sendall(b"POST /api/v3/set/504 HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n{")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    elapsed = time.monotonic() - start
    assert 9 <= elapsed <= 15, elapsed
    assert not answer.startswith(b"HTTP/1.1 2"), answer
    return elapsed


def check_slow_clients():
    step("20 clients at 1 byte/s; a body slower than nginx's timeout; normal requests < 1 s")
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=2) as pool:
        stalled = pool.submit(check_body_slower_than_nginx_timeout)
        slow = pool.submit(slow_body, 20, stop, 503)
        time.sleep(1.5)
        timings = []
        for _ in range(5):
            start = time.monotonic()
            status, _, out = call("POST", "/api/v3/set/search/0/503", {}, timeout=5)
            timings.append(time.monotonic() - start)
            assert status == 200, out
        stop.set()
        slow.result()
        timeout_after = stalled.result()
    print(f"smoke:   normal requests during 20 slow bodies: {[round(t, 3) for t in timings]} s")
    print(f"smoke:   nginx dropped the stalled body after {timeout_after:.1f} s")
    assert max(timings) < 1.0, timings
    assert psql("SELECT count(*) FROM sets WHERE bk_biz_id IN (503, 504)") == "0"


def check_database_restart():
    step("database restart: 503 in the envelope, then recovery without an app restart")
    app_started = podman("inspect", "-f", "{{.State.StartedAt}}", APP)
    podman("stop", "-t", "10", DB)
    start = time.monotonic()
    status, _, out = call("POST", "/api/v3/proc/search/0/1", {}, timeout=15)
    print(f"smoke:   with the database stopped: {status} in {time.monotonic() - start:.3f} s")
    assert status == 503, out
    envelope_error(out, 1108006)
    status, _, out = call("GET", "/readyz")
    assert status == 503, out
    podman("start", DB)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if call("POST", "/api/v3/proc/search/0/1", {}, timeout=15)[0] == 200:
            break
        time.sleep(0.5)
    else:
        raise AssertionError("no recovery after the database came back")
    assert podman("inspect", "-f", "{{.State.StartedAt}}", APP) == app_started


def check_stop_during_batch():
    step("stop of the app during batch updates: each batch all or nothing")
    n = 1000

    def create(i):
        return ok("POST", "/api/v3/proc/0/505", {"bk_process_name": f"b{i}", "bk_func_name": "f"})[
            "bk_process_id"
        ]

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = ",".join(str(pid) for pid in pool.map(create, range(n)))
    answered: dict[str, tuple[int, float, float]] = {}  # id -> status, sent, answered
    stopping = threading.Event()

    def batches():
        k = 0
        while True:
            k += 1
            rid = f"batch-{k}"
            sent = time.monotonic()
            try:
                status = call(
                    "PUT",
                    "/api/v3/proc/0/505",
                    {"bk_process_id": ids, "start_cmd": rid},
                    {"X-Request-Id": rid},
                    timeout=30,
                )[0]
            except OSError:
                status = 0
            answered[rid] = (status, sent, time.monotonic())
            if stopping.is_set() and status != 200:
                return

    worker = threading.Thread(target=batches)
    worker.start()
    time.sleep(1.0)
    stopping.set()
    stop_sent = time.monotonic()
    podman("stop", "-t", "25", APP)  # SIGTERM: gunicorn finishes what it has started
    worker.join(timeout=60)
    status, resp, out = call("GET", "/readyz", headers=EN)  # nginx answers for the stopped app
    assert status == 503 and resp.getheader("X-Request-Id"), (status, out)
    envelope_error(out, 1199999)
    podman("start", APP)
    wait_ready()
    # The restarted app has a new address; each nginx worker keeps the old one until its
    # resolver entry runs out (valid=5s, deploy/nginx-entrypoint.sh), and a POST sent there
    # meanwhile is not retried (non-idempotent): the checks after this one wait it out.
    time.sleep(NGINX_RESOLVER_VALID_S + 1)
    wait_ready()
    audit = dict(
        line.split("|")
        for line in psql(
            "SELECT request_id, count(*) FROM audit_log WHERE request_id LIKE 'batch-%'"
            " GROUP BY request_id"
        ).splitlines()
    )
    rows = dict(
        line.split("|")
        for line in psql(
            "SELECT start_cmd, count(*) FROM processes WHERE bk_biz_id = 505 GROUP BY start_cmd"
        ).splitlines()
    )
    for rid, (status, _, _) in answered.items():
        written = int(audit.get(rid, 0))
        assert written in (0, n), (rid, status, written)  # audit rows: one per process
        assert int(rows.get(rid, 0)) in (0, n), (rid, status, rows)
        if status == 200:
            assert written == n, (rid, written)
    in_flight = [
        (rid, status) for rid, (status, sent, done) in answered.items() if sent < stop_sent < done
    ]
    print(
        f"smoke:   {len(answered)} batches of {n}, statuses"
        f" {sorted(status for status, _, _ in answered.values())};"
        f" in flight at SIGTERM: {in_flight}"
    )
    assert any(status != 200 for status, _, _ in answered.values()), "no batch met the stop"


def main() -> None:
    started = time.monotonic()
    wait_ready()
    check_readyz_and_docs()
    check_seed_examples()
    check_readme_walkthrough()
    check_headers()
    check_body_limits()
    check_slow_clients()
    check_database_restart()
    check_stop_during_batch()
    print(f"smoke: all checks passed in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
