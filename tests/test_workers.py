"""gunicorn as configured (gunicorn.conf.py, its default worker settings) keeps serving while
20 clients each send a request body at one byte per second; a client that disconnects
mid-body leaves nothing behind. Loopback only, a few seconds each."""

from __future__ import annotations

import socket
import struct
import threading
import time
from contextlib import contextmanager

import pytest
import requests

from harness.gunicorn import gunicorn

SLOW_CLIENTS = 20
BODY = b'{"bk_set_name": "slow-client-set"}'


@contextmanager
def slow_clients(base: str, count: int = SLOW_CLIENTS):
    """``count`` connections that send a create_set request's headers, then its body one byte
    per second, until the block ends; then they disconnect mid-body. Yields the sockets."""
    host, port = base.removeprefix("http://").split(":")
    head = (
        b"POST /api/v3/set/7 HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % (host.encode(), len(BODY))
    )
    socks = [socket.create_connection((host, int(port)), timeout=5) for _ in range(count)]
    stop = threading.Event()

    def drip():
        sent = 0
        while not stop.is_set() and sent < len(BODY) - 1:  # never the last byte
            for sock in socks:
                sock.sendall(head + BODY[:1] if sent == 0 else BODY[sent : sent + 1])
            sent += 1
            stop.wait(1.0)

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    try:
        time.sleep(1.5)  # every slow client is connected and inside its body
        yield socks
    finally:
        stop.set()
        dripper.join(timeout=5)
        for sock in socks:  # a reset, mid-body
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()


def timed_search(base: str, timeout: float) -> float:
    start = time.monotonic()
    resp = requests.post(f"{base}/api/v3/set/search/0/7", json={}, timeout=timeout)
    elapsed = time.monotonic() - start
    assert resp.status_code == 200 and resp.json()["result"] is True
    return elapsed


def set_count(base: str) -> int:
    resp = requests.post(f"{base}/api/v3/set/search/0/7", json={}, timeout=5)
    return resp.json()["data"]["count"]


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'workers.sqlite3'}"


@pytest.mark.slow
def test_twenty_slow_bodies_do_not_delay_a_normal_request(sqlite_url):
    with gunicorn(sqlite_url) as base:
        with slow_clients(base):
            elapsed = [timed_search(base, timeout=5) for _ in range(3)]
        assert max(elapsed) < 1.0, elapsed
        # The slow clients all disconnected before their body was complete: nothing written,
        # and the server serves on.
        assert set_count(base) == 0
        assert timed_search(base, timeout=5) < 1.0


@pytest.mark.slow
def test_the_old_sync_workers_were_stalled_by_them(sqlite_url):
    """The check above can fail: with the two sync workers this used to run, a normal request
    waits for the slow clients (here: until they give up)."""
    with gunicorn(sqlite_url, cmd_args="--worker-class sync --threads 1") as base:
        with slow_clients(base), pytest.raises(requests.Timeout):
            timed_search(base, timeout=1.0)
        assert set_count(base) == 0
