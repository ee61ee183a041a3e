"""PROC_DATABASE_READ_URL (issue 17): searches and details read from the replica, writes and the
reads inside them from PROC_DATABASE_URL; a dead connection costs one 503 at most, never a
restart.

The "replica" here is a second database that replication does not fill, so that where each
request read from shows in its answer.
"""

from __future__ import annotations

import shutil

import psycopg
import pytest

from proc_service import create_app
from proc_service.data import db
from proc_service.data.migrate import upgrade

from .dbkit import libpq, snapshot
from .kit import EN, create, detail, err, ok, proc_url, search


@pytest.fixture
def replica_url(request, db_url, tmp_path) -> str:
    """A second migrated, empty database of the kind of ``db_url``."""
    if db_url.startswith("sqlite"):
        path = tmp_path / "replica.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres").create()
    upgrade(url)
    return url


def make_app(url: str, read_url: str | None):
    config = {"DATABASE_URL": url, "TESTING": True, "LOG_LEVEL": "WARNING"}
    return create_app({**config, "DATABASE_READ_URL": read_url})


def test_searches_and_details_read_the_replica_and_writes_the_primary(db_url, replica_url):
    app = make_app(db_url, replica_url)
    client = app.test_client()
    try:
        pid = create(client, bk_process_name="written")
        # The write went to the primary only.
        assert any(r[0] == "processes" and pid in r for r in snapshot(db_url))
        assert not [r for r in snapshot(replica_url) if r[0] == "processes"]
        # A detail and a search read the replica, which has not got it.
        err(client.get(proc_url(pid=pid), headers=EN), 404, 1199019, str(pid))
        assert ok(search(client, {"condition": {"bk_process_name": "written"}}))["count"] == 0
        # An update reads the process inside its own transaction: on the primary, where it is.
        ok(client.put(proc_url(pid=pid), json={"bk_process_name": "updated"}))
        ok(client.delete(proc_url(pid=pid)))
        # Without a read URL, the same app reads what it wrote.
        same = make_app(db_url, None)
        try:
            pid = create(same.test_client(), bk_process_name="again")
            assert detail(same.test_client(), pid)["bk_process_name"] == "again"
        finally:
            for engine in db.engines(same):
                engine.dispose()
    finally:
        for engine in db.engines(app):
            engine.dispose()


def test_readiness_needs_the_replica_migrated_too(db_url, tmp_path):
    app = make_app(db_url, f"sqlite:///{tmp_path / 'unmigrated.sqlite3'}")
    try:
        resp = app.test_client().get("/readyz", headers=EN)
        err(resp, 503, 1108006, "not migrated")
    finally:
        for engine in db.engines(app):
            engine.dispose()


@pytest.mark.parametrize("backend", ["postgresql"])
def test_an_unreachable_replica_costs_searches_a_503_and_writes_nothing(backend, fresh_db):
    url = fresh_db(backend)
    # A closed port on loopback: connection refused at once.
    app = make_app(url, "postgresql+psycopg://postgres@127.0.0.1:9/proc")
    client = app.test_client()
    try:
        pid = create(client)
        msg = err(search(client, {}, headers=EN), 503, 1108006)
        assert "search" in msg and "Traceback" not in msg and "psycopg" not in msg
        err(client.get(proc_url(pid=pid), headers=EN), 503, 1108001)
        ok(client.put(proc_url(pid=pid), json={"port": "81"}))
    finally:
        for engine in db.engines(app):
            engine.dispose()


@pytest.mark.parametrize("backend", ["postgresql"])
def test_connections_killed_by_the_server_leave_the_pool(backend, fresh_db):
    """A failover ends every connection the pool holds; the next request on the same worker
    works, on a new connection (no restart)."""
    url = fresh_db(backend)
    app = make_app(url, None)
    client = app.test_client()
    try:
        pid = create(client)
        assert detail(client, pid)["bk_process_name"] == "nginx"
        name = psycopg.connect(libpq(url)).info.dbname
        with psycopg.connect(libpq(url), autocommit=True) as conn:
            killed = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            ).fetchone()[0]
        assert killed >= 1
        # Each request gets a healthy connection or the 503 envelope, never a stack trace;
        # the pool is whole again at once.
        ok(client.put(proc_url(pid=pid), json={"port": "82"}))
        assert detail(client, pid)["port"] == "82"
    finally:
        for engine in db.engines(app):
            engine.dispose()
