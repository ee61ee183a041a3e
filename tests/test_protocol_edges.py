"""Routing, methods and headers, search time limits, and a deadlock that is not 'unavailable'."""

from __future__ import annotations

import contextlib
import re
import threading

import psycopg
import pytest

from proc_service import create_app

from .dbkit import audit_rows, libpq, snapshot, wait_until_a_session_waits_for_a_lock
from .fuzz import JSON_CT, envelope
from .kit import EN, create, err, ok, proc_url, search

# --- routing, methods and headers -----------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/api/v3/proc/0/1//1", "/api/v3//proc/0/1/1", "//api/v3/proc/0/1", "/api/v3/proc//0/1"]
)
def test_doubled_slashes_are_an_unknown_route_not_an_html_redirect(client, url):
    create(client)
    for method in ("GET", "POST", "PUT", "DELETE"):
        resp = client.open(url, method=method, json={}, headers=EN)
        assert "Location" not in resp.headers
        err(resp, 404, 1199019, "route")


@pytest.mark.parametrize(
    ("url", "methods"),
    [
        (proc_url(pid=1), {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}),
        (proc_url(), {"POST", "PUT", "OPTIONS"}),
    ],
)
def test_options_and_405_answer_in_the_envelope_with_allow(client, url, methods):
    resp = client.open(url, method="OPTIONS")
    assert set(envelope(resp, {200})["data"]) == methods
    assert set(resp.allow) == methods
    for method in ("PATCH", "TRACE"):
        resp = client.open(url, method=method, headers=EN)
        envelope(resp, {405})
        assert set(resp.allow) == methods  # RFC 9110: a 405 says what is allowed


def test_head_of_detail_is_the_get_without_a_body(client):
    pid = create(client)
    for target, status in [(pid, 200), (pid + 1, 404), ("x", 400)]:
        resp = client.head(proc_url(pid=target))
        assert (resp.status_code, resp.get_data()) == (status, b"")
        assert resp.headers["Content-Type"] == JSON_CT and resp.headers["X-Request-Id"]


def _wire(text: str) -> str:
    """A header value as WSGI hands it over: the UTF-8 bytes read as Latin-1."""
    return text.encode("utf-8").decode("latin-1")


def test_utf8_operator_is_recorded_as_sent(client, db_url):
    for name in ["用户", "Ünïcødé", "\U0001f600"]:
        ok(client.post(proc_url(), json={"bk_process_name": name, "bk_func_name": "f"},
                       headers={"BK_User": _wire(name)}))  # fmt: skip
    assert [row["operator"] for row in audit_rows(db_url)] == ["用户", "Ünïcødé", "\U0001f600"]


def test_operator_length_counts_characters_not_bytes(client, db_url):
    ok(client.post(proc_url(), json={"bk_process_name": "a", "bk_func_name": "f"},
                   headers={"BK_User": _wire("ü" * 256)}))  # fmt: skip
    assert audit_rows(db_url)[0]["operator"] == "ü" * 256
    before = snapshot(db_url)
    for operator in [_wire("ü" * 257), "u" * 300, "a\x00b"]:
        for method, url, body in [
            ("POST", proc_url(), {"bk_process_name": "b", "bk_func_name": "f"}),
            ("DELETE", proc_url(pid=1), None),
        ]:
            resp = client.open(url, method=method, json=body, headers={**EN, "BK_User": operator})
            err(resp, 400, 1199003, "BK_User")
    assert snapshot(db_url) == before


def test_operator_that_is_not_utf8_is_kept_as_it_came(client, db_url):
    ok(client.post(proc_url(), json={"bk_process_name": "a", "bk_func_name": "f"},
                   headers={"BK_User": "caf\xe9"}))  # fmt: skip  # Latin-1 é on the wire
    assert audit_rows(db_url)[0]["operator"] == "caf\xe9"


@pytest.mark.parametrize("sent", ["a b", "<script>", "x" * 129, "ü", "a\tb", "", "a;b"])
def test_odd_request_ids_are_replaced_not_echoed(client, sent):
    resp = client.get(proc_url(pid=1), headers={"X-Request-Id": sent})
    assert re.fullmatch(r"[0-9a-f]{32}", resp.headers["X-Request-Id"])
    err(resp, 404, 1199019)


# --- time: no pattern makes a search hang ------------------------------------------------------


@pytest.mark.parametrize(
    "pattern", ["(a?a?a?a?){255}", "(y?y?y?y?y?y?y?y?){255}z", "((y?){255}){2}y{255}"]
)
def test_costly_patterns_are_refused(client, pattern):
    """PostgreSQL's regex engine is not linear: "(a?a?a?a?){255}" cost it 3 s per 2000-character
    value. Patterns built to be slow are refused before any database sees them."""
    create(client, bk_process_name="p", start_cmd="y" * 2000)
    resp = search(client, {"condition": {"start_cmd": {"$regex": pattern}}}, headers=EN)
    body = envelope(resp, {400})
    assert body["bk_error_code"] == 1199006 and "start_cmd" in body["bk_error_msg"]


def test_a_search_that_runs_out_of_time_is_refused(db_url):
    """Some accepted patterns stay slow on long values ("[ab]*a[ab]{64}c" defeats RE2's DFA and
    PostgreSQL's engine alike): past PROC_REGEX_TIMEOUT_MS the search is refused with
    400 / 1199006 on both databases, never left to run. Here the limit is 1 ms."""
    app = create_app({"DATABASE_URL": db_url, "LOG_LEVEL": "WARNING", "REGEX_TIMEOUT_MS": 1})
    client = app.test_client()
    # enough text that no engine gets through it within the limit, however idle the machine
    # (50 rows once finished inside 1 ms on PostgreSQL)
    for i in range(200):
        create(client, bk_process_name=f"p{i}", start_cmd="ab" * 1000)
    resp = search(client, {"condition": {"start_cmd": {"$regex": "[ab]*a[ab]{64}c"}}}, headers=EN)
    body = envelope(resp, {400})
    assert body["bk_error_code"] == 1199006 and "start_cmd" in body["bk_error_msg"]
    # The limit belonged to that search alone: the next query on the connection runs freely.
    found = search(client, {"condition": {"start_cmd": "ab" * 1000}, "fields": ["port"]})
    assert envelope(found, {200})["data"]["count"] == 200
    app.extensions["db_engine"].dispose()


# --- concurrency: a deadlock is not "database unavailable" ----------------------------------------


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # SQLite serialises writers
def test_deadlocked_batch_is_not_database_unavailable(app, client, db_url):
    ids = [create(client, bk_process_name=f"p{i}", bk_func_name=f) for i, f in enumerate("fggf")]
    answers = {}

    def batch():
        body = {"bk_process_id": f"{ids[0]},{ids[1]}", "bk_start_param_regex": "r"}
        answers["batch"] = app.test_client().put(proc_url(), json=body, headers=EN)

    with psycopg.connect(libpq(db_url)) as other:
        # another writer holds (g, r), the batch takes (f, r) and waits for (g, r), the other
        # writer then waits for (f, r): PostgreSQL aborts one of the two.
        other.execute(
            "UPDATE processes SET bk_start_param_regex = 'r' WHERE bk_process_id = %s", (ids[2],)
        )
        worker = threading.Thread(target=batch)
        worker.start()
        wait_until_a_session_waits_for_a_lock(db_url)
        with contextlib.suppress(psycopg.errors.DeadlockDetected):
            other.execute(
                "UPDATE processes SET bk_start_param_regex = 'r' WHERE bk_process_id = %s",
                (ids[3],),
            )
        other.rollback()
        worker.join(timeout=30)
    resp = answers["batch"]
    envelope(resp, {200, 409})
    # A retried batch wrote its audit rows once: one per process, or none if it lost.
    updates = [row for row in audit_rows(db_url) if row["op_type"] == 2]
    assert len(updates) == (2 if resp.status_code == 200 else 0)


# --- the root URL (issue 14, page item 12) ------------------------------------------------------


@pytest.mark.parametrize(
    "accept",
    [
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",  # Chromium, Firefox
        "text/html",
    ],
)
def test_a_browser_at_the_root_is_sent_to_the_pages(client, accept):
    resp = client.get("/", headers={"Accept": accept})
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/ui/"


@pytest.mark.parametrize(
    "accept", [None, "*/*", "application/json", "application/json, text/html;q=0.5"]
)
def test_an_api_client_at_the_root_gets_the_envelope_naming_the_pages_and_docs(client, accept):
    headers = {"Accept": accept} if accept else {}
    msg = err(client.get("/", headers={**headers, **EN}), 404, 1199019, "/ui/")
    assert "/docs" in msg
    zh = err(client.get("/", headers=headers), 404, 1199019, "/ui/")
    assert "未找到相关数据" in zh and "/docs" in zh
