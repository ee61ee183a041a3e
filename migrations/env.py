"""Alembic environment: the app's database URL and metadata, batch mode on SQLite."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

from proc_service.config import database_url
from proc_service.data.db import make_engine
from proc_service.data.models import Base
from proc_service.data.sql import TRIGRAMS

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata
# The advisory lock key migrations hold on PostgreSQL ("proc" in ASCII).
MIGRATION_LOCK = 0x70726F63


def _for_dialect(name: str):
    """include_object: an index the models mark info["dialect"] (the trigram index, issue 7)
    exists only on that database, so `alembic check` elsewhere does not expect it. SQLite's
    trigram index (migration 0007) is an FTS5 table and the tables FTS5 keeps it in, which no
    model describes: they are left out of the comparison."""

    def include(obj, table_name, type_, reflected, _compare_to) -> bool:
        if type_ == "index" and not reflected:
            return obj.info.get("dialect", name) == name
        if type_ == "table" and reflected:
            return not any(table_name.startswith(fts) for fts in TRIGRAMS.values())
        return True

    return include


def run_migrations_offline() -> None:
    context.configure(
        url=config.attributes.get("database_url") or database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.attributes.get("database_url") or database_url()
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            include_object=_for_dialect(connection.dialect.name),
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Several replicas start at once (compose.ha.yaml): one migrates, the others
                # wait here, then find the database at the newest revision.
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
