"""One generic service over a Kind (attributes.py): get, create, update, delete with their
audit rows, and search. Processes, sets and modules are each a few lines on top of it."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Select, bindparam, select
from sqlalchemy import insert as sql_insert
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from ..attributes import Kind
from ..data import custom, prepared, query, sql
from ..data.models import MODELS
from ..data.prepared import Prepared
from ..errors import not_found
from ..scope import Actor, Scope
from ..values import render
from . import audit, model, transaction


def in_scope(kind: Kind, scope: Scope) -> list[ColumnElement]:
    table = MODELS[kind.name].__table__  # the table's columns: query.build's are
    return [table.c.bk_supplier_account == scope.account, table.c.bk_biz_id == scope.biz_id]


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


def images(kind: Kind, rows) -> list[dict]:
    """Rows of the kind's preset and system columns, then ``custom``, as to_dict's dicts: the
    batch update's 1000 pre-images (issue 18: to_dict's per-field lookups were a third of
    its Python time)."""
    plain = [a.id for a in (*kind.preset, *kind.system)]
    times = [a.id for a in (*kind.preset, *kind.system) if a.type == "time"]
    preset, own = plain[: len(kind.preset)], [a.id for a in kind.custom]
    found = []
    for row in rows:
        values = dict(zip(plain, row, strict=False))  # the row ends with custom
        for name in times:
            values[name] = render(values[name])
        if own:
            stored = row[-1] or {}
            image = {name: values[name] for name in preset}
            image.update((name, stored.get(name)) for name in own)
            image.update((a.id, values[a.id]) for a in kind.system)
            values = image
        found.append(values)
    return found


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


def create(sess: Session, kind: Kind, scope: Scope, actor: Actor, values: dict, **fixed) -> dict:
    """Insert an object (``fixed``: values from the path, such as a module's set), audit it,
    and answer its image (to_dict's). One INSERT … RETURNING, built once per kind (issue 18:
    an ORM object added and flushed cost more than the rest of a create)."""
    model.guard(sess, scope.account, kind)
    made = _statements(kind.name)
    columns, own = split(kind, values)
    now = datetime.now(UTC)
    params = {
        **made.defaults,
        **columns,
        **fixed,
        "bk_supplier_account": scope.account,
        "bk_biz_id": scope.biz_id,
        "create_time": now,
        "last_time": now,
        "custom": custom.merged({}, own),
    }
    # on the driver's connection, in the session's transaction (issue 18, data/prepared.py)
    (row,) = prepared.on(sess.connection()).all(made.insert, params, keys=tuple(sorted(params)))
    (image,) = images(kind, [row])
    audit.record(sess, scope, actor, audit.CREATE, kind.name, image[kind.id_field], {}, image)
    return image


def update(
    sess: Session,
    kind: Kind,
    scope: Scope,
    actor: Actor,
    obj_id: int,
    values: dict,
    **within,
) -> None:
    """Change the values sent to the object of this id in this scope (and ``within``: column
    values it must have, such as a module's set), or 404 naming the id; last_time moves even
    when nothing else does. Statements built once per kind, on the request's connection
    (issue 18: loading, tracking and flushing an ORM object was half of an update's time),
    reading the row locked, as get(lock=True) does."""
    model.guard(sess, scope.account, kind)
    # on the driver's connection, in the session's transaction (issue 18, data/prepared.py)
    reader = prepared.on(sess.connection())
    made = _statements(kind.name)
    key = {"account": scope.account, "biz": scope.biz_id, "obj_id": obj_id}
    row = reader.first(made.locked_row(tuple(within)), {**key, **within})
    if row is None:
        raise not_found(f"{kind.id_field} {obj_id}")
    (pre,) = images(kind, [row])
    columns, own = split(kind, values)
    if own:
        columns["custom"] = custom.merged(row[-1] or {}, own)
    # even two updates within one clock tick
    last_time = max(datetime.now(UTC), row[made.last_time] + timedelta(microseconds=1))
    # the SET clause is the parameters' columns, compiled once for each set of them
    params = {**columns, "last_time": last_time, "obj_id": obj_id}
    reader.run(made.update, params, keys=tuple(sorted(params)))
    cur = {**pre, **values, "last_time": render(last_time)}
    audit.record(sess, scope, actor, audit.UPDATE, kind.name, obj_id, pre, cur)


class _Statements:
    """One kind's write statements, built once: a statement used again keeps its cache key,
    which SQLAlchemy otherwise computes on every execution by walking the whole statement."""

    def __init__(self, kind: Kind) -> None:
        self.table = table = MODELS[kind.name].__table__
        self.id_column = table.c[kind.id_field]
        # the columns images() reads: preset and system attributes, then custom
        self.columns = [table.c[a.id] for a in (*kind.preset, *kind.system)] + [table.c.custom]
        self.last_time = [c.key for c in self.columns].index("last_time")  # in a row
        self.insert = Prepared(sql_insert(table).returning(*self.columns))
        # what SQLAlchemy would fill in for a column an insert leaves out (Python-side
        # defaults: "" for text, a preset enum's default); ``custom`` is always given
        self.defaults = {
            c.key: c.default.arg
            for c in table.columns
            if c.default is not None and c.default.is_scalar
        }
        self.update = Prepared(sql_update(table).where(self.id_column == bindparam("obj_id")))
        self._rows: dict[tuple[str, ...], Prepared] = {}

    def locked_row(self, within: tuple[str, ...]) -> Prepared:
        found = self._rows.get(within)
        if found is None:
            table = self.table
            found = self._rows[within] = Prepared(
                select(*self.columns)
                .where(
                    table.c.bk_supplier_account == bindparam("account"),
                    table.c.bk_biz_id == bindparam("biz"),
                    self.id_column == bindparam("obj_id"),
                    *(table.c[name] == bindparam(name) for name in within),
                )
                .with_for_update()
            )
        return found


@functools.lru_cache(maxsize=8)
def _statements(kind_name: str) -> _Statements:
    return _Statements(model.BY_NAME[kind_name])


def delete(
    sess: Session, kind: Kind, scope: Scope, actor: Actor, obj, removed: dict | None = None
) -> None:
    """Delete an object; ``removed`` adds what went with it to the audit row's pre_data."""
    model.guard(sess, scope.account, kind)  # its audit image has the model's attributes
    pre = to_dict(kind, obj) | (removed or {})
    sess.delete(obj)
    sess.flush()
    inst_id = getattr(obj, kind.id_field)
    audit.record(sess, scope, actor, audit.DELETE, kind.name, inst_id, pre, {})


def search(
    sess: Session,
    kind: Kind,
    scope: Scope,
    body: dict,
    regex_timeout_ms: int,
    where: Iterable[ColumnElement] = (),
    special: query.Special | None = None,
    count: tuple[Select, dict] | None = None,
    scope_rows: tuple[Select, dict] | None = None,
) -> dict:
    """search_process, search_set, search_module: ``body`` has been through SearchSchema.
    ``count``: a cheaper statement for the total than counting the matches, and its
    parameters (counting.py); ``scope_rows``: one for how many rows the scope holds, and its
    values, which a lookup in a trigram index is weighed against (sql.trigram_choice)."""
    page = body["page"]
    few = sql.trigram_choice(sess, *scope_rows) if scope_rows else None
    found = query.build(
        kind,
        {"bk_supplier_account": scope.account, "bk_biz_id": scope.biz_id},
        list(where),
        condition=body["condition"],
        fields=body["fields"],
        start=page["start"],
        limit=page["limit"],
        sort=page["sort"],
        special=special,
        few=few,
    )
    if count is not None:
        (found.count, found.count_params), found.kept_count = count, True
    return transaction.search(sess, found, regex_timeout_ms)
