"""Query plans on PostgreSQL (issue 7): capture the SQL a request runs, EXPLAIN it, and name
what a plan does that would make a request cost time in proportion to its business."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from proc_service.data import prepared

EXPLAINED = ("SELECT", "UPDATE", "INSERT", "DELETE", "WITH")


@contextmanager
def captured(engine) -> Iterator[list[tuple[str, dict]]]:
    """(statement, estimated plan) of every query the engine runs inside the block. Each is
    EXPLAINed (nothing more is executed) just before it runs, on its own connection and in its
    own transaction, so that the transaction's settings (SET LOCAL) and snapshot apply."""
    found: list[tuple[str, dict]] = []

    def seen(connection, statement, parameters):
        if statement.lstrip().upper().startswith(EXPLAINED):
            found.append((statement, explain(connection, statement, parameters)))

    with observed(engine, seen):
        yield found


@contextmanager
def observed(engine, seen) -> Iterator[None]:
    """``seen(driver connection, statement, parameters)`` for each statement run in the block,
    through the session (SQLAlchemy's events) or on the driver's connection (data/prepared.py)."""

    def record(_conn, cursor, statement, parameters, _context, _many):
        seen(cursor.connection, statement, parameters)

    event.listen(engine, "before_cursor_execute", record)
    prepared.OBSERVERS.append(seen)
    try:
        yield
    finally:
        prepared.OBSERVERS.remove(seen)
        event.remove(engine, "before_cursor_execute", record)


def explain(conn, statement: str, parameters) -> dict:
    """The estimated plan as EXPLAIN (FORMAT JSON) gives it, on a psycopg connection."""
    row = conn.execute("EXPLAIN (FORMAT JSON) " + statement, parameters or None).fetchone()
    plan = row[0] if not isinstance(row[0], str) else json.loads(row[0])
    # the JIT compilation PostgreSQL would do, when it would (issue 18: 85-140 ms a statement)
    return {**plan[0]["Plan"], "JIT": plan[0].get("JIT")}


def _nodes(node: dict, parent: dict | None = None) -> Iterator[tuple[dict, dict | None]]:
    yield node, parent
    for child in node.get("Plans", ()):
        yield from _nodes(child, node)


def _scans(node: dict, relation: str) -> list[dict]:
    return [n for n, _ in _nodes(node) if n.get("Relation Name") == relation]


SCOPE_ONLY = ("bk_supplier_account", "bk_biz_id")


def _whole_business(scan: dict) -> bool:
    """A scan of processes whose only condition is the business: it reads all of it."""
    conditions = " ".join(str(scan.get(k, "")) for k in ("Index Cond", "Recheck Cond"))
    if scan["Node Type"] == "Seq Scan":
        return True
    columns = {
        c
        for c in ("bk_process_id", "bk_process_name", "bk_func_name", "priority", "port", "user")
        if c in conditions
    }
    return not columns and all(c in conditions for c in SCOPE_ONLY)


def problems(plan: dict, business_rows: int) -> list[str]:
    """What the plan does wrong: a sequential scan of processes, a sort of the whole business
    (a Sort over a scan that reads the whole business, or over at least a tenth of it), a
    nested loop whose inner side goes over bindings other than by their key, or JIT
    compilation."""
    found = []
    if plan.get("JIT"):
        found.append(f"compiled by JIT ({plan['JIT'].get('Functions')} functions)")
    for node, _ in _nodes(plan):
        kind = node["Node Type"]
        if kind == "Seq Scan" and node.get("Relation Name") == "processes":
            found.append("sequential scan of processes")
        if kind == "Sort":
            below = node["Plans"][0]
            if below.get("Plan Rows", 0) >= business_rows // 10 or any(
                _whole_business(s) for s in _scans(below, "processes")
            ):
                found.append(f"sort of the whole business ({node.get('Sort Key')})")
        if kind == "Nested Loop":
            inner = next(
                (c for c in node["Plans"] if c.get("Parent Relationship") == "Inner"), None
            )
            for scan in _scans(inner or {}, "process_bindings"):
                # probing the key (process, name) for the outer process: by index or bitmap
                probe = str(scan.get("Index Cond", "")) + str(scan.get("Recheck Cond", ""))
                keyed = "bk_process_id = processes.bk_process_id" in probe and scan[
                    "Node Type"
                ] in ("Index Scan", "Index Only Scan", "Bitmap Heap Scan")
                if not keyed:
                    found.append(f"nested loop over bindings ({scan['Node Type']})")
    return found


# --- SQLite (issue 18) ----------------------------------------------------------------------


@contextmanager
def sqlite_captured(engine) -> Iterator[list[tuple[str, list[str]]]]:
    """(statement, EXPLAIN QUERY PLAN details) of every query the engine runs in the block."""
    found: list[tuple[str, list[str]]] = []

    def seen(connection, statement, parameters):
        if statement.lstrip().upper().startswith("SELECT"):
            rows = connection.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            found.append((statement, [row[3] for row in rows]))

    with observed(engine, seen):
        yield found


def sqlite_reads_the_business(details: list[str]) -> list[str]:
    """The steps of a SQLite plan that read processes whole, or a business of it whole: a scan
    of the table, or an index searched by the business alone."""
    return [
        d
        for d in details
        if re.match(r"SCAN (processes|p)( |$)", d)
        or re.fullmatch(r"SEARCH (processes|p) .*\(bk_supplier_account=\? AND bk_biz_id=\?\)", d)
    ]
