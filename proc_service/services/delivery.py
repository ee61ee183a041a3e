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
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from ..data.models import Event, EventHorizon, Subscription
from . import callbacks
from .subscriptions import matching
from .wakeup import WAKEUP

log = logging.getLogger(__name__)
BATCH = 100  # events read per round of one subscription


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
        with self.sessions() as sess, sess.begin():
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
        try:
            while self._deliver_batch(subscription_id):
                pass
        except Exception:
            log.exception("delivery to subscription %s failed", subscription_id)
        finally:
            with self.sessions() as sess, sess.begin():
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

    def _deliver_batch(self, subscription_id: int) -> bool:
        """Deliver the next events in order; True when a full batch went and more may wait."""
        with self.sessions() as sess, sess.begin():
            row = sess.get(Subscription, subscription_id)
            if row is None or row.lease_owner != self.owner:
                return False
            sess.expunge(row)
            events = sess.scalars(
                select(Event)
                .where(
                    Event.bk_supplier_account == row.bk_supplier_account,
                    Event.id > row.cursor,
                    matching(row.subscription_form),
                )
                .order_by(Event.id)
                .limit(BATCH)
            ).all()
            for event in events:
                sess.expunge(event)
        for event in events:
            error = self._send(row, event)
            with self.sessions() as sess, sess.begin():
                if not self._record(sess, row, event, error):
                    return False  # lease lost, or a failure: the next attempt waits
        return len(events) == BATCH

    def _send(self, row: Subscription, event: Event) -> str:
        body = json.dumps(push_body(event, row), ensure_ascii=False).encode()
        try:
            status, answer = callbacks.post(row.callback_url, body, row.time_out)
        except callbacks.Refused as exc:
            return str(exc)
        if confirmed(row, status, answer):
            return ""
        return f"not confirmed: HTTP {status}"

    def _record(self, sess: Session, row: Subscription, event: Event, error: str) -> bool:
        now = datetime.now(UTC)
        mine = [
            Subscription.subscription_id == row.subscription_id,
            Subscription.lease_owner == self.owner,
        ]
        if not error:
            moved = sess.execute(
                update(Subscription)
                .where(*mine, Subscription.cursor < event.id)
                .values(
                    cursor=event.id,
                    total=Subscription.total + 1,
                    attempts=0,
                    last_success_time=now,
                    next_attempt_time=None,
                    lease_until=now + timedelta(seconds=self.config["lease"]),
                )
            )
            return moved.rowcount == 1
        attempts = row.attempts + 1
        wait = min(
            self.config["backoff_cap"], self.config["backoff_base"] * 2 ** min(attempts - 1, 30)
        )
        sess.execute(
            update(Subscription)
            .where(*mine)
            .values(
                failure=Subscription.failure + 1,
                attempts=Subscription.attempts + 1,
                last_error=error[:512],
                last_error_time=now,
                next_attempt_time=now + timedelta(seconds=wait),
            )
        )
        return False

    def retain(self) -> None:
        """Remove events past the retention; count, per subscription, those it never got."""
        cutoff = datetime.now(UTC) - timedelta(hours=self.config["retention_hours"])
        with self.sessions() as sess, sess.begin():
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
