"""sets and modules (docs/api.md §6); binding names and audit text compare by code point

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIME = sa.DateTime(timezone=True)
# Columns 0001 created with the database's collation (PostgreSQL only).
C_COLLATED = (
    ("process_bindings", "bk_module_name", 256),
    ("audit_log", "bk_supplier_account", 64),
    ("audit_log", "op_target", 32),
    ("audit_log", "op_desc", 512),
    ("audit_log", "operator", 256),
    ("audit_log", "op_from", 256),
    ("audit_log", "request_id", 128),
)


def Chars(length: int) -> sa.String:
    """Code-point order on PostgreSQL too, whatever the database's collation (see models)."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def _text(name: str, length: int = 256) -> sa.Column:
    return sa.Column(name, Chars(length), nullable=False)


def _common(id_name: str) -> list[sa.Column]:
    return [
        sa.Column(id_name, ID, sa.Identity(always=False), nullable=False),
        sa.Column("bk_supplier_account", Chars(64), nullable=False),
        sa.Column("bk_biz_id", sa.BigInteger(), nullable=False),
    ]


def _times() -> list[sa.Column]:
    return [
        sa.Column("create_time", UTC_TIME, nullable=False),
        sa.Column("last_time", UTC_TIME, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "sets",
        *_common("bk_set_id"),
        _text("bk_set_name"),
        _text("bk_set_desc"),
        sa.Column("bk_set_env", Chars(8), nullable=True),
        sa.Column("bk_service_status", Chars(8), nullable=True),
        sa.Column("bk_capacity", sa.Integer(), nullable=True),
        _text("description"),
        sa.Column("default", sa.Integer(), nullable=False),
        *_times(),
        sa.PrimaryKeyConstraint("bk_set_id", name=op.f("pk_sets")),
        sqlite_autoincrement=True,
    )
    scope = ["bk_supplier_account", "bk_biz_id"]
    op.create_index("ix_sets_scope", "sets", [*scope, "bk_set_id"])
    op.create_index("uq_sets_name", "sets", [*scope, "bk_set_name"], unique=True)

    op.create_table(
        "modules",
        *_common("bk_module_id"),
        sa.Column("bk_set_id", ID, nullable=False),
        _text("bk_module_name"),
        sa.Column("bk_module_type", Chars(8), nullable=True),
        _text("operator"),
        _text("bk_bak_operator"),
        sa.Column("default", sa.Integer(), nullable=False),
        *_times(),
        sa.ForeignKeyConstraint(
            ["bk_set_id"],
            ["sets.bk_set_id"],
            name=op.f("fk_modules_bk_set_id_sets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("bk_module_id", name=op.f("pk_modules")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_modules_name", "modules", [*scope, "bk_module_name"])
    op.create_index("uq_modules_name", "modules", ["bk_set_id", "bk_module_name"], unique=True)

    op.create_index("ix_audit_log_biz_time", "audit_log", [*scope, "op_time"])

    if op.get_bind().dialect.name == "postgresql":
        # Text that searches sort and compare: code-point order, as on SQLite (see models).
        for table, column, length in C_COLLATED:
            op.alter_column(
                table,
                column,
                type_=sa.String(length, collation="C"),
                existing_type=sa.String(length),
                existing_nullable=False,
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, column, length in C_COLLATED:
            op.alter_column(
                table,
                column,
                type_=sa.String(length),
                existing_type=sa.String(length, collation="C"),
                existing_nullable=False,
            )
    op.drop_index("ix_audit_log_biz_time", table_name="audit_log")
    op.drop_table("modules")
    op.drop_table("sets")
