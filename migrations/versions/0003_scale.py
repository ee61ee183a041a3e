"""scale: per-business process counts, bindings that carry their business, indexes for the
searches of issue 7, pg_trgm for substring and $regex name searches

- process_counts: one row per (account, business) holding how many processes it has, kept by
  triggers on processes (statement-level with transition tables on PostgreSQL, so that COPY
  and multi-row inserts pay once per statement; row-level on SQLite). A whole-business search
  reads its count here instead of counting the business.
- process_bindings gains bk_supplier_account and bk_biz_id (its process's, back-filled here),
  and binding_counts holds how many processes of a business are bound to each module name
  (kept by triggers on process_bindings, as above): a search by one module name reads its
  count there, by several names it counts one index range of bindings.
- indexes: bk_func_name and priority (in the direction `-priority` reads), and on PostgreSQL a
  trigram GIN index on bk_process_name (substring and $regex searches);
- PostgreSQL: processes get fillfactor 90, so that batch updates of unindexed attributes are
  HOT updates.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCOPE = ["bk_supplier_account", "bk_biz_id"]
TRGM_HELP = (
    "migration 0003 needs the pg_trgm extension and this database role may not create it;"
    " as a superuser run:  CREATE EXTENSION pg_trgm;  in this database, then migrate again"
)


def Chars(length: int) -> sa.String:
    """Code-point order on PostgreSQL too, whatever the database's collation (see models)."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


# PostgreSQL: one statement's inserted/deleted rows, counted per business in one upsert.
PG_FUNCTIONS = """
CREATE FUNCTION proc_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO process_counts AS c (bk_supplier_account, bk_biz_id, processes)
  SELECT bk_supplier_account, bk_biz_id, count(*) FROM inserted_rows
  GROUP BY bk_supplier_account, bk_biz_id
  ORDER BY bk_supplier_account, bk_biz_id
  ON CONFLICT (bk_supplier_account, bk_biz_id)
  DO UPDATE SET processes = c.processes + excluded.processes;
  RETURN NULL;
END $$;

CREATE FUNCTION proc_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE process_counts AS c SET processes = c.processes - d.n
  FROM (SELECT bk_supplier_account, bk_biz_id, count(*) AS n FROM deleted_rows
        GROUP BY bk_supplier_account, bk_biz_id) AS d
  WHERE c.bk_supplier_account = d.bk_supplier_account AND c.bk_biz_id = d.bk_biz_id;
  RETURN NULL;
END $$;

CREATE FUNCTION proc_count_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE process_counts SET processes = processes - 1
  WHERE bk_supplier_account = OLD.bk_supplier_account AND bk_biz_id = OLD.bk_biz_id;
  INSERT INTO process_counts AS c (bk_supplier_account, bk_biz_id, processes)
  VALUES (NEW.bk_supplier_account, NEW.bk_biz_id, 1)
  ON CONFLICT (bk_supplier_account, bk_biz_id) DO UPDATE SET processes = c.processes + 1;
  RETURN NULL;
END $$;

CREATE FUNCTION proc_count_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM process_counts;
  RETURN NULL;
END $$;

CREATE FUNCTION proc_count_bound() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO binding_counts AS c (bk_supplier_account, bk_biz_id, bk_module_name, processes)
  SELECT bk_supplier_account, bk_biz_id, bk_module_name, count(*) FROM inserted_rows
  GROUP BY bk_supplier_account, bk_biz_id, bk_module_name
  ORDER BY bk_supplier_account, bk_biz_id, bk_module_name
  ON CONFLICT (bk_supplier_account, bk_biz_id, bk_module_name)
  DO UPDATE SET processes = c.processes + excluded.processes;
  RETURN NULL;
END $$;

CREATE FUNCTION proc_count_unbound() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE binding_counts AS c SET processes = c.processes - d.n
  FROM (SELECT bk_supplier_account, bk_biz_id, bk_module_name, count(*) AS n
        FROM deleted_rows GROUP BY bk_supplier_account, bk_biz_id, bk_module_name) AS d
  WHERE c.bk_supplier_account = d.bk_supplier_account AND c.bk_biz_id = d.bk_biz_id
    AND c.bk_module_name = d.bk_module_name;
  RETURN NULL;
END $$;

CREATE FUNCTION proc_count_rebound() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE binding_counts AS c SET processes = c.processes - d.n
  FROM (SELECT bk_supplier_account, bk_biz_id, bk_module_name, count(*) AS n
        FROM deleted_rows GROUP BY bk_supplier_account, bk_biz_id, bk_module_name) AS d
  WHERE c.bk_supplier_account = d.bk_supplier_account AND c.bk_biz_id = d.bk_biz_id
    AND c.bk_module_name = d.bk_module_name;
  INSERT INTO binding_counts AS c (bk_supplier_account, bk_biz_id, bk_module_name, processes)
  SELECT bk_supplier_account, bk_biz_id, bk_module_name, count(*) FROM inserted_rows
  GROUP BY bk_supplier_account, bk_biz_id, bk_module_name
  ORDER BY bk_supplier_account, bk_biz_id, bk_module_name
  ON CONFLICT (bk_supplier_account, bk_biz_id, bk_module_name)
  DO UPDATE SET processes = c.processes + excluded.processes;
  RETURN NULL;
END $$;

CREATE FUNCTION proc_count_unbound_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM binding_counts;
  RETURN NULL;
END $$;

CREATE TRIGGER process_bindings_count_insert AFTER INSERT ON process_bindings
  REFERENCING NEW TABLE AS inserted_rows FOR EACH STATEMENT
  EXECUTE FUNCTION proc_count_bound();
CREATE TRIGGER process_bindings_count_delete AFTER DELETE ON process_bindings
  REFERENCING OLD TABLE AS deleted_rows FOR EACH STATEMENT
  EXECUTE FUNCTION proc_count_unbound();
CREATE TRIGGER process_bindings_count_update AFTER UPDATE ON process_bindings
  REFERENCING OLD TABLE AS deleted_rows NEW TABLE AS inserted_rows FOR EACH STATEMENT
  EXECUTE FUNCTION proc_count_rebound();
CREATE TRIGGER process_bindings_count_truncate AFTER TRUNCATE ON process_bindings
  FOR EACH STATEMENT EXECUTE FUNCTION proc_count_unbound_all();

CREATE TRIGGER processes_count_insert AFTER INSERT ON processes
  REFERENCING NEW TABLE AS inserted_rows FOR EACH STATEMENT
  EXECUTE FUNCTION proc_count_inserted();
CREATE TRIGGER processes_count_delete AFTER DELETE ON processes
  REFERENCING OLD TABLE AS deleted_rows FOR EACH STATEMENT
  EXECUTE FUNCTION proc_count_deleted();
CREATE TRIGGER processes_count_move AFTER UPDATE OF bk_supplier_account, bk_biz_id ON processes
  FOR EACH ROW WHEN (OLD.bk_supplier_account IS DISTINCT FROM NEW.bk_supplier_account
                     OR OLD.bk_biz_id IS DISTINCT FROM NEW.bk_biz_id)
  EXECUTE FUNCTION proc_count_moved();
CREATE TRIGGER processes_count_truncate AFTER TRUNCATE ON processes
  FOR EACH STATEMENT EXECUTE FUNCTION proc_count_truncated();
"""
PG_DROP = """
DROP TRIGGER IF EXISTS process_bindings_count_insert ON process_bindings;
DROP TRIGGER IF EXISTS process_bindings_count_delete ON process_bindings;
DROP TRIGGER IF EXISTS process_bindings_count_update ON process_bindings;
DROP TRIGGER IF EXISTS process_bindings_count_truncate ON process_bindings;
DROP FUNCTION IF EXISTS proc_count_bound();
DROP FUNCTION IF EXISTS proc_count_unbound();
DROP FUNCTION IF EXISTS proc_count_rebound();
DROP FUNCTION IF EXISTS proc_count_unbound_all();
DROP TRIGGER IF EXISTS processes_count_insert ON processes;
DROP TRIGGER IF EXISTS processes_count_delete ON processes;
DROP TRIGGER IF EXISTS processes_count_move ON processes;
DROP TRIGGER IF EXISTS processes_count_truncate ON processes;
DROP FUNCTION IF EXISTS proc_count_inserted();
DROP FUNCTION IF EXISTS proc_count_deleted();
DROP FUNCTION IF EXISTS proc_count_moved();
DROP FUNCTION IF EXISTS proc_count_truncated();
"""

_UP = (
    "INSERT INTO process_counts (bk_supplier_account, bk_biz_id, processes)"
    " VALUES ({row}.bk_supplier_account, {row}.bk_biz_id, 1)"
    " ON CONFLICT (bk_supplier_account, bk_biz_id) DO UPDATE SET processes = processes + 1;"
)
_DOWN = (
    "UPDATE process_counts SET processes = processes - 1"
    " WHERE bk_supplier_account = {row}.bk_supplier_account AND bk_biz_id = {row}.bk_biz_id;"
)
SQLITE_TRIGGERS = (
    f"CREATE TRIGGER processes_count_insert AFTER INSERT ON processes BEGIN"
    f" {_UP.format(row='NEW')} END",
    f"CREATE TRIGGER processes_count_delete AFTER DELETE ON processes BEGIN"
    f" {_DOWN.format(row='OLD')} END",
    "CREATE TRIGGER processes_count_move AFTER UPDATE OF bk_supplier_account, bk_biz_id"
    " ON processes WHEN OLD.bk_supplier_account IS NOT NEW.bk_supplier_account"
    f" OR OLD.bk_biz_id IS NOT NEW.bk_biz_id BEGIN {_DOWN.format(row='OLD')}"
    f" {_UP.format(row='NEW')} END",
)
_BOUND = (
    "INSERT INTO binding_counts (bk_supplier_account, bk_biz_id, bk_module_name, processes)"
    " VALUES ({row}.bk_supplier_account, {row}.bk_biz_id, {row}.bk_module_name, 1)"
    " ON CONFLICT (bk_supplier_account, bk_biz_id, bk_module_name)"
    " DO UPDATE SET processes = processes + 1;"
)
_UNBOUND = (
    "UPDATE binding_counts SET processes = processes - 1"
    " WHERE bk_supplier_account = {row}.bk_supplier_account AND bk_biz_id = {row}.bk_biz_id"
    " AND bk_module_name = {row}.bk_module_name;"
)
# Created after process_bindings is rebuilt below: SQLite's batch mode copies a table into a
# new one, and the triggers of the old one go with it (a later batch migration of
# process_bindings must create these again).
SQLITE_BINDING_TRIGGERS = (
    f"CREATE TRIGGER process_bindings_count_insert AFTER INSERT ON process_bindings BEGIN"
    f" {_BOUND.format(row='NEW')} END",
    f"CREATE TRIGGER process_bindings_count_delete AFTER DELETE ON process_bindings BEGIN"
    f" {_UNBOUND.format(row='OLD')} END",
    f"CREATE TRIGGER process_bindings_count_update AFTER UPDATE ON process_bindings BEGIN"
    f" {_UNBOUND.format(row='OLD')} {_BOUND.format(row='NEW')} END",
)
SQLITE_DROP = (
    "processes_count_insert",
    "processes_count_delete",
    "processes_count_move",
    "process_bindings_count_insert",
    "process_bindings_count_delete",
    "process_bindings_count_update",
)


def _create_trgm() -> None:
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first():
        return
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == "42501":  # insufficient_privilege
            raise RuntimeError(TRGM_HELP) from None
        raise


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        _create_trgm()

    op.create_table(
        "process_counts",
        sa.Column("bk_supplier_account", Chars(64), nullable=False),
        sa.Column("bk_biz_id", sa.BigInteger(), nullable=False),
        sa.Column("processes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("bk_supplier_account", "bk_biz_id", name=op.f("pk_process_counts")),
    )
    op.execute(
        "INSERT INTO process_counts (bk_supplier_account, bk_biz_id, processes)"
        " SELECT bk_supplier_account, bk_biz_id, count(*) FROM processes"
        " GROUP BY bk_supplier_account, bk_biz_id"
    )

    # Bindings carry their process's business (filled in here for the ones that exist).
    with op.batch_alter_table("process_bindings") as batch:
        batch.add_column(sa.Column("bk_supplier_account", Chars(64), nullable=True))
        batch.add_column(sa.Column("bk_biz_id", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE process_bindings SET"
        " bk_supplier_account = (SELECT p.bk_supplier_account FROM processes p"
        "  WHERE p.bk_process_id = process_bindings.bk_process_id),"
        " bk_biz_id = (SELECT p.bk_biz_id FROM processes p"
        "  WHERE p.bk_process_id = process_bindings.bk_process_id)"
    )
    with op.batch_alter_table("process_bindings") as batch:
        batch.alter_column("bk_supplier_account", existing_type=Chars(64), nullable=False)
        batch.alter_column("bk_biz_id", existing_type=sa.BigInteger(), nullable=False)
        batch.drop_index("ix_process_bindings_module")
        batch.create_index(
            "ix_process_bindings_scope",
            [*SCOPE, "bk_module_name", "bk_process_id"],
        )
    op.create_table(
        "binding_counts",
        sa.Column("bk_supplier_account", Chars(64), nullable=False),
        sa.Column("bk_biz_id", sa.BigInteger(), nullable=False),
        sa.Column("bk_module_name", Chars(256), nullable=False),
        sa.Column("processes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "bk_supplier_account", "bk_biz_id", "bk_module_name", name=op.f("pk_binding_counts")
        ),
    )
    op.execute(
        "INSERT INTO binding_counts (bk_supplier_account, bk_biz_id, bk_module_name, processes)"
        " SELECT bk_supplier_account, bk_biz_id, bk_module_name, count(*) FROM process_bindings"
        " GROUP BY bk_supplier_account, bk_biz_id, bk_module_name"
    )
    if postgres:
        op.execute(PG_FUNCTIONS)
    else:
        for statement in (*SQLITE_TRIGGERS, *SQLITE_BINDING_TRIGGERS):
            op.execute(statement)

    op.create_index(
        "ix_processes_func_name", "processes", [*SCOPE, "bk_func_name", "bk_process_id"]
    )
    # The direction `-priority` pages in (nulls last, ties by id ascending); SQLite's DESC
    # already puts nulls last and takes no NULLS clause in an index.
    priority = sa.text("priority DESC NULLS LAST") if postgres else sa.text("priority DESC")
    op.create_index("ix_processes_priority", "processes", [*SCOPE, priority, "bk_process_id"])
    if postgres:
        # Room on every page for a new row version: an update that changes no indexed column
        # (a batch of start_cmd, description, port…) then stays on its page and touches no
        # index (a HOT update). Applies to pages written from now on, such as a bulk load.
        op.execute("ALTER TABLE processes SET (fillfactor = 90)")
        op.create_index(
            "ix_processes_name_trgm",
            "processes",
            ["bk_process_name"],
            postgresql_using="gin",
            postgresql_ops={"bk_process_name": "gin_trgm_ops"},
        )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.drop_index("ix_processes_name_trgm", table_name="processes")
        op.execute("ALTER TABLE processes RESET (fillfactor)")
    op.drop_index("ix_processes_priority", table_name="processes")
    op.drop_index("ix_processes_func_name", table_name="processes")
    if postgres:
        op.execute(PG_DROP)
    else:
        for name in SQLITE_DROP:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("process_bindings") as batch:
        batch.drop_index("ix_process_bindings_scope")
        batch.create_index("ix_process_bindings_module", ["bk_module_name"])
        batch.drop_column("bk_biz_id")
        batch.drop_column("bk_supplier_account")
    op.drop_table("binding_counts")
    op.drop_table("process_counts")
    # pg_trgm stays: other objects of the database may use it.
