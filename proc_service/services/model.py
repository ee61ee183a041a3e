"""An account's model (§14): the preset attribute tables (attributes.py) extended by the account's
custom attributes, and the model API that changes them.

Every request that reads or writes objects works with ``current(sess, account, kind)``: a Kind
like PROCESS, with the custom attributes after the preset ones, from which validation, detail
rows, search and audit images follow unchanged. Each worker keeps the models it has built; a
model is rebuilt when the account's version (model_versions, one row per account, moved by every
model change) is not the one it was built at. So the next request on every worker sees a change,
and a request reads one small row, not the attribute table.

A write validated against a model checks, in its own transaction, that the version is still the
same (``guard``; on PostgreSQL a share lock on the version row, which a model change's update
waits for): a model change and a write that uses it are ordered one way or the other, never
interleaved. A write that lost the race is validated again against the new model (web/endpoint.py).
"""

from __future__ import annotations

import threading
import weakref
from contextlib import nullcontext
from datetime import UTC, datetime

from sqlalchemy import Engine, bindparam, case, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..attributes import CUSTOM_LIMIT, CUSTOM_TYPES, KINDS, Attribute, Kind, Option, reserved
from ..data import custom, db, prepared
from ..data.models import MODELS, CustomAttribute, ModelVersion
from ..data.prepared import Reader
from ..data.regex import Refused, portable
from ..errors import ApiError, not_found
from ..scope import Actor, Scope
from ..values import Invalid, render, to_float, to_int
from . import audit
from .metadata import PRESET_IDS
from .transaction import write

BY_NAME = {kind.name: kind for kind in KINDS}
UNIQUE_TYPES = ("singlechar", "int")  # the types isonly takes (§14)
DEFINITION_FIELDS = (
    "bk_property_name",
    "option",
    "isrequired",
    "isonly",
    "editable",
    "placeholder",
    "unit",
    "description",
    "bk_property_group",
)


class ModelChanged(Exception):
    """The account's model moved between a write's validation and its transaction."""


# Per engine (a worker's database; two apps in one process, as the tests run them, each keep
# their own, as two workers do), then per (account, kind name).
_models: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_models_lock = threading.Lock()


def _known(sess: Session) -> dict[tuple[str, str], Kind]:
    bind = sess.get_bind()
    found = _models.get(bind)
    if found is None:
        with _models_lock:
            found = _models.setdefault(bind, {})
    return found


# The version is read by every request. Through SQLAlchemy (an ORM select built per request,
# or even a Core statement built once) it cost a SQLite detail a fifth of its time, about
# 100 µs of Python around a 5 µs query; so reads run it on the driver's connection. A write's
# check (share=True: FOR SHARE on PostgreSQL) is a Core statement.
_VERSION_SHARED = (
    select(ModelVersion.version)
    .where(ModelVersion.bk_supplier_account == bindparam("account"))
    .with_for_update(read=True)
)
_VERSION_SQL = "SELECT version FROM model_versions WHERE bk_supplier_account = {}"


def _version(sess: Session, account: str, *, share: bool = False) -> int:
    conn = sess.connection()
    if share and conn.dialect.name == "postgresql":
        return conn.execute(_VERSION_SHARED, {"account": account}).scalar() or 0
    return _stored_version(prepared.on(conn), account)


def _stored_version(reader: Reader, account: str) -> int:
    mark = "%s" if reader.dialect.name == "postgresql" else "?"
    found = reader.execute(_VERSION_SQL.format(mark), (account,))
    return found[0][0] if found else 0


def known(reader: Reader, engine: Engine, account: str | None, kind: Kind) -> Kind | None:
    """In a read on the driver's connection (data/prepared.py): the account's model of
    ``kind`` if this worker holds it at the version the read sees, else None (the caller builds
    it with ``current`` and reads again)."""
    if account is None:
        return kind
    version = _stored_version(reader, account)
    if version == 0:
        return kind
    cached = _models.get(engine, {}).get((account, kind.name))
    return cached if cached is not None and cached.version == version else None


def remembered(sess: Session, account: str | None, kind: Kind) -> Kind | None:
    """The account's model of ``kind`` as this worker last read it, or None. A write may be
    validated against it without reading the version first (issue 18: that read transaction
    was an eighth of an update), since its transaction checks the version (guard) and runs
    again with the current model if it moved."""
    return kind if account is None else _known(sess).get((account, kind.name))


def current(sess: Session, account: str | None, kind: Kind) -> Kind:
    """``kind`` as ``account`` has extended it (the preset kind when it has not). Outside a
    transaction it runs a short read transaction of its own; inside one, it reads there."""
    if account is None:
        return kind
    with nullcontext() if sess.in_transaction() else db.read(sess):
        version = _version(sess, account)
        if version == 0:
            _known(sess)[(account, kind.name)] = kind
            return kind
        cached = _known(sess).get((account, kind.name))
        if cached is not None and cached.version == version:
            return cached
        rows = _rows(sess, account, kind)
    model = kind.with_custom(tuple(attribute(kind, row) for row in rows), version)
    _known(sess)[(account, kind.name)] = model
    return model


def guard(sess: Session, account: str, model: Kind) -> None:
    """In a write's transaction: the model it was validated against is still the account's
    (the preset one included: version 0)."""
    if _version(sess, account, share=True) != model.version:
        raise ModelChanged


def attribute(kind: Kind, row: CustomAttribute) -> Attribute:
    """A stored definition as the Attribute the rest of the service works with."""
    internal = CUSTOM_TYPES[row.bk_property_type]
    option = row.option
    low = high = None
    options: tuple[Option, ...] = ()
    default = None
    pattern = ""
    if internal in ("int", "float") and isinstance(option, dict):
        number = to_int if internal == "int" else to_float
        low = number(option["min"]) if option.get("min", "") != "" else None
        high = number(option["max"]) if option.get("max", "") != "" else None
    elif internal == "enum":
        options = tuple(Option(o["id"], o["name"], o["name"]) for o in option or ())
        default = next((o["id"] for o in option or () if o.get("is_default")), None)
    elif internal in ("singlechar", "longchar") and option:
        pattern = portable(option)
    attr = Attribute(
        row.bk_property_id,
        row.bk_property_name,
        row.bk_property_name,
        internal,
        required=row.isrequired,
        minimum=low,
        maximum=high,
        options=options,
        default=default,
        custom=True,
        unique=row.isonly,
        pattern=pattern,
        definition_id=row.id,
    )
    if row.isonly:
        custom.INDEXED[custom.index_name(kind, attr)] = attr.id
    return attr


def definition(row: CustomAttribute) -> dict:
    """A definition as the model API and §11 answer it (bk-cmdb v3.1's field names)."""
    return {
        "id": row.id,
        "bk_obj_id": row.bk_obj_id,
        "bk_supplier_account": row.bk_supplier_account,
        "bk_property_id": row.bk_property_id,
        "bk_property_name": row.bk_property_name,
        "bk_property_type": row.bk_property_type,
        "option": row.option,
        "isrequired": row.isrequired,
        "isonly": row.isonly,
        "editable": row.editable,
        "ispre": False,
        "isreadonly": False,
        "isapi": False,
        "placeholder": row.placeholder,
        "unit": row.unit,
        "description": row.description,
        "bk_property_group": row.bk_property_group,
        "creator": row.creator,
        "create_time": render(row.create_time),
        "last_time": render(row.last_time),
    }


def _of(account: str, kind: Kind) -> list:
    return [CustomAttribute.bk_supplier_account == account, CustomAttribute.bk_obj_id == kind.name]


def _rows(sess: Session, account: str, kind: Kind) -> list[CustomAttribute]:
    """The account's definitions of ``kind``, in creation order."""
    stmt = select(CustomAttribute).where(*_of(account, kind)).order_by(CustomAttribute.id)
    return list(sess.scalars(stmt))


def definitions(sess: Session, account: str, kind: Kind) -> list[dict]:
    """The account's custom attributes of ``kind``, in creation order (§11)."""
    return [definition(row) for row in _rows(sess, account, kind)]


# --- option, by type ------------------------------------------------------------------------


def parse_option(bk_type: str, option: object) -> object:
    """A definition's option, checked for its type and stored in one form; 1199006 'option'."""
    internal = CUSTOM_TYPES[bk_type]
    try:
        if internal in ("int", "float"):
            return _range(internal, option)
        if internal == "enum":
            return _enum(option)
        if internal in ("singlechar", "longchar"):
            if option in (None, ""):
                return ""
            if not isinstance(option, str) or len(option) > 256:
                raise Invalid(1199006)
            portable(option)  # refused where the two databases' engines would differ
            return option
    except (Invalid, Refused, KeyError, TypeError):
        raise ApiError(1199006, "option") from None
    if option not in (None, "", {}):  # bool, date, time, objuser, timezone take none
        raise ApiError(1199006, "option")
    return None


def _range(internal: str, option: object) -> dict:
    if option in (None, "", {}):
        return {"min": "", "max": ""}
    if not isinstance(option, dict) or set(option) - {"min", "max"}:
        raise Invalid(1199006)
    number = to_int if internal == "int" else to_float
    bounds = {}
    for end in ("min", "max"):
        raw = option.get(end, "")
        bounds[end] = "" if raw in ("", None) else number(raw)
    if bounds["min"] != "" and bounds["max"] != "" and bounds["min"] > bounds["max"]:
        raise Invalid(1199006)
    # stored as strings, as bk-cmdb documents them
    return {end: "" if v == "" else str(v) for end, v in bounds.items()}


def _enum(option: object) -> list[dict]:
    if not isinstance(option, list) or not option or len(option) > 1000:
        raise Invalid(1199006)
    out, seen, defaults = [], set(), 0
    for item in option:
        if not isinstance(item, dict) or set(item) - {"id", "name", "type", "is_default"}:
            raise Invalid(1199006)
        oid, name = item["id"], item["name"]
        if isinstance(oid, int) and not isinstance(oid, bool):
            oid = str(oid)
        ok_text = all(isinstance(t, str) and 0 < len(t) <= 128 for t in (oid, name))
        if not ok_text or oid in seen or item.get("type", "text") != "text":
            raise Invalid(1199006)
        is_default = item.get("is_default", False)
        if not isinstance(is_default, bool):
            raise Invalid(1199006)
        defaults += is_default
        seen.add(oid)
        out.append({"id": oid, "name": name, "type": "text", "is_default": is_default})
    if defaults > 1:
        raise Invalid(1199006)
    return out


# --- the model API --------------------------------------------------------------------------


def _bump(sess: Session, account: str) -> None:
    """Move the account's version first in every model change: the row lock it takes orders
    the change after every write that validated against the old model (guard)."""
    dialect = sess.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # Microseconds since the epoch, or one more than before: a version is never used twice,
    # even for a database emptied and filled again under a running worker's cache.
    now = int(datetime.now(UTC).timestamp() * 1_000_000)
    stmt = insert(ModelVersion).values(bk_supplier_account=account, version=now)
    later = ModelVersion.version + 1
    stmt = stmt.on_conflict_do_update(
        index_elements=[ModelVersion.bk_supplier_account],
        set_={"version": case((later > now, later), else_=now)},
    )
    sess.execute(stmt)


def _scope(account: str) -> Scope:
    return Scope(account=account, biz_id=None)  # type: ignore[arg-type] - no business


@write
def create_attribute(sess: Session, account: str, actor: Actor, values: dict) -> dict:
    kind = BY_NAME[values["bk_obj_id"]]
    _bump(sess, account)
    property_id = values["bk_property_id"]
    if reserved(property_id):
        raise ApiError(1199006, "bk_property_id")
    bk_type = values["bk_property_type"]
    option = parse_option(bk_type, values.get("option"))
    if values["isonly"] and CUSTOM_TYPES[bk_type] not in UNIQUE_TYPES:
        raise ApiError(1199006, "isonly")
    count = sess.scalar(
        select(func.count()).select_from(CustomAttribute).where(*_of(account, kind))
    )
    if count >= CUSTOM_LIMIT:
        raise ApiError(1199035, f"custom attributes of {kind.name}", CUSTOM_LIMIT)
    now = datetime.now(UTC)
    row = CustomAttribute(
        bk_supplier_account=account,
        bk_obj_id=kind.name,
        bk_property_id=property_id,
        bk_property_name=values["bk_property_name"],
        bk_property_type=bk_type,
        option=option,
        isrequired=values["isrequired"],
        isonly=values["isonly"],
        editable=values["editable"],
        placeholder=values["placeholder"],
        unit=values["unit"],
        description=values["description"],
        bk_property_group=values["bk_property_group"],
        creator=values["creator"] or actor.operator,
        create_time=now,
        last_time=now,
    )
    sess.add(row)
    try:
        with sess.begin_nested():
            sess.flush()
    except IntegrityError:
        raise ApiError(1199014, "bk_property_id") from None
    if row.isonly:
        _unique_index(sess, kind, account, attribute(kind, row))
    out = definition(row)
    audit.record(sess, _scope(account), actor, audit.CREATE, "attribute", row.id, {}, out)
    return out


def _unique_index(sess: Session, kind: Kind, account: str, attr: Attribute) -> None:
    try:
        with sess.begin_nested():
            custom.create_unique_index(sess.connection(), kind, account, attr)
    except IntegrityError:  # values stored already repeat within a scope
        raise ApiError(1199014, attr.id) from None


def _get(sess: Session, account: str, attr_id: int) -> CustomAttribute:
    found = sess.scalars(
        select(CustomAttribute)
        .where(CustomAttribute.id == attr_id, CustomAttribute.bk_supplier_account == account)
        .with_for_update()
    ).one_or_none()
    if found is None:
        raise not_found(f"id {attr_id}")
    return found


@write
def update_attribute(sess: Session, account: str, actor: Actor, attr_id: int, values: dict):
    if attr_id in PRESET_IDS:
        raise ApiError(1199054, f"id {attr_id}")
    _bump(sess, account)
    row = _get(sess, account, attr_id)
    kind = BY_NAME[row.bk_obj_id]
    for key in ("bk_obj_id", "bk_property_id", "bk_property_type"):
        if key in values and values[key] != getattr(row, key):
            raise ApiError(1199006, key)  # a definition's identity and type stay
    pre = definition(row)
    before = attribute(kind, row)
    if "option" in values:
        values["option"] = parse_option(row.bk_property_type, values["option"])
    if values.get("isonly") and CUSTOM_TYPES[row.bk_property_type] not in UNIQUE_TYPES:
        raise ApiError(1199006, "isonly")
    for key in DEFINITION_FIELDS:
        if key in values:
            setattr(row, key, values[key])
    row.last_time = datetime.now(UTC)
    sess.flush()
    after = attribute(kind, row)
    stranded = _stranded(sess, kind, account, after)
    if stranded:
        raise ApiError(1199056, "option", stranded)
    if before.unique != after.unique:
        if after.unique:
            _unique_index(sess, kind, account, after)
        else:
            custom.drop_unique_index(sess.connection(), kind, after)
    audit.record(
        sess, _scope(account), actor, audit.UPDATE, "attribute", row.id, pre, definition(row)
    )


def _stranded(sess: Session, kind: Kind, account: str, attr: Attribute) -> int:
    """How many of the account's objects hold a value of ``attr`` its option now refuses."""
    model = MODELS[kind.name]
    got = custom.value(model.custom, attr)
    if attr.type == "enum":
        outside = ~got.in_([o.code for o in attr.options])
    elif attr.type in ("int", "float") and (attr.minimum is not None or attr.maximum is not None):
        tests = []
        if attr.minimum is not None:
            tests.append(got < attr.minimum)
        if attr.maximum is not None:
            tests.append(got > attr.maximum)
        outside = or_(*tests)
    elif attr.pattern:
        outside = ~got.regexp_match(attr.pattern)
    else:
        return 0
    return sess.scalar(
        select(func.count())
        .select_from(model)
        .where(model.bk_supplier_account == account, got.is_not(None), outside)
    )


@write
def delete_attribute(sess: Session, account: str, actor: Actor, attr_id: int) -> None:
    """The definition, and its values in every object of the account, in one transaction."""
    if attr_id in PRESET_IDS:
        raise ApiError(1199054, f"id {attr_id}")
    _bump(sess, account)
    row = _get(sess, account, attr_id)
    kind = BY_NAME[row.bk_obj_id]
    attr = attribute(kind, row)
    pre = definition(row)
    if attr.unique:
        custom.drop_unique_index(sess.connection(), kind, attr)
    custom.remove_key(sess.connection(), kind, account, attr.id)
    sess.delete(row)
    sess.flush()
    audit.record(sess, _scope(account), actor, audit.DELETE, "attribute", row.id, pre, {})
