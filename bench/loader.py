"""The data set of issue 7, loaded with bulk SQL (one INSERT … SELECT per table), not the API.

Process n (1..N): name ``proc-<n>-<md5 hex of n>``, ``bk_func_name`` ``func<n mod 5000>``,
``priority`` ``1 + n mod 100``, ``proc_num`` ``1 + n mod 10``, ``port`` ``1000 + n mod 60000``,
``user`` ``user<n mod 50>``, ``bind_ip`` and ``protocol`` ``"1"``, ``bk_func_id`` ``""``.
Processes 1..0.9·N go to business 1 of account "0", the others to business ``2 + n mod 100``.
Business 1 has 30 sets with modules m0..m3 each, and every process of it is bound to
``m<id mod 4>``. No audit rows are written.

Derived structures stay right: the per-business counts come from the triggers (statement
triggers on PostgreSQL, so one INSERT pays once), bindings carry their business, and the
secondary indexes are dropped for the load and created again from their own definitions
(faster than maintaining them row by row, and exactly what the migrations made).
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from datetime import UTC, datetime

import psycopg
from sqlalchemy.engine import make_url

from proc_service.data.migrate import upgrade

SETS = 30
MODULES = ("m0", "m1", "m2", "m3")
BUSINESSES = 100  # the small ones: 2..101
TABLES = ("processes", "process_bindings")

# Shared by both databases; {seq} is the row source of n, {md5} the hash function.
PROCESS_SELECT = """
SELECT n, '0', CASE WHEN n <= {big} THEN 1 ELSE 2 + n % {businesses} END,
       'proc-' || n || '-' || {md5}, '', '1', CAST(1000 + n % 60000 AS TEXT), '1', '',
       'func' || (n % 5000), '', 'user' || (n % 50), 1 + n % 10, 1 + n % 100, NULL,
       '', '', '', '', '', '', {false}, NULL, '', {now}, {now}, {custom}
FROM {seq}
"""
# Issue 15: two custom attributes of account "0" with a value on every process ("owner" one of
# 1000 teams, "weight" 0..99), when load(custom=True).
CUSTOM = {
    "postgresql": "jsonb_build_object('owner', 'team' || (n % 1000), 'weight', n % 100)",
    "sqlite": "json_object('owner', 'team' || (n % 1000), 'weight', n % 100)",
}
CUSTOM_DEFINITIONS = [
    "INSERT INTO custom_attributes (bk_supplier_account, bk_obj_id, bk_property_id,"
    " bk_property_name, bk_property_type, option, isrequired, isonly, editable, placeholder,"
    " unit, description, bk_property_group, creator, create_time, last_time) VALUES"
    " ('0', 'process', 'owner', 'Owner', 'singlechar', '\"\"', {false}, {false}, {true},"
    " '', '', '', 'default', 'bench', {now}, {now}),"
    " ('0', 'process', 'weight', 'Weight', 'int', '{{\"min\": \"\", \"max\": \"\"}}',"
    " {false}, {false}, {true}, '', '', '', 'default', 'bench', {now}, {now})",
    "INSERT INTO model_versions (bk_supplier_account, version) VALUES ('0', 1)",
]
PROCESS_COLUMNS = (
    "bk_process_id, bk_supplier_account, bk_biz_id, bk_process_name, description, bind_ip,"
    ' port, protocol, bk_func_id, bk_func_name, work_path, "user", proc_num, priority, timeout,'
    " start_cmd, stop_cmd, restart_cmd, face_stop_cmd, reload_cmd, pid_file, auto_start,"
    " auto_time_gap, bk_start_param_regex, create_time, last_time, custom"
)
BINDING_INSERT = (
    "INSERT INTO process_bindings (bk_process_id, bk_module_name, create_time,"
    " bk_supplier_account, bk_biz_id)"
    " SELECT bk_process_id, 'm' || (bk_process_id % 4), {now}, bk_supplier_account, bk_biz_id"
    " FROM processes WHERE bk_supplier_account = '0' AND bk_biz_id = 1"
)


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def load(
    url: str,
    processes: int = 1_000_000,
    analyze: bool = True,
    quiet: bool = False,
    custom: bool = False,
) -> None:
    """Migrate ``url`` and fill its (empty) tables with the data set of ``processes``
    processes. ``analyze`` False leaves PostgreSQL without statistics (the plan tests);
    ``custom`` adds the two custom attributes of issue 15, with values on every process."""
    started = time.monotonic()
    upgrade(url)
    big = processes * 9 // 10
    if make_url(url).get_backend_name() == "postgresql":
        _load_postgresql(url, processes, big, analyze, custom)
    else:
        _load_sqlite(make_url(url).database, processes, big, analyze, custom)
    if not quiet:
        print(f"loaded {processes} processes in {time.monotonic() - started:.1f} s")


def _topology_sql(now: str) -> list[str]:
    sets = ", ".join(
        f"('0', 1, 'set{i}', '', '3', '1', NULL, '', 0, {now}, {now})" for i in range(SETS)
    )
    return [
        "INSERT INTO sets (bk_supplier_account, bk_biz_id, bk_set_name, bk_set_desc,"
        ' bk_set_env, bk_service_status, bk_capacity, description, "default", create_time,'
        f" last_time) VALUES {sets}",
        "INSERT INTO modules (bk_supplier_account, bk_biz_id, bk_set_id, bk_module_name,"
        ' bk_module_type, operator, bk_bak_operator, "default", create_time, last_time)'
        f" SELECT '0', 1, s.bk_set_id, m.name, '1', '', '', 0, {now}, {now}"
        " FROM sets s CROSS JOIN ("
        + " UNION ALL ".join(f"SELECT '{m}' AS name" for m in MODULES)
        + ") m WHERE s.bk_supplier_account = '0' AND s.bk_biz_id = 1 ORDER BY s.bk_set_id, m.name",
    ]


def _load_postgresql(url: str, processes: int, big: int, analyze: bool, custom: bool) -> None:
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        if conn.execute("SELECT EXISTS (SELECT 1 FROM processes)").fetchone()[0]:
            raise SystemExit("the processes table is not empty: load into a new database")
        conn.execute("SET maintenance_work_mem = '256MB'")
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes i WHERE tablename = ANY(%s)"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            (list(TABLES),),
        ).fetchall()
        with conn.transaction():
            for name, _ in indexes:
                conn.execute(f'DROP INDEX "{name}"')
            now = "now()"
            for statement in _topology_sql(now):
                conn.execute(statement)
            select = PROCESS_SELECT.format(
                big=big,
                businesses=BUSINESSES,
                md5="md5(n::text)",
                false="false",
                now=now,
                seq=f"generate_series(1, {processes}) AS n",
                custom=CUSTOM["postgresql"] if custom else "'{}'",
            )
            if custom:
                for statement in CUSTOM_DEFINITIONS:
                    conn.execute(statement.format(false="false", true="true", now=now))
            conn.execute(f"INSERT INTO processes ({PROCESS_COLUMNS}) {select}")
            conn.execute(BINDING_INSERT.format(now=now))
            conn.execute(
                "SELECT setval(pg_get_serial_sequence('processes', 'bk_process_id'),"
                " (SELECT max(bk_process_id) FROM processes))"
            )
            for _, definition in indexes:
                conn.execute(definition)
        if analyze:
            conn.execute("VACUUM ANALYZE")


def _md5(n: int) -> str:
    return hashlib.md5(str(n).encode()).hexdigest()  # the data set's names, not security


def _load_sqlite(path: str, processes: int, big: int, analyze: bool, custom: bool) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        if conn.execute("SELECT EXISTS (SELECT 1 FROM processes)").fetchone()[0]:
            raise SystemExit("the processes table is not empty: load into a new database")
        conn.create_function("md5_of", 1, _md5, deterministic=True)
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA cache_size = -200000")
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            " AND tbl_name IN (?, ?)",
            TABLES,
        ).fetchall()
        now = f"'{datetime.now(UTC).replace(tzinfo=None).isoformat(sep=' ')}'"
        conn.execute("BEGIN IMMEDIATE")
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        for statement in _topology_sql(now):
            conn.execute(statement)
        select = PROCESS_SELECT.format(
            big=big,
            businesses=BUSINESSES,
            md5="md5_of(n)",
            false="0",
            now=now,
            seq=f"(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s"
            f" WHERE n < {processes}) SELECT n FROM s)",
            custom=CUSTOM["sqlite"] if custom else "'{}'",
        )
        conn.execute(f"INSERT INTO processes ({PROCESS_COLUMNS}) {select}")
        if custom:
            for statement in CUSTOM_DEFINITIONS:
                conn.execute(statement.format(false="0", true="1", now=now))
        conn.execute(BINDING_INSERT.format(now=now))
        for _, definition in indexes:
            conn.execute(definition)
        conn.execute("COMMIT")
        if analyze:
            conn.execute("ANALYZE")
    finally:
        conn.close()
