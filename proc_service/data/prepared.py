"""Statements built with SQLAlchemy once, run on the driver's connection (issue 18).

A process detail or a binding list is a few one-row reads by key; a business's page is two
statements built once per model; an update is a locked read, an UPDATE and its audit rows.
Through SQLAlchemy's execution each statement paid 50-100 µs of Python around 10-35 µs of
SQLite (the session's transaction states, the connection's events, the compiled statement's
lookup, the result's layers), and a Session's read transaction 130 µs more. Here a Core
statement (or a text()) is compiled once per dialect, and for an INSERT or UPDATE once per set
of parameter names, then run on the DBAPI connection with the parameters' and the columns' own
processing (a time as SQLite's text, a JSON value):

    with reading(engine) as reader:          # a read transaction of its own
        row = reader.first(STATEMENT, {"process_id": 7})

    reader = on(sess.connection())           # or in the session's transaction (writes too)
    reader.run(UPDATE, params, keys=tuple(sorted(params)))

Expanding parameters (``IN`` lists) are expanded per execution, as SQLAlchemy does. What
SQLAlchemy adds besides, it does not here: Python-side column defaults (an insert gives every
column, services/objects.py), ORM events. A driver error leaves as SQLAlchemy's
(DBAPIError.instance: IntegrityError, OperationalError), so a conflict is a 409 and a database
away a 503 as before, and a lost connection is not pooled again. ``OBSERVERS`` see each
statement, as SQLAlchemy's before_cursor_execute does (the plan tests EXPLAIN both).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, Select
from sqlalchemy.exc import DBAPIError


class Prepared:
    """A Core statement (a SELECT, an INSERT, UPDATE or text()), compiled on first use per
    dialect, and for an INSERT or UPDATE per set of parameter names (its SET clause)."""

    def __init__(self, stmt):
        self.stmt = stmt
        self._compiled: dict[tuple, tuple] = {}
        self._processors: dict[str, tuple] = {}

    def compiled(self, dialect, keys: tuple[str, ...] | None = None) -> tuple:
        found = self._compiled.get((dialect.name, keys))
        if found is None:
            compiled = self.stmt.compile(dialect=dialect, column_keys=keys)
            # values the statement holds itself (``default == 0``), beside the caller's
            fixed = {name: b.value for name, b in compiled.binds.items() if not b.required}
            # the parameters' own processing (a time as SQLite's text, a dict as JSON)
            binders = {
                name: p
                for name, b in compiled.binds.items()
                if (p := b.type._cached_bind_processor(dialect)) is not None
            }
            expands = bool(compiled.post_compile_params)
            found = (compiled, fixed, binders, expands)
            self._compiled[(dialect.name, keys)] = found
        return found

    def processors(self, dialect, description) -> tuple:
        """Each column's result processing, for the driver's types of the first result (a
        PostgreSQL number's processing depends on it); none for text() and DML."""
        found = self._processors.get(dialect.name)
        if found is None:
            # a SELECT's columns, an INSERT … RETURNING's (text() has none: no processing)
            columns = getattr(self.stmt, "selected_columns", None)
            if columns is None:
                columns = getattr(self.stmt, "exported_columns", None)
            if columns is None or description is None or len(columns) != len(description):
                each = []
            else:
                each = [
                    col.type._cached_result_processor(dialect, described[1])
                    for col, described in zip(columns, description, strict=True)
                ]
            found = self._processors[dialect.name] = (each, any(each))
        return found


# Statements built once and kept (a model's search page, a kept count), by the statement: a
# search finds its Prepared here (``lookup``), and runs SQLAlchemy's way if it has none.
_KEPT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def kept(stmt: Select) -> Select:
    _KEPT.setdefault(stmt, Prepared(stmt))
    return stmt


def lookup(stmt: Select) -> Prepared | None:
    return _KEPT.get(stmt)


# Each called with (driver connection, SQL, parameters) before a Reader runs a statement: what
# SQLAlchemy's before_cursor_execute is to the session's statements (tests/plans.py EXPLAINs
# both).
OBSERVERS: list[Callable[[object, str, object], None]] = []


class Reader:
    """Reads on one driver connection, in the transaction it is in."""

    def __init__(self, connection, dialect):
        self.connection = connection
        self.dialect = dialect

    def all(
        self, prepared: Prepared, params: dict, keys: tuple[str, ...] | None = None
    ) -> list[tuple]:
        cursor = self.run(prepared, params, keys)
        rows = cursor.fetchall()
        each, processed = prepared.processors(self.dialect, cursor.description)
        if not processed:
            return rows
        return [
            tuple(p(v) if p is not None else v for p, v in zip(each, row, strict=True))
            for row in rows
        ]

    def run(self, prepared: Prepared, params: dict, keys: tuple[str, ...] | None = None):
        """Run a statement; its cursor. ``keys``: an INSERT's or UPDATE's parameter names."""
        compiled, fixed, binders, expands = prepared.compiled(self.dialect, keys)
        if expands:  # IN lists: a placeholder per value
            state = compiled.construct_expanded_state(params)
            sql, values, order = state.statement, state.parameters, state.positiontup
            binders = {**binders, **state.processors}
        else:
            sql, order = compiled.string, compiled.positiontup
            values = {**fixed, **params} if fixed else params
        if binders:
            values = {k: binders[k](v) if k in binders else v for k, v in values.items()}
        bound = tuple(values[n] for n in order) if compiled.positional else values
        return self._run(sql, bound)

    def first(self, prepared: Prepared, params: dict) -> tuple | None:
        rows = self.all(prepared, params)
        return rows[0] if rows else None

    def execute(self, sql: str, params: tuple) -> list[tuple]:
        """Plain SQL in the driver's own parameter style (services/model.py's version read)."""
        return self._run(sql, params).fetchall()

    def command(self, sql: str) -> None:
        """A statement without parameters or rows (BEGIN, SET)."""
        self._run(sql, ())

    def _run(self, sql: str, params):
        for observe in OBSERVERS:
            observe(self.connection, sql, params)
        try:
            return self.connection.execute(sql, params)
        except self.dialect.loaded_dbapi.Error as exc:
            lost = self.dialect.is_disconnect(exc, self.connection, None)
            raise _wrapped(self.dialect, exc, lost) from exc


def on(conn: Connection) -> Reader:
    """A reader in the transaction of a SQLAlchemy connection (a session's)."""
    return Reader(conn.connection.driver_connection, conn.dialect)


@contextmanager
def reading(engine: Engine) -> Iterator[Reader]:
    """A read transaction of its own on a pooled connection (one snapshot: REPEATABLE READ on
    PostgreSQL, a WAL read transaction on SQLite)."""
    dialect = engine.dialect
    try:
        fairy = engine.raw_connection()  # from the pool: its connect-time settings applied
    except dialect.loaded_dbapi.Error as exc:  # the database is away
        raise _wrapped(dialect, exc, lost=True) from exc
    reader = Reader(fairy.driver_connection, dialect)
    try:
        if dialect.name == "postgresql":
            # psycopg has begun the transaction; this comes before its first statement
            reader.command("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        else:
            reader.command("BEGIN")  # pysqlite leaves transaction control to us (db.py)
        yield reader
    except DBAPIError as exc:
        if exc.connection_invalidated:
            fairy.invalidate(exc.orig)  # not pooled again
        raise
    finally:
        # back to the pool, whose reset rolls the read transaction back (nothing was written)
        fairy.close()


def _wrapped(dialect, exc: Exception, lost: bool) -> DBAPIError:
    """The driver's error as SQLAlchemy raises it (OperationalError for psycopg's and
    sqlite3's OperationalError)."""
    return DBAPIError.instance(
        None, None, exc, dialect.loaded_dbapi.Error, connection_invalidated=lost, dialect=dialect
    )
