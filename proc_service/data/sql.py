"""Column types and SQL constructs that read the same on SQLite and PostgreSQL: where the two
databases need different SQL for one meaning, the difference lives here."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Integer,
    String,
    TypeDecorator,
    bindparam,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

ID = BigInteger().with_variant(Integer, "sqlite")


def Chars(length: int) -> String:
    """A string column that sorts and compares by code point on both databases: SQLite's
    BINARY does by default; PostgreSQL needs COLLATE "C" (a database's own collation may be
    en_US or ICU), declared on the column so that its indexes serve sorts and ranges."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out; SQLite stores them naive (its text sorts correctly)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class index_key(FunctionElement):
    """A unique-index key for a long text column.

    PostgreSQL caps a btree entry at about 2.7 kB, less than a 2000-character longchar can take
    in UTF-8, so it indexes md5(column); SQLite has no such cap and indexes the column itself.
    """

    type = String()
    inherit_cache = True


@compiles(index_key)
def _index_key_plain(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(index_key, "postgresql")
def _index_key_md5(element, compiler, **kw):
    return f"md5({compiler.process(element.clauses, **kw)})"


class desc_nulls_last(FunctionElement):
    """An index key in descending order with nulls last: PostgreSQL must be told, SQLite's DESC
    does so already and takes no NULLS clause in an index."""

    inherit_cache = True


@compiles(desc_nulls_last)
def _desc_sqlite(element, compiler, **kw):
    return f"{compiler.process(element.clauses, **kw)} DESC"


@compiles(desc_nulls_last, "postgresql")
def _desc_pg(element, compiler, **kw):
    return f"{compiler.process(element.clauses, **kw)} DESC NULLS LAST"


class contains(FunctionElement):
    """Literal, case-sensitive substring test: contains(column, needle, like_pattern)."""

    type = Boolean()
    inherit_cache = True


@compiles(contains)
def _contains_sqlite(element, compiler, **kw):
    # SQLite's LIKE ignores ASCII case: instr() is the literal, case-sensitive test (it scans).
    haystack, needle, _ = element.clauses
    return f"(instr({compiler.process(haystack, **kw)}, {compiler.process(needle, **kw)}) > 0)"


@compiles(contains, "postgresql")
def _contains_pg(element, compiler, **kw):
    # Issue 7: an escaped LIKE '%…%' (case-sensitive on PostgreSQL) that the trigram index
    # ix_processes_name_trgm serves; strpos() could only scan.
    haystack, _, pattern = element.clauses
    return compiler.process(haystack.like(pattern, escape="\\"), **kw)


def like_pattern(text: str) -> str:
    """``text`` as a LIKE pattern matching it anywhere, its wildcards escaped (escape "\\")."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# Issue 18 (migration 0007): SQLite's trigram index of a column, an external-content FTS5
# table keyed by its table's rowid. PostgreSQL's counterpart is a pg_trgm index, which its
# planner uses by itself.
TRIGRAMS = {("processes", "bk_process_name"): "processes_name_fts"}


def json_array_insert(template: str, ints: tuple[str, ...], objects: tuple[str, ...], time: str):
    """An INSERT … SELECT of one row per element of the JSON array parameter ``:rows``, in the
    array's order, for each dialect: ``template`` names ``{elements}`` and ``{position}``, and
    each element key as ``{key}`` (an integer of ``ints`` or a JSON value of ``objects``);
    ``:<time>`` is bound as UTCDateTime. One statement and one parameter for a batch of 1000
    rows: 11 parameters per row made PostgreSQL take 150-500 ms to bind them (issue 7)."""
    pg = {k: f"CAST(e.value ->> '{k}' AS BIGINT)" for k in ints}
    pg |= {k: f"e.value -> '{k}'" for k in objects}
    lite = {k: f"json_extract(e.value, '$.{k}')" for k in (*ints, *objects)}
    pg_rows = "jsonb_array_elements(CAST(:rows AS JSONB)) WITH ORDINALITY AS e(value, n)"
    made = {
        "postgresql": template.format(elements=pg_rows, position="e.n", **pg),
        "sqlite": template.format(elements="json_each(:rows) AS e", position="e.key", **lite),
    }
    return {
        dialect: text(sql).bindparams(bindparam(time, type_=UTCDateTime()))
        for dialect, sql in made.items()
    }
