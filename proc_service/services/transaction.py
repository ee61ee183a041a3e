"""Transactions: a write commits with its audit rows or not at all; a search reads its page and
its count in one snapshot."""

from __future__ import annotations

import functools
from contextlib import nullcontext

from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from ..attributes import KINDS
from ..data import custom, db, prepared, query
from ..errors import ApiError

# PostgreSQL aborts one of two writers that wait on each other (say, two batches taking the
# same unique keys in opposite order); the aborted one is simply run again.
RETRYABLE = {"40P01"}  # deadlock_detected
WRITE_ATTEMPTS = 3


def write(operation):
    """Run ``operation(sess, ...)`` as one write transaction. A unique-index violation becomes
    409 / 1199014; a deadlock runs the whole operation again."""

    @functools.wraps(operation)
    def run(sess: Session, *args, **kwargs):
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with db.write(sess):
                    return operation(sess, *args, **kwargs)
            except IntegrityError as exc:
                raise conflict(exc) from None
            except OperationalError as exc:
                if attempt == WRITE_ATTEMPTS or sqlstate(exc) not in RETRYABLE:
                    raise
        raise AssertionError("unreachable")

    return run


def search(sess: Session, found: query.Search, regex_timeout_ms: int) -> dict:
    """Run a built search: its COUNT and page in one snapshot. A $regex search gets
    ``regex_timeout_ms``: regex.py refuses the patterns it knows to be costly, but some stay
    slow ("[ab]*a[ab]{64}c" on long values), on either database."""
    try:
        limit = db.time_limit(sess, regex_timeout_ms) if found.regex_fields else nullcontext()
        with db.read(sess, snapshot=True), limit:
            # Core on the request's connection: the ORM's layers added nothing to rows of
            # columns but time; statements built once run on the driver's connection, in the
            # same transaction (issue 18)
            conn = sess.connection()
            reader = prepared.on(conn)
            count = _run(conn, reader, found.count, found.count_params or found.params)[0][0]
            beyond = count <= found.start
            if found.index_order or _dense(found, count):
                db.index_order(sess)
            rows = [] if beyond else _run(conn, reader, found.page, found.params)
    except (DataError, OperationalError) as exc:
        # A pattern one engine refused or ran out of time on: the pattern is at fault.
        if found.regex_fields and (isinstance(exc, DataError) or db.timed_out(exc)):
            raise ApiError(1199006, found.regex_fields[0]) from None
        raise
    # times come rendered (query.build reads them as RenderedTime)
    info = [dict(zip(found.fields, row, strict=True)) for row in rows]
    return {"count": count, "info": info}


def _run(conn, reader: prepared.Reader, stmt, params: dict) -> list:
    kept = prepared.lookup(stmt)
    return reader.all(kept, params) if kept is not None else conn.execute(stmt, params).all()


# A kept count this large says one row in ten or so matches wherever the page starts reading:
# reading an index in the page's order and filtering finds a page after (start + limit) x 10
# rows or so, where gathering every match first costs all of them (27,000 rows for a custom
# $in at a million processes, issue 15). Statistics cannot tell PostgreSQL this: a JSON value's
# selectivity is a guess.
DENSE_MATCHES = 10_000


def _dense(found: query.Search, count: int) -> bool:
    return found.kept_count and count >= DENSE_MATCHES and found.start * 10 <= count


def sqlstate(exc: Exception) -> str | None:
    return getattr(getattr(exc, "orig", None), "sqlstate", None)


def conflict(exc: IntegrityError) -> Exception:
    """The unique rule an IntegrityError broke, as 409 / 1199014 naming its attributes."""
    orig = exc.orig
    constraint = getattr(getattr(orig, "diag", None), "constraint_name", None) or ""
    message = str(orig)
    # SQLite names the columns of a plain unique index ("UNIQUE constraint failed: sets.a,
    # sets.b"), or the index for an expression index.
    failed = {c.strip() for c in message.partition(": ")[2].split(",")}
    for kind in KINDS:
        for rule, attr_ids, _ in kind.unique_rules:
            index = f"uq_{kind.table}_{rule}"
            columns = {f"{kind.table}.{c}" for c in (*kind.unique_scope, *attr_ids)}
            if constraint == index or f"'{index}'" in message or failed == columns:
                return ApiError(1199014, ",".join(attr_ids))
    # §15: two subscriptions of an account cannot share a name
    if constraint == "uq_event_subscriptions_name" or "event_subscriptions." in message:
        return ApiError(1199014, "subscription_name")
    # an isonly custom attribute's index (§14)
    for index, attr_id in list(custom.INDEXED.items()):
        if constraint == index or f"'{index}'" in message:
            return ApiError(1199014, attr_id)
    return exc
