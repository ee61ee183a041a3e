"""Sets and modules (docs/api.md §6) over the generic service (objects.py): the topology that
process bindings name.

A module belongs to one set, and carries the set's account and business. Bindings are by module
*name* (§3), so no change here ever touches a binding.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..attributes import MODULE, SET, Kind
from ..data import db
from ..data.models import Module
from ..errors import ApiError
from ..scope import Actor, Scope
from . import model, objects
from .transaction import write

# ``sets`` / ``modules``: the account's model of that kind (services/model.py, §14).


@write
def create_set(sess: Session, sets: Kind, scope: Scope, actor: Actor, values: dict) -> dict:
    return objects.create(sess, sets, scope, actor, values)


@write
def update_set(
    sess: Session, sets: Kind, scope: Scope, actor: Actor, set_id: int, values: dict
) -> None:
    objects.update(sess, sets, scope, actor, set_id, values)


@write
def delete_set(sess: Session, sets: Kind, scope: Scope, actor: Actor, set_id: int) -> None:
    """The set and every module in it, with an audit row for each."""
    found = objects.get(sess, SET, scope, set_id, lock=True)
    modules_model = model.current(sess, scope.account, MODULE)
    modules = sess.scalars(
        select(Module)
        .where(Module.bk_set_id == set_id)
        .order_by(Module.bk_module_id)
        .with_for_update()
    ).all()
    for module in modules:  # the foreign key cascades too; here each removal is audited
        objects.delete(sess, modules_model, scope, actor, module)
    objects.delete(sess, sets, scope, actor, found)


def search_sets(sess: Session, sets: Kind, scope: Scope, body: dict, regex_timeout_ms: int):
    return objects.search(sess, sets, scope, body, regex_timeout_ms)


@write
def create_module(
    sess: Session, modules: Kind, scope: Scope, actor: Actor, set_id: int, values: dict
) -> dict:
    # A shared lock: delete_set waits until this module exists, then deletes it with its set.
    objects.get(sess, SET, scope, set_id, lock=True, shared_lock=True)
    return objects.create(sess, modules, scope, actor, values, bk_set_id=set_id)


@write
def update_module(
    sess: Session,
    modules: Kind,
    scope: Scope,
    actor: Actor,
    set_id: int,
    module_id: int,
    values: dict,
) -> None:
    try:
        objects.update(sess, modules, scope, actor, module_id, values, bk_set_id=set_id)
    except ApiError:  # an unknown set is named before the module (_get_module)
        objects.get(sess, SET, scope, set_id)
        raise


@write
def delete_module(
    sess: Session, modules: Kind, scope: Scope, actor: Actor, set_id: int, module_id: int
) -> None:
    objects.delete(sess, modules, scope, actor, _get_module(sess, scope, set_id, module_id))


def search_modules(
    sess: Session, modules: Kind, scope: Scope, set_id: int, body: dict, regex_timeout_ms: int
) -> dict:
    """The modules of one set; an unknown set is 404, not an empty list."""
    with db.read(sess):
        objects.get(sess, SET, scope, set_id)
    where = [Module.__table__.c.bk_set_id == set_id]
    return objects.search(sess, modules, scope, body, regex_timeout_ms, where=where)


def _get_module(sess: Session, scope: Scope, set_id: int, module_id: int) -> Module:
    """A module of this set, locked for a write. An unknown set is named before the module."""
    try:
        where = [Module.bk_set_id == set_id]
        return objects.get(sess, MODULE, scope, module_id, lock=True, where=where)
    except ApiError:
        objects.get(sess, SET, scope, set_id)
        raise
