"""deploy/nginx.conf's retries (issue 17), on a real nginx: a request goes to another app replica
after a failure only when that cannot apply a write twice.

Two replicas on loopback stand in for the app: the first refuses connections, or takes the
request and dies without answering (a replica killed mid-request); the second answers. nginx
tries the first, then, where its rules allow, the second.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from harness.gunicorn import free_port

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)


class Replica:
    """A stand-in app replica on loopback: records each request (method, path, body); answers
    200, or (``dies``) closes the connection once it has read the request."""

    def __init__(self, dies: bool):
        self.dies = dies
        self.seen: list[tuple[str, str, bytes]] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            while length and len(body) < int(length.group(1)):
                body += conn.recv(65536)
            method, path = head.split(b" ")[:2]
            self.seen.append((method.decode(), path.decode(), body))
            if self.dies:
                return  # closed without a word, as a killed replica
            payload = b'{"result":true,"bk_error_code":0,"bk_error_msg":"","data":"second"}'
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(payload), payload)
            )

    def close(self) -> None:
        self.sock.close()


def nginx_config(tmp: Path, port: int, hop_port: int, first: int, second: int) -> Path:
    """deploy/nginx.conf as shipped, but on free loopback ports, files under ``tmp``, and "app"
    the two stand-ins (the second a backup, so that the first is always tried first)."""
    conf = (DEPLOY / "nginx.conf").read_text()
    for name in ("proc-proxy.conf", "proc-errors.conf"):
        shutil.copy(DEPLOY / name, tmp / name)
        conf = conf.replace(f"/etc/nginx/{name}", str(tmp / name))
    conf = conf.replace("/tmp/nginx", str(tmp / "nginx"))
    conf = conf.replace("include /tmp/nginx-resolver.conf;", "")
    conf = conf.replace(f"include {tmp}/nginx-resolver.conf;", "")
    conf = conf.replace("listen 8080 default_server;", f"listen 127.0.0.1:{port} default_server;")
    conf = conf.replace("127.0.0.1:8081", f"127.0.0.1:{hop_port}")
    conf = conf.replace("set $proc_upstream app:8000;", "set $proc_upstream replicas;")
    upstream = (
        f"upstream replicas {{ server 127.0.0.1:{first} max_fails=0; "
        f"server 127.0.0.1:{second} backup; }}\n"
    )
    conf = conf.replace("    server {", upstream + "    server {", 1)
    conf = conf.replace("access_log /dev/stdout proc;", f"access_log {tmp}/access.log proc;")
    if os.geteuid() == 0:  # workers as root: the test's files are private to this user
        conf = "user root;\n" + conf
    assert "app:8000" not in conf and "8081" not in conf.replace(str(hop_port), "")
    path = tmp / "nginx.conf"
    path.write_text(conf)
    return path


@pytest.fixture
def proxy(tmp_path):
    """start(first_dies) -> (send, first, second): nginx before two stand-in replicas."""
    if NGINX is None:
        reason = "nginx is not installed (apt-get install nginx-light)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI requires the nginx tests: {reason}")
        pytest.skip(reason)
    started: list = []

    def start(first: str):
        second = Replica(dies=False)
        if first == "refuses":
            first_replica, first_port = None, free_port()  # nothing listens there
        else:
            first_replica = Replica(dies=True)
            first_port = first_replica.port
        port, hop = free_port(), free_port()
        conf = nginx_config(tmp_path, port, hop, first_port, second.port)
        proc = subprocess.Popen(
            [NGINX, "-c", str(conf), "-e", str(tmp_path / "error.log"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        started.append((proc, first_replica, second))
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    raise RuntimeError(
                        f"nginx did not start: {proc.stderr.read().decode()}"
                        f"{(tmp_path / 'error.log').read_text()}"
                    ) from None
                time.sleep(0.05)

        def send(method: str, path: str, body: dict | None = None):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
            try:
                payload = None if body is None else json.dumps(body)
                headers = {"Content-Type": "application/json"} if body is not None else {}
                conn.request(method, path, body=payload, headers=headers)
                resp = conn.getresponse()
                return resp.status, json.loads(resp.read())
            finally:
                conn.close()

        return send, first_replica, second

    yield start
    for proc, first, second in started:
        proc.terminate()
        proc.wait(timeout=10)
        for replica in (first, second):
            if replica is not None:
                replica.close()


PROC = "/api/v3/proc/0/1"
REQUESTS = [
    # (method, path, body, safe to send again after a failure mid-request)
    ("GET", f"{PROC}/7", None, True),
    ("GET", "/api/v3/proc/module/0/1/7", None, True),
    ("POST", "/api/v3/proc/search/0/1", {"condition": {}}, True),
    ("POST", "/api/v3/set/search/0/1", {}, True),
    ("POST", "/api/v3/module/search/0/1/2", {}, True),
    ("POST", "/api/v3/audit/search", {}, True),
    ("POST", "/api/v3/object/attr/search", {}, True),
    ("POST", "/api/v3/biz/search/0", {}, True),
    ("POST", PROC, {"bk_process_name": "a", "bk_func_name": "a"}, False),
    # An account named "search": the create of /api/v3/proc/{account}/{biz}, not a search.
    ("POST", "/api/v3/proc/search/1", {"bk_process_name": "a", "bk_func_name": "a"}, False),
    ("POST", "/api/v3/set/1", {"bk_set_name": "s"}, False),
    ("PUT", f"{PROC}/7", {"port": "81"}, False),
    ("PUT", PROC, {"bk_process_id": "7", "port": "81"}, False),
    ("PUT", "/api/v3/proc/module/0/1/7/gameserver", None, False),
    ("DELETE", f"{PROC}/7", None, False),
    ("DELETE", "/api/v3/proc/module/0/1/7/gameserver", None, False),
]


def test_a_replica_that_refuses_connections_is_skipped_for_every_request(proxy):
    """Nothing reached the first replica, so every request, writes included, goes on to the
    second, with its own method, path and body."""
    send, _, second = proxy("refuses")
    for method, path, body, _safe in REQUESTS:
        status, out = send(method, path, body)
        assert (status, out["data"]) == (200, "second"), (method, path, out)
        sent = json.dumps(body).encode() if body is not None else b""
        assert second.seen[-1] == (method, path, sent), (method, path)


def test_after_a_failure_mid_request_only_reads_go_to_another_replica(proxy):
    """The first replica read the request and died: it may have written. A GET or a search
    goes on to the second replica; a write answers the 503 envelope and is not sent again."""
    send, first, second = proxy("dies")
    for method, path, body, safe in REQUESTS:
        before = len(second.seen)
        status, out = send(method, path, body)
        assert first.seen[-1][:2] == (method, path), "the first replica saw it as it was sent"
        if safe:
            assert (status, out["data"]) == (200, "second"), (method, path, out)
            assert second.seen[-1][:2] == (method, path)
        else:
            assert status == 503, (method, path, status, out)
            assert out == {
                "result": False,
                "bk_error_code": 1199999,
                "bk_error_msg": out["bk_error_msg"],
                "data": None,
            }, (method, path)
            assert len(second.seen) == before, f"{method} {path} was sent twice"
