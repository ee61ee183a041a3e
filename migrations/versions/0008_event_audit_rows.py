"""instance events refer to their audit rows (issue 18, target 4): events.audit_id

A process, set or module change wrote its audit row (the whole pre and cur images, about 1.3 KB)
and then an events row holding a copy of those images: a batch update of 1000 processes wrote
the images twice (on PostgreSQL the copy took about 20 ms of the request, the audit rows 30 ms).

- events.audit_id (BIGINT, null): the audit row whose content is an instance event's images.
  An instance event has audit_id and no data; the model's Event.data reads its images from the
  audit row (data/models.py), in the shape the event always had. A relation event (bind,
  unbind) keeps its own data and no audit_id. Audit rows are never deleted (events are, by the
  retention), so the row an event names is there as long as the event is. audit_id is read
  only to look the audit row up by its primary key: no index on events.
- events.data becomes nullable. Rows already there keep their data.

Down: the instance events written since get their copy of the images back (the same JSON
``[{"cur_data", "pre_data"}]``, an empty image null), then audit_id goes and data is NOT NULL
again.

On SQLite, changing NOT NULL rebuilds the table (batch mode), which drops its row of
sqlite_sequence: the highest id ever drawn is put back, so that an id deleted by the retention
(or the newest, the watch cursors' end) is never drawn again. PostgreSQL's trigger of 0006 is
untouched.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

# ruff: noqa: S608 - every statement here is built from this file's constants
from collections.abc import Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DATA = sa.JSON().with_variant(JSONB, "postgresql")

# An event's images from its audit row (also in proc_service/data/sql.py, event_images).
IMAGES = {
    "postgresql": "jsonb_build_array(jsonb_build_object("
    "'cur_data', NULLIF(a.content -> 'cur_data', '{}'::jsonb),"
    " 'pre_data', NULLIF(a.content -> 'pre_data', '{}'::jsonb)))",
    "sqlite": "json_array(json_object("
    "'cur_data', json(NULLIF(json_extract(a.content, '$.cur_data'), '{}')),"
    " 'pre_data', json(NULLIF(json_extract(a.content, '$.pre_data'), '{}'))))",
}


@contextmanager
def _events_table():
    """Alter events: ALTER statements on PostgreSQL; on SQLite a rebuild (batch mode) that
    keeps AUTOINCREMENT and the highest id drawn."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    seq = sqlite and op.get_bind().scalar(
        sa.text("SELECT seq FROM sqlite_sequence WHERE name = 'events'")
    )
    with op.batch_alter_table("events", table_kwargs={"sqlite_autoincrement": True}) as batch:
        yield batch
    if seq:
        op.execute("DELETE FROM sqlite_sequence WHERE name = 'events'")
        op.execute(f"INSERT INTO sqlite_sequence (name, seq) VALUES ('events', {int(seq)})")


def upgrade() -> None:
    with _events_table() as batch:
        batch.add_column(sa.Column("audit_id", sa.BigInteger(), nullable=True))
        batch.alter_column("data", existing_type=DATA, nullable=True)


def downgrade() -> None:
    images = IMAGES[op.get_bind().dialect.name]
    # an audit row that is not there (they are never deleted: never) leaves an empty list
    op.execute(
        f"UPDATE events SET data = COALESCE((SELECT {images} FROM audit_log a"
        " WHERE a.id = events.audit_id), '[]') WHERE audit_id IS NOT NULL"
    )
    with _events_table() as batch:
        batch.drop_column("audit_id")
        batch.alter_column("data", existing_type=DATA, nullable=False)
