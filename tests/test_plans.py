"""Query plans at scale, on PostgreSQL (issue 7) and for SQLite's trigram index of names
(issue 18, at the end): the regression guard for the indexes.

About 100,000 processes, 90,000 of them in business 1, are loaded once with the benchmark's
loader (bench/loader.py). Every request of the scale table (bench/scale.py) is sent for
business 1; each statement it ran is EXPLAINed, before any ANALYZE (autovacuum off for the
tables, so no statistics at all, as right after a bulk load) and again after VACUUM ANALYZE (what
autovacuum does). No plan may scan processes sequentially, sort the whole business, or nest a
loop over bindings (PostgreSQL), and no name search may read business 1 (SQLite).
Timings are never asserted; plans are.
"""

from __future__ import annotations

import re
import sqlite3

import psycopg
import pytest
from sqlalchemy.engine import make_url

from bench.loader import load
from bench.scale import BIG, table_requests
from proc_service import create_app
from proc_service.data import sql

from .dbkit import libpq
from .plans import captured, problems, sqlite_captured, sqlite_reads_the_business

PROCESSES = 100_000
BUSINESS_ROWS = PROCESSES * 9 // 10


@pytest.fixture(scope="module")
def loaded(postgres) -> str:
    url = postgres.create()
    load(url, PROCESSES, analyze=False, quiet=True, custom=True)  # issue 15: custom searches too
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        for table in ("processes", "process_bindings", "process_counts"):
            conn.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
    return url


def _plans(url: str, only: str | None = None) -> dict[str, list[tuple[str, dict]]]:
    """Each request of the table (or ``only`` that one), sent once for the big business: the
    plan of every statement it ran."""
    app = create_app({"DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
    client = app.test_client()
    found = {}
    try:
        for name, make in table_requests(BIG, PROCESSES).items():
            if only not in (None, name):
                continue
            method, path, body = make(0)
            with captured(app.extensions["db_engine"]) as plans:
                resp = client.open(path, method=method, json=body)
            assert resp.status_code == 200, (name, resp.get_json())
            assert plans, name
            found[name] = list(plans)
    finally:
        app.extensions["db_engine"].dispose()
    return found


def _report(found: dict[str, list[tuple[str, dict]]]) -> list[str]:
    return [
        f"{name}: {problem}\n    {' '.join(statement.split())[:300]}"
        for name, plans in found.items()
        for statement, plan in plans
        for problem in problems(plan, BUSINESS_ROWS)
    ]


@pytest.fixture(scope="module")
def plans_before_and_after_analyze(loaded) -> tuple[list[str], list[str]]:
    with psycopg.connect(libpq(loaded), autocommit=True) as conn:
        assert conn.execute(
            "SELECT count(*) FROM pg_stats WHERE tablename = 'processes'"
        ).fetchone() == (0,), "the plan test needs a table without statistics first"
    before = _report(_plans(loaded))
    with psycopg.connect(libpq(loaded), autocommit=True) as conn:
        # as after autovacuum: statistics, and the visibility map that index-only counts use
        conn.execute("VACUUM ANALYZE")
    return before, _report(_plans(loaded))


# Without statistics PostgreSQL takes business 1 for about 2 rows (0.5 % for each equality of
# the scope) and the trigram index for costly, so it reads the business and filters its names
# (a substring, a $regex without a literal prefix): plans statistics decide, until autovacuum
# (or the loader) has analysed the table.
# So for a custom attribute's equality (issue 15): without statistics on the JSONB column the
# containment looks as costly as reading the business; with them the GIN index serves it.
NEEDS_STATISTICS = {
    "search, bk_process_name plain value (substring)",
    "search, bk_process_name $regex, unanchored",
    "search, custom owner equal to one value",
    "search, custom weight $in 3 values",
}


def test_no_plan_scans_sorts_or_loops_before_analyze(plans_before_and_after_analyze):
    before, _ = plans_before_and_after_analyze
    unexpected = [p for p in before if p.split(":")[0] not in NEEDS_STATISTICS]
    assert not unexpected, "\n".join(unexpected)


def test_no_plan_scans_sorts_or_loops_after_analyze(plans_before_and_after_analyze):
    _, after = plans_before_and_after_analyze
    assert not after, "\n".join(after)


def test_a_page_sorted_by_a_key_no_index_gives_is_not_compiled_by_jit(loaded):
    """A whole business's page is read in index order (enable_sort off); sorted by a key no
    index gives, it is still sorted, and that sort's disable cost took the plan past
    jit_above_cost: PostgreSQL compiled it on every request (issue 18: 85 ms of 136)."""
    app = create_app({"DATABASE_URL": loaded, "LOG_LEVEL": "WARNING"})
    try:
        body = {"page": {"limit": 10, "sort": "description"}}
        with captured(app.extensions["db_engine"]) as plans:
            resp = app.test_client().post(f"/api/v3/proc/search/0/{BIG}", json=body)
        assert resp.status_code == 200, resp.get_json()
    finally:
        app.extensions["db_engine"].dispose()
    compiled = [p for _, plan in plans for p in problems(plan, BUSINESS_ROWS) if "JIT" in p]
    assert plans and not compiled, compiled


@pytest.mark.parametrize(
    "index, request_name, problem",
    [
        ("ix_processes_priority", "search, sort -priority", "sort of the whole business"),
        ("uq_processes_name", "search, sort bk_process_name", "sort of the whole business"),
        ("ix_processes_func_name", "search, bk_func_name equal to one value", "sequential"),
        # without it PostgreSQL reads the whole business, through another index or by a
        # sequential scan, as the statistics' sample decides: either is reported
        (
            "ix_processes_name_trgm",
            "search, bk_process_name plain value (substring)",
            "whole|sequential",
        ),
    ],
)
def test_dropping_an_index_is_caught(loaded, plans_before_and_after_analyze, index, request_name,
                                     problem):  # fmt: skip
    """The guard is real: with one index dropped, the plans of the request it serves are
    reported (the index is then created again from its own definition)."""
    with psycopg.connect(libpq(loaded), autocommit=True) as conn:
        (definition,) = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = %s", (index,)
        ).fetchone()
        conn.execute(f"DROP INDEX {index}")
        try:
            found = _report(_plans(loaded, only=request_name))
        finally:
            conn.execute(definition)
    assert any(one in p for p in found for one in problem.split("|")), (index, found)


# --- SQLite: the trigram index of names (issue 18, migration 0007) --------------------------
#
# The same loader, on SQLite: the name searches of the table (a substring, a $regex without a
# literal prefix) must find their rows through processes_name_fts and read processes by id,
# never scan it or walk business 1 (its 90,000 rows) through an index. With statistics (the
# loader runs ANALYZE) and without (none until someone runs ANALYZE: SQLite then takes a
# business for 10 rows).

NAME_SEARCHES = (
    "search, bk_process_name plain value (substring)",
    "search, bk_process_name $regex, unanchored",
)


@pytest.fixture(scope="module")
def sqlite_loaded(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('plans') / 'plans.sqlite3'}"
    load(url, PROCESSES, quiet=True)
    return url


def _sqlite_plans(url: str, bodies: dict) -> dict[str, list[tuple[str, list[str]]]]:
    app = create_app({"DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
    client = app.test_client()
    found = {}
    try:
        for name, (method, path, body) in bodies.items():
            with sqlite_captured(app.extensions["db_engine"]) as plans:
                resp = client.open(path, method=method, json=body)
            assert resp.status_code == 200, (name, resp.get_json())
            # the count and the page (not how many rows hold the text, sql.trigram_choice)
            found[name] = [(s, d) for s, d in plans if re.search(r"FROM processes\s", s)]
    finally:
        app.extensions["db_engine"].dispose()
    return found


def _name_searches(sort: str | None = None) -> dict:
    requests = table_requests(BIG, PROCESSES)
    bodies = {name: requests[name](0) for name in NAME_SEARCHES}
    if sort:
        bodies = {
            f"{name}, sort {sort}": (m, p, {**b, "page": {**b["page"], "sort": sort}})
            for name, (m, p, b) in bodies.items()
        }
    return bodies


def _sqlite_report(found: dict) -> list[str]:
    """Each statement (the count and the page) that does not look its rows up in the index,
    or reads the business."""
    report = []
    for name, plans in found.items():
        assert len(plans) == 2, (name, plans)  # the count and the page
        for statement, details in plans:
            where = f"{name}: {' '.join(statement.split())[:200]}\n    {details}"
            if not any("processes_name_fts VIRTUAL TABLE" in d for d in details):
                report.append(f"no lookup in the trigram index: {where}")
            if sqlite_reads_the_business(details):
                report.append(f"reads the business: {where}")
    return report


@pytest.mark.parametrize("sort", [None, "-priority", "bk_process_name"])
def test_sqlite_name_searches_use_the_trigram_index(sqlite_loaded, sort):
    assert not (report := _sqlite_report(_sqlite_plans(sqlite_loaded, _name_searches(sort)))), (
        "\n".join(report)
    )


def test_sqlite_name_searches_use_the_trigram_index_without_statistics(sqlite_loaded, tmp_path):
    """Before any ANALYZE; a page in another order than the default may then walk that
    order's index over the business, probing the list (sql._narrowed_sqlite): not checked."""
    copy = tmp_path / "no-statistics.sqlite3"
    with sqlite3.connect(make_url(sqlite_loaded).database) as source, sqlite3.connect(copy) as to:
        source.backup(to)
        to.execute("DROP TABLE sqlite_stat1")
    url = f"sqlite:///{copy}"
    assert not (report := _sqlite_report(_sqlite_plans(url, _name_searches()))), "\n".join(report)


def test_sqlite_without_the_lookup_the_business_is_read(sqlite_loaded, monkeypatch):
    """The guard is real: with no lookup (as before migration 0007), the same searches read
    the whole business, and are reported."""
    monkeypatch.setattr(sql, "TRIGRAM", 10**6)
    report = _sqlite_report(_sqlite_plans(sqlite_loaded, _name_searches()))
    assert sum("reads the business" in r for r in report) == 4, report
