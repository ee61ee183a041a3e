"""One generic service over a Kind (attributes.py): get, create, update, delete with their
audit rows, and search. Processes, sets and modules are each a few lines on top of it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from ..attributes import Kind
from ..data import custom, query, sql
from ..data.models import MODELS
from ..errors import not_found
from ..scope import Actor, Scope
from ..values import render
from . import audit, model, transaction


def in_scope(kind: Kind, scope: Scope) -> list[ColumnElement]:
    model = MODELS[kind.name]
    return [model.bk_supplier_account == scope.account, model.bk_biz_id == scope.biz_id]


def to_dict(kind: Kind, obj) -> dict:
    """An object's attributes and system fields, as search shows them (an ORM object or a row
    with the kind's columns and ``custom``)."""
    if not kind.custom:
        return {name: render(getattr(obj, name)) for name in kind.output_fields}
    values = obj.custom or {}
    return {
        name: values.get(name) if kind.by_id[name].custom else render(getattr(obj, name))
        for name in kind.output_fields
    }


def split(kind: Kind, values: dict) -> tuple[dict, dict]:
    """Body values as (columns, custom values): the custom ones live in one JSON column."""
    if not kind.custom:
        return values, {}
    own = {a.id for a in kind.custom}
    return (
        {k: v for k, v in values.items() if k not in own},
        {k: v for k, v in values.items() if k in own},
    )


def get(
    sess: Session,
    kind: Kind,
    scope: Scope,
    obj_id: int,
    *,
    lock: bool = False,
    shared_lock: bool = False,
    where: Iterable[ColumnElement] = (),
):
    """The object of this id in this scope, or 404 / 1199019 naming the id. ``lock`` takes its
    row lock for a write (``shared_lock``: a share lock) until the transaction ends."""
    model = MODELS[kind.name]
    stmt = select(model).where(
        *in_scope(kind, scope), getattr(model, kind.id_field) == obj_id, *where
    )
    if lock:
        stmt = stmt.with_for_update(read=shared_lock)
    found = sess.scalars(stmt).one_or_none()
    if found is None:
        raise not_found(f"{kind.id_field} {obj_id}")
    return found


def create(sess: Session, kind: Kind, scope: Scope, actor: Actor, values: dict, **fixed):
    """Insert an object (``fixed``: values from the path, such as a module's set) and audit it."""
    if kind.version:
        model.guard(sess, scope.account, kind)
    columns, own = split(kind, values)
    now = datetime.now(UTC)
    obj = MODELS[kind.name](
        bk_supplier_account=scope.account,
        bk_biz_id=scope.biz_id,
        create_time=now,
        last_time=now,
        custom=custom.merged({}, own),
        **fixed,
        **columns,
    )
    sess.add(obj)
    sess.flush()
    _audit(sess, kind, scope, actor, audit.CREATE, obj, {}, to_dict(kind, obj))
    return obj


def update(sess: Session, kind: Kind, scope: Scope, actor: Actor, obj, values: dict) -> None:
    """Change the values sent; last_time moves even when nothing else does."""
    if kind.version:
        model.guard(sess, scope.account, kind)
    pre = to_dict(kind, obj)
    columns, own = split(kind, values)
    for name, value in columns.items():
        setattr(obj, name, value)
    if own:
        obj.custom = custom.merged(obj.custom or {}, own)
    # even two updates within one clock tick
    obj.last_time = max(datetime.now(UTC), obj.last_time + timedelta(microseconds=1))
    sess.flush()
    _audit(sess, kind, scope, actor, audit.UPDATE, obj, pre, to_dict(kind, obj))


def delete(
    sess: Session, kind: Kind, scope: Scope, actor: Actor, obj, removed: dict | None = None
) -> None:
    """Delete an object; ``removed`` adds what went with it to the audit row's pre_data."""
    pre = to_dict(kind, obj) | (removed or {})
    sess.delete(obj)
    sess.flush()
    _audit(sess, kind, scope, actor, audit.DELETE, obj, pre, {})


def search(
    sess: Session,
    kind: Kind,
    scope: Scope,
    body: dict,
    regex_timeout_ms: int,
    where: Iterable[ColumnElement] = (),
    special: query.Special | None = None,
    count: Select | None = None,
    scope_rows: tuple[Select, dict] | None = None,
) -> dict:
    """search_process, search_set, search_module: ``body`` has been through SearchSchema.
    ``count``: a cheaper statement for the total than counting the matches (counting.py);
    ``scope_rows``: one for how many rows the scope holds, and its values, which a lookup in a
    trigram index is weighed against (sql.trigram_choice)."""
    page = body["page"]
    few = sql.trigram_choice(sess, *scope_rows) if scope_rows else None
    found = query.build(
        kind,
        [*in_scope(kind, scope), *where],
        condition=body["condition"],
        fields=body["fields"],
        start=page["start"],
        limit=page["limit"],
        sort=page["sort"],
        special=special,
        few=few,
    )
    if count is not None:
        found.count, found.kept_count = count, True
    return transaction.search(sess, found, regex_timeout_ms)


def _audit(sess, kind: Kind, scope, actor, op_type: int, obj, pre: dict, cur: dict) -> None:
    inst_id = getattr(obj, kind.id_field)
    audit.record(sess, scope, actor, op_type, kind.name, inst_id, pre, cur)
