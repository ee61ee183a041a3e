"""gunicorn as the README starts it (`gunicorn -c gunicorn.conf.py wsgi:app`), on a free
loopback port: for tests that need a real server and for the benchmarks."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_env(**settings: str) -> dict:
    """The environment for gunicorn.conf.py: ours, less what would change how it starts, plus
    ``settings`` (PROC_DATABASE_URL, PROC_BIND, ...)."""
    env = {**os.environ, **settings}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.pop("GUNICORN_CMD_ARGS", None)
    return env


def run_gunicorn(env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    """gunicorn as the README starts it, to completion (for a start-up that must fail)."""
    return subprocess.run(
        [str(GUNICORN), "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextlib.contextmanager
def gunicorn(
    db_url: str, workers: int = 2, cmd_args: str | None = None, **settings: str
) -> Iterator[str]:
    """gunicorn as the README starts it, serving ``db_url``; yields its base URL once /readyz
    answers 200, and stops it at the end. ``cmd_args`` is GUNICORN_CMD_ARGS (command-line
    settings over gunicorn.conf.py), ``settings`` extra PROC_* variables."""
    port = free_port()
    env = gunicorn_env(
        PROC_DATABASE_URL=db_url,
        PROC_BIND=f"127.0.0.1:{port}",
        PROC_WORKERS=str(workers),
        **settings,
    )
    if cmd_args:
        env["GUNICORN_CMD_ARGS"] = cmd_args
    proc = subprocess.Popen(
        [str(GUNICORN), "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
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
                raise RuntimeError(
                    f"gunicorn did not become ready: {proc.stderr.read().decode()[-2000:]}"
                )
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
