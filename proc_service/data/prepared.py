"""Statements built with SQLAlchemy once, run on the driver's connection (issue 18).

A process detail or a binding list is a few one-row reads by key. Through a Session each
request paid about 230 µs of Python for 35 µs of SQLite: the session's transaction states, the
connection's events and the result's layers, on every request. Here a Core statement is
compiled once per dialect and run on a pooled DBAPI connection in a read transaction of its
own (one snapshot: on PostgreSQL REPEATABLE READ), with the columns' own result processing:

    with reading(engine) as reader:
        row = reader.first(STATEMENT, {"process_id": 7})

Only for reads, and only for statements whose parameters are plain ints and strings (no bind
processing, no expanding IN): everything else goes through the Session. A driver error leaves
as SQLAlchemy's (DBAPIError.instance), so web/handlers.py answers it as any other (503 when the
database is away), and its connection is discarded rather than pooled again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, Select
from sqlalchemy.exc import DBAPIError


class Prepared:
    """A Core SELECT, compiled on first use per dialect."""

    def __init__(self, stmt: Select):
        self.stmt = stmt
        self._compiled: dict[str, tuple] = {}

    def compiled(self, dialect) -> tuple:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.stmt.compile(dialect=dialect)
            processors = [
                col.type._cached_result_processor(dialect, None)
                for col in self.stmt.selected_columns
            ]
            # values the statement holds itself (``default == 0``), beside the caller's
            fixed = {name: b.value for name, b in compiled.binds.items() if not b.required}
            # qmark (SQLite) takes a tuple in positiontup's order; pyformat (psycopg) the dict
            found = (compiled.string, compiled.positiontup, fixed, processors, any(processors))
            self._compiled[dialect.name] = found
        return found


class Reader:
    """One read transaction on a driver connection."""

    def __init__(self, connection, dialect):
        self.connection = connection
        self.dialect = dialect

    def all(self, prepared: Prepared, params: dict) -> list[tuple]:
        sql, order, fixed, processors, processed = prepared.compiled(self.dialect)
        if fixed:
            params = {**fixed, **params}
        bound = tuple(params[name] for name in order) if order is not None else params
        rows = self.connection.execute(sql, bound).fetchall()
        if not processed:
            return rows
        return [
            tuple(p(v) if p is not None else v for p, v in zip(processors, row, strict=True))
            for row in rows
        ]

    def first(self, prepared: Prepared, params: dict) -> tuple | None:
        rows = self.all(prepared, params)
        return rows[0] if rows else None

    def execute(self, sql: str, params: tuple) -> list[tuple]:
        """Plain SQL in the driver's own parameter style (services/model.py's version read)."""
        return self.connection.execute(sql, params).fetchall()


@contextmanager
def reading(engine: Engine) -> Iterator[Reader]:
    dbapi_error = engine.dialect.loaded_dbapi.Error
    try:
        fairy = engine.raw_connection()  # from the pool: its connect-time settings applied
    except dbapi_error as exc:  # the database is away
        raise _wrapped(engine, exc, lost=True) from exc
    driver = fairy.driver_connection
    try:
        if engine.dialect.name == "postgresql":
            # psycopg has begun the transaction; this comes before its first statement
            driver.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        else:
            driver.execute("BEGIN")  # pysqlite leaves transaction control to us (db.py)
        yield Reader(driver, engine.dialect)
    except dbapi_error as exc:
        lost = engine.dialect.is_disconnect(exc, driver, None)
        if lost:
            fairy.invalidate(exc)  # not pooled again
        raise _wrapped(engine, exc, lost) from exc
    finally:
        # back to the pool, whose reset rolls the read transaction back (nothing was written)
        fairy.close()


def _wrapped(engine: Engine, exc: Exception, lost: bool) -> DBAPIError:
    """The driver's error as SQLAlchemy raises it (OperationalError for psycopg's and
    sqlite3's OperationalError)."""
    return DBAPIError.instance(
        None,
        None,
        exc,
        engine.dialect.loaded_dbapi.Error,
        connection_invalidated=lost,
        dialect=engine.dialect,
    )
