"""The six process operations of contract §3, as plain functions over a Session."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from marshmallow import missing
from sqlalchemy import delete as sql_delete
from sqlalchemy import select, text
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from .. import db, query
from ..attributes import ATTRIBUTES, OUTPUT_FIELDS, UNIQUE_RULES
from ..errors import ApiError, not_found
from ..models import Process, ProcessBinding
from ..schemas import (
    INT64_MAX,
    ProcessBatchUpdateSchema,
    ProcessCreateSchema,
    ProcessUpdateSchema,
    SearchSchema,
    load,
)
from . import Actor, Scope, audit

BATCH_LIMIT = 1000
# PostgreSQL's regex engine is not linear-time: "(a?a?a?a?){120}" costs it half a second per
# 2000-character value. A $regex search gets this long per statement, then 400 / 1199006.
REGEX_TIMEOUT_MS = 2000
QUERY_CANCELED = "57014"
_ID_TEXT = re.compile(r"\+?0*([0-9]{1,19})")  # as path ids: leading zeros allowed


def render(value: object) -> object:
    return value.isoformat(timespec="microseconds") if isinstance(value, datetime) else value


def to_dict(process: Process) -> dict:
    return {name: render(getattr(process, name)) for name in OUTPUT_FIELDS}


def create(sess: Session, scope: Scope, actor: Actor, body: dict) -> int:
    values = load(ProcessCreateSchema(), body)
    now = datetime.now(UTC)
    process = Process(
        bk_supplier_account=scope.account,
        bk_biz_id=scope.biz_id,
        create_time=now,
        last_time=now,
        **values,
    )
    with _writing(sess):
        sess.add(process)
        sess.flush()
        _audit(sess, scope, actor, audit.CREATE, process.bk_process_id, {}, to_dict(process))
    return process.bk_process_id


def search(sess: Session, scope: Scope, body: dict) -> dict:
    params = load(SearchSchema(), body, ignore=())
    dialect = sess.get_bind().dialect.name
    found = query.build(scope.account, scope.biz_id, params, dialect)
    try:
        with db.read(sess, snapshot=True):
            if found.regex_fields and dialect == "postgresql":
                sess.execute(text(f"SET LOCAL statement_timeout = {REGEX_TIMEOUT_MS}"))
            count = sess.scalar(found.count)
            rows = (
                sess.execute(found.page).mappings().all() if count > params["page"]["start"] else []
            )
    except DataError:
        # PostgreSQL refusing a $regex that RE2 accepted (say a{300}); anything else is ours.
        if found.regex_fields:
            raise ApiError(1199006, found.regex_fields[0]) from None
        raise
    except OperationalError as exc:
        if found.regex_fields and getattr(exc.orig, "sqlstate", None) == QUERY_CANCELED:
            raise ApiError(1199006, found.regex_fields[0]) from None  # too costly a pattern
        raise
    info = [{name: render(row[name]) for name in found.fields} for row in rows]
    return {"count": count, "info": info}


def detail(sess: Session, scope: Scope, process_id: int, lang: str) -> list[dict]:
    with db.read(sess):
        process = _get(sess, scope, process_id)
    return [
        {
            "bk_property_id": attr.id,
            "bk_property_name": attr.name(lang),
            "bk_property_value": getattr(process, attr.id),
        }
        for attr in ATTRIBUTES
    ]


def update(sess: Session, scope: Scope, actor: Actor, process_id: int, body: dict) -> None:
    values = load(ProcessUpdateSchema(), body)
    with _writing(sess):
        process = _get(sess, scope, process_id, lock=True)
        _change(sess, scope, actor, process, values)


def batch_update(sess: Session, scope: Scope, actor: Actor, body: dict) -> None:
    ids = parse_ids(body.get("bk_process_id", missing))
    values = load(ProcessBatchUpdateSchema(), body, ignore=("bk_biz_id", "bk_process_id"))
    if not values:
        raise ApiError(1199008, "attributes")
    with _writing(sess):
        # Locked in id order, so that two overlapping batches cannot deadlock.
        processes = sess.scalars(
            _scoped(scope)
            .where(Process.bk_process_id.in_(ids))
            .order_by(Process.bk_process_id)
            .with_for_update()
        ).all()
        missing_ids = sorted(set(ids) - {p.bk_process_id for p in processes})
        if missing_ids:
            raise not_found("bk_process_id " + ",".join(map(str, missing_ids)))
        for process in processes:
            _change(sess, scope, actor, process, values)


def delete(sess: Session, scope: Scope, actor: Actor, process_id: int) -> None:
    with _writing(sess):
        process = _get(sess, scope, process_id, lock=True)
        bound = ProcessBinding.bk_process_id == process_id
        names = sorted(sess.scalars(select(ProcessBinding.bk_module_name).where(bound)))
        pre = to_dict(process) | {"bk_module_names": names}
        sess.execute(sql_delete(ProcessBinding).where(bound))
        sess.delete(process)
        _audit(sess, scope, actor, audit.DELETE, process_id, pre, {})


def parse_ids(raw: object) -> list[int]:
    """batch_update_process's bk_process_id: "44,45", 44 or [44, 45]; duplicates collapse."""
    if raw is missing:
        raise ApiError(1199008, "bk_process_id")
    if isinstance(raw, str):
        items = [item.strip() for item in raw.split(",")]
    elif isinstance(raw, list) and raw:
        items = raw
    else:
        items = [raw]
    ids: dict[int, None] = {}
    for item in items:
        if isinstance(item, str) and (match := _ID_TEXT.fullmatch(item)):
            item = int(match.group(1))
        if isinstance(item, bool) or not isinstance(item, int) or not 0 < item <= INT64_MAX:
            raise ApiError(1199003, "bk_process_id")
        ids[item] = None
    if len(ids) > BATCH_LIMIT:
        raise ApiError(1199035, "bk_process_id", BATCH_LIMIT)
    return list(ids)


def _scoped(scope: Scope):
    return select(Process).where(
        Process.bk_supplier_account == scope.account, Process.bk_biz_id == scope.biz_id
    )


def _get(sess: Session, scope: Scope, process_id: int, lock: bool = False) -> Process:
    stmt = _scoped(scope).where(Process.bk_process_id == process_id)
    process = sess.scalars(stmt.with_for_update() if lock else stmt).one_or_none()
    if process is None:
        raise not_found(f"bk_process_id {process_id}")
    return process


def _change(sess: Session, scope: Scope, actor: Actor, process: Process, values: dict) -> None:
    pre = to_dict(process)
    for name, value in values.items():
        setattr(process, name, value)
    # last_time moves on every update, even two within one clock tick.
    process.last_time = max(datetime.now(UTC), process.last_time + timedelta(microseconds=1))
    sess.flush()
    _audit(sess, scope, actor, audit.UPDATE, process.bk_process_id, pre, to_dict(process))


def _audit(sess, scope, actor, op_type: int, process_id: int, pre: dict, cur: dict) -> None:
    verb = {audit.CREATE: "create", audit.UPDATE: "update", audit.DELETE: "delete"}[op_type]
    audit.record(
        sess,
        scope,
        actor,
        op_type=op_type,
        target="process",
        inst_id=process_id,
        desc=f"{verb} process",
        pre=pre,
        cur=cur,
    )


@contextmanager
def _writing(sess: Session) -> Iterator[None]:
    """A write transaction whose unique-index violations become 409 / 1199014."""
    try:
        with db.write(sess):
            yield
    except IntegrityError as exc:
        raise _conflict(exc) from None


def _conflict(exc: IntegrityError) -> Exception:
    orig = exc.orig
    constraint = getattr(getattr(orig, "diag", None), "constraint_name", None) or ""
    text = str(orig)
    # SQLite names the columns of a plain unique index, or the index for an expression index.
    failed = {c.strip().removeprefix("processes.") for c in text.partition(": ")[2].split(",")}
    for rule, attr_ids, _ in UNIQUE_RULES:
        index = f"uq_processes_{rule}"
        columns = {"bk_supplier_account", "bk_biz_id", *attr_ids}
        if constraint == index or f"'{index}'" in text or failed == columns:
            return ApiError(1199014, ",".join(attr_ids))
    return exc
