"""bind_process_module (docs/api.md §3), and module names in the path."""

from __future__ import annotations

import unicodedata

import pytest

from .dbkit import binding_rows, snapshot
from .kit import EN, ZH, bind, binding_url, create, err, new_module, new_set, ok, unbind
from .support.bindings import UNKNOWN_PROCESS, binding_audits, bound, bound_to, listing

# --- bind_process_module ---------------------------------------------------------------------


def test_bind_answers_success_and_stores_one_row(client, db_url):
    s1, s2 = new_set(client, "s1")["bk_set_id"], new_set(client, "s2")["bk_set_id"]
    new_module(client, s1, "web")
    new_module(client, s2, "web")
    pid = create(client)
    resp = bind(client, pid, "web")
    assert ok(resp) == "success"
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    # one row for the name, however many modules carry it
    assert binding_rows(db_url) == [(pid, "web")]
    assert listing(client, pid) == [("web", 2, 1)]


@UNKNOWN_PROCESS
def test_bind_to_an_unknown_process_is_404(client, db_url, account, biz, offset):
    new_module(client, new_set(client, "set")["bk_set_id"], "web")
    # the same module name exists in the other business and account too
    new_module(client, new_set(client, "set", biz=2)["bk_set_id"], "web", biz=2)
    new_module(
        client, new_set(client, "set", account="other")["bk_set_id"], "web", account="other"
    )["bk_module_id"]
    pid = create(client)
    missing = pid + offset
    before = snapshot(db_url)
    msg = err(bind(client, missing, "web", account, biz, headers=EN), 404, 1199019)
    assert "bk_process_id" in msg and str(missing) in msg
    assert binding_rows(db_url) == []
    assert snapshot(db_url) == before


def _idle(client):
    new_module(client, new_set(client, "idle")["bk_set_id"], "web", default=1)


def _fault(client):
    new_module(client, new_set(client, "fault")["bk_set_id"], "web", default=2)


def _other_business(client):
    new_module(client, new_set(client, "set", biz=2)["bk_set_id"], "web", biz=2)


def _other_account(client):
    new_module(
        client, new_set(client, "set", account="tenant-b")["bk_set_id"], "web", account="tenant-b"
    )["bk_module_id"]


def _nothing(client):
    pass


def _web_exists(client):
    pass  # the test makes a normal module "web"


@pytest.mark.parametrize(
    "setup, name",
    [
        (_nothing, "web"),
        (_idle, "web"),
        (_fault, "web"),
        (_other_business, "web"),
        (_other_account, "web"),
        (_web_exists, "Web"),  # a normal module "web" exists: case matters
        (_web_exists, "WEB"),
        (_web_exists, "web "),  # trailing space matters
        (_web_exists, " web"),
        (_web_exists, "we"),  # not a prefix match
        (_web_exists, "web1"),
        (_web_exists, "w%"),  # not a LIKE pattern
        (_web_exists, "w_b"),
    ],
    ids=[
        "no-module",
        "idle-only",
        "fault-only",
        "other-business-only",
        "other-account-only",
        "case-Web",
        "case-WEB",
        "trailing-space",
        "leading-space",
        "prefix",
        "longer",
        "like-percent",
        "like-underscore",
    ],
)
def test_bind_needs_a_normal_module_of_exactly_that_name(client, db_url, setup, name):
    setup(client)
    new_module(client, new_set(client, "main")["bk_set_id"], "db")
    if setup is _web_exists:
        new_module(client, new_set(client, "main2")["bk_set_id"], "web")
    pid = create(client)
    before = snapshot(db_url)
    msg = err(bind(client, pid, name, headers=EN), 404, 1199019)
    assert f"bk_module_name {name}" in msg, msg
    assert msg.startswith("No relevant data found")
    assert err(bind(client, pid, name, headers=ZH), 404, 1199019).startswith("未找到相关数据")
    assert binding_rows(db_url) == []
    assert snapshot(db_url) == before
    assert all(is_bind == 0 for _, _, is_bind in listing(client, pid))


def test_bind_compares_unicode_exactly(client, db_url):
    composed = unicodedata.normalize("NFC", "café")
    decomposed = unicodedata.normalize("NFD", "café")
    assert composed != decomposed
    new_module(client, new_set(client, "set")["bk_set_id"], composed)
    pid = create(client)
    err(bind(client, pid, decomposed, headers=EN), 404, 1199019, "bk_module_name")
    bound(client, pid, composed)
    assert binding_rows(db_url) == [(pid, composed)]


def test_binding_twice_keeps_one_row_and_one_audit_row(client, db_url):
    new_module(client, new_set(client, "set")["bk_set_id"], "web")
    pid = create(client)
    bound(client, pid, "web")
    after_first = snapshot(db_url)
    bound(client, pid, "web")
    bound(client, pid, "web")
    assert binding_rows(db_url) == [(pid, "web")]
    assert snapshot(db_url) == after_first
    assert [r["op_desc"] for r in binding_audits(db_url)] == ["bind module [web]"]
    assert listing(client, pid) == [("web", 1, 1)]


@pytest.mark.parametrize(
    "body",
    [
        {"data": b"not json {"},
        {"data": b"[1, 2]"},
        {"data": b"null"},
        {"json": {"bk_module_name": "db", "bk_process_id": 999}},
        {"data": b"\xff\xfe"},
    ],
    ids=["invalid-json", "json-list", "json-null", "other-name-in-body", "not-utf8"],
)
def test_bind_ignores_its_body(client, db_url, body):
    s1 = new_set(client, "set")["bk_set_id"]
    new_module(client, s1, "web")
    new_module(client, s1, "db")
    pid = create(client)
    assert ok(bind(client, pid, "web", **body)) == "success"
    assert binding_rows(db_url) == [(pid, "web")]


# --- module names in the path ----------------------------------------------------------------

NAMES = {
    "cjk": "网关模块",
    "space": "web server",
    "spaces-around": "  padded  ",
    "percent": "100%",
    "percent-escape-lookalike": "a%2Fb",
    "plus": "a+b",
    "hash": "#frag",
    "question": "what?x=1&y=2",
    "slash": "a/b",
    "double-slash": "a//b",
    "trailing-slash": "dir/",
    "dots": "..",
    "backslash": "a\\b",
    "quotes": 'it\'s "q"',
    "emoji": "deploy 🚀",
    "tab": "a\tb",
    "256-ascii": "m" * 256,
    "256-cjk": "模" * 256,
    "leading-slash": "/opt/app",
    "only-slash": "/",
}


@pytest.mark.parametrize("name", list(NAMES.values()), ids=list(NAMES))
def test_any_module_name_binds_lists_searches_and_unbinds(client, db_url, name):
    s1 = new_set(client, "set")["bk_set_id"]
    new_module(client, s1, "plain")
    new_module(client, s1, name)
    pid = create(client)

    assert ok(bind(client, pid, name, headers=EN)) == "success"
    assert binding_rows(db_url) == [(pid, name)]
    assert listing(client, pid) == [("plain", 1, 0), (name, 1, 1)]
    assert bound_to(client, name) == [pid]
    assert bound_to(client, {"$in": [name]}) == [pid]
    (row,) = binding_audits(db_url)
    assert row["op_desc"] == f"bind module [{name}]"

    assert ok(unbind(client, pid, name, headers=EN)) == "success"
    assert binding_rows(db_url) == []
    assert listing(client, pid) == [("plain", 1, 0), (name, 1, 0)]
    assert bound_to(client, name) == []


def test_a_raw_plus_in_the_path_is_a_plus_not_a_space(client, db_url):
    s1 = new_set(client, "set")["bk_set_id"]
    new_module(client, s1, "a b")
    new_module(client, s1, "a+b")
    pid = create(client)
    assert ok(client.put(binding_url(pid, "a+b", raw=True))) == "success"
    assert binding_rows(db_url) == [(pid, "a+b")]
    assert ok(client.put(binding_url(pid, "a%20b", raw=True))) == "success"
    assert binding_rows(db_url) == sorted([(pid, "a+b"), (pid, "a b")])


def test_a_name_is_percent_decoded_exactly_once(client, db_url):
    s1 = new_set(client, "set")["bk_set_id"]
    new_module(client, s1, "a/b")
    new_module(client, s1, "a%2Fb")
    pid = create(client)
    bound(client, pid, "a%2Fb")  # sent as a%252Fb
    assert binding_rows(db_url) == [(pid, "a%2Fb")]
    assert listing(client, pid) == [("a/b", 1, 0), ("a%2Fb", 1, 1)]
    ok(unbind(client, pid, "a/b"))  # a/b is not bound: a%2Fb stays
    assert binding_rows(db_url) == [(pid, "a%2Fb")]


@pytest.mark.parametrize("name", ["m" * 257, "模" * 257], ids=["257-ascii", "257-cjk"])
def test_a_name_over_256_characters_is_400(client, db_url, name):
    new_module(client, new_set(client, "set")["bk_set_id"], "web")
    pid = create(client)
    bound(client, pid, "web")
    before = snapshot(db_url)
    err(bind(client, pid, name, headers=EN), 400, 1199003, "bk_module_name")
    err(unbind(client, pid, name, headers=EN), 400, 1199003, "bk_module_name")
    assert binding_rows(db_url) == [(pid, "web")]
    assert snapshot(db_url) == before


@pytest.mark.parametrize(
    "raw", [b"\xff", b"web\xc3", b"\xed\xa0\x80"], ids=["ff", "cut", "surrogate"]
)
def test_a_name_that_is_not_utf8_is_400(client, db_url, raw):
    new_module(client, new_set(client, "set")["bk_set_id"], "web")
    new_module(client, new_set(client, "s2")["bk_set_id"], "web\ufffd")
    pid = create(client)
    # The test client would turn bad percent-escapes into U+FFFD before the app sees them; a
    # WSGI server hands the app the path's bytes as latin-1 (PEP 3333), as here.
    path = (binding_url(pid) + "/").encode() + raw
    environ = {"PATH_INFO": path.decode("latin-1")}
    for call in (client.put, client.delete):
        resp = call(binding_url(pid, "x"), headers=EN, environ_overrides=environ)
        err(resp, 400, 1199003, "bk_module_name")
    assert binding_rows(db_url) == []
