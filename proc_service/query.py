"""search_process's condition / fields / page → one whitelisted, typed SELECT and one COUNT (§3).

Only names from the attribute table and the system fields ever reach SQL, as columns; every
value is a bound parameter. Anything else is refused with the contract's code.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from marshmallow import ValidationError
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

from .attributes import BY_ID, OUTPUT_FIELDS
from .errors import ApiError
from .models import Process, ProcessBinding
from .regex import Refused, portable
from .schemas import coerce, storable_text, to_int

PAGE_LIMIT = 200
LIST_LIMIT = 1000
REGEX_LIMIT = 256
IGNORED_KEYS = ("bk_biz_id", "bk_supplier_account")
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
    # fields filtered by $regex: PostgreSQL may still refuse a pattern RE2 took (a{300})
    regex_fields: tuple[str, ...] = ()


def build(account: str, biz_id: int, body: dict) -> Search:
    """``body`` has been through SearchSchema: condition is a dict, fields a list of str."""
    where = [Process.bk_supplier_account == account, Process.bk_biz_id == biz_id]
    regex_fields = []
    for key, value in body["condition"].items():
        if key in IGNORED_KEYS:
            continue
        if key == "bk_module_name":
            where.append(_module_filter(value))
        elif key in OUTPUT_FIELDS:
            where.extend(_filters(key, value))
            if isinstance(value, dict) and "$regex" in value:
                regex_fields.append(key)
        else:
            raise ApiError(1199011, key)

    fields = tuple(body["fields"]) or OUTPUT_FIELDS
    for name in fields:
        if name not in OUTPUT_FIELDS:
            raise ApiError(1199011, name)

    page = body["page"]
    if page["start"] < 0:
        raise ApiError(1199006, "page.start")
    limit = page["limit"] or PAGE_LIMIT
    if not 0 < limit <= PAGE_LIMIT:
        raise ApiError(1199015, "page.limit")

    stmt = (
        select(*(getattr(Process, name) for name in fields))
        .where(*where)
        .order_by(*_order(page["sort"]))
        .offset(page["start"])
        .limit(limit)
    )
    count = select(func.count()).select_from(Process).where(*where)
    return Search(stmt, count, fields, tuple(regex_fields))


def _order(sort: str) -> list:
    order, seen = [], set()
    for item in filter(None, (part.strip() for part in sort.split(","))):
        name = item[1:] if item.startswith("-") else item
        if name not in OUTPUT_FIELDS:
            raise ApiError(1199011, name)
        if name in seen:
            continue
        seen.add(name)
        column = getattr(Process, name)
        # Nulls count as smallest on both databases.
        order.append(
            column.desc().nulls_last() if item.startswith("-") else column.asc().nulls_first()
        )
    if "bk_process_id" not in seen:
        order.append(Process.bk_process_id.asc())  # a total order, so pages never overlap
    return order


@contextmanager
def _about(key: str):
    """A value's ValidationError (its message is the code) as the API error naming ``key``."""
    try:
        yield
    except ValidationError as exc:
        raise ApiError(int(exc.messages[0]), key) from None


def _normalise(key: str, value: object) -> object:
    """A condition value, normalised like a write (§3), without write-only rules."""
    with _about(key):
        if key == "bk_process_id":
            return to_int(value)
        if key in ("create_time", "last_time"):
            return _timestamp(value)
        attr = BY_ID[key]
        if value is None:
            return attr.empty
        return coerce(attr, value, strict=False)


def _text(key: str, value: object) -> str:
    with _about(key):
        return storable_text(value)


def _timestamp(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValidationError("1199006")
    try:
        parsed = datetime.fromisoformat(value)
        # naive means UTC; an offset near year 1 or 9999 can leave datetime's range
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise ValidationError("1199006") from None


def _equals(column, value) -> ColumnElement:
    return column.is_(None) if value is None else column == value


def _filters(key: str, value: object) -> list[ColumnElement]:
    column = getattr(Process, key)
    if key in BY_ID and BY_ID[key].type == "int":
        # A 32-bit column compared with any 64-bit operand: PostgreSQL would refuse to bind
        # 2**40 as INTEGER; as BIGINT it is simply a value that no row holds.
        column = type_coerce(column, BigInteger)
    if not isinstance(value, dict):
        if key == "bk_process_name":
            return [contains(Process.bk_process_name, _text(key, value))]
        return [_equals(column, _normalise(key, value))]

    found = []
    for op, operand in value.items():
        if op not in OPERATORS:
            raise ApiError(1199006, key)
        if op == "$regex":
            found.append(_regex(key, operand))
        elif op in ("$in", "$nin"):
            if not isinstance(operand, list):
                raise ApiError(1199006, key)
            if len(operand) > LIST_LIMIT:
                raise ApiError(1199035, f"{key} {op}", LIST_LIMIT)
            values = [_normalise(key, v) for v in operand]
            present = [v for v in values if v is not None]
            test = column.in_(present) if present else false()
            if None in values:
                test = or_(test, column.is_(None))
            if op == "$nin":
                # NOT IN is unknown on NULL; a null value is "not in" a list without null.
                test = or_(~test, column.is_(None)) if None not in values else ~test
            found.append(test)
        else:
            normalised = _normalise(key, operand)
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


def _regex(key: str, pattern: object) -> ColumnElement:
    attr = BY_ID.get(key)
    if attr is None or attr.type not in ("singlechar", "longchar", "enum"):
        raise ApiError(1199006, key)  # only text matches a pattern
    if not isinstance(pattern, str):
        raise ApiError(1199006, key)  # a malformed operand (§3)
    if len(pattern) > REGEX_LIMIT:
        raise ApiError(1199035, f"{key} $regex", REGEX_LIMIT)
    try:
        return getattr(Process, key).regexp_match(portable(pattern))
    except Refused:
        raise ApiError(1199006, key) from None


def _module_filter(value: object) -> ColumnElement:
    """Processes bound to a module name (or any of several), as one sub-select."""
    if isinstance(value, str):
        names = [value]
    elif isinstance(value, dict) and set(value) == {"$in"} and isinstance(value["$in"], list):
        names = value["$in"]
        if len(names) > LIST_LIMIT:
            raise ApiError(1199035, "bk_module_name $in", LIST_LIMIT)
    else:
        raise ApiError(1199006, "bk_module_name")
    names = [_text("bk_module_name", name) for name in names]
    bound = select(ProcessBinding.bk_process_id).where(ProcessBinding.bk_module_name.in_(names))
    return Process.bk_process_id.in_(bound)
