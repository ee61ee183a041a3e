"""The process operations of docs/api.md §3 over the generic service (objects.py). What is theirs
alone: batch update, delete taking the bindings along, detail rows, the module-name filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, case, select
from sqlalchemy import delete as sql_delete
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from ..attributes import PROCESS, Kind
from ..data import custom, db, query
from ..data.models import Process, ProcessBinding
from ..data.prepared import Prepared, Reader
from ..data.sql import id_in
from ..errors import not_found
from ..scope import Actor, Scope
from ..values import render
from . import audit, counting, events, model, objects
from .transaction import write

TICK = timedelta(microseconds=1)


# ``kind``: the account's process model (services/model.py: PROCESS and its custom attributes).


@write
def create(sess: Session, kind: Kind, scope: Scope, actor: Actor, values: dict) -> int:
    return objects.create(sess, kind, scope, actor, values)["bk_process_id"]


@write
def update(
    sess: Session, kind: Kind, scope: Scope, actor: Actor, process_id: int, values: dict
) -> None:
    objects.update(sess, kind, scope, actor, process_id, values)


@write
def batch_update(
    sess: Session, kind: Kind, scope: Scope, actor: Actor, ids: list[int], values: dict
) -> None:
    """All listed processes or none (§3), set-based (issue 7): one SELECT … FOR UPDATE of the
    pre-images, one UPDATE of every id, one INSERT of the audit rows; the same rows and audit
    content as one update per process, in one transaction."""
    model.guard(sess, scope.account, kind)
    table = Process.__table__
    scoped = objects.in_scope(PROCESS, scope)
    columns, own = objects.split(kind, values)
    read = [table.c[a.id] for a in (*kind.preset, *kind.system)]
    # Locked in id order, so that two overlapping batches do not wait on each other's rows;
    # read by the key in its order, even before PostgreSQL has statistics (db.index_order).
    db.index_order(sess)
    rows = (
        sess.connection()
        .execute(
            select(*read, table.c.custom)
            .where(*scoped, id_in(table.c.bk_process_id, ids))
            .order_by(table.c.bk_process_id)
            .with_for_update()
        )
        .all()
    )
    missing_ids = sorted(set(ids) - {row.bk_process_id for row in rows})
    if missing_ids:
        raise not_found("bk_process_id " + ",".join(map(str, missing_ids)))
    # last_time moves on every update, even within one clock tick (objects.update): a row whose
    # last_time is not before now gets its own value, in the same statement.
    now = datetime.now(UTC)
    later = {r.bk_process_id: r.last_time + TICK for r in rows if r.last_time + TICK > now}
    last_time = case(later, value=table.c.bk_process_id, else_=now) if later else now
    if own:  # the custom values, merged in the same statement
        columns = {**columns, "custom": custom.custom_merge(table.c.custom, own)}
    sess.execute(
        sql_update(table)
        .where(*scoped, id_in(table.c.bk_process_id, ids))
        .values(**columns, last_time=last_time)
    )
    changes = []
    stamp = render(now)
    for pre in objects.images(kind, rows):
        moved = later.get(pre["bk_process_id"])
        cur = {**pre, **values, "last_time": stamp if moved is None else render(moved)}
        changes.append((pre["bk_process_id"], pre, cur))
    audit.record_many(sess, scope, actor, op_type=audit.UPDATE, target="process", changes=changes)


@write
def delete(sess: Session, kind: Kind, scope: Scope, actor: Actor, process_id: int) -> None:
    """The process and its bindings; the audit row keeps the bindings' names."""
    process = objects.get(sess, PROCESS, scope, process_id, lock=True)
    bound = ProcessBinding.bk_process_id == process_id
    names = sorted(sess.scalars(select(ProcessBinding.bk_module_name).where(bound)))
    # The foreign key cascades too; deleting here keeps the audit row and the data in step.
    sess.execute(sql_delete(ProcessBinding).where(bound))
    objects.delete(sess, kind, scope, actor, process, removed={"bk_module_names": names})
    # its bindings went with it: a watcher of process_module hears of each (§15)
    events.record_relation(sess, scope, actor, "delete", process_id, *names)


def search(sess: Session, kind: Kind, scope: Scope, body: dict, regex_timeout_ms: int) -> dict:
    """The pipe: the kept count (services/counting.py), then query.build's WHERE, ORDER BY and
    page with bk_module_name as EXISTS on the bindings, run by transaction.search."""
    parsed: dict[str, list[str]] = {}

    def module_names(value: object) -> list[str]:
        # bk_module_name is read once, by whichever step needs it first (so a body with two
        # bad keys still gets the error of the first one it sent)
        if "names" not in parsed:
            parsed["names"] = query.names("bk_module_name", value)
        return parsed["names"]

    # Issue 7: a whole business, or a module name alone, reads a count kept for it.
    count = counting.process_count(kind, scope, body["condition"], module_names)
    special = {"bk_module_name": lambda value: _bound_to(module_names(value))}
    rows = counting.business(scope)
    return objects.search(
        sess, kind, scope, body, regex_timeout_ms, special=special, count=count, scope_rows=rows
    )


def _bound_to(names: list[str]) -> query.Bound:
    """bk_module_name in a condition: processes bound to that name (or any of several). EXISTS
    probing the bindings' primary key (process, name) for each candidate process (issue 7):
    its cost follows the processes read, whatever the statistics say, where IN (sub-select)
    could become a nested loop over every binding of the name. Built once, the names bound
    (issue 18)."""
    return query.Bound([_BOUND_TO], {"module_names": names})


_BINDINGS = ProcessBinding.__table__.c
_BOUND_TO = (
    select(_BINDINGS.bk_process_id)
    .where(
        _BINDINGS.bk_process_id == Process.__table__.c.bk_process_id,
        _BINDINGS.bk_module_name.in_(bindparam("module_names", expanding=True)),
    )
    .exists()
)


# The detail statement, built once: its columns and bound parameters never change, and building
# 22 column expressions per request was a sizeable part of a detail (issue 7); run on the
# driver's connection (issue 18).
_TABLE = Process.__table__
_DETAIL = Prepared(
    select(*(_TABLE.c[attr.id] for attr in PROCESS.attributes), _TABLE.c.custom).where(
        _TABLE.c.bk_supplier_account == bindparam("account"),
        _TABLE.c.bk_biz_id == bindparam("biz"),
        _TABLE.c.bk_process_id == bindparam("process_id"),
    )
)


def detail(reader: Reader, kind: Kind, scope: Scope, process_id: int, lang: str) -> list[dict]:
    """The 22 attributes in §2 order, then the account's own in theirs (§14), named in
    ``lang``: a row of their columns, not an ORM object (issue 7: building and tracking one
    was a third of the request)."""
    params = {"account": scope.account, "biz": scope.biz_id, "process_id": process_id}
    row = reader.first(_DETAIL, params)
    if row is None:
        raise not_found(f"bk_process_id {process_id}")
    own = row[-1] or {}
    values = [*row[:-1], *(own.get(attr.id) for attr in kind.custom)]
    return [
        {
            "bk_property_id": attr.id,
            "bk_property_name": attr.name(lang),
            "bk_property_value": value,
        }
        for attr, value in zip(kind.attributes, values, strict=True)
    ]
