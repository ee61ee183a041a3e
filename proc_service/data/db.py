"""Engines per app (the database, and optionally a read replica), one Session per request and
engine, and the SQLite settings the contract asks for (§9)."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
import weakref
from contextlib import contextmanager, nullcontext
from pathlib import Path

import orjson
from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from . import prepared
from .regex import sqlite_regexp

SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")


class WriteQueue:
    """SQLite's writers take turns here before BEGIN IMMEDIATE (issue 18). Without it, writers
    that meet a held write lock sleep in SQLite's busy handler, which polls with growing sleeps:
    a writer could wait half a second for a lock that was free after a millisecond. Here they
    queue: a lock per process (threads), then an flock on ``<database>-writers`` (processes:
    gunicorn's workers), where the kernel wakes the next waiter when the holder releases it.
    Writers outside this service (the sqlite3 shell, a backup) still meet the busy handler."""

    def __init__(self, database: str | None, timeout_s: float):
        self._lock = threading.Lock()
        self._path = f"{database}-writers" if database and database != ":memory:" else None
        self._timeout = timeout_s
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int | None:
        if self._path is None:
            return None
        if self._fd is None or self._pid != os.getpid():  # a forked worker opens its own
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    @contextmanager
    def turn(self):
        # past the busy timeout, the same answer SQLite's own wait would give
        if not self._lock.acquire(timeout=self._timeout):
            raise OperationalError(
                "BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked")
            )
        try:
            fd = self._file()
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._lock.release()


_QUEUES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def make_engine(
    url: str, pool_size: int = 5, busy_timeout_ms: int = 10000, synchronous: str = "NORMAL"
) -> Engine:
    # JSON columns are parsed by orjson (issue 18: a batch update reads 1000 custom columns,
    # an audit page 200 images). Every stored value came through validation: 64-bit ints,
    # finite floats, text without NUL or lone surrogates, which orjson reads as json does.
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            pool_timeout=10,
            # Fail fast when the server is down: the client gets a 503, not a hung request.
            connect_args={"connect_timeout": 5},
            json_deserializer=orjson.loads,
        )
    synchronous = synchronous.upper()
    if synchronous not in SYNCHRONOUS:  # stops start-up, as a bad tokens file does
        raise ValueError(f"PROC_SQLITE_SYNCHRONOUS must be one of {', '.join(SYNCHRONOUS)}")
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"timeout": busy_timeout_ms / 1000}, json_deserializer=orjson.loads
    )
    _QUEUES[engine] = WriteQueue(parsed.database, busy_timeout_ms / 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take transaction control away from pysqlite so that BEGIN is ours to issue.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        # Issue 7: in WAL mode NORMAL syncs the log at checkpoints rather than at every commit;
        # a commit survives a crash of the process, the last ones may be lost on power loss
        # (README, PROC_SQLITE_SYNCHRONOUS). FULL syncs every commit.
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()
        # $regex on SQLite runs RE2 (linear time), replacing SQLAlchemy's default Python re.
        dbapi_connection.create_function("regexp", 2, sqlite_regexp, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A writer takes the write lock up front (and waits for it under busy_timeout); a
        # deferred transaction that upgrades late fails at once with "database is locked".
        # On the driver's connection (issue 18: through exec_driver_sql, a tenth of a detail),
        # its error raised as SQLAlchemy's, as the statements' are.
        write = conn.get_execution_options().get("write")
        prepared.on(conn).command("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def init_app(app: Flask) -> None:
    cfg = app.config

    def engine_for(url: str) -> Engine:
        return make_engine(
            url,
            cfg["DB_POOL_SIZE"],
            cfg["DB_BUSY_TIMEOUT_MS"],
            cfg.get("SQLITE_SYNCHRONOUS", "NORMAL"),
        )

    engine = engine_for(cfg["DATABASE_URL"])
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    read_url = cfg.get("DATABASE_READ_URL")
    if read_url and read_url != cfg["DATABASE_URL"]:
        read_engine = engine_for(read_url)
        app.extensions["db_read_engine"] = read_engine
        app.extensions["db_read_sessionmaker"] = sessionmaker(read_engine, expire_on_commit=False)

    @app.teardown_appcontext
    def _close_session(_exc):
        for key in ("db_session", "db_read_session"):
            sess = g.pop(key, None)
            if sess is not None:
                sess.close()


def session(reads_only: bool = False) -> Session:
    """This request's session. ``reads_only``: a request that never writes (a search, a detail)
    reads from PROC_DATABASE_READ_URL when one is set; everything else, and every read inside a
    write's transaction, goes to PROC_DATABASE_URL."""
    ext = current_app.extensions
    key, maker = "db_session", "db_sessionmaker"
    if reads_only and "db_read_sessionmaker" in ext:
        key, maker = "db_read_session", "db_read_sessionmaker"
    if key not in g:
        setattr(g, key, ext[maker]())
    return g.get(key)


def read_engine() -> Engine:
    """The engine a request that never writes reads from (see ``session``)."""
    ext = current_app.extensions
    return ext.get("db_read_engine") or ext["db_engine"]


def engines(app: Flask) -> list[Engine]:
    """Every engine the app holds (to dispose of them all)."""
    return [e for k in ("db_engine", "db_read_engine") if (e := app.extensions.get(k))]


@contextmanager
def write(sess: Session):
    """A write transaction: commits on success, rolls back on any error. On SQLite, in turn
    with the other writers (WriteQueue)."""
    queue = _QUEUES.get(sess.get_bind())
    with queue.turn() if queue is not None else nullcontext(), sess.begin():
        # Options apply when the session procures its connection, before BEGIN is issued.
        sess.connection(execution_options={"write": True})
        yield sess


@contextmanager
def read(sess: Session, snapshot: bool = False):
    """A read transaction; ``snapshot`` makes several statements see one state of the data
    (a page and its count). SQLite's WAL transactions already do. Inside a read transaction
    already open (the request's, web/endpoint.py), it reads there."""
    if sess.in_transaction():
        yield sess
        return
    with sess.begin():
        if snapshot and sess.get_bind().dialect.name == "postgresql":
            sess.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        yield sess


@contextmanager
def time_limit(sess: Session, milliseconds: int):
    """Cut off the statements of the current transaction after ``milliseconds``; they fail with
    an error that ``timed_out`` recognises. Only for searches whose cost a client controls."""
    conn = sess.connection()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(milliseconds)}")
        yield
        return
    raw = conn.connection.driver_connection
    deadline = time.monotonic() + milliseconds / 1000
    # SQLite calls this every 100 virtual-machine steps (a few rows); True interrupts it.
    raw.set_progress_handler(lambda: time.monotonic() > deadline, 100)
    try:
        yield
    finally:
        raw.set_progress_handler(None, 100)


def index_order(sess: Session) -> None:
    """PostgreSQL, for the rest of this transaction: prefer reading rows in an index's order
    to sorting them (issue 7). For a page of a whole business, an index that gives its order
    is always the right plan; without statistics (a table not yet analysed) PostgreSQL
    estimates a business at a couple of rows and would sort all of it instead. Where no index
    gives the order, it still sorts."""
    conn = sess.connection()
    if conn.dialect.name == "postgresql":
        # and no JIT: a sort that is still needed (no index gives the order, or the ORDER BY
        # of a batch's audit rows) carries enable_sort's disable cost, which takes the plan
        # past jit_above_cost, and compiling it took 85-140 ms of a 45 ms statement (issue 18)
        conn.exec_driver_sql("SET LOCAL enable_sort = off; SET LOCAL jit = off")


def timed_out(exc: BaseException) -> bool:
    if not isinstance(exc, OperationalError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return sqlstate == "57014" or (sqlstate is None and "interrupted" in str(exc.orig))
