"""Fixtures: every app/client test runs on SQLite and on PostgreSQL.

PostgreSQL comes from PROC_TEST_POSTGRES_URL (default: the local server's `test` database, used
only to create and drop a database of our own). Unreachable: the PostgreSQL tests skip, saying
why, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import shutil
import uuid

import psycopg
import pytest
from sqlalchemy.engine import make_url

from harness.gunicorn import gunicorn
from proc_service import create_app
from proc_service.data import db
from proc_service.data.migrate import upgrade

from .kit import create

# Fixtures for page tests: headless Chromium and a live server (tests/browser.py).
pytest_plugins = ["tests.browser"]

PG_ADMIN_URL = os.environ.get(
    "PROC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TABLES = (
    "process_bindings",
    "audit_log",
    "processes",
    "modules",
    "sets",
    "custom_attributes",
    "model_versions",
    "custom_counts",
    "events",
    "event_subscriptions",
)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _admin():
    return psycopg.connect(_libpq(PG_ADMIN_URL), autocommit=True, connect_timeout=3)


class PostgresDatabases:
    """Creates throwaway databases on the server and drops every one of them at the end."""

    def __init__(self):
        self.created: list[str] = []

    def create(self) -> str:
        """A new database whose own collation is ICU's (where "a" < "B"), as production
        databases often are, so that the tests prove order does not depend on it."""
        name = f"proc_test_{uuid.uuid4().hex[:12]}"
        with _admin() as conn:
            try:
                conn.execute(
                    f'CREATE DATABASE "{name}" TEMPLATE template0'
                    " LOCALE_PROVIDER icu ICU_LOCALE 'und' LOCALE 'C.UTF-8'"
                )
            except psycopg.errors.FeatureNotSupported:  # a server built without ICU
                conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with _admin() as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres():
    try:
        _admin().close()
    except psycopg.Error as exc:
        reason = f"PostgreSQL not reachable at {make_url(PG_ADMIN_URL)!r}: {exc}".strip()
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI requires PostgreSQL. {reason}")
        pytest.skip(f"skipping PostgreSQL tests: {reason}")
    databases = PostgresDatabases()
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def pg_migrated(postgres) -> str:
    url = postgres.create()
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return str(path)


@pytest.fixture
def fresh_db(request, tmp_path):
    """fresh_db("sqlite" | "postgresql") -> the URL of a migrated, empty database."""

    def make(kind: str) -> str:
        if kind == "sqlite":
            path = tmp_path / "proc.sqlite3"
            shutil.copy(request.getfixturevalue("sqlite_template"), path)
            return f"sqlite:///{path}"
        url = request.getfixturevalue("pg_migrated")
        with psycopg.connect(_libpq(url), autocommit=True) as conn:
            conn.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
            # custom attributes start at 10001 (§11's preset ids are below)
            conn.execute("ALTER TABLE custom_attributes ALTER COLUMN id RESTART WITH 10001")
            conn.execute("UPDATE event_horizon SET removed_through = 0")
            # the unique indexes of isonly custom attributes (§14) go with them
            found = conn.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'uqc\\_%'")
            for (name,) in found.fetchall():
                conn.execute(f'DROP INDEX IF EXISTS "{name}"')
        return url

    return make


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, fresh_db) -> str:
    """A migrated, empty database of each kind."""
    return fresh_db(request.param)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path) -> str:
    """A database of each kind with nothing in it, not even migrations."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    return request.getfixturevalue("postgres").create()


@pytest.fixture
def app(db_url):
    app = create_app({"DATABASE_URL": db_url, "TESTING": True, "LOG_LEVEL": "WARNING"})
    yield app
    for engine in db.engines(app):
        engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def backend(db_url) -> str:
    return make_url(db_url).get_backend_name()


@pytest.fixture
def server(db_url):
    """A real gunicorn (two workers) serving ``db_url``: its base URL."""
    with gunicorn(db_url) as base:
        yield base


@pytest.fixture
def seeded(client) -> list[int]:
    """A few processes that conditions can match."""
    return [
        create(
            client,
            bk_process_name=f"p{i}",
            bk_func_name=f"f{i % 2}",
            bk_func_id=f"id{i}",
            proc_num=i + 1,
            auto_start=i % 2 == 0,
            port=str(80 + i),
            bind_ip=str(i % 4 + 1),
            bk_start_param_regex=f"r{i}",
        )
        for i in range(4)
    ]
