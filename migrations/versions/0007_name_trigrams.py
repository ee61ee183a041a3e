"""name trigrams on SQLite (issue 18, target 3): an FTS5 trigram index of process names

A substring or unanchored $regex search of bk_process_name read every name of the business on
SQLite (instr() has no index): 141 ms at 1,000,000 processes against 2 ms in a 1k business.
PostgreSQL has had ix_processes_name_trgm (pg_trgm, migration 0003) since issue 7; this is
SQLite's counterpart, and PostgreSQL gets nothing here.

processes_name_fts is an external-content FTS5 table over processes.bk_process_name, keyed by
the processes' rowid (bk_process_id, their INTEGER PRIMARY KEY): it holds only the trigram
index, never a copy of the names. Its tokenizer keeps case (``case_sensitive 1``), as the
substring test (instr) does. Triggers keep it in the transaction of every insert, rename and
delete; data/sql.py reads it.

An external-content index must be told a row's old name to forget it, so a later migration
that rebuilds processes on SQLite (batch mode copies the table and drops the old one, its
triggers with it) must drop this table first and create it and its triggers again.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

# ruff: noqa: S608 - every statement here is built from this file's constants
from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Also in proc_service/data/sql.py (NAME_TRIGRAMS), which builds the searches on it.
TABLE = "processes_name_fts"

_FORGET = (
    f"INSERT INTO {TABLE} ({TABLE}, rowid, bk_process_name)"
    " VALUES ('delete', OLD.bk_process_id, OLD.bk_process_name);"
)
_LEARN = (
    f"INSERT INTO {TABLE} (rowid, bk_process_name) VALUES (NEW.bk_process_id, NEW.bk_process_name);"
)
SQLITE_TRIGGERS = {
    f"{TABLE}_insert": f"AFTER INSERT ON processes BEGIN {_LEARN} END",
    f"{TABLE}_delete": f"AFTER DELETE ON processes BEGIN {_FORGET} END",
    # an update that writes the same name (a whole-object PUT) leaves the index alone
    f"{TABLE}_update": "AFTER UPDATE OF bk_process_name, bk_process_id ON processes"
    " WHEN OLD.bk_process_name IS NOT NEW.bk_process_name"
    f" OR OLD.bk_process_id IS NOT NEW.bk_process_id BEGIN {_FORGET} {_LEARN} END",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # columnsize=0: no per-row sizes (they serve ranking, which nothing here asks for)
    op.execute(
        f"CREATE VIRTUAL TABLE {TABLE} USING fts5(bk_process_name, content='processes',"
        " content_rowid='bk_process_id', tokenize='trigram case_sensitive 1', columnsize=0)"
    )
    for name, body in SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")
    # the names already there, read from processes
    op.execute(f"INSERT INTO {TABLE} ({TABLE}) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")
    op.execute(f"DROP TABLE {TABLE}")
