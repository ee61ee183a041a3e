"""Process bindings to module names (docs/api.md §3): list, bind, unbind.

A binding names a module, not a module row: it reaches every module of that name in the
business, and outlives renames and deletions of modules (§6), which get_process_bind_module
then lists last with set_num 0.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from ..attributes import PROCESS
from ..data.models import Module, Process, ProcessBinding
from ..data.prepared import Prepared, Reader
from ..errors import not_found
from ..scope import Actor, Scope
from . import audit, events, objects
from .transaction import write

# The binding list's statements, built once (issue 7: building them per request was a sizeable
# part of it) and run on the driver's connection (issue 18): the process's existence, the
# business's normal module names in the order the first module of each name was created, and the
# process's bindings in the order they were made.
_ACCOUNT, _BIZ, _PROCESS = bindparam("account"), bindparam("biz"), bindparam("process_id")
_P, _M, _B = Process.__table__.c, Module.__table__.c, ProcessBinding.__table__.c
_PROCESS_EXISTS = Prepared(
    select(_P.bk_process_id).where(
        _P.bk_supplier_account == _ACCOUNT, _P.bk_biz_id == _BIZ, _P.bk_process_id == _PROCESS
    )
)
_BOUND = Prepared(
    select(_B.bk_module_name)
    .where(_B.bk_process_id == _PROCESS)
    .order_by(_B.create_time, _B.bk_module_name)
)
_MODULE_NAMES = Prepared(
    select(_M.bk_module_name, func.count().label("set_num"))
    .where(_M.bk_supplier_account == _ACCOUNT, _M.bk_biz_id == _BIZ, _M.default == 0)
    .group_by(_M.bk_module_name)
    .order_by(func.min(_M.bk_module_id), _M.bk_module_name)
)


def list_modules(reader: Reader, scope: Scope, process_id: int) -> list[dict]:
    """One entry per module name of the business's normal modules, in the order the first
    module of each name was created, then any binding whose name has no normal module."""
    params = {"account": scope.account, "biz": scope.biz_id, "process_id": process_id}
    if reader.first(_PROCESS_EXISTS, params) is None:
        raise not_found(f"bk_process_id {process_id}")
    modules = reader.all(_MODULE_NAMES, params)
    bound = [name for (name,) in reader.all(_BOUND, params)]
    listed = [
        {"bk_module_name": name, "set_num": count, "is_bind": int(name in bound)}
        for name, count in modules
    ]
    names = {entry["bk_module_name"] for entry in listed}
    dangling = [{"bk_module_name": n, "set_num": 0, "is_bind": 1} for n in bound if n not in names]
    return listed + dangling


@write
def bind(sess: Session, scope: Scope, actor: Actor, process_id: int, name: str) -> None:
    # The process row lock makes concurrent binds of one process take turns.
    objects.get(sess, PROCESS, scope, process_id, lock=True)
    exists = select(Module.bk_module_id).where(
        *_normal_modules(scope), Module.bk_module_name == name
    )
    if sess.scalar(exists.limit(1)) is None:
        raise not_found(f"bk_module_name {name}")
    names = _bound_names(sess, process_id)
    if name in names:
        return  # already bound: nothing changes, nothing to audit
    sess.add(
        ProcessBinding(
            bk_process_id=process_id,
            bk_module_name=name,
            create_time=datetime.now(UTC),
            # the process's own account and business (migration 0003, for counting by name)
            bk_supplier_account=scope.account,
            bk_biz_id=scope.biz_id,
        )
    )
    _audit(sess, scope, actor, process_id, f"bind module [{name}]", names, names | {name})
    events.record_relation(sess, scope, actor, "create", process_id, name)


@write
def unbind(sess: Session, scope: Scope, actor: Actor, process_id: int, name: str) -> None:
    objects.get(sess, PROCESS, scope, process_id, lock=True)
    names = _bound_names(sess, process_id)
    if name not in names:
        return  # unbinding what is not bound is a no-op success
    sess.execute(
        delete(ProcessBinding).where(
            ProcessBinding.bk_process_id == process_id, ProcessBinding.bk_module_name == name
        )
    )
    _audit(sess, scope, actor, process_id, f"unbind module [{name}]", names, names - {name})
    events.record_relation(sess, scope, actor, "delete", process_id, name)


def _normal_modules(scope: Scope) -> list:
    return [
        Module.bk_supplier_account == scope.account,
        Module.bk_biz_id == scope.biz_id,
        Module.default == 0,
    ]


def _bound_names(sess: Session, process_id: int) -> set[str]:
    bound = select(ProcessBinding.bk_module_name).where(ProcessBinding.bk_process_id == process_id)
    return set(sess.scalars(bound))


def _audit(sess, scope, actor, process_id: int, desc: str, pre: set, cur: set) -> None:
    pre_data, cur_data = {"bk_module_names": sorted(pre)}, {"bk_module_names": sorted(cur)}
    audit.record(
        sess,
        scope,
        actor,
        audit.UPDATE,
        "process",
        process_id,
        pre_data,
        cur_data,
        desc,
        event=False,
    )
