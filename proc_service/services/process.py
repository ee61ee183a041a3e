"""The process operations of contract §3 over the generic service (objects.py). What is theirs
alone: batch update, delete taking the bindings along, detail rows, the module-name filter."""

from __future__ import annotations

from sqlalchemy import delete as sql_delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import db, query
from ..attributes import PROCESS
from ..errors import not_found
from ..models import Process, ProcessBinding
from . import Actor, Scope, objects
from .transaction import write


@write
def create(sess: Session, scope: Scope, actor: Actor, values: dict) -> int:
    return objects.create(sess, PROCESS, scope, actor, values).bk_process_id


@write
def update(sess: Session, scope: Scope, actor: Actor, process_id: int, values: dict) -> None:
    process = objects.get(sess, PROCESS, scope, process_id, lock=True)
    objects.update(sess, PROCESS, scope, actor, process, values)


@write
def batch_update(sess: Session, scope: Scope, actor: Actor, ids: list[int], values: dict) -> None:
    """All listed processes or none (§3): every id must exist before any is written."""
    # Locked in id order, so that two overlapping batches do not wait on each other's rows.
    processes = sess.scalars(
        select(Process)
        .where(*objects.in_scope(PROCESS, scope), Process.bk_process_id.in_(ids))
        .order_by(Process.bk_process_id)
        .with_for_update()
    ).all()
    missing_ids = sorted(set(ids) - {p.bk_process_id for p in processes})
    if missing_ids:
        raise not_found("bk_process_id " + ",".join(map(str, missing_ids)))
    for process in processes:
        objects.update(sess, PROCESS, scope, actor, process, values)


@write
def delete(sess: Session, scope: Scope, actor: Actor, process_id: int) -> None:
    """The process and its bindings; the audit row keeps the bindings' names."""
    process = objects.get(sess, PROCESS, scope, process_id, lock=True)
    bound = ProcessBinding.bk_process_id == process_id
    names = sorted(sess.scalars(select(ProcessBinding.bk_module_name).where(bound)))
    # The foreign key cascades too; deleting here keeps the audit row and the data in step.
    sess.execute(sql_delete(ProcessBinding).where(bound))
    objects.delete(sess, PROCESS, scope, actor, process, removed={"bk_module_names": names})


def search(sess: Session, scope: Scope, body: dict, regex_timeout_ms: int) -> dict:
    special = {"bk_module_name": _bound_to}
    return objects.search(sess, PROCESS, scope, body, regex_timeout_ms, special=special)


def _bound_to(value: object) -> list:
    """bk_module_name in a condition: processes bound to that name (or any of several), as one
    sub-select rather than a query per process."""
    names = query.names("bk_module_name", value)
    bound = select(ProcessBinding.bk_process_id).where(ProcessBinding.bk_module_name.in_(names))
    return [Process.bk_process_id.in_(bound)]


def detail(sess: Session, scope: Scope, process_id: int, lang: str) -> list[dict]:
    """The 22 attributes in §2 order, named in ``lang``."""
    with db.read(sess):
        process = objects.get(sess, PROCESS, scope, process_id)
    return [
        {
            "bk_property_id": attr.id,
            "bk_property_name": attr.name(lang),
            "bk_property_value": getattr(process, attr.id),
        }
        for attr in PROCESS.attributes
    ]
