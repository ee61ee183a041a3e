"""The six process operations of contract §3, as plain functions over a Session.

They take values the API layer has already validated (schemas.py) and own the transactions:
each write and its audit rows commit together, or not at all.
"""

from __future__ import annotations

import functools
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete as sql_delete
from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from .. import db, query
from ..attributes import ATTRIBUTES, OUTPUT_FIELDS, UNIQUE_RULES
from ..errors import ApiError, not_found
from ..models import Process, ProcessBinding
from . import Actor, Scope, audit

# PostgreSQL aborts one of two writers that wait on each other (say, two batches taking the
# same unique keys in opposite order); the aborted one is simply run again.
RETRYABLE = {"40P01"}  # deadlock_detected
WRITE_ATTEMPTS = 3


def render(value: object) -> object:
    return value.isoformat(timespec="microseconds") if isinstance(value, datetime) else value


def to_dict(process: Process) -> dict:
    return {name: render(getattr(process, name)) for name in OUTPUT_FIELDS}


def _write(operation):
    """Run ``operation(sess, ...)`` as one write transaction. A unique-index violation becomes
    409 / 1199014; a deadlock or serialization failure runs the whole operation again."""

    @functools.wraps(operation)
    def run(sess: Session, *args, **kwargs):
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with db.write(sess):
                    return operation(sess, *args, **kwargs)
            except IntegrityError as exc:
                raise _conflict(exc) from None
            except OperationalError as exc:
                if attempt == WRITE_ATTEMPTS or _sqlstate(exc) not in RETRYABLE:
                    raise
        raise AssertionError("unreachable")

    return run


@_write
def create(sess: Session, scope: Scope, actor: Actor, values: dict) -> int:
    now = datetime.now(UTC)
    process = Process(
        bk_supplier_account=scope.account,
        bk_biz_id=scope.biz_id,
        create_time=now,
        last_time=now,
        **values,
    )
    sess.add(process)
    sess.flush()
    _audit(sess, scope, actor, audit.CREATE, process.bk_process_id, {}, to_dict(process))
    return process.bk_process_id


@_write
def update(sess: Session, scope: Scope, actor: Actor, process_id: int, values: dict) -> None:
    process = _get(sess, scope, process_id, lock=True)
    _change(sess, scope, actor, process, values)


@_write
def batch_update(sess: Session, scope: Scope, actor: Actor, ids: list[int], values: dict) -> None:
    # Locked in id order, so that two overlapping batches do not wait on each other's rows.
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


@_write
def delete(sess: Session, scope: Scope, actor: Actor, process_id: int) -> None:
    process = _get(sess, scope, process_id, lock=True)
    bound = ProcessBinding.bk_process_id == process_id
    names = sorted(sess.scalars(select(ProcessBinding.bk_module_name).where(bound)))
    pre = to_dict(process) | {"bk_module_names": names}
    # The foreign key cascades too; deleting here keeps the audit row and the data in step.
    sess.execute(sql_delete(ProcessBinding).where(bound))
    sess.delete(process)
    _audit(sess, scope, actor, audit.DELETE, process_id, pre, {})


def search(sess: Session, scope: Scope, params: dict, regex_timeout_ms: int = 2000) -> dict:
    """``params`` has been through SearchSchema; query.build checks the rest. A $regex search
    gets ``regex_timeout_ms``: regex.py refuses the patterns it knows to be costly, but some
    stay slow ("[ab]*a[ab]{64}c" on long values), on either database."""
    found = query.build(scope.account, scope.biz_id, params)
    try:
        limit = db.time_limit(sess, regex_timeout_ms) if found.regex_fields else nullcontext()
        with db.read(sess, snapshot=True), limit:
            count = sess.scalar(found.count)
            beyond = count <= params["page"]["start"]
            rows = [] if beyond else sess.execute(found.page).mappings().all()
    except (DataError, OperationalError) as exc:
        # A pattern one engine refused or ran out of time on: the pattern is at fault.
        if found.regex_fields and (isinstance(exc, DataError) or db.timed_out(exc)):
            raise ApiError(1199006, found.regex_fields[0]) from None
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


def _sqlstate(exc: Exception) -> str | None:
    return getattr(getattr(exc, "orig", None), "sqlstate", None)


def _conflict(exc: IntegrityError) -> Exception:
    """The unique rule an IntegrityError broke, as 409 / 1199014 naming its attributes."""
    orig = exc.orig
    constraint = getattr(getattr(orig, "diag", None), "constraint_name", None) or ""
    message = str(orig)
    # SQLite names the columns of a plain unique index, or the index for an expression index.
    failed = {c.strip().removeprefix("processes.") for c in message.partition(": ")[2].split(",")}
    for rule, attr_ids, _ in UNIQUE_RULES:
        index = f"uq_processes_{rule}"
        columns = {"bk_supplier_account", "bk_biz_id", *attr_ids}
        if constraint == index or f"'{index}'" in message or failed == columns:
            return ApiError(1199014, ",".join(attr_ids))
    return exc
