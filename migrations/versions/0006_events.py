"""events (docs/api.md §15, issue 16): the event log, subscriptions and their delivery state

- events: one row per change, written by audit.record_many in the transaction of the change
  (so a rolled-back write has none). Its id is the watch cursor and the delivery order, and ids
  increase in commit order: on PostgreSQL a statement trigger takes a transaction-level
  advisory lock before any id is drawn, so a transaction that draws a lower id has committed
  (and is visible) before one that draws a higher id can draw at all; it also NOTIFYs
  ``proc_events`` (delivered at commit), which wakes watchers and dispatchers. SQLite runs one
  writer at a time, which orders ids the same way.
- event_subscriptions: bk-cmdb v3.1's subscription fields, and the delivery state (its cursor,
  statistics, last success and error, the next attempt, the lease a dispatcher holds).
- event_horizon: one row, the highest event id the retention removed; a watch cursor below it
  has expired.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Also in proc_service/data/models.py: the lock every event-writing transaction takes.
EVENT_LOCK = 7_231_016

PG_FUNCTIONS = f"""
CREATE FUNCTION proc_events_ordered() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock({EVENT_LOCK});
  PERFORM pg_notify('proc_events', '');
  RETURN NULL;
END $$;

CREATE TRIGGER events_ordered BEFORE INSERT ON events
  FOR EACH STATEMENT EXECUTE FUNCTION proc_events_ordered();
"""
PG_DROP = """
DROP TRIGGER events_ordered ON events;
DROP FUNCTION proc_events_ordered();
"""


def _chars(length: int) -> sa.String:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def _id():
    return sa.BigInteger().with_variant(sa.Integer, "sqlite")


def _when():
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "events",
        sa.Column("id", _id(), sa.Identity(), primary_key=True),
        sa.Column("bk_supplier_account", _chars(64), nullable=False),
        sa.Column("bk_biz_id", sa.BigInteger(), nullable=True),
        sa.Column("event_type", _chars(16), nullable=False),
        sa.Column("obj_type", _chars(32), nullable=False),
        sa.Column("action", _chars(16), nullable=False),
        sa.Column("inst_id", sa.BigInteger(), nullable=False),
        sa.Column("action_time", _when(), nullable=False),
        sa.Column("request_id", _chars(128), nullable=False),
        sa.Column("data", sa.JSON().with_variant(JSONB, "postgresql"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sqlite_autoincrement=True,
    )
    # the watch reads one account's events of one kind after a cursor; the dispatcher one
    # account's events after a subscription's cursor; retention and bk_start_from by time
    op.create_index("ix_events_watch", "events", ["bk_supplier_account", "obj_type", "id"])
    op.create_index("ix_events_account", "events", ["bk_supplier_account", "id"])
    op.create_index("ix_events_time", "events", ["action_time"])
    op.create_table(
        "event_subscriptions",
        sa.Column("subscription_id", _id(), sa.Identity(), primary_key=True),
        sa.Column("bk_supplier_account", _chars(64), nullable=False),
        sa.Column("subscription_name", _chars(256), nullable=False),
        sa.Column("system_name", _chars(256), nullable=False),
        sa.Column("callback_url", _chars(2048), nullable=False),
        sa.Column("confirm_mode", _chars(16), nullable=False),
        sa.Column("confirm_pattern", _chars(1024), nullable=False),
        sa.Column("subscription_form", _chars(2048), nullable=False),
        sa.Column("time_out", sa.Integer(), nullable=False),
        sa.Column("operator", _chars(256), nullable=False),
        sa.Column("create_time", _when(), nullable=False),
        sa.Column("last_time", _when(), nullable=False),
        # delivery state
        sa.Column("cursor", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("failure", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("dropped", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_success_time", _when(), nullable=True),
        sa.Column("last_error", _chars(512), nullable=False, server_default=""),
        sa.Column("last_error_time", _when(), nullable=True),
        sa.Column("next_attempt_time", _when(), nullable=True),
        sa.Column("lease_owner", _chars(64), nullable=False, server_default=""),
        sa.Column("lease_until", _when(), nullable=True),
        sa.PrimaryKeyConstraint("subscription_id", name="pk_event_subscriptions"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "uq_event_subscriptions_name",
        "event_subscriptions",
        ["bk_supplier_account", "subscription_name"],
        unique=True,
    )
    op.create_table(
        "event_horizon",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("removed_through", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_event_horizon"),
    )
    op.execute("INSERT INTO event_horizon (id, removed_through) VALUES (1, 0)")
    if postgres:
        op.execute(PG_FUNCTIONS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_DROP)
    op.drop_table("event_horizon")
    op.drop_index("uq_event_subscriptions_name", table_name="event_subscriptions")
    op.drop_table("event_subscriptions")
    op.drop_index("ix_events_time", table_name="events")
    op.drop_index("ix_events_account", table_name="events")
    op.drop_index("ix_events_watch", table_name="events")
    op.drop_table("events")
