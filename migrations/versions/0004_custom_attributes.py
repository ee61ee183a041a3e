"""custom attributes (docs/api.md §14): each account's own attributes of processes, sets and
modules

- custom_attributes: one row per attribute an account added to a kind (its definition, as
  bk-cmdb v3.1's create_object_attribute takes it);
- model_versions: one row per account, its model's version: every model change moves it, and a
  worker that sees a version it does not hold reloads the account's model (services/model.py);
- processes, sets, modules: `custom`, the values of the custom attributes, one JSON object per
  row (JSONB on PostgreSQL, with a GIN index that serves equality and $in as containment).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("processes", "sets", "modules")


def _chars(length: int) -> sa.String:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def _json():
    return sa.JSON().with_variant(JSONB, "postgresql")


def _id():
    return sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "custom_attributes",
        # From 10001: §11's ids of preset attributes are below, and one id space serves both.
        sa.Column("id", _id(), sa.Identity(start=10001), primary_key=True),
        sa.Column("bk_supplier_account", _chars(64), nullable=False),
        sa.Column("bk_obj_id", _chars(16), nullable=False),
        sa.Column("bk_property_id", _chars(128), nullable=False),
        sa.Column("bk_property_name", _chars(128), nullable=False),
        sa.Column("bk_property_type", _chars(16), nullable=False),
        sa.Column("option", _json(), nullable=True),
        sa.Column("isrequired", sa.Boolean(), nullable=False),
        sa.Column("isonly", sa.Boolean(), nullable=False),
        sa.Column("editable", sa.Boolean(), nullable=False),
        sa.Column("placeholder", _chars(2000), nullable=False),
        sa.Column("unit", _chars(256), nullable=False),
        sa.Column("description", _chars(2000), nullable=False),
        sa.Column("bk_property_group", _chars(128), nullable=False),
        sa.Column("creator", _chars(256), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_time", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_custom_attributes"),
        sqlite_autoincrement=True,
    )
    if not postgres:
        op.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('custom_attributes', 10000)")
    op.create_index(
        "uq_custom_attributes_property",
        "custom_attributes",
        ["bk_supplier_account", "bk_obj_id", "bk_property_id"],
        unique=True,
    )
    op.create_table(
        "model_versions",
        sa.Column("bk_supplier_account", _chars(64), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("bk_supplier_account", name="pk_model_versions"),
    )
    for table in TABLES:
        op.add_column(
            table, sa.Column("custom", _json(), nullable=False, server_default=sa.text("'{}'"))
        )
        if postgres:
            # Equality and $in on a custom attribute are containment (custom @> '{"k": v}').
            op.create_index(
                f"ix_{table}_custom",
                table,
                ["custom"],
                postgresql_using="gin",
                postgresql_ops={"custom": "jsonb_path_ops"},
            )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        # The unique indexes of isonly attributes (services/model.py) read the column.
        if postgres:
            found = "SELECT indexname FROM pg_indexes WHERE tablename = :t"
        else:
            found = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :t"
        for (name,) in op.get_bind().execute(sa.text(found), {"t": table}).all():
            if name.startswith(f"uqc_{table}_"):
                op.drop_index(name, table_name=table)
        if postgres:
            op.drop_index(f"ix_{table}_custom", table_name=table)
        # Not batch mode: SQLite (3.35+) drops a column in place, keeping the table's triggers.
        op.execute(f"ALTER TABLE {table} DROP COLUMN custom")
    op.drop_table("model_versions")
    op.drop_index("uq_custom_attributes_property", table_name="custom_attributes")
    op.drop_table("custom_attributes")
