"""Event subscriptions (§15): bk-cmdb v3.1's event_subscribe (subscribe, update, unsubscribe,
search, ping, telnet), account-wide; delivery itself is services/delivery.py."""

from __future__ import annotations

from datetime import UTC, datetime

import re2
from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from ..data import db
from ..data.models import Event, Subscription
from ..errors import ApiError, not_found
from ..scope import Actor
from . import callbacks
from .events import ACTIONS, INSTANCE_KINDS, RELATION
from .transaction import write

# bk-cmdb v3.1's event names: <obj_type><action>, and the bare relation type for bind/unbind
EVENT_NAMES = {f"{kind}{action}" for kind in INSTANCE_KINDS for action in ACTIONS} | {RELATION}
DEFAULT_TIME_OUT, MAX_TIME_OUT = 10, 60
WAITING_CAP = 100_000  # "events waiting" is counted up to this many
EDITABLE = (
    "subscription_name",
    "system_name",
    "callback_url",
    "confirm_mode",
    "confirm_pattern",
    "subscription_form",
    "time_out",
)


def normalise(body: dict) -> dict:
    """A subscription body as stored: the form sorted, the v3.1 defaults filled in, the URL
    and pattern checked."""
    names = [n.strip() for n in body["subscription_form"].split(",") if n.strip()]
    if not names or any(n not in EVENT_NAMES for n in names):
        raise ApiError(1199006, "subscription_form")
    time_out = body.get("time_out")
    if time_out is None:
        time_out = body.get("timeout")
    if time_out is None or time_out <= 0:
        time_out = DEFAULT_TIME_OUT  # v3.1: time_out <= 0 is 10 s
    mode, pattern = body["confirm_mode"], body.get("confirm_pattern") or ""
    if mode == "httpstatus":
        pattern = pattern or "200"
        if not (len(pattern) == 3 and pattern.isdigit()):
            raise ApiError(1199006, "confirm_pattern")
    else:
        try:
            re2.compile(pattern)
        except re2.error:
            raise ApiError(1199006, "confirm_pattern") from None
    callbacks.checked(body["callback_url"])
    return {
        "subscription_name": body["subscription_name"],
        "system_name": body.get("system_name") or "",
        "callback_url": body["callback_url"],
        "confirm_mode": mode,
        "confirm_pattern": pattern,
        "subscription_form": ",".join(sorted(set(names))),
        "time_out": min(time_out, MAX_TIME_OUT),
    }


def subscribe(sess: Session, account: str, actor: Actor, body: dict) -> int:
    """subscribe_event; two subscribes of one new name at once: the second updates the first's."""
    try:
        return _subscribe(sess, account, actor, body)
    except ApiError as exc:
        if exc.code != 1199014:
            raise
        return _subscribe(sess, account, actor, body)


@write
def _subscribe(sess: Session, account: str, actor: Actor, body: dict) -> int:
    """A new subscription, delivering the events committed from now on; a name the account
    already has updates that subscription (v3.1's "rebook") and answers its id."""
    values = normalise(body)
    now = datetime.now(UTC)
    found = sess.scalar(
        select(Subscription)
        .where(
            Subscription.bk_supplier_account == account,
            Subscription.subscription_name == values["subscription_name"],
        )
        .with_for_update()
    )
    if found is not None:
        for key, value in values.items():
            setattr(found, key, value)
        found.operator, found.last_time = actor.operator, now
        return found.subscription_id
    newest = sess.scalar(select(func.coalesce(func.max(Event.id), 0)))
    row = Subscription(
        bk_supplier_account=account,
        operator=actor.operator,
        create_time=now,
        last_time=now,
        cursor=newest,
        **values,
    )
    sess.add(row)
    sess.flush()
    return row.subscription_id


@write
def update(sess: Session, account: str, actor: Actor, subscription_id: int, body: dict) -> None:
    row = _one(sess, account, subscription_id, lock=True)
    merged = {key: getattr(row, key) for key in EDITABLE}
    merged.update({k: v for k, v in body.items() if v is not None})
    values = normalise(merged)
    for key, value in values.items():
        setattr(row, key, value)
    row.operator, row.last_time = actor.operator, datetime.now(UTC)


@write
def unsubscribe(sess: Session, account: str, subscription_id: int) -> None:
    _one(sess, account, subscription_id, lock=True)
    sess.execute(delete(Subscription).where(Subscription.subscription_id == subscription_id))


def _one(sess: Session, account: str, subscription_id: int, lock: bool = False) -> Subscription:
    stmt = select(Subscription).where(
        Subscription.bk_supplier_account == account,
        Subscription.subscription_id == subscription_id,
    )
    found = sess.scalar(stmt.with_for_update() if lock else stmt)
    if found is None:
        raise not_found(f"subscription_id {subscription_id}")
    return found


def matching(form: str):
    """The SQL test of the events a subscription's form names."""
    tests = []
    for name in form.split(","):
        if name == RELATION:
            tests.append(Event.obj_type == RELATION)
            continue
        for kind in INSTANCE_KINDS:
            if name.startswith(kind) and name[len(kind) :] in ACTIONS:
                tests.append(and_(Event.obj_type == kind, Event.action == name[len(kind) :]))
    return or_(*tests)


def waiting(sess: Session, row: Subscription) -> int:
    """Events after the subscription's cursor that it takes (counted up to WAITING_CAP)."""
    pending = (
        select(Event.id)
        .where(
            Event.bk_supplier_account == row.bk_supplier_account,
            Event.id > row.cursor,
            matching(row.subscription_form),
        )
        .limit(WAITING_CAP)
        .subquery()
    )
    return sess.scalar(select(func.count()).select_from(pending))


def search(sess: Session, account: str, body: dict) -> dict:
    """v3.1's search: {condition, fields, page {start, limit, sort}} → {count, info}; the
    condition's keys and types are schemas/events.py's SubscriptionConditionSchema."""
    tests = [Subscription.bk_supplier_account == account]
    for key, value in body["condition"].items():
        tests.append(getattr(Subscription, key) == value)
    page = body.get("page") or {}
    start, limit = page.get("start", 0), page.get("limit") or 200
    sort = page.get("sort") or "subscription_id"
    column = getattr(Subscription, sort.lstrip("-"))
    order = column.desc() if sort.startswith("-") else column.asc()
    fields = body.get("fields") or []
    with db.read(sess, snapshot=True):
        count = sess.scalar(select(func.count()).select_from(Subscription).where(*tests))
        rows = sess.scalars(
            select(Subscription)
            .where(*tests)
            .order_by(order, Subscription.subscription_id)
            .offset(start)
            .limit(limit)
        ).all()
        info = [shown(sess, row) for row in rows]
    if fields:
        info = [{k: v for k, v in item.items() if k in fields} for item in info]
    return {"count": count, "info": info}


def shown(sess: Session, row: Subscription) -> dict:
    def when(value):
        return value.isoformat() if value else None

    return {
        "subscription_id": row.subscription_id,
        "subscription_name": row.subscription_name,
        "system_name": row.system_name,
        "callback_url": row.callback_url,
        "confirm_mode": row.confirm_mode,
        "confirm_pattern": row.confirm_pattern,
        "subscription_form": row.subscription_form,
        "time_out": row.time_out,
        "bk_supplier_account": row.bk_supplier_account,
        "operator": row.operator,
        "last_time": when(row.last_time),
        "statistics": {"total": row.total, "failure": row.failure},
        # ours (§15): where delivery stands
        "delivery": {
            "cursor": str(row.cursor),
            "waiting": waiting(sess, row),
            "dropped": row.dropped,
            "last_success_time": when(row.last_success_time),
            "last_error": row.last_error,
            "last_error_time": when(row.last_error_time),
            "next_attempt_time": when(row.next_attempt_time),
        },
    }


def ping(url: str, data: str) -> dict:
    """POST ``data`` to the URL (the rules of callbacks.py): its status and answer."""
    try:
        status, answer = callbacks.post(url, data.encode(), DEFAULT_TIME_OUT)
    except callbacks.Refused as exc:
        raise ApiError(1103004, str(exc)) from None
    return {"http_status": status, "response_body": answer}


def telnet(url: str) -> None:
    try:
        callbacks.telnet(url, DEFAULT_TIME_OUT)
    except callbacks.Refused as exc:
        raise ApiError(1103005, str(exc)) from None


def delivery_figures(sess: Session) -> tuple[int, list[dict]]:
    """For /metrics: the newest event id, and per subscription its counts, events waiting and
    the age in seconds of the oldest one waiting (0 when none waits)."""
    now = datetime.now(UTC)
    with db.read(sess):
        newest = sess.scalar(select(func.coalesce(func.max(Event.id), 0)))
        figures = []
        for row in sess.scalars(select(Subscription).order_by(Subscription.subscription_id)):
            oldest = sess.scalar(
                select(Event.action_time)
                .where(
                    Event.bk_supplier_account == row.bk_supplier_account,
                    Event.id > row.cursor,
                    matching(row.subscription_form),
                )
                .order_by(Event.id)
                .limit(1)
            )
            figures.append(
                {
                    "subscription": str(row.subscription_id),
                    "account": row.bk_supplier_account,
                    "delivered": row.total,
                    "failed": row.failure,
                    "dropped": row.dropped,
                    "waiting": waiting(sess, row),
                    "oldest": (now - oldest).total_seconds() if oldest else 0.0,
                }
            )
    return newest, figures
