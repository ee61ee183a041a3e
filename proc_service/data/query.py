"""A search body's condition / fields / page → one whitelisted, typed SELECT and one COUNT.

search_process (§3), search_set and search_module (§6) and audit search (§5) share it, each over
its kind's attribute table (attributes.py). Only names from an attribute table ever
reach SQL, as columns; every value is a bound parameter. Anything else is refused with the
contract's code.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    false,
    func,
    literal,
    or_,
    select,
    type_coerce,
)

from ..attributes import Attribute, Kind
from ..errors import ApiError
from ..values import (
    BATCH_LIMIT,
    LIST_LIMIT,
    PAGE_LIMIT,
    REGEX_LIMIT,
    SPACES,
    Invalid,
    coerce,
    storable_text,
)
from . import custom, prepared
from .models import MODELS
from .regex import Refused, literal_prefix, portable, required_literal
from .sql import RenderedTime, UTCDateTime, keep_few, narrowed, substring

COMPARISONS = ("$gt", "$gte", "$lt", "$lte")
OPERATORS = ("$eq", "$ne", "$in", "$nin", *COMPARISONS, "$regex")


@dataclass
class Search:
    page: Select
    count: Select
    fields: tuple[str, ...]
    start: int
    # fields filtered by $regex: PostgreSQL may still refuse a pattern RE2 took (a{300})
    regex_fields: tuple[str, ...] = ()
    # issue 7: read the page in an index's order rather than sorting (db.index_order): a
    # whole-scope page, or ids in id order, where that order is always the right plan
    index_order: bool = False
    # the count is a kept one (services/counting.py): known before the page is read, and
    # from a column the page's order does not follow (transaction.search)
    kept_count: bool = False
    # the page's parameters (its scope, start and limit: query.build binds them), and the
    # count's when it is a kept one
    params: dict | None = None
    count_params: dict | None = None


@dataclass
class Bound:
    """What a special condition may give instead of filters with their values in them: filters
    built once, with bound parameters, and those parameters' values for this search. A search
    whose only filters are Bound ones runs statements built once, as one with no filter does."""

    filters: list[ColumnElement]
    params: dict


Special = dict[str, Callable[[object], "list[ColumnElement] | Bound"]]


def build(
    kind: Kind,
    scope: dict[str, object],
    where: list[ColumnElement] = (),
    *,
    condition: dict,
    fields: list[str],
    start: int,
    limit: int,
    sort: str,
    special: Special | None = None,
    prefix: str = "page.",
    few: Callable[[str, str], bool] | None = None,
) -> Search:
    """One page and its COUNT over ``kind``, within ``scope`` (columns equal to values, bound
    as parameters) and ``where``. The body has been through its search schema (condition is a
    dict, fields a list of str); ``special`` maps condition keys that are not attributes
    (bk_module_name, op_time) to their filters; ``prefix`` is where the body holds start and
    limit, for the error that names them; ``few`` (sql.trigram_choice) keeps a lookup in a
    trigram index only for a text that few rows hold."""
    # The table's columns, never the ORM's attributes, throughout (issue 18): a statement
    # with ORM entities is compiled and matched to its results through the ORM's layers.
    table = MODELS[kind.name].__table__
    bound = Bound([], {})  # the Bound filters among them, and their parameters
    filtered = conditions(kind, table, condition, special or {}, bound)
    if few is not None and len(filtered) > len(bound.filters):  # Bound ones hold no lookup
        filtered = keep_few(filtered, few)
    fields = tuple(fields) or kind.output_fields
    for name in fields:
        if name not in kind.by_id:
            raise ApiError(1199011, name)
    start, limit = page_window(start, limit, kind.default_limit, prefix)
    # An empty sort is the default one, as an empty limit is.
    sort = sort if sort.replace(",", "").strip(SPACES) else kind.default_sort
    params = {f"scope_{name}": value for name, value in scope.items()}
    params |= {"page_start": start, "page_limit": limit, **bound.params}
    # Issue 18: a search with no filter of its own (a business's list, paged and sorted), or
    # only Bound ones (bk_module_name), runs statements built once per model: a statement used
    # again keeps its cache key, which SQLAlchemy otherwise computes on each execution by
    # walking the whole statement.
    reusable = not where and len(filtered) == len(bound.filters)
    key = ("search", tuple(scope), fields, sort, tuple(bound.params))
    made = kind.cache.get(key) if reusable else None
    if made is None:
        made = _statements(kind, table, scope, [*where, *filtered], fields, sort)
        if reusable:  # run on the driver's connection (data/prepared.py)
            made = kind.cache[key] = tuple(prepared.kept(s) for s in made)
    stmt, count = made
    regex = tuple(
        k
        for k, v in condition.items()
        if k in kind.conditions and isinstance(v, dict) and "$regex" in v
    )
    # issue 7: a page of the whole scope, or of ids in id order, is read in an index's order
    sorted_by = {kind.sort_field(p.strip(SPACES).lstrip("-")) for p in sort.split(",")} - {""}
    keys = {key for key in condition if key not in kind.ignored_conditions}
    by_id = sorted_by <= {kind.id_field} and keys <= {kind.id_field}
    index_order = not filtered or by_id
    return Search(stmt, count, fields, start, regex, index_order=index_order, params=params)


def _statements(kind: Kind, table, scope: dict, where: list, fields: tuple, sort: str):
    """A search's page and COUNT, their scope, start and limit bound as parameters."""
    where = [*(table.c[name] == bindparam(f"scope_{name}") for name in scope), *where]
    tie = None if kind.tie_follows_sort else False
    own = tuple(kind.by_id[name] for name in fields if kind.by_id[name].custom)
    stmt = (
        _columns(kind.name, fields, own)
        .where(*where)
        .order_by(*order(table, kind, sort, tie, unique=_unique(kind)))
        .offset(bindparam("page_start", type_=Integer()))
        .limit(bindparam("page_limit", type_=Integer()))
    )
    return stmt, select(func.count()).select_from(table).where(*where)


@functools.lru_cache(maxsize=256)
def _columns(kind_name: str, fields: tuple[str, ...], own: tuple[Attribute, ...]) -> Select:
    """SELECT of these fields, built once per field list (issue 7: building 26 column
    expressions per request was a sizeable part of a search); statements are immutable, so
    each request's WHERE and ORDER BY make a new one from it. ``own``: the fields that are
    custom attributes (§14), read from the JSON column as their type."""
    table = MODELS[kind_name].__table__
    by_id = {attr.id: attr for attr in own}
    return select(*(_output(table, name, by_id.get(name)) for name in fields))


def _output(table, name: str, own: Attribute | None):
    if own is not None:
        return custom.value(table.c.custom, own).label(name)
    # the table's column, not the ORM attribute: the result of a cached statement is matched
    # to each new statement's columns, and annotated ORM columns made that a third of a search
    column = table.c[name]
    if isinstance(column.type, UTCDateTime):  # read as the answer shows it
        return type_coerce(column, RenderedTime()).label(name)
    return column


def column_of(table, attr: Attribute):
    """The SQL of one attribute: its table's column, or a custom attribute's value (§14)."""
    return custom.value(table.c.custom, attr) if attr.custom else table.c[attr.id]


def conditions(
    kind: Kind, table, condition: dict, special: Special, bound: Bound
) -> list[ColumnElement]:
    """The filters of a condition object; only the kind's condition keys reach SQL. Those
    that special conditions give as Bound are also gathered in ``bound``."""
    found = []
    for key, value in condition.items():
        if key in special:
            made = special[key](value)
            if isinstance(made, Bound):
                bound.filters.extend(made.filters)
                bound.params.update(made.params)
                made = made.filters
            found.extend(made)
        elif key in kind.conditions:
            attr = kind.conditions[key]
            # a custom attribute's equality is containment on PostgreSQL (its GIN index)
            exact = functools.partial(custom.equals, table.c.custom, attr) if attr.custom else None
            found.extend(filters(attr, column_of(table, attr), value, exact))
        elif key not in kind.ignored_conditions:
            raise ApiError(1199011, key)
    return found


def _unique(kind: Kind) -> tuple[str, ...]:
    """Attributes unique on their own within a search's scope (a process's name in its
    business): unconditional single-attribute rules over the scope a search has."""
    if kind.unique_scope != ("bk_supplier_account", "bk_biz_id"):
        return ()
    return tuple(ids[0] for _, ids, when_set in kind.unique_rules if len(ids) == 1 and not when_set)


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


def order(
    table, kind: Kind, sort: str, tie_descending: bool | None = False, unique: tuple[str, ...] = ()
) -> list:
    """``sort`` ("name,-id") as ORDER BY over the kind's sort keys, ending with its id field so
    that the order is total and pages never overlap. The id is ascending unless
    ``tie_descending``; None makes it follow the first key's direction. ``unique`` names keys
    that no two rows of the scope share: the order ends at the first of them."""
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
    # A key unique within the search's scope already makes the order total (issue 7: then an
    # index on it serves the page alone, without a sort on the tie).
    total = next((i for i, (name, _) in enumerate(items) if name in unique), None)
    if total is not None:
        items = items[: total + 1]
    elif tie not in seen:
        descending = items[0][1] if tie_descending is None and items else bool(tie_descending)
        items.append((tie, descending))
    return [_key(column_of(table, kind.by_id[name]), descending) for name, descending in items]


def _key(column, descending: bool):
    """Nulls count as smallest on both databases. The nulls clause is written only for a
    nullable column (issue 7): on a NOT NULL one it means nothing, and PostgreSQL then matches
    the ORDER BY to a plain index (ASC NULLS LAST) instead of sorting the whole business."""
    if not getattr(column, "nullable", True):
        return column.desc() if descending else column.asc()
    return column.desc().nulls_last() if descending else column.asc().nulls_first()


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


def equal_values(attr: Attribute, value: object) -> list | None:
    """The values a condition on ``attr`` asks equality with (a plain value, $eq, or $in),
    normalised as the build would; None for any other shape or a null among them. A bad
    value raises the error the build gives."""
    if isinstance(value, dict):
        if len(value) != 1:
            return None
        ((op, operand),) = value.items()
        if op == "$eq":
            value = operand
        elif op == "$in" and isinstance(operand, list) and 0 < len(operand) <= LIST_LIMIT:
            found = [_normalise(attr, v) for v in operand]
            return None if None in found else found
        else:
            return None
    if isinstance(value, dict | list):
        return None
    found = _normalise(attr, value)
    return None if found is None else [found]


def _text(key: str, value: object) -> str:
    with _about(key):
        return storable_text(value)


def _equals(column, value) -> ColumnElement:
    return column.is_(None) if value is None else column == value


def filters(attr: Attribute, column, value: object, exact=None) -> list[ColumnElement]:
    """The tests one condition value puts on ``column``: a plain value or an operator set.
    ``exact(value)``, when given, is the test for equality with a non-null value."""

    def equals(value: object) -> ColumnElement:
        if exact is None or value is None:
            return _equals(column, value)
        return exact(value)

    key = attr.id
    if attr.type == "int":
        # A 32-bit column compared with any 64-bit operand: PostgreSQL would refuse to bind
        # 2**40 as INTEGER; as BIGINT it is simply a value that no row holds.
        column = type_coerce(column, BigInteger)
    if not isinstance(value, dict):
        if attr.contains:
            return [substring(column, _text(key, value))]
        return [equals(_normalise(attr, value))]

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
            if exact is not None and op == "$in" and present:
                test = or_(*(exact(v) for v in dict.fromkeys(present)))
            else:
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
                found.append(equals(normalised))
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
    if attr.type not in (
        "singlechar",
        "longchar",
        "enum",
        "objuser",
        "timezone",
        "date",
        "datetime",
    ):
        raise ApiError(1199006, key)  # only text matches a pattern
    if not isinstance(pattern, str):
        raise ApiError(1199006, key)  # a malformed operand (§3)
    if len(pattern) > REGEX_LIMIT:
        raise ApiError(1199035, f"{key} $regex", REGEX_LIMIT)
    try:
        translated = portable(pattern)
    except Refused:
        raise ApiError(1199006, key) from None
    prefix = literal_prefix(pattern)
    if prefix is None:
        # Issue 18: on SQLite, the rows whose value holds what every match holds, from the
        # column's trigram index (PostgreSQL's pg_trgm reads the pattern itself)
        return narrowed(column, required_literal(pattern), lambda c: c.regexp_match(translated))
    # Issue 7: every match starts with ``prefix``, so the match lies in one range of the
    # column's index (code-point order on both databases); SQLite cannot derive it itself.
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(column >= prefix, column < upper, column.regexp_match(translated))


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
