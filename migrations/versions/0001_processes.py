"""processes, process bindings and the audit log

A migration is a snapshot: it spells its columns out rather than reading attributes.py, so that
a later change to the attribute table arrives as a migration of its own. `alembic check` (run by
the tests on both databases) proves models and migrations agree.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def Chars(length: int) -> sa.String:
    """Code-point order on PostgreSQL too, whatever the database's collation (see models)."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


UTC_TIME = sa.DateTime(timezone=True)


def _process_columns() -> list[sa.Column]:
    def text(name: str, length: int) -> sa.Column:
        return sa.Column(name, Chars(length), nullable=False)

    return [
        sa.Column("bk_process_id", ID, sa.Identity(always=False), nullable=False),
        sa.Column("bk_supplier_account", Chars(64), nullable=False),
        sa.Column("bk_biz_id", sa.BigInteger(), nullable=False),
        text("bk_process_name", 256),
        text("description", 256),
        sa.Column("bind_ip", Chars(8), nullable=True),
        text("port", 256),
        sa.Column("protocol", Chars(8), nullable=True),
        text("bk_func_id", 256),
        text("bk_func_name", 256),
        text("work_path", 2000),
        text("user", 256),
        sa.Column("proc_num", sa.Integer(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("timeout", sa.Integer(), nullable=True),
        text("start_cmd", 2000),
        text("stop_cmd", 2000),
        text("restart_cmd", 2000),
        text("face_stop_cmd", 2000),
        text("reload_cmd", 2000),
        text("pid_file", 2000),
        sa.Column("auto_start", sa.Boolean(), nullable=False),
        sa.Column("auto_time_gap", sa.Integer(), nullable=True),
        text("bk_start_param_regex", 2000),
        sa.Column("create_time", UTC_TIME, nullable=False),
        sa.Column("last_time", UTC_TIME, nullable=False),
    ]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"

    op.create_table(
        "processes",
        *_process_columns(),
        sa.PrimaryKeyConstraint("bk_process_id", name=op.f("pk_processes")),
        sqlite_autoincrement=True,
    )
    scope = ["bk_supplier_account", "bk_biz_id"]
    op.create_index("ix_processes_scope", "processes", [*scope, "bk_process_id"])
    op.create_index("uq_processes_name", "processes", [*scope, "bk_process_name"], unique=True)
    func_id_set = sa.text("bk_func_id != ''")
    op.create_index(
        "uq_processes_func_id",
        "processes",
        [*scope, "bk_func_id"],
        unique=True,
        postgresql_where=func_id_set,
        sqlite_where=func_id_set,
    )
    # PostgreSQL caps btree entries near 2.7 kB; a 2000-character regex may exceed it in UTF-8.
    regex_key = sa.text("md5(bk_start_param_regex)") if postgres else "bk_start_param_regex"
    both_set = sa.text("bk_func_name != '' AND bk_start_param_regex != ''")
    op.create_index(
        "uq_processes_func_regex",
        "processes",
        [*scope, "bk_func_name", regex_key],
        unique=True,
        postgresql_where=both_set,
        sqlite_where=both_set,
    )

    op.create_table(
        "process_bindings",
        sa.Column("bk_process_id", ID, nullable=False),
        sa.Column("bk_module_name", sa.String(256), nullable=False),
        sa.Column("create_time", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["bk_process_id"],
            ["processes.bk_process_id"],
            name=op.f("fk_process_bindings_bk_process_id_processes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "bk_process_id", "bk_module_name", name=op.f("pk_process_bindings")
        ),
    )
    op.create_index("ix_process_bindings_module", "process_bindings", ["bk_module_name"])

    op.create_table(
        "audit_log",
        sa.Column("id", ID, sa.Identity(always=False), nullable=False),
        sa.Column("bk_supplier_account", sa.String(64), nullable=False),
        sa.Column("bk_biz_id", sa.BigInteger(), nullable=True),
        sa.Column("op_type", sa.SmallInteger(), nullable=False),
        sa.Column("op_target", sa.String(32), nullable=False),
        sa.Column("inst_id", sa.BigInteger(), nullable=False),
        sa.Column("op_desc", sa.String(512), nullable=False),
        sa.Column("operator", sa.String(256), nullable=False),
        sa.Column("op_from", sa.String(256), nullable=False),
        sa.Column("op_time", UTC_TIME, nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column(
            "content", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_log_account_time", "audit_log", ["bk_supplier_account", "op_time"])
    op.create_index(
        "ix_audit_log_target", "audit_log", ["bk_supplier_account", "op_target", "inst_id"]
    )


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("process_bindings")
    op.drop_table("processes")
