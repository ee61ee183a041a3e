"""The dispatcher (§15): `flask --app wsgi events run`. It POSTs each event to each subscription
that takes it, as bk-cmdb v3.1's push body.

- At least once, in event order per subscription: a subscription's cursor moves past an event
  only once its callback confirmed it (status, or a regex on the answer), so a dispatcher killed
  mid-delivery sends that event again.
- One delivery at a time per subscription, across dispatchers: a dispatcher takes a lease on a
  subscription (a conditional UPDATE) before it delivers, renews it with every cursor move (the
  move itself is conditional on the lease), and another dispatcher takes over once it expires.
- A failure waits before the next attempt: base x 2^(attempts-1), capped; a slow or dead
  subscriber holds only its own worker thread, never another subscription's deliveries.
- Retention: events older than PROC_EVENT_RETENTION_HOURS are removed; what a subscription had
  not received is counted in its ``dropped``.
- Its writes go through db.write: on SQLite they take their turn with the app's writers.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import re2
from flask import Flask
from sqlalchemy import delete, func, or_, select, text, update

from ..data import db
from ..data.models import Event, EventHorizon, Subscription
from . import callbacks
from .subscriptions import matching
from .wakeup import WAKEUP

log = logging.getLogger(__name__)
BATCH = 500  # events read per round of one subscription
FLUSH_EVERY, FLUSH_SECONDS = 50, 0.2  # how often the cursor moves while delivering
IDLE_SECONDS = 2.0  # a subscription with nothing new keeps its lease and thread this long
TURN_SECONDS = 10.0
ROUNDS_PER_SECOND = 10


def settings() -> dict:
    env = os.environ.get
    return {
        "lease": float(env("PROC_EVENT_LEASE_SECONDS", "30")),
        "backoff_base": float(env("PROC_EVENT_BACKOFF_SECONDS", "1")),
        "backoff_cap": float(env("PROC_EVENT_BACKOFF_CAP_SECONDS", "60")),
        "retention_hours": float(env("PROC_EVENT_RETENTION_HOURS", "72")),
        "workers": int(env("PROC_EVENT_WORKERS", "8")),
        "poll": float(env("PROC_EVENT_POLL_SECONDS", "1")),
    }


def push_body(event: Event, row: Subscription) -> dict:
    """bk-cmdb v3.1's DistInst, and our ``cursor``."""
    now = datetime.now(UTC)
    return {
        "event_id": event.id,
        "event_type": event.event_type,
        "action": event.action,
        "action_time": event.action_time.isoformat(),
        "obj_type": event.obj_type,
        "data": event.data,
        "bk_supplier_account": event.bk_supplier_account,
        "request_id": event.request_id,
        "request_time": now.isoformat(),
        # the same on every attempt of one event: a subscriber drops repeats by it
        "distribution_id": event.id,
        "subscription_id": row.subscription_id,
        "cursor": str(event.id),
    }


class _Turn:
    """Where one turn of one subscription stands: the cursor past the events confirmed (in
    memory until flushed), those not yet written, and when the lease was last renewed."""

    def __init__(self) -> None:
        self.cursor: int = 0
        self.pending: list[Event] = []
        self.flushed = self.renewed = time.monotonic()


def _pending(row: Subscription, cursor: int):
    """The events after ``cursor`` the subscription takes, in order."""
    return (
        select(Event)
        .where(
            Event.bk_supplier_account == row.bk_supplier_account,
            Event.id > cursor,
            matching(row.subscription_form),
        )
        .order_by(Event.id)
    )


def confirmed(row: Subscription, status: int, answer: str) -> bool:
    if row.confirm_mode == "regular":
        return re2.search(row.confirm_pattern, answer) is not None
    return str(status) == row.confirm_pattern


class Dispatcher:
    def __init__(self, app: Flask, owner: str | None = None):
        self.app = app
        self.owner = owner or f"{os.uname().nodename[:40]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.config = settings()
        self.busy: set[int] = set()
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(self.config["workers"], thread_name_prefix="deliver")
        self.sessions = app.extensions["db_sessionmaker"]
        self.last_retention = 0.0
        self.stopping = threading.Event()

    def run(self, stop: threading.Event) -> None:
        WAKEUP.listen(self.app.config["DATABASE_URL"])
        log.info("events dispatcher %s started", self.owner)
        while not stop.is_set():
            generation = WAKEUP.generation()
            try:
                self.round()
                if time.monotonic() - self.last_retention > 60:
                    self.retain()
                    self.last_retention = time.monotonic()
            except Exception:  # the database is away: try again next round
                log.exception("dispatcher round failed")
            WAKEUP.wait(generation, self.config["poll"])
            # at most ROUNDS_PER_SECOND: under a stream of commits every one wakes this loop,
            # and a subscription being delivered to is followed by its own thread anyway
            stop.wait(1 / ROUNDS_PER_SECOND)
        self.stopping.set()  # deliveries in flight end after their current event
        self.pool.shutdown(wait=True)

    def round(self) -> None:
        """Take the lease of every subscription that is due and not leased elsewhere, and
        deliver to each on a worker thread."""
        now = datetime.now(UTC)
        newest = select(func.coalesce(func.max(Event.id), 0)).scalar_subquery()
        with self.sessions() as sess, sess.begin():
            due = sess.scalars(
                select(Subscription.subscription_id).where(
                    Subscription.cursor < newest,  # something may wait for it
                    or_(
                        Subscription.next_attempt_time.is_(None),
                        Subscription.next_attempt_time <= now,
                    ),
                    or_(
                        Subscription.lease_until.is_(None),
                        Subscription.lease_until < now,
                        Subscription.lease_owner == self.owner,
                    ),
                )
            ).all()
        for subscription_id in due:
            with self.lock:
                if subscription_id in self.busy:
                    continue
                self.busy.add(subscription_id)
            if self._lease(subscription_id):
                self.pool.submit(self._deliver_all, subscription_id)
            else:
                with self.lock:
                    self.busy.discard(subscription_id)

    def _lease(self, subscription_id: int) -> bool:
        now = datetime.now(UTC)
        until = now + timedelta(seconds=self.config["lease"])
        with self.sessions() as sess, db.write(sess):
            taken = sess.execute(
                update(Subscription)
                .where(
                    Subscription.subscription_id == subscription_id,
                    or_(
                        Subscription.lease_until.is_(None),
                        Subscription.lease_until < now,
                        Subscription.lease_owner == self.owner,
                    ),
                )
                .values(lease_owner=self.owner, lease_until=until)
            )
            return taken.rowcount == 1

    def _deliver_all(self, subscription_id: int) -> None:
        """One turn of one subscription: deliver while it has events, and for IDLE_SECONDS
        after (woken by the next commit), at most TURN_SECONDS, so that more subscriptions than
        worker threads all get turns (the next round leases this one again). The cursor lives
        in memory during the turn and is written after every FLUSH_EVERY confirmed events or
        FLUSH_SECONDS (and at the end): a dispatcher that dies sends at most those again."""
        sender = callbacks.Sender()  # one kept-alive connection for the turn
        turn = _Turn()
        started = idle_since = time.monotonic()
        try:
            row = self._load(subscription_id)
            turn.cursor = row.cursor if row is not None else 0
            while row is not None and not self.stopping.is_set():
                if time.monotonic() - started > TURN_SECONDS:
                    break
                renew = time.monotonic() - turn.renewed > self.config["lease"] / 4
                if renew and not self._flush(row, turn):  # renews the lease, or finds it lost
                    break
                generation = WAKEUP.generation()
                with self.sessions() as sess, sess.begin():
                    events = sess.scalars(_pending(row, turn.cursor).limit(BATCH)).all()
                    for event in events:
                        sess.expunge(event)
                if not events:
                    if turn.pending and not self._flush(row, turn):
                        break
                    if time.monotonic() - idle_since > IDLE_SECONDS:
                        break
                    WAKEUP.wait(generation, self.config["poll"])
                    continue
                idle_since = time.monotonic()
                if not self._deliver(row, events, sender, turn):
                    break
        except Exception:
            log.exception("delivery to subscription %s failed", subscription_id)
        finally:
            sender.close()
            try:
                if turn.pending:
                    self._flush(row, turn)
            finally:
                self._release(subscription_id)

    def _load(self, subscription_id: int) -> Subscription | None:
        """The subscription, if this dispatcher holds its lease and it is not backing off."""
        with self.sessions() as sess, sess.begin():
            row = sess.get(Subscription, subscription_id)
            if row is None or row.lease_owner != self.owner:
                return None
            if row.next_attempt_time and row.next_attempt_time > datetime.now(UTC):
                return None
            sess.expunge(row)
            return row

    def _deliver(self, row, events, sender, turn: _Turn) -> bool:
        """Send ``events`` in order; False to end the turn (a failure, the lease lost,
        stopping)."""
        for event in events:
            if self.stopping.is_set():
                return False
            error = self._send(row, event, sender)
            if error:  # the next attempt waits (capped backoff)
                self._flush(row, turn)
                self._failed(row, error)
                return False
            turn.pending.append(event)
            turn.cursor = event.id
            due = (
                len(turn.pending) >= FLUSH_EVERY or time.monotonic() - turn.flushed > FLUSH_SECONDS
            )
            if due and not self._flush(row, turn):
                return False  # the lease went to another dispatcher
        return True

    def _release(self, subscription_id: int) -> None:
        with self.sessions() as sess, db.write(sess):
            sess.execute(
                update(Subscription)
                .where(
                    Subscription.subscription_id == subscription_id,
                    Subscription.lease_owner == self.owner,
                )
                .values(lease_until=None, lease_owner="")
            )
        with self.lock:
            self.busy.discard(subscription_id)

    def _send(self, row: Subscription, event: Event, sender: callbacks.Sender) -> str:
        body = json.dumps(push_body(event, row), ensure_ascii=False).encode()
        try:
            status, answer = sender.post(row.callback_url, body, row.time_out)
        except callbacks.Refused as exc:
            return str(exc)
        if confirmed(row, status, answer):
            return ""
        return f"not confirmed: HTTP {status}"

    def _mine(self, row: Subscription) -> list:
        return [
            Subscription.subscription_id == row.subscription_id,
            Subscription.lease_owner == self.owner,
        ]

    def _flush(self, row: Subscription, turn: _Turn) -> bool:
        """Write the turn's cursor and counts, and renew the lease; False if the lease is gone.
        On PostgreSQL without waiting for the commit to reach the disk: a cursor lost in a
        crash only means events sent again, which at least once allows."""
        now = datetime.now(UTC)
        values: dict = {"lease_until": now + timedelta(seconds=self.config["lease"])}
        if turn.pending:
            values |= {
                "cursor": turn.cursor,
                "total": Subscription.total + len(turn.pending),
                "attempts": 0,
                "last_success_time": now,
                "next_attempt_time": None,
            }
        with self.sessions() as sess, db.write(sess):
            if sess.get_bind().dialect.name == "postgresql":
                sess.execute(text("SET LOCAL synchronous_commit = off"))
            moved = sess.execute(update(Subscription).where(*self._mine(row)).values(**values))
        if moved.rowcount != 1:
            return False
        if turn.pending:
            row.attempts = 0
        turn.pending, turn.flushed = [], time.monotonic()
        turn.renewed = turn.flushed
        return True

    def _failed(self, row: Subscription, error: str) -> None:
        """Count the failure and set when the next attempt may be made (capped backoff)."""
        now = datetime.now(UTC)
        attempts = row.attempts + 1
        wait = min(
            self.config["backoff_cap"], self.config["backoff_base"] * 2 ** min(attempts - 1, 30)
        )
        with self.sessions() as sess, db.write(sess):
            sess.execute(
                update(Subscription)
                .where(*self._mine(row))
                .values(
                    failure=Subscription.failure + 1,
                    attempts=Subscription.attempts + 1,
                    last_error=error[:512],
                    last_error_time=now,
                    next_attempt_time=now + timedelta(seconds=wait),
                )
            )

    def retain(self) -> None:
        """Remove events past the retention; count, per subscription, those it never got."""
        cutoff = datetime.now(UTC) - timedelta(hours=self.config["retention_hours"])
        with self.sessions() as sess, db.write(sess):
            through = sess.scalar(select(func.max(Event.id)).where(Event.action_time < cutoff))
            if through is None:
                return
            for row in sess.scalars(
                select(Subscription).where(Subscription.cursor < through).with_for_update()
            ):
                lost = sess.scalar(
                    select(func.count()).where(
                        Event.bk_supplier_account == row.bk_supplier_account,
                        Event.id > row.cursor,
                        Event.id <= through,
                        matching(row.subscription_form),
                    )
                )
                row.dropped += lost
                row.cursor = through
            sess.execute(delete(Event).where(Event.id <= through))
            sess.execute(
                update(EventHorizon)
                .where(EventHorizon.id == 1, EventHorizon.removed_through < through)
                .values(removed_through=through)
            )
            log.info("retention removed the events through %s", through)


def run_forever(app: Flask) -> None:
    """The command's loop: until SIGTERM or SIGINT."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    Dispatcher(app).run(stop)
