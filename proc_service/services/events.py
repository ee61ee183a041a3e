"""The event log (docs/api.md §15): written in the transaction of each change, read by the watch
(bk-cmdb v3.8's resource_watch) and by the dispatcher (services/delivery.py).

Event ids increase in commit order (migration 0006), so "the events after cursor N" is a range
of the primary key that a later commit can never add to below its end: a watcher that read up to
N has missed nothing."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import orjson
from flask import current_app
from sqlalchemy import bindparam, func, select
from sqlalchemy import event as sa_event
from sqlalchemy import text as sa_text
from sqlalchemy.orm import Session

from ..data import db, prepared
from ..data.models import Event, EventHorizon
from ..data.prepared import Prepared
from ..data.sql import ID_IN, IdArray, UTCDateTime, json_array_insert
from ..errors import ApiError
from ..scope import Actor, Scope
from .wakeup import WAKEUP

INSTANCE_KINDS = ("process", "set", "module")
RELATION = "processmodule"
# the watch's resources (§15) and the obj_type of their events
RESOURCES = {"process": "process", "set": "set", "module": "module", "process_module": RELATION}
ACTIONS = ("create", "update", "delete")
PAGE = 200  # bk-cmdb answers at most 200 events per watch
CURSOR_EXPIRED = 1103007  # bk-cmdb's CCErrEventChainNodeNotExist: the client lists again


def _note_written(sess: Session) -> None:
    sess.info["events_written"] = True


@sa_event.listens_for(Session, "after_commit")
def _after_commit(sess: Session) -> None:
    # This worker's watchers wake at once; other processes hear NOTIFY (PostgreSQL) or poll.
    if sess.info.pop("events_written", False):
        WAKEUP.notify()


@sa_event.listens_for(Session, "after_rollback")
def _after_rollback(sess: Session) -> None:
    sess.info.pop("events_written", None)


_INSERT = json_array_insert(
    "INSERT INTO events (bk_supplier_account, bk_biz_id, event_type, obj_type, action, inst_id,"
    " action_time, request_id, data)"
    " SELECT :account, :biz, :event_type, :obj_type, :action, {inst_id}, :time, :request_id,"
    " {data} FROM {elements} ORDER BY {position}",
    ints=("inst_id",),
    objects=("data",),
    time="time",
)


def _insert(sess, scope: Scope, actor: Actor, event_type, obj_type, action, rows) -> None:
    params = {
        "account": scope.account,
        "biz": scope.biz_id,
        "event_type": event_type,
        "obj_type": obj_type,
        "action": action,
        "time": datetime.now(UTC),
        "request_id": actor.request_id,
        "rows": orjson.dumps(rows).decode(),
    }
    sess.execute(_INSERT[sess.get_bind().dialect.name], params)
    _note_written(sess)


# Issue 18 (migration 0008): an instance event refers to its audit row (audit_id) instead of
# copying its images (a batch of 1000 wrote them twice); Event.data reads them from there. The
# values are audit.record_many's parameters; ``{audit_rows}`` are the audit rows just written,
# as ``a``, in their order: on PostgreSQL the data-modifying CTE that wrote them (audit.py),
# on SQLite read back by their ids.
INSTANCES = (
    "INSERT INTO events (bk_supplier_account, bk_biz_id, event_type, obj_type, action, inst_id,"
    " action_time, request_id, audit_id)"
    " SELECT :account, :biz, 'instdata', :target, :action, a.inst_id, :op_time, :request_id,"
    " a.id FROM {audit_rows}"
)
_INSTANCES_OF_IDS = Prepared(
    sa_text(
        INSTANCES.format(
            audit_rows="audit_log a WHERE "
            + ID_IN["sqlite"].format(column="a.id", ids=":ids")
            + " ORDER BY a.id"
        )
    ).bindparams(bindparam("ids", type_=IdArray()), bindparam("op_time", type_=UTCDateTime()))
)


def record_instances(sess: Session, params: dict, audit_ids: list[int] | None) -> None:
    """One event per audit row of a process, set or module change (audit.record_many), in
    their order. ``audit_ids``: the rows, whose events are written here (SQLite); None: the
    caller's statement wrote them with the rows (PostgreSQL, INSTANCES)."""
    if audit_ids is not None:
        prepared.on(sess.connection()).run(_INSTANCES_OF_IDS, {**params, "ids": audit_ids})
    _note_written(sess)


def record_relation(sess, scope, actor, action: str, process_id: int, *names: str) -> None:
    """A process bound to (``create``) or unbound from (``delete``) module names: one event
    each, in one statement."""
    rows = []
    for name in names:
        detail = {
            "bk_process_id": process_id,
            "bk_module_name": name,
            "bk_supplier_account": scope.account,
            "bk_biz_id": scope.biz_id,
        }
        image = {"cur_data": None, "pre_data": detail}
        if action == "create":
            image = {"cur_data": detail, "pre_data": None}
        rows.append({"inst_id": process_id, "data": [image]})
    if rows:
        _insert(sess, scope, actor, "relation", RELATION, action, rows)


# --- the watch -----------------------------------------------------------------------------


class Watchers:
    """How many watches this worker holds at once: each holds a thread of the worker, so past
    the limit a watch answers at once ("nothing new", with the cursor) instead of waiting."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.held = 0

    def enter(self, limit: int) -> bool:
        with self._lock:
            if self.held >= limit:
                return False
            self.held += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self.held -= 1


WATCHERS = Watchers()


def watch(sess: Session, account: str, resource: str, body: dict) -> dict:
    """bk-cmdb's resource_watch: the events of ``resource`` after the cursor (or from a time,
    or from now), held until one commits or the hold time passes."""
    config = current_app.config
    WAKEUP.listen(config["DATABASE_URL"])  # this process's LISTEN thread (PostgreSQL), once
    obj_type = RESOURCES[resource]
    types = body.get("bk_event_types") or list(ACTIONS)
    fields = body.get("bk_fields") or []
    with db.read(sess):
        after = _start(sess, account, body)
    hold = config["WATCH_HOLD_SECONDS"] if WATCHERS.enter(config["WATCHERS_PER_WORKER"]) else 0
    try:
        deadline = time.monotonic() + hold
        while True:
            generation = WAKEUP.generation()
            with db.read(sess, snapshot=True):
                found, latest = _after(sess, account, obj_type, types, after)
            if found:
                return {
                    "bk_watched": True,
                    "bk_events": [_shown(e, resource, fields) for e in found],
                }
            after = max(after, latest)
            left = deadline - time.monotonic()
            if left <= 0:
                break
            WAKEUP.wait(generation, min(left, _poll(sess)))
    finally:
        if hold:
            WATCHERS.leave()
    # nothing new: one event carrying the cursor to continue from (bk-cmdb's shape)
    return {
        "bk_watched": False,
        "bk_events": [
            {
                "bk_cursor": str(after),
                "bk_resource": resource,
                "bk_event_type": "",
                "bk_detail": None,
            }
        ],
    }


def _poll(sess: Session) -> float:
    """How long a waiting watch sleeps between reads when nothing wakes it: PostgreSQL's
    NOTIFY wakes it (wakeup.py); on SQLite, writes of other processes are seen by polling."""
    if sess.get_bind().dialect.name == "postgresql" and WAKEUP.listening():
        return 5.0
    return current_app.config["WATCH_POLL_SECONDS"]


def _start(sess: Session, account: str, body: dict) -> int:
    """The id the watch reads after: the cursor, the last event before bk_start_from, or the
    newest event (from now). A cursor the retention has passed has expired."""
    removed = sess.scalar(select(EventHorizon.removed_through).where(EventHorizon.id == 1)) or 0
    cursor = body.get("bk_cursor")
    if cursor:
        if not cursor.isdigit() or len(cursor) > 19:
            raise ApiError(1199006, "bk_cursor")
        if int(cursor) < removed:
            raise ApiError(CURSOR_EXPIRED)
        return int(cursor)
    newest = sess.scalar(select(func.coalesce(func.max(Event.id), 0)))
    start_from = body.get("bk_start_from")
    if start_from:
        since = datetime.fromtimestamp(start_from, UTC)
        first = sess.scalar(select(func.min(Event.id)).where(Event.action_time >= since))
        if first is None:
            return newest
        if first - 1 < removed:
            raise ApiError(CURSOR_EXPIRED)
        return first - 1
    return newest


def _after(sess: Session, account: str, obj_type: str, types: list[str], after: int):
    """Up to PAGE events of the resource after ``after``, and the newest id of all (so that a
    watch with nothing of its own moves on past the others' events)."""
    found = sess.execute(
        select(Event)
        .where(
            Event.bk_supplier_account == account,
            Event.obj_type == obj_type,
            Event.id > after,
            Event.action.in_(types),
        )
        .order_by(Event.id)
        .limit(PAGE)
    ).scalars()
    found = list(found)
    latest = sess.scalar(select(func.coalesce(func.max(Event.id), 0)))
    return found, latest


def _shown(event: Event, resource: str, fields: list[str]) -> dict:
    image = event.data[0] if event.data else {}
    detail = image.get("pre_data") if event.action == "delete" else image.get("cur_data")
    if fields and isinstance(detail, dict):
        detail = {k: detail.get(k) for k in fields}
    return {
        "bk_cursor": str(event.id),
        "bk_resource": resource,
        "bk_event_type": event.action,
        "bk_detail": detail,
    }
