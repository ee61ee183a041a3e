"""Name searches through SQLite's trigram index (issue 18, target 3; migration 0007): a
substring or a $regex with a literal run answers exactly what reading the business answers,
on both databases, whatever the names and needles hold and after every kind of write.

On SQLite the index serves a text only when few rows hold it (sql.trigram_choice): the tests below
force either way, ``indexed`` (any text the business could hold) or ``scanned`` (no lookup
at all), and compare. PostgreSQL runs the same tests (pg_trgm serves it; no lookup there).
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, event, text

from proc_service.data import sql

from .kit import EN, create, err, ok, proc_url
from .support.search import matching

NAMES = [
    "nginx-worker",
    "nginx-Worker",
    "NGINX",
    "redis-server",
    "数据库主进程",
    "数据库-从",
    "进程😀监控",
    "😀😀😀",
    "a😀b😀c",
    'say "hi"',
    'a""b',
    "x*y",
    "foo OR bar",
    "NEAR(a b)",
    "^caret",
    "col:val",
    "(paren)",
    "a-b-c",
    "a+b",
    "it's",
    "AND",
    "NOT this",
    "  spaced  ",
    "tab\there",
    "café",
    "proc-4242-x",
    "proc-42420-y",
]
# Three characters and more go through the index; fewer fall back to reading the business.
NEEDLES = [
    "nginx", "ngi", "ng", "n", "Worker", "worker", "数据库", "据库-", "据库", "😀😀😀",
    "😀监", "😀", "b😀c", '"hi"', '"', '""', 'a""', '"""', "x*y", "*", "x*", " OR ", "OR",
    "OR bar", "NEAR(", "NEAR(a", "^ca", "^", "l:v", "col:", ":", "(paren)", "(", ")", "n)",
    "a-b", "-b-", "it's", "'s", "AND", "NOT", "NOT t", "  s", "   ", "\t", "\th", "afé",
    "4242", "-4242", "none-such", "",
]  # fmt: skip
# Patterns whose literal run (regex.required_literal) the index looks up, and some without.
PATTERNS = [
    "nginx-[wW]orker", "ngin.", "据库.", "4242[0-9]-", "4242[0-9]*-", "😀监+", '"hi"$',
    "x\\*y", "NEAR\\(a", "a-b-c?", "(?:ab)*nginx", "^nginx", "r.dis-serv", "(paren)",
    "o[lr]:val", "NOT th.s", "  spa", "ca.e", "café$", "Worker|worker", "(?:😀)+",
]  # fmt: skip


@contextmanager
def _statements(app):
    """The statements the app runs inside the block."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_):
        seen.append(statement)

    engine = app.extensions["db_engine"]
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def indexed(monkeypatch):
    """The index serves any text that no more rows hold than the business has."""
    monkeypatch.setattr(sql, "ROWS_PER_HIT", 1)


def _scanned(monkeypatch):
    """No lookup at all: every text is searched by reading the business."""
    monkeypatch.setattr(sql, "TRIGRAM", 10**6)


def _answers(client, conditions) -> list[set[str]]:
    return [matching(client, {"bk_process_name": c}) for c in conditions]


def test_substring_answers_as_reading_the_business(app, client, backend, indexed, monkeypatch):
    for name in NAMES:
        create(client, bk_process_name=name)
    with _statements(app) as seen:
        through_index = _answers(client, NEEDLES)
    expected = [{n for n in NAMES if needle in n} for needle in NEEDLES]
    assert dict(zip(NEEDLES, through_index, strict=True)) == dict(
        zip(NEEDLES, expected, strict=True)
    )
    lookups = [s for s in seen if "MATCH" in s]
    if backend == "sqlite":  # a count and a page for each needle of 3 characters or more
        assert len(lookups) >= 2 * sum(len(n) >= 3 for n in NEEDLES if any(n in m for m in NAMES))
    else:
        assert not lookups
    _scanned(monkeypatch)
    assert _answers(client, NEEDLES) == expected


def test_regex_answers_as_reading_the_business(app, client, backend, indexed, monkeypatch):
    for name in NAMES:
        create(client, bk_process_name=name)
    conditions = [{"$regex": p} for p in PATTERNS]
    with _statements(app) as seen:
        through_index = _answers(client, conditions)
    _scanned(monkeypatch)
    assert dict(zip(PATTERNS, through_index, strict=True)) == dict(
        zip(PATTERNS, _answers(client, conditions), strict=True)
    )
    assert through_index[PATTERNS.index("4242[0-9]-")] == {"proc-42420-y"}
    assert through_index[PATTERNS.index("😀监+")] == {"进程😀监控"}
    assert any("MATCH" in s for s in seen) == (backend == "sqlite")


def _integrity(db_url: str) -> None:
    """FTS5's own check of the index against processes (SQLite)."""
    if not db_url.startswith("sqlite"):
        return
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO processes_name_fts (processes_name_fts, rank)"
                    " VALUES ('integrity-check', 1)"
                )
            )
    finally:
        engine.dispose()


def test_writes_keep_the_index(client, db_url, indexed):
    """Renames, deletes, batch updates and writes that fail leave the index saying what the
    names say."""
    names = {create(client, bk_process_name=name, bk_func_name=f"f{i}"): name
             for i, name in enumerate(NAMES)}  # fmt: skip
    by_name = {name: pid for pid, name in names.items()}

    def check():
        for needle in ("nginx", "worker", "数据库", "😀😀", "renamed", '"hi"', "batch", "gone"):
            expected = {n for n in names.values() if needle in n}
            assert matching(client, {"bk_process_name": needle}) == expected, needle
        _integrity(db_url)

    # renames, one of them to a name that holds the old one
    for old, new in (("nginx-worker", "renamed-nginx-worker"), ("数据库-从", "renamed 数据库")):
        ok(client.put(proc_url(pid=by_name[old]), json={"bk_process_name": new}))
        names[by_name[old]] = new
    # an update that writes the same name, and one that changes something else
    ok(client.put(proc_url(pid=by_name["NGINX"]), json={"bk_process_name": "NGINX"}))
    ok(client.put(proc_url(pid=by_name["a-b-c"]), json={"description": "gone soon"}))
    # deletes
    for name in ("redis-server", "😀😀😀"):
        ok(client.delete(proc_url(pid=by_name[name])))
        del names[by_name[name]]
    # a batch update (names cannot be batch-written: the others change, the index stays)
    ids = ",".join(str(by_name[n]) for n in ("nginx-Worker", "a+b", "café"))
    ok(client.put(proc_url(), json={"bk_process_id": ids, "description": "batch"}))
    check()

    # failed writes: a name taken, by a create and by a rename
    err(client.post(proc_url(), json={"bk_process_name": "NGINX", "bk_func_name": "x"}), 409,
        1199014)  # fmt: skip
    renaming = client.put(proc_url(pid=by_name["a+b"]), json={"bk_process_name": "NGINX"})
    err(renaming, 409, 1199014)
    check()
    # and a transaction that renamed, inserted and deleted before it rolled back
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            conn.execute(
                text(
                    "UPDATE processes SET bk_process_name = 'gone-rolled' WHERE bk_process_id = :p"
                ),
                {"p": by_name["a+b"]},
            )
            conn.execute(text("DELETE FROM processes WHERE bk_process_id = :p"),
                         {"p": by_name["NOT this"]})  # fmt: skip
            conn.rollback()
    finally:
        engine.dispose()
    check()
    # a new process after all that
    names[create(client, bk_process_name="gone but back", bk_func_name="new")] = "gone but back"
    check()


def test_a_text_many_rows_hold_reads_the_business(app, client, backend):
    """Without the tests' override: a text that more rows hold than a 25th of the business
    (here: every row) is searched by reading the business; a text no row holds, through the
    index (which answers at once); on PostgreSQL never a lookup."""
    for i in range(30):
        create(client, bk_process_name=f"common-{i}", bk_func_name=f"f{i}")
    with _statements(app) as seen:
        assert len(matching(client, {"bk_process_name": "common"})) == 30
    statements = [s for s in seen if "processes" in s and "process_counts" not in s]
    assert statements and not any("MATCH" in s for s in statements)
    with _statements(app) as seen:
        assert matching(client, {"bk_process_name": "rare"}) == set()
    counted = [s for s in seen if "count(*)" in s and "processes_name_fts MATCH" in s]
    assert len(counted) == (2 if backend == "sqlite" else 0)  # how many hold it; the count


def test_only_process_names_have_the_index(app, client, backend, indexed):
    """Other text attributes and other kinds search as before: no lookup."""
    create(client, bk_process_name="p1", description="holds nginx", start_cmd="nginx -c x")
    with _statements(app) as seen:
        for condition in (
            {"description": {"$regex": "nginx"}},
            {"start_cmd": {"$regex": "ngin."}},
        ):
            assert matching(client, condition) == {"p1"}
        client.post("/api/v3/set/search/0/1", json={"condition": {"bk_set_name": "nginx"}},
                    headers=EN)  # fmt: skip
    assert not any("MATCH" in s for s in seen)
