"""Sets and modules (contract §6): the topology that process bindings name.

A module belongs to one set, and carries the set's account and business. Bindings are by module
*name* (§3), so no change here ever touches a binding.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import db, query
from ..attributes import MODULE, SET, Kind
from ..errors import not_found
from ..models import Module, Set
from . import Actor, Scope, audit, shared
from .shared import touch, write


@write
def create_set(sess: Session, scope: Scope, actor: Actor, values: dict) -> dict:
    return _create(sess, scope, actor, SET, Set(**values))


@write
def update_set(sess: Session, scope: Scope, actor: Actor, set_id: int, values: dict) -> None:
    _update(sess, scope, actor, SET, _get_set(sess, scope, set_id, lock=True), values)


@write
def delete_set(sess: Session, scope: Scope, actor: Actor, set_id: int) -> None:
    """The set and every module in it, with an audit row for each."""
    found = _get_set(sess, scope, set_id, lock=True)
    modules = sess.scalars(
        select(Module)
        .where(Module.bk_set_id == set_id)
        .order_by(Module.bk_module_id)
        .with_for_update()
    ).all()
    for module in modules:  # the foreign key cascades too; here each removal is audited
        _delete(sess, scope, actor, MODULE, module)
    _delete(sess, scope, actor, SET, found)


def search_sets(sess: Session, scope: Scope, params: dict, regex_timeout_ms: int) -> dict:
    where = [Set.bk_supplier_account == scope.account, Set.bk_biz_id == scope.biz_id]
    found = query.build(SET, where, params)
    return shared.search(sess, found, params["page"]["start"], regex_timeout_ms)


@write
def create_module(sess: Session, scope: Scope, actor: Actor, set_id: int, values: dict) -> dict:
    # A shared lock: delete_set waits until this module exists, then deletes it with its set.
    _get_set(sess, scope, set_id, lock=True, shared_lock=True)
    return _create(sess, scope, actor, MODULE, Module(bk_set_id=set_id, **values))


@write
def update_module(
    sess: Session, scope: Scope, actor: Actor, set_id: int, module_id: int, values: dict
) -> None:
    module = _get_module(sess, scope, set_id, module_id)
    _update(sess, scope, actor, MODULE, module, values)


@write
def delete_module(sess: Session, scope: Scope, actor: Actor, set_id: int, module_id: int) -> None:
    _delete(sess, scope, actor, MODULE, _get_module(sess, scope, set_id, module_id))


def search_modules(
    sess: Session, scope: Scope, set_id: int, params: dict, regex_timeout_ms: int
) -> dict:
    """The modules of one set; an unknown set is 404, not an empty list."""
    with db.read(sess):
        _get_set(sess, scope, set_id)
    where = [
        Module.bk_supplier_account == scope.account,
        Module.bk_biz_id == scope.biz_id,
        Module.bk_set_id == set_id,
    ]
    found = query.build(MODULE, where, params)
    return shared.search(sess, found, params["page"]["start"], regex_timeout_ms)


def _get_set(
    sess: Session, scope: Scope, set_id: int, lock: bool = False, shared_lock: bool = False
) -> Set:
    stmt = select(Set).where(
        Set.bk_supplier_account == scope.account,
        Set.bk_biz_id == scope.biz_id,
        Set.bk_set_id == set_id,
    )
    if lock:
        stmt = stmt.with_for_update(read=shared_lock)
    found = sess.scalars(stmt).one_or_none()
    if found is None:
        raise not_found(f"bk_set_id {set_id}")
    return found


def _get_module(sess: Session, scope: Scope, set_id: int, module_id: int) -> Module:
    """A module of this set, locked for a write. An unknown set is named before the module."""
    module = sess.scalars(
        select(Module)
        .where(
            Module.bk_supplier_account == scope.account,
            Module.bk_biz_id == scope.biz_id,
            Module.bk_set_id == set_id,
            Module.bk_module_id == module_id,
        )
        .with_for_update()
    ).one_or_none()
    if module is None:
        _get_set(sess, scope, set_id)
        raise not_found(f"bk_module_id {module_id}")
    return module


def _create(sess: Session, scope: Scope, actor: Actor, kind: Kind, obj) -> dict:
    now = datetime.now(UTC)
    obj.bk_supplier_account = scope.account
    obj.bk_biz_id = scope.biz_id
    obj.create_time = obj.last_time = now
    sess.add(obj)
    sess.flush()
    created = shared.to_dict(kind, obj)
    _audit(sess, scope, actor, kind, audit.CREATE, obj, {}, created)
    return created


def _update(sess: Session, scope: Scope, actor: Actor, kind: Kind, obj, values: dict) -> None:
    pre = shared.to_dict(kind, obj)
    for name, value in values.items():
        setattr(obj, name, value)
    touch(obj)
    sess.flush()
    _audit(sess, scope, actor, kind, audit.UPDATE, obj, pre, shared.to_dict(kind, obj))


def _delete(sess: Session, scope: Scope, actor: Actor, kind: Kind, obj) -> None:
    pre = shared.to_dict(kind, obj)
    sess.delete(obj)
    sess.flush()
    _audit(sess, scope, actor, kind, audit.DELETE, obj, pre, {})


def _audit(sess, scope, actor, kind: Kind, op_type: int, obj, pre: dict, cur: dict) -> None:
    inst_id = getattr(obj, kind.id_field)
    audit.record(
        sess, scope, actor, op_type=op_type, target=kind.name, inst_id=inst_id, pre=pre, cur=cur
    )
