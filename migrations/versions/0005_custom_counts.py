"""custom counts: how many processes of a business hold each value of each custom attribute

A search whose only condition is equality or $in on one custom attribute reads its count here
(services/counting.py) instead of counting its matches row by row: at 1,000,000 processes a
value held by 3 % of a business is 27,000 rows to visit (issue 15). Kept by triggers on
processes, in the transaction of every insert, update and delete, like process_counts
(migration 0003): statement-level with transition tables on PostgreSQL for inserts and
deletes, row-level for updates that change a custom value, row-level on SQLite.

Counted values: strings of at most 200 characters, booleans and integers (their text:
``true``, ``42``); floats, longer strings, objects and arrays are not counted, and a search
on them counts its matches. A value's row stays (at 0) when its last holder goes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

# ruff: noqa: S608 - every statement here is built from this file's constants
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = "bk_supplier_account, bk_biz_id, bk_property_id, value"
TEXT_MAX = 200  # services/counting.py reads the same bound

PG_FUNCTIONS = f"""
CREATE FUNCTION proc_custom_countable(v jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE jsonb_typeof(v)
    WHEN 'string' THEN length(v #>> '{{}}') <= {TEXT_MAX}
    WHEN 'boolean' THEN true
    WHEN 'number' THEN (v::text ~ '^-?[0-9]{{1,19}}$')
    ELSE false END
$$;

-- One statement's changes, counted per (business, attribute, value) in one upsert, in key
-- order so that two statements never wait on each other's rows in opposite orders.
CREATE FUNCTION proc_custom_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO custom_counts AS c ({KEY}, processes)
  SELECT r.bk_supplier_account, r.bk_biz_id, e.key, e.value #>> '{{}}', count(*)
  FROM inserted_rows r CROSS JOIN LATERAL jsonb_each(r.custom) e
  WHERE proc_custom_countable(e.value)
  GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT ({KEY}) DO UPDATE SET processes = c.processes + excluded.processes;
  RETURN NULL;
END $$;

CREATE FUNCTION proc_custom_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE custom_counts AS c SET processes = c.processes - d.n
  FROM (SELECT r.bk_supplier_account, r.bk_biz_id, e.key, e.value #>> '{{}}' AS value,
               count(*) AS n
        FROM deleted_rows r CROSS JOIN LATERAL jsonb_each(r.custom) e
        WHERE proc_custom_countable(e.value) GROUP BY 1, 2, 3, 4) AS d
  WHERE c.bk_supplier_account = d.bk_supplier_account AND c.bk_biz_id = d.bk_biz_id
    AND c.bk_property_id = d.key AND c.value = d.value;
  RETURN NULL;
END $$;

-- Row-level for updates: a statement-level trigger with transition tables cannot be limited
-- to the column (PostgreSQL refuses a column list there), and copying every updated row into
-- them cost a batch update of 1000 ids 15-30 ms even when no custom value changed.
CREATE FUNCTION proc_custom_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO custom_counts AS c ({KEY}, processes)
  SELECT a, b, k, v, sum(d) FROM (
    SELECT NEW.bk_supplier_account AS a, NEW.bk_biz_id AS b, e.key AS k,
           e.value #>> '{{}}' AS v, 1 AS d
    FROM jsonb_each(NEW.custom) e WHERE proc_custom_countable(e.value)
    UNION ALL
    SELECT OLD.bk_supplier_account, OLD.bk_biz_id, e.key, e.value #>> '{{}}', -1
    FROM jsonb_each(OLD.custom) e WHERE proc_custom_countable(e.value)
  ) AS deltas
  GROUP BY 1, 2, 3, 4 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4
  ON CONFLICT ({KEY}) DO UPDATE SET processes = c.processes + excluded.processes;
  RETURN NULL;
END $$;

CREATE FUNCTION proc_custom_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM custom_counts;
  RETURN NULL;
END $$;

CREATE TRIGGER processes_custom_insert AFTER INSERT ON processes
  REFERENCING NEW TABLE AS inserted_rows FOR EACH STATEMENT
  EXECUTE FUNCTION proc_custom_inserted();
CREATE TRIGGER processes_custom_delete AFTER DELETE ON processes
  REFERENCING OLD TABLE AS deleted_rows FOR EACH STATEMENT
  EXECUTE FUNCTION proc_custom_deleted();
CREATE TRIGGER processes_custom_update
  AFTER UPDATE OF custom, bk_supplier_account, bk_biz_id ON processes
  FOR EACH ROW WHEN (OLD.custom IS DISTINCT FROM NEW.custom
                     OR OLD.bk_biz_id IS DISTINCT FROM NEW.bk_biz_id
                     OR OLD.bk_supplier_account IS DISTINCT FROM NEW.bk_supplier_account)
  EXECUTE FUNCTION proc_custom_changed();
CREATE TRIGGER processes_custom_truncate AFTER TRUNCATE ON processes
  FOR EACH STATEMENT EXECUTE FUNCTION proc_custom_truncated();
"""
PG_DROP = """
DROP TRIGGER processes_custom_insert ON processes;
DROP TRIGGER processes_custom_delete ON processes;
DROP TRIGGER processes_custom_update ON processes;
DROP TRIGGER processes_custom_truncate ON processes;
DROP FUNCTION proc_custom_inserted();
DROP FUNCTION proc_custom_deleted();
DROP FUNCTION proc_custom_changed();
DROP FUNCTION proc_custom_truncated();
DROP FUNCTION proc_custom_countable(jsonb);
"""


def _sqlite_values(row: str) -> str:
    """SQLite: the counted values of ``row``'s custom object, as (key, text) rows."""
    return (
        "SELECT key, CASE type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false'"
        f" ELSE CAST(value AS TEXT) END AS text FROM json_each({row}.custom)"
        " WHERE type IN ('true', 'false', 'integer')"
        f" OR (type = 'text' AND length(value) <= {TEXT_MAX})"
    )


def _sqlite_add(row: str) -> str:
    return (
        f"INSERT INTO custom_counts ({KEY}, processes)"
        f" SELECT {row}.bk_supplier_account, {row}.bk_biz_id, v.key, v.text, 1"
        f" FROM ({_sqlite_values(row)}) AS v WHERE true"
        f" ON CONFLICT ({KEY}) DO UPDATE SET processes = processes + 1;"
    )


def _sqlite_remove(row: str) -> str:
    return (
        "UPDATE custom_counts SET processes = processes - 1"
        f" WHERE bk_supplier_account = {row}.bk_supplier_account AND bk_biz_id = {row}.bk_biz_id"
        f" AND (bk_property_id, value) IN (SELECT key, text FROM ({_sqlite_values(row)}));"
    )


SQLITE_TRIGGERS = [
    "CREATE TRIGGER processes_custom_insert AFTER INSERT ON processes"
    f" WHEN NEW.custom <> '{{}}' BEGIN {_sqlite_add('NEW')} END",
    "CREATE TRIGGER processes_custom_delete AFTER DELETE ON processes"
    f" WHEN OLD.custom <> '{{}}' BEGIN {_sqlite_remove('OLD')} END",
    "CREATE TRIGGER processes_custom_update"
    " AFTER UPDATE OF custom, bk_supplier_account, bk_biz_id ON processes"
    " WHEN OLD.custom IS NOT NEW.custom OR OLD.bk_biz_id IS NOT NEW.bk_biz_id"
    " OR OLD.bk_supplier_account IS NOT NEW.bk_supplier_account"
    f" BEGIN {_sqlite_remove('OLD')} {_sqlite_add('NEW')} END",
]


def _chars(length: int) -> sa.String:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "custom_counts",
        sa.Column("bk_supplier_account", _chars(64), nullable=False),
        sa.Column("bk_biz_id", sa.BigInteger(), nullable=False),
        sa.Column("bk_property_id", _chars(128), nullable=False),
        sa.Column("value", _chars(TEXT_MAX), nullable=False),
        sa.Column("processes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "bk_supplier_account",
            "bk_biz_id",
            "bk_property_id",
            "value",
            name="pk_custom_counts",
        ),
    )
    if postgres:
        op.execute(PG_FUNCTIONS)
        # The rows already there, counted as the insert trigger would have.
        op.execute(
            f"INSERT INTO custom_counts ({KEY}, processes)"
            " SELECT r.bk_supplier_account, r.bk_biz_id, e.key, e.value #>> '{}', count(*)"
            " FROM processes r CROSS JOIN LATERAL jsonb_each(r.custom) e"
            " WHERE proc_custom_countable(e.value) GROUP BY 1, 2, 3, 4"
        )
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
        # json_each beside the table (SQLite has no LATERAL subquery)
        op.execute(
            f"INSERT INTO custom_counts ({KEY}, processes)"
            " SELECT p.bk_supplier_account, p.bk_biz_id, j.key, CASE j.type WHEN 'true'"
            " THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(j.value AS TEXT) END, count(*)"
            " FROM processes p, json_each(p.custom) j"
            " WHERE j.type IN ('true', 'false', 'integer')"
            f" OR (j.type = 'text' AND length(j.value) <= {TEXT_MAX}) GROUP BY 1, 2, 3, 4"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_DROP)
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER processes_custom_{name}")
    op.drop_table("custom_counts")
