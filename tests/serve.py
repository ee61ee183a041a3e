"""A real gunicorn, started with gunicorn.conf.py as `make run` and the container start it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(db_url: str, cmd_args: str | None = None, **env: str):
    """Serve on a free loopback port until the block ends; yields the base URL. ``cmd_args``
    is GUNICORN_CMD_ARGS (command-line settings over the configuration file), ``env`` extra
    PROC_* variables."""
    port = free_port()
    full_env = {
        **os.environ,
        "PROC_DATABASE_URL": db_url,
        "PROC_BIND": f"127.0.0.1:{port}",
        "PROC_LOG_LEVEL": "WARNING",
        **env,
    }
    full_env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    full_env.pop("GUNICORN_CMD_ARGS", None)
    if cmd_args:
        full_env["GUNICORN_CMD_ARGS"] = cmd_args
    proc = subprocess.Popen(
        [str(GUNICORN), "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or a worker still booting
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"gunicorn did not become ready: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
