"""Waking what waits for events (§15): a watch held open, a dispatcher between rounds.

One WAKEUP per process. A commit that wrote events notifies it directly (services/events.py);
on PostgreSQL one thread per process LISTENs on ``proc_events`` (the events' insert trigger
NOTIFYs it, delivered at commit) and notifies it for commits made by other processes. Waiters
compare a generation number, so a wake-up between their read and their wait is never lost."""

from __future__ import annotations

import logging
import os
import threading

import psycopg
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)
CHANNEL = "proc_events"


class Wakeup:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._generation = 0
        self._listener: threading.Thread | None = None
        self._listener_pid = 0
        self._connected = threading.Event()

    def generation(self) -> int:
        return self._generation

    def notify(self) -> None:
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def wait(self, generation: int, timeout: float) -> bool:
        """Until the generation moves past ``generation`` or ``timeout`` seconds pass."""
        with self._cond:
            return self._cond.wait_for(lambda: self._generation != generation, timeout)

    def listening(self) -> bool:
        return self._connected.is_set()

    def listen(self, database_url: str) -> None:
        """Start this process's LISTEN thread (PostgreSQL only; once per process, also after a
        fork: gunicorn workers are forked from the master)."""
        url = make_url(database_url)
        if not url.drivername.startswith("postgresql"):
            return
        alive = self._listener is not None and self._listener.is_alive()
        if alive and self._listener_pid == os.getpid():
            return
        self._listener_pid = os.getpid()
        self._connected.clear()
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._listener = threading.Thread(
            target=self._listen, args=(conninfo,), name="proc-events-listen", daemon=True
        )
        self._listener.start()

    def _listen(self, conninfo: str) -> None:
        delay, failing = 0.5, False
        while True:
            try:
                with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._connected.set()
                    delay, failing = 0.5, False
                    self.notify()  # anything committed while not listening is read now
                    for _ in conn.notifies():
                        self.notify()
            except psycopg.errors.InvalidCatalogName:
                self._connected.clear()
                return  # the database is gone; the next listen() starts again
            except Exception as exc:  # noqa: BLE001 - any failure: waiters poll until it is back
                if not failing:  # once per outage, not once per attempt
                    log.warning("events listener: %s; trying again", type(exc).__name__)
                failing = True
            self._connected.clear()
            self.notify()
            threading.Event().wait(delay)
            delay = min(delay * 2, 10.0)


WAKEUP = Wakeup()
