"""Column types and SQL constructs that read the same on SQLite and PostgreSQL: where the two
databases need different SQL for one meaning, the difference lives here."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ColumnElement,
    DateTime,
    Integer,
    Select,
    String,
    Table,
    TypeDecorator,
    bindparam,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql import visitors
from sqlalchemy.sql.functions import FunctionElement

from ..values import render

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


class RenderedTime(TypeDecorator):
    """A UTCDateTime column read as the API answers it (values.render): a search page's times
    (issue 18: parsing SQLite's text into a datetime and formatting it again was a tenth of
    a search). SQLite's text is rewritten ("2026-12-04 09:15:01.000123" → …T…+00:00);
    text of another shape (the loader's) and PostgreSQL's datetimes go through render."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(DateTime(timezone=True))
        return dialect.type_descriptor(String())

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):
            if len(value) == 26 and value[10] == " ":
                return f"{value[:10]}T{value[11:]}+00:00"
            value = datetime.fromisoformat(value)
        value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return render(value)


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
    _is_implicitly_boolean = True  # a test in itself: no "= 1" after it on SQLite


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


class IdArray(TypeDecorator):
    """A list of integer ids as one bound parameter: a BIGINT[] on PostgreSQL, a JSON array
    on SQLite (read by json_each). See id_in."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(BigInteger))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value, dialect):
        if dialect.name == "postgresql":
            return list(value)
        return json.dumps(list(value))


class id_in(FunctionElement):
    """``column IN ids`` with the ids as one parameter, however many there are: the batch
    update's 1000 ids as 1000 parameters cost more to bind and to parse than the statement
    took to run (issue 18). PostgreSQL: = ANY(array); SQLite: IN (SELECT … json_each)."""

    type = Boolean()
    inherit_cache = True

    def __init__(self, column, ids, name: str = "ids"):
        super().__init__(column, bindparam(name, list(ids), type_=IdArray()))


# ``{column}`` in the ids of parameter ``{ids}``, per dialect: id_in's SQL, and text statements'.
ID_IN = {
    "postgresql": "{column} = ANY(CAST({ids} AS BIGINT[]))",
    "sqlite": "{column} IN (SELECT value FROM json_each({ids}))",
}


@compiles(id_in)
@compiles(id_in, "postgresql")
def _id_in(element, compiler, **kw):
    column, ids = (compiler.process(clause, **kw) for clause in element.clauses)
    return ID_IN[compiler.dialect.name].format(column=column, ids=ids)


# An instance event's data from its audit row's content (issue 18, migration 0008, which has a
# copy): bk-cmdb's [{"cur_data", "pre_data"}], an empty image ({}) null. ``{content}`` is the
# content column.
EVENT_IMAGES = {
    "postgresql": "jsonb_build_array(jsonb_build_object("
    "'cur_data', NULLIF({content} -> 'cur_data', '{{}}'::jsonb),"
    " 'pre_data', NULLIF({content} -> 'pre_data', '{{}}'::jsonb)))",
    "sqlite": "json_array(json_object("
    "'cur_data', json(NULLIF(json_extract({content}, '$.cur_data'), '{{}}')),"
    " 'pre_data', json(NULLIF(json_extract({content}, '$.pre_data'), '{{}}'))))",
}


class event_images(FunctionElement):
    """EVENT_IMAGES of an audit row's content column, typed as the events' data column."""

    type = JSON().with_variant(JSONB, "postgresql")
    inherit_cache = True


@compiles(event_images)
@compiles(event_images, "postgresql")
def _event_images(element, compiler, **kw):
    content = compiler.process(element.clauses, **kw)
    return EVENT_IMAGES[compiler.dialect.name].format(content=content)


def like_pattern(text: str) -> str:
    """``text`` as a LIKE pattern matching it anywhere, its wildcards escaped (escape "\\")."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# Issue 18 (migration 0007): SQLite's trigram index of a column, an external-content FTS5
# table keyed by its table's rowid. PostgreSQL's counterpart is a pg_trgm index, which its
# planner uses by itself.
TRIGRAMS = {("processes", "bk_process_name"): "processes_name_fts"}
TRIGRAM = 3  # characters: a shorter text has no trigram to look up


def substring(column, needle: str) -> ColumnElement:
    """``column`` holds ``needle`` (literally, case-sensitively) anywhere."""
    return narrowed(column, needle, lambda c: contains(c, needle, like_pattern(needle)))


def narrowed(column, text: str | None, test: Callable[[ColumnElement], ColumnElement]):
    """``test(column)``, which only values holding ``text`` pass. On SQLite, where the column
    has a trigram index and ``text`` a trigram, the index first finds the rows whose value may
    hold it, and the test runs on those only."""
    fts = _trigram_table(column)
    if fts is None or text is None or len(text) < TRIGRAM:
        return test(column)
    # a literal column: the outer statement must not read the FTS table as one of its FROMs
    indexed = literal_column(f"{fts}.{column.name}", String())
    return trigram_narrowed(column, test(column), test(indexed), fts_string(text))


def fts_string(text: str) -> str:
    """``text`` as one FTS5 string: nothing in it is read as query syntax (AND, NEAR, *, ^,
    column filters); a trigram tokenizer matches it as a substring."""
    return '"' + text.replace('"', '""') + '"'


def _trigram_table(column) -> str | None:
    column = getattr(column, "__clause_element__", lambda: column)()
    table = getattr(column, "table", None)
    if not isinstance(table, Table):  # an alias, an expression (a custom attribute's value)
        return None
    return TRIGRAMS.get((table.name, column.name))


class trigram_narrowed(FunctionElement):
    """trigram_narrowed(column, test, test_of_the_fts_column, fts_string): see ``narrowed``."""

    type = Boolean()
    inherit_cache = True
    # a test in itself: written as is, so that the planner sees the IN among the WHERE terms
    # (SQLite's "(…) = 1" would hide it)
    _is_implicitly_boolean = True


@compiles(trigram_narrowed)
def _narrowed_sqlite(element, compiler, **kw):
    # The index gives a list of ids (IN): SQLite reads each by rowid, or probes the business's
    # index with each (before ANALYZE, when it takes a business for 10 rows), rather than read
    # the business. Before ANALYZE a page sorted by another key may still walk that key's index
    # over the business, probing the list. The index matches trigrams, not the text: the test
    # runs in the list's SELECT, so that a COUNT needs no more of processes than an index of ids.
    column, _, test, string = element.clauses
    column = getattr(column, "__clause_element__", lambda: column)()
    fts = _trigram_table(column)
    key = compiler.process(column.table.primary_key.columns[0], **kw)
    match = compiler.process(string, **kw)
    # names from TRIGRAMS and the model; the text is bound
    ids = f"SELECT rowid FROM {fts} WHERE {fts} MATCH {match}"  # noqa: S608
    return f"({key} IN ({ids} AND {compiler.process(test, **kw)}))"


@compiles(trigram_narrowed, "postgresql")
def _narrowed_pg(element, compiler, **kw):
    # pg_trgm's index serves the test itself (ix_processes_name_trgm)
    _, test, _, _ = element.clauses
    return compiler.process(test, **kw)


# A lookup in the index is the plan while the rows that hold the text (in every business)
# number at most a 25th of the rows of the business searched: each costs 5-7 µs in the count
# and again in the page (its name is read from processes to test it, and its id is looked up
# in the business), where reading the business costs about 0.25 µs a row in each (issue 18,
# 1,000,000 processes). A text held more often is searched by reading the business, as it
# was without the index.
ROWS_PER_HIT = 25


def trigram_choice(sess: Session, rows: Select, values: dict) -> Callable[[str, str], bool] | None:
    """On SQLite: few(fts_table, fts_string), whether few enough rows hold the text for a
    lookup in the index to be the plan, against how many rows the scope holds (``rows`` with
    ``values``: a kept count). SQLite's planner cannot weigh the two: it has no statistics of
    an FTS table, and none at all until ANALYZE runs. None on PostgreSQL, whose planner does."""
    if sess.get_bind().dialect.name != "sqlite":
        return None

    def few(fts: str, string: str) -> bool:
        return bool(sess.scalar(_few(fts, rows, ROWS_PER_HIT), {**values, "text": string}))

    return few


@functools.lru_cache(maxsize=16)
def _few(fts: str, rows: Select, rows_per_hit: int) -> Select:
    """Whether at most a ``rows_per_hit``th of ``rows`` hold :text (counting no further)."""
    allowed = rows.scalar_subquery() // rows_per_hit
    holders = (
        select(literal_column("1"))
        .select_from(table(fts))
        .where(literal_column(fts).op("MATCH")(bindparam("text")))
        .limit(allowed + 1)
        .subquery()
    )
    return select(select(func.count()).select_from(holders).scalar_subquery() <= allowed)


def keep_few(filters: list[ColumnElement], few: Callable[[str, str], bool]) -> list:
    """``filters``, each trigram lookup among them (``narrowed``) replaced by its plain test
    unless ``few`` says few rows hold its text (``trigram_choice``)."""
    common = {}
    for one in filters:
        for element in visitors.iterate(one):
            if isinstance(element, trigram_narrowed):
                column, test, _, string = element.clauses
                if not few(_trigram_table(column), string.value):
                    common[id(element)] = test
    if not common:
        return filters
    return [visitors.replacement_traverse(f, {}, lambda e: common.get(id(e))) for f in filters]


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
