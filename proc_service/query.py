"""A search body's condition / fields / page → one whitelisted, typed SELECT and one COUNT.

search_process (§3), search_set and search_module (§6) and audit search (§5) share it, each over
its kind's attribute table (attributes.py). Only names from an attribute table ever
reach SQL, as columns; every value is a bound parameter. Anything else is refused with the
contract's code.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Select,
    String,
    and_,
    false,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from .attributes import Attribute, Kind
from .errors import ApiError
from .models import MODELS
from .regex import Refused, portable
from .values import (
    BATCH_LIMIT,
    LIST_LIMIT,
    PAGE_LIMIT,
    REGEX_LIMIT,
    SPACES,
    Invalid,
    coerce,
    storable_text,
)

COMPARISONS = ("$gt", "$gte", "$lt", "$lte")
OPERATORS = ("$eq", "$ne", "$in", "$nin", *COMPARISONS, "$regex")


class contains(FunctionElement):
    """Literal, case-sensitive substring test: no LIKE wildcards to escape, no collation."""

    type = String()
    inherit_cache = True


@compiles(contains)
def _contains_sqlite(element, compiler, **kw):
    haystack, needle = (compiler.process(c, **kw) for c in element.clauses)
    return f"(instr({haystack}, {needle}) > 0)"


@compiles(contains, "postgresql")
def _contains_pg(element, compiler, **kw):
    haystack, needle = (compiler.process(c, **kw) for c in element.clauses)
    return f"(strpos({haystack}, {needle}) > 0)"


@dataclass
class Search:
    page: Select
    count: Select
    fields: tuple[str, ...]
    start: int
    # fields filtered by $regex: PostgreSQL may still refuse a pattern RE2 took (a{300})
    regex_fields: tuple[str, ...] = ()


Special = dict[str, Callable[[object], list[ColumnElement]]]


def build(
    kind: Kind,
    where: list[ColumnElement],
    *,
    condition: dict,
    fields: list[str],
    start: int,
    limit: int,
    sort: str,
    special: Special | None = None,
    prefix: str = "page.",
) -> Search:
    """One page and its COUNT over ``kind``, within ``where``. The body has been through its
    search schema (condition is a dict, fields a list of str); ``special`` maps condition keys
    that are not attributes (bk_module_name, op_time) to their filters; ``prefix`` is where the
    body holds start and limit, for the error that names them."""
    model = MODELS[kind.name]
    where = [*where, *conditions(kind, model, condition, special or {})]
    fields = tuple(fields) or kind.output_fields
    for name in fields:
        if name not in kind.by_id:
            raise ApiError(1199011, name)
    start, limit = page_window(start, limit, kind.default_limit, prefix)
    tie = None if kind.tie_follows_sort else False
    # An empty sort is the default one, as an empty limit is.
    sort = sort if sort.replace(",", "").strip(SPACES) else kind.default_sort
    stmt = (
        select(*(getattr(model, name) for name in fields))
        .where(*where)
        .order_by(*order(model, kind, sort, tie))
        .offset(start)
        .limit(limit)
    )
    count = select(func.count()).select_from(model).where(*where)
    regex = tuple(
        k
        for k, v in condition.items()
        if k in kind.conditions and isinstance(v, dict) and "$regex" in v
    )
    return Search(stmt, count, fields, start, regex)


def conditions(kind: Kind, model, condition: dict, special: Special) -> list[ColumnElement]:
    """The filters of a condition object; only the kind's condition keys reach SQL."""
    found = []
    for key, value in condition.items():
        if key in special:
            found.extend(special[key](value))
        elif key in kind.conditions:
            found.extend(filters(kind.conditions[key], getattr(model, key), value))
        elif key not in kind.ignored_conditions:
            raise ApiError(1199011, key)
    return found


def page_window(start: int, limit: int, default: int, prefix: str = "") -> tuple[int, int]:
    """start ≥ 0 (else 1199006); limit 1..PAGE_LIMIT (else 1199015), 0 meaning ``default`` (0:
    every match, up to BATCH_LIMIT)."""
    if start < 0:
        raise ApiError(1199006, f"{prefix}start")
    if limit == 0:
        return start, default or BATCH_LIMIT
    if not 0 < limit <= PAGE_LIMIT:
        raise ApiError(1199015, f"{prefix}limit")
    return start, limit


def order(model, kind: Kind, sort: str, tie_descending: bool | None = False) -> list:
    """``sort`` ("name,-id") as ORDER BY over the kind's sort keys, ending with its id field so
    that the order is total and pages never overlap. The id is ascending unless
    ``tie_descending``; None makes it follow the first key's direction."""
    tie = kind.id_field
    items, seen = [], set()
    for item in filter(None, (part.strip(SPACES) for part in sort.split(","))):
        name = item[1:] if item.startswith("-") else item
        if name not in kind.sort_keys:
            raise ApiError(1199011, name)
        name = kind.sort_field(name)
        if name not in seen:
            seen.add(name)
            items.append((name, item.startswith("-")))
    if tie not in seen:
        descending = items[0][1] if tie_descending is None and items else bool(tie_descending)
        items.append((tie, descending))
    # Nulls count as smallest on both databases.
    return [
        getattr(model, name).desc().nulls_last()
        if descending
        else getattr(model, name).asc().nulls_first()
        for name, descending in items
    ]


@contextmanager
def _about(key: str):
    """A value that breaks a rule, as the API error naming ``key``."""
    try:
        yield
    except Invalid as exc:
        raise ApiError(exc.code, key) from None


def _normalise(attr: Attribute, value: object) -> object:
    """A condition value, normalised like a write (§3), without write-only rules."""
    with _about(attr.id):
        # Fields the service owns (ids, times) are never null; null means empty for the rest.
        if value is None and not attr.never_null:
            return attr.empty
        return coerce(attr, value, strict=False)


def _text(key: str, value: object) -> str:
    with _about(key):
        return storable_text(value)


def _equals(column, value) -> ColumnElement:
    return column.is_(None) if value is None else column == value


def filters(attr: Attribute, column, value: object) -> list[ColumnElement]:
    """The tests one condition value puts on ``column``: a plain value or an operator set."""
    key = attr.id
    if attr.type == "int":
        # A 32-bit column compared with any 64-bit operand: PostgreSQL would refuse to bind
        # 2**40 as INTEGER; as BIGINT it is simply a value that no row holds.
        column = type_coerce(column, BigInteger)
    if not isinstance(value, dict):
        if attr.contains:
            return [contains(column, _text(key, value))]
        return [_equals(column, _normalise(attr, value))]

    found = []
    for op, operand in value.items():
        if op not in OPERATORS:
            raise ApiError(1199006, key)
        if op == "$regex":
            found.append(_regex(attr, column, operand))
        elif op in ("$in", "$nin"):
            if not isinstance(operand, list):
                raise ApiError(1199006, key)
            if len(operand) > LIST_LIMIT:
                raise ApiError(1199035, f"{key} {op}", LIST_LIMIT)
            values = [_normalise(attr, v) for v in operand]
            present = [v for v in values if v is not None]
            test = column.in_(present) if present else false()
            if None in values:
                test = or_(test, column.is_(None))
            if op == "$nin":
                # NOT IN is unknown on NULL; a null value is "not in" a list without null.
                test = or_(~test, column.is_(None)) if None not in values else ~test
            found.append(test)
        else:
            normalised = _normalise(attr, operand)
            if op == "$eq":
                found.append(_equals(column, normalised))
            elif op == "$ne":
                found.append(column.is_distinct_from(normalised))
            elif normalised is None:
                raise ApiError(1199006, key)
            else:
                compare = {"$gt": "__gt__", "$gte": "__ge__", "$lt": "__lt__", "$lte": "__le__"}
                if isinstance(normalised, bool):  # false < true, as both databases order them
                    normalised = literal(normalised, Boolean())
                found.append(getattr(column, compare[op])(normalised))
    return [and_(*found)] if found else []


def _regex(attr: Attribute, column, pattern: object) -> ColumnElement:
    key = attr.id
    if attr.type not in ("singlechar", "longchar", "enum"):
        raise ApiError(1199006, key)  # only text matches a pattern
    if not isinstance(pattern, str):
        raise ApiError(1199006, key)  # a malformed operand (§3)
    if len(pattern) > REGEX_LIMIT:
        raise ApiError(1199035, f"{key} $regex", REGEX_LIMIT)
    try:
        return column.regexp_match(portable(pattern))
    except Refused:
        raise ApiError(1199006, key) from None


def names(key: str, value: object) -> list[str]:
    """A name condition that is a string or {"$in": [names]}, as a list of names."""
    if isinstance(value, str):
        found = [value]
    elif isinstance(value, dict) and set(value) == {"$in"} and isinstance(value["$in"], list):
        found = value["$in"]
        if len(found) > LIST_LIMIT:
            raise ApiError(1199035, f"{key} $in", LIST_LIMIT)
    else:
        raise ApiError(1199006, key)
    return [_text(key, name) for name in found]
