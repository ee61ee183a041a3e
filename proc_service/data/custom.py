"""Custom attribute values in SQL (§14): each kind's table holds them in one JSON column,
``custom`` (JSONB on PostgreSQL, JSON text on SQLite), one key per attribute, no key for no value.

The constructs here read the same on both databases: a value typed as its attribute's type
(text compared and sorted by code point, as every text column), equality as containment where
PostgreSQL's GIN index serves it, a set-based merge for updates, and the unique index an
``isonly`` attribute gets. Attribute ids are checked ([A-Za-z][A-Za-z0-9_]*) before they reach
here, so they are written into the SQL as literals, which lets PostgreSQL match an expression
to its index.
"""

from __future__ import annotations

import json
import re

from sqlalchemy import BigInteger, Boolean, Float, String, bindparam, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ..attributes import Attribute, Kind
from ..context import ACCOUNT  # no quote can pass it: safe in an index's WHERE

KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,127}")
# unique index name -> the attribute id it enforces (filled as models load: services/model.py),
# for the 409 that names the attribute (services/transaction.conflict)
INDEXED: dict[str, str] = {}


def _key(key: str) -> str:
    if not KEY.fullmatch(key):
        raise ValueError(f"not an attribute id: {key!r}")
    return key


class _value(FunctionElement):
    """custom's value of one key; the subclass gives its SQL type."""

    inherit_cache = True

    def __init__(self, column, key: str):
        self.key = _key(key)
        super().__init__(column, text(f"'{self.key}'"))


class custom_text(_value):
    inherit_cache = True
    type = String()


class custom_int(_value):
    inherit_cache = True
    type = BigInteger()


class custom_float(_value):
    inherit_cache = True
    type = Float()


class custom_bool(_value):
    inherit_cache = True
    type = Boolean()


_CASTS = {custom_int: "BIGINT", custom_float: "DOUBLE PRECISION", custom_bool: "BOOLEAN"}


@compiles(_value, "postgresql")
def _pg_value(element, compiler, **kw):
    column, key = list(element.clauses)
    got = f"({compiler.process(column, **kw)} ->> {compiler.process(key, **kw)})"
    cast = _CASTS.get(type(element))
    # ->> gives text in the database's collation; "C" orders by code point, as Chars does
    return f"CAST({got} AS {cast})" if cast else f'{got} COLLATE "C"'


@compiles(_value, "sqlite")
def _sqlite_value(element, compiler, **kw):
    column = next(iter(element.clauses))
    return f"json_extract({compiler.process(column, **kw)}, '$.{element.key}')"


def value(column, attr: Attribute):
    """The expression of one custom attribute's value, typed as the attribute."""
    kind = {"int": custom_int, "float": custom_float, "bool": custom_bool}.get(attr.type)
    return (kind or custom_text)(column, attr.id)


class custom_equals(FunctionElement):
    """custom's ``key`` equals a value: containment on PostgreSQL (its GIN index serves it),
    json_extract on SQLite (a JSON string gives text, a number a number, true 1: never equal
    across types)."""

    inherit_cache = True
    type = Boolean()

    def __init__(self, column, key: str, stored: object):
        self.key = _key(key)
        document = bindparam(None, json.dumps({self.key: stored}), type_=String())
        # the key as a clause too, so that it is part of the statement cache's key
        super().__init__(column, text(f"'{self.key}'"), document, bindparam(None, stored))


@compiles(custom_equals, "postgresql")
def _pg_equals(element, compiler, **kw):
    column, _, document, _ = list(element.clauses)
    return f"{compiler.process(column, **kw)} @> CAST({compiler.process(document, **kw)} AS JSONB)"


@compiles(custom_equals, "sqlite")
def _sqlite_equals(element, compiler, **kw):
    column, _, _, plain = list(element.clauses)
    got = f"json_extract({compiler.process(column, **kw)}, '$.{element.key}')"
    return f"{got} = {compiler.process(plain, **kw)}"


def equals(column, attr: Attribute, stored: object):
    return custom_equals(column, attr.id, stored)


class custom_merge(FunctionElement):
    """custom with ``patch`` applied: its keys set, its null keys removed (a batch update)."""

    inherit_cache = True

    def __init__(self, column, patch: dict):
        super().__init__(column, bindparam(None, json.dumps(patch), type_=String()))


@compiles(custom_merge, "postgresql")
def _pg_merge(element, compiler, **kw):
    column, patch = list(element.clauses)
    # no stored value is null, so stripping nulls removes exactly the keys the patch cleared
    return (
        f"jsonb_strip_nulls({compiler.process(column, **kw)} || "
        f"CAST({compiler.process(patch, **kw)} AS JSONB))"
    )


@compiles(custom_merge, "sqlite")
def _sqlite_merge(element, compiler, **kw):
    column, patch = list(element.clauses)
    # RFC 7396: a null in the patch removes the key
    return f"json_patch({compiler.process(column, **kw)}, {compiler.process(patch, **kw)})"


def merged(stored: dict, changes: dict) -> dict:
    """A row's custom values after ``changes`` (None removes a key), in Python."""
    out = {**stored, **changes}
    return {k: v for k, v in out.items() if v is not None}


# --- the model's own statements ------------------------------------------------------------


def remove_key(conn: Connection, kind: Kind, account: str, key: str) -> int:
    """Remove one attribute's values from every row of the account: how many rows held one."""
    key = _key(key)
    table = kind.table
    if conn.dialect.name == "postgresql":
        sql = (
            f"UPDATE {table} SET custom = custom - '{key}' "  # noqa: S608 - checked identifiers
            f"WHERE bk_supplier_account = :account AND custom ? '{key}'"
        )
    else:
        sql = (
            f"UPDATE {table} SET custom = json_remove(custom, '$.{key}') "  # noqa: S608
            f"WHERE bk_supplier_account = :account AND json_type(custom, '$.{key}') IS NOT NULL"
        )
    return conn.execute(text(sql), {"account": account}).rowcount


def index_name(kind: Kind, attr: Attribute) -> str:
    """The unique index of an isonly attribute, named by its definition's id."""
    return f"uqc_{kind.table}_{attr.definition_id}"


def create_unique_index(conn: Connection, kind: Kind, account: str, attr: Attribute) -> None:
    """isonly (§14): unique within the kind's scope (the business; a module's set), for this
    account's rows that hold a value. The database enforces it, as every uniqueness rule."""
    if not ACCOUNT.fullmatch(account):
        raise ValueError(f"not an account: {account!r}")
    key = _key(attr.id)
    scope = ", ".join(kind.unique_scope)
    if conn.dialect.name == "postgresql":
        expr, present = f"(custom ->> '{key}')", f"custom ? '{key}'"
    else:
        expr = f"json_extract(custom, '$.{key}')"
        present = f"json_type(custom, '$.{key}') IS NOT NULL"
    conn.execute(
        text(
            f"CREATE UNIQUE INDEX {index_name(kind, attr)} ON {kind.table} ({scope}, {expr}) "
            f"WHERE bk_supplier_account = '{account}' AND {present}"
        )
    )


def drop_unique_index(conn: Connection, kind: Kind, attr: Attribute) -> None:
    conn.execute(text(f"DROP INDEX IF EXISTS {index_name(kind, attr)}"))
