"""Container entrypoint: wait until the database in PROC_DATABASE_URL accepts connections (at
most PROC_DB_WAIT_SECONDS, default 60), then exec the command (gunicorn, which migrates once and
serves). A database that starts after the app is then not a failed start."""

from __future__ import annotations

import os
import sys
import time

from sqlalchemy import create_engine, text


def wait_for_database(url: str, seconds: float) -> None:
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    deadline = time.monotonic() + seconds
    try:
        while True:
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                return
            except Exception as exc:  # noqa: BLE001 - any failure: not up yet
                if time.monotonic() > deadline:
                    print(f"database not reachable: {type(exc).__name__}", file=sys.stderr)
                    sys.exit(1)
                time.sleep(1)
    finally:
        engine.dispose()


def main() -> None:
    url = os.environ.get("PROC_DATABASE_URL", "")
    if url.startswith("postgresql"):
        wait_for_database(url, float(os.environ.get("PROC_DB_WAIT_SECONDS", "60")))
    command = sys.argv[1:] or ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
    os.execvp(command[0], command)  # noqa: S606 - the container's own command


if __name__ == "__main__":
    main()
