"""The six process operations of contract §3, as plain functions over a Session.

They take values the API layer has already validated (schemas.py) and own the transactions:
each write and its audit rows commit together, or not at all.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import case, select
from sqlalchemy import delete as sql_delete
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from .. import counting, db, query
from ..attributes import ATTRIBUTES, PROCESS
from ..errors import not_found
from ..models import Process, ProcessBinding
from . import Actor, Scope, audit, shared
from .shared import touch, write

TICK = timedelta(microseconds=1)


@write
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


@write
def update(sess: Session, scope: Scope, actor: Actor, process_id: int, values: dict) -> None:
    process = get(sess, scope, process_id, lock=True)
    _change(sess, scope, actor, process, values)


@write
def batch_update(sess: Session, scope: Scope, actor: Actor, ids: list[int], values: dict) -> None:
    """Set-based (issue 7): one SELECT … FOR UPDATE for the pre-images, one UPDATE for every
    id, one multi-row INSERT of audit rows; the same rows and audit content as one update per
    process, in one transaction."""
    table = Process.__table__
    scoped = (table.c.bk_supplier_account == scope.account, table.c.bk_biz_id == scope.biz_id)
    # Locked in id order, so that two overlapping batches do not wait on each other's rows;
    # read by the key in its order, even before PostgreSQL has statistics (db.index_order).
    db.index_order(sess)
    rows = sess.execute(
        select(*(table.c[name] for name in PROCESS.output_fields))
        .where(*scoped, table.c.bk_process_id.in_(ids))
        .order_by(table.c.bk_process_id)
        .with_for_update()
    ).all()
    missing_ids = sorted(set(ids) - {row.bk_process_id for row in rows})
    if missing_ids:
        raise not_found("bk_process_id " + ",".join(map(str, missing_ids)))
    # last_time moves on every update, even within one clock tick (shared.touch): a row whose
    # last_time is not before now gets its own value, in the same statement.
    now = datetime.now(UTC)
    later = {r.bk_process_id: r.last_time + TICK for r in rows if r.last_time + TICK > now}
    last_time = case(later, value=table.c.bk_process_id, else_=now) if later else now
    sess.execute(
        sql_update(table)
        .where(*scoped, table.c.bk_process_id.in_(ids))
        .values(**values, last_time=last_time)
    )
    changes = []
    for row in rows:
        pre = to_dict(row)
        stamp = shared.render(later.get(row.bk_process_id, now))
        changes.append((row.bk_process_id, pre, {**pre, **values, "last_time": stamp}))
    audit.record_many(sess, scope, actor, op_type=audit.UPDATE, target="process", changes=changes)


@write
def delete(sess: Session, scope: Scope, actor: Actor, process_id: int) -> None:
    process = get(sess, scope, process_id, lock=True)
    bound = ProcessBinding.bk_process_id == process_id
    names = sorted(sess.scalars(select(ProcessBinding.bk_module_name).where(bound)))
    pre = to_dict(process) | {"bk_module_names": names}
    # The foreign key cascades too; deleting here keeps the audit row and the data in step.
    sess.execute(sql_delete(ProcessBinding).where(bound))
    sess.delete(process)
    _audit(sess, scope, actor, audit.DELETE, process_id, pre, {})


def search(sess: Session, scope: Scope, params: dict, regex_timeout_ms: int = 2000) -> dict:
    """``params`` has been through SearchSchema; query.build checks the rest."""
    where = [Process.bk_supplier_account == scope.account, Process.bk_biz_id == scope.biz_id]
    found = query.build(PROCESS, where, params, special={"bk_module_name": _bound_to})
    # Issue 7: a whole business, or a module name alone, reads a count kept or indexed for it.
    cheaper = counting.process_count(scope, params["condition"])
    if cheaper is not None:
        found.count = cheaper
    return shared.search(sess, found, params["page"]["start"], regex_timeout_ms)


def _bound_to(value: object):
    """bk_module_name in a condition: processes bound to that name (or any of several). EXISTS
    probing the bindings' primary key (process, name) for each candidate process (issue 7):
    its cost follows the processes read, whatever the statistics say, where IN (sub-select)
    could become a nested loop over every binding of the name."""
    names = query.names("bk_module_name", value)
    return (
        select(ProcessBinding.bk_process_id)
        .where(
            ProcessBinding.bk_process_id == Process.bk_process_id,
            ProcessBinding.bk_module_name.in_(names),
        )
        .exists()
    )


def detail(sess: Session, scope: Scope, process_id: int, lang: str) -> list[dict]:
    # Issue 7: a Core row of the 22 columns, not an ORM object (about a third of the
    # request's time went to building and tracking the Process instance).
    table = Process.__table__
    stmt = select(*(table.c[attr.id] for attr in ATTRIBUTES)).where(
        table.c.bk_supplier_account == scope.account,
        table.c.bk_biz_id == scope.biz_id,
        table.c.bk_process_id == process_id,
    )
    with db.read(sess):
        row = sess.execute(stmt).first()
    if row is None:
        raise not_found(f"bk_process_id {process_id}")
    return [
        {
            "bk_property_id": attr.id,
            "bk_property_name": attr.name(lang),
            "bk_property_value": value,
        }
        for attr, value in zip(ATTRIBUTES, row, strict=True)
    ]


def _scoped(scope: Scope):
    return select(Process).where(
        Process.bk_supplier_account == scope.account, Process.bk_biz_id == scope.biz_id
    )


def get(sess: Session, scope: Scope, process_id: int, lock: bool = False) -> Process:
    stmt = _scoped(scope).where(Process.bk_process_id == process_id)
    process = sess.scalars(stmt.with_for_update() if lock else stmt).one_or_none()
    if process is None:
        raise not_found(f"bk_process_id {process_id}")
    return process


def _change(sess: Session, scope: Scope, actor: Actor, process: Process, values: dict) -> None:
    pre = to_dict(process)
    for name, value in values.items():
        setattr(process, name, value)
    touch(process)
    sess.flush()
    _audit(sess, scope, actor, audit.UPDATE, process.bk_process_id, pre, to_dict(process))


def _audit(sess, scope, actor, op_type: int, process_id: int, pre: dict, cur: dict) -> None:
    audit.record(
        sess, scope, actor, op_type=op_type, target="process", inst_id=process_id, pre=pre, cur=cur
    )


def to_dict(process: Process) -> dict:
    return shared.to_dict(PROCESS, process)
