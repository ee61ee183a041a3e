"""Process bindings to module names: get_process_bind_module, bind_process_module,
delete_process_module_binding, the bindings delete_process removes, the bindings topology changes
leave alone, and the bk_module_name search condition (contract §1, §3, §5, §6, §9).

Every binding here is made through the bind endpoint, and every module through the topology
endpoints; the database is only read, to count rows the API cannot show.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, event, text

from .helpers import EN, ZH, audit_rows, create, err, ok, proc_url, race, search, snapshot

ACCOUNT_HEADER = "HTTP_BLUEKING_SUPPLIER_ID"


# --- helpers ---------------------------------------------------------------------------------


def make_set(client, name="set", biz=1, account="0") -> int:
    resp = client.post(f"/api/v3/set/{biz}", json={"bk_set_name": name}, headers=_acct(account))
    return ok(resp)["bk_set_id"]


def make_module(client, set_id, name, biz=1, account="0", default=0) -> int:
    body = {"bk_module_name": name, "default": default}
    resp = client.post(f"/api/v3/module/{biz}/{set_id}", json=body, headers=_acct(account))
    return ok(resp)["bk_module_id"]


def module_path(set_id, module_id, biz=1) -> str:
    return f"/api/v3/module/{biz}/{set_id}/{module_id}"


def _acct(account: str) -> dict:
    return {ACCOUNT_HEADER: account}


def module_url(pid, name=None, account="0", biz=1, raw=False) -> str:
    """The binding path; the name percent-encoded entirely (so "/" travels as %2F) unless raw."""
    url = f"/api/v3/proc/module/{account}/{biz}/{pid}"
    if name is None:
        return url
    return f"{url}/{name if raw else quote(name, safe='')}"


def bind(client, pid, name, account="0", biz=1, headers=None, **kw):
    return client.put(module_url(pid, name, account, biz), headers=headers, **kw)


def unbind(client, pid, name, account="0", biz=1, headers=None):
    return client.delete(module_url(pid, name, account, biz), headers=headers)


def bound(client, pid, name, **kw) -> None:
    assert ok(bind(client, pid, name, **kw)) == "success"


def listing(client, pid, account="0", biz=1) -> list[tuple[str, int, int]]:
    """get_process_bind_module as (bk_module_name, set_num, is_bind) tuples, after checking
    that each entry has exactly those keys and that the numbers are JSON integers, not bools."""
    entries = ok(client.get(module_url(pid, account=account, biz=biz)))
    assert isinstance(entries, list), entries
    out = []
    for entry in entries:
        assert set(entry) == {"bk_module_name", "set_num", "is_bind"}, entry
        assert type(entry["set_num"]) is int and type(entry["is_bind"]) is int, entry
        assert entry["is_bind"] in (0, 1), entry
        out.append((entry["bk_module_name"], entry["set_num"], entry["is_bind"]))
    return out


def binding_rows(db_url: str) -> list[tuple[int, str]]:
    """Every row of process_bindings, read straight from the database."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT bk_process_id, bk_module_name FROM process_bindings")
            ).all()
        return sorted((r[0], r[1]) for r in rows)
    finally:
        engine.dispose()


def binding_audits(db_url: str) -> list[dict]:
    """The audit rows of binds and unbinds (op_type 2 on a process), oldest first."""
    return [r for r in audit_rows(db_url) if r["op_target"] == "process" and r["op_type"] == 2]


def bound_to(client, condition, account="0", biz=1) -> list[int]:
    """Ids of the processes a bk_module_name search finds; count must agree with the page."""
    data = ok(search(client, {"condition": {"bk_module_name": condition}}, account, biz))
    ids = [p["bk_process_id"] for p in data["info"]]
    assert data["count"] == len(ids), data
    return ids


UNKNOWN_PROCESS = pytest.mark.parametrize(
    "account, biz, offset",
    [("0", 1, 1000), ("other", 1, 0), ("0", 2, 0)],
    ids=["unknown-id", "other-account", "other-business"],
)


# --- get_process_bind_module -----------------------------------------------------------------


def test_list_one_entry_per_normal_module_name_in_first_created_order(client):
    s1, s2, s3 = make_set(client, "s1"), make_set(client, "s2"), make_set(client, "s3")
    make_module(client, s1, "zeta")
    make_module(client, s1, "web")
    make_module(client, s2, "alpha")
    make_module(client, s2, "web")
    make_module(client, s3, "web")
    make_module(client, s3, "zeta")
    # idle and fault modules are not listed, nor counted in set_num
    make_module(client, s1, "idle", default=1)
    make_module(client, s2, "fault", default=2)
    make_module(client, s3, "alpha", default=1)
    # modules of another business or another account do not count
    other_biz = make_set(client, "s1", biz=2)
    make_module(client, other_biz, "web", biz=2)
    make_module(client, other_biz, "beta", biz=2)
    other_account = make_set(client, "s1", account="tenant-b")
    make_module(client, other_account, "web", account="tenant-b")
    make_module(client, other_account, "gamma", account="tenant-b")
    pid = create(client)

    # created order, not alphabetical: zeta came first, then web, then alpha
    assert listing(client, pid) == [("zeta", 2, 0), ("web", 3, 0), ("alpha", 1, 0)]

    bound(client, pid, "web")
    assert listing(client, pid) == [("zeta", 2, 0), ("web", 3, 1), ("alpha", 1, 0)]
    bound(client, pid, "alpha")
    assert listing(client, pid) == [("zeta", 2, 0), ("web", 3, 1), ("alpha", 1, 1)]


def test_list_order_follows_the_first_module_of_a_name_across_sets(client):
    s1, s2 = make_set(client, "s1"), make_set(client, "s2")
    make_module(client, s1, "b")
    make_module(client, s2, "a")
    make_module(client, s1, "a")
    make_module(client, s2, "c")
    make_module(client, s2, "b")
    pid = create(client)
    assert listing(client, pid) == [("b", 2, 0), ("a", 2, 0), ("c", 1, 0)]


def test_list_of_a_business_without_modules_is_empty(client):
    other = make_set(client, "s1", biz=2)
    make_module(client, other, "web", biz=2)
    pid = create(client)
    assert listing(client, pid) == []


def test_list_is_per_process(client):
    s1 = make_set(client)
    for name in ["web", "db", "cache"]:
        make_module(client, s1, name)
    p1 = create(client, bk_process_name="p1")
    p2 = create(client, bk_process_name="p2")
    bound(client, p1, "web")
    bound(client, p2, "db")
    bound(client, p2, "cache")
    assert listing(client, p1) == [("web", 1, 1), ("db", 1, 0), ("cache", 1, 0)]
    assert listing(client, p2) == [("web", 1, 0), ("db", 1, 1), ("cache", 1, 1)]


@UNKNOWN_PROCESS
def test_list_of_an_unknown_process_is_404(client, account, biz, offset):
    make_module(client, make_set(client), "web")
    pid = create(client)
    missing = pid + offset
    resp = client.get(module_url(missing, account=account, biz=biz), headers=EN)
    msg = err(resp, 404, 1199019, "bk_process_id")
    assert str(missing) in msg
    resp = client.get(module_url(missing, account=account, biz=biz), headers=ZH)
    assert err(resp, 404, 1199019).startswith("未找到相关数据")


# --- dangling bindings: topology changes never delete bindings (§3, §6) ----------------------


def _delete_module(client, ctx):
    ok(client.delete(module_path(ctx["set"], ctx["web"])))


def _rename_module(client, ctx):
    ok(client.put(module_path(ctx["set"], ctx["web"]), json={"bk_module_name": "www"}))


def _delete_set(client, ctx):
    ok(client.delete(f"/api/v3/set/1/{ctx['set']}"))


def _make_module_idle(client, ctx):
    ok(client.put(module_path(ctx["set"], ctx["web"]), json={"default": 1}))


@pytest.mark.parametrize(
    "vanish",
    [_delete_module, _rename_module, _delete_set, _make_module_idle],
    ids=["delete-module", "rename-module", "delete-set", "module-made-idle"],
)
def test_a_binding_outlives_its_modules_and_is_listed_last(client, db_url, vanish):
    keep = make_set(client, "keep")
    make_module(client, keep, "db")
    make_module(client, keep, "web", default=1)  # an idle "web" does not keep the name alive
    doomed = make_set(client, "doomed")
    web = make_module(client, doomed, "web")
    make_module(client, keep, "cache")
    pid = create(client)
    bound(client, pid, "web")
    bound(client, pid, "db")
    assert listing(client, pid) == [("db", 1, 1), ("web", 1, 1), ("cache", 1, 0)]

    vanish(client, {"set": doomed, "web": web})

    rows = binding_rows(db_url)
    assert rows == sorted([(pid, "web"), (pid, "db")])
    expected = [("db", 1, 1), ("cache", 1, 0), ("web", 0, 1)]
    if vanish is _rename_module:  # the new name is an ordinary, unbound name, in web's place
        expected.insert(1, ("www", 1, 0))
    assert listing(client, pid) == expected
    assert bound_to(client, "web") == [pid]  # still bound, so still found


def test_dangling_bindings_are_listed_in_binding_order(client):
    s1 = make_set(client)
    ids = {name: make_module(client, s1, name) for name in ["a", "b", "c", "d", "e"]}
    pid = create(client)
    for name in ["c", "a", "e", "b"]:
        bound(client, pid, name)
    for name in ["b", "c", "a"]:  # deleted in yet another order
        ok(client.delete(module_path(s1, ids[name])))
    # names still there first (d unbound, e bound), then c, a, b as they were bound; a deleted
    # name that was never bound is simply gone
    assert listing(client, pid) == [("d", 1, 0), ("e", 1, 1), ("c", 0, 1), ("a", 0, 1), ("b", 0, 1)]


def test_a_name_left_in_one_set_keeps_its_place(client):
    s1, s2 = make_set(client, "s1"), make_set(client, "s2")
    make_module(client, s1, "web")
    second = make_module(client, s2, "web")
    make_module(client, s2, "db")
    pid = create(client)
    bound(client, pid, "web")
    ok(client.delete(module_path(s2, second)))
    assert listing(client, pid) == [("web", 1, 1), ("db", 1, 0)]


def test_a_recreated_module_makes_a_dangling_binding_ordinary_again(client):
    s1 = make_set(client)
    web = make_module(client, s1, "web")
    make_module(client, s1, "db")
    pid = create(client)
    bound(client, pid, "web")
    ok(client.delete(module_path(s1, web)))
    assert listing(client, pid) == [("db", 1, 0), ("web", 0, 1)]
    make_module(client, make_set(client, "s2"), "web")
    assert listing(client, pid) == [("db", 1, 0), ("web", 1, 1)]


# --- bind_process_module ---------------------------------------------------------------------


def test_bind_answers_success_and_stores_one_row(client, db_url):
    s1, s2 = make_set(client, "s1"), make_set(client, "s2")
    make_module(client, s1, "web")
    make_module(client, s2, "web")
    pid = create(client)
    resp = bind(client, pid, "web")
    assert ok(resp) == "success"
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    # one row for the name, however many modules carry it
    assert binding_rows(db_url) == [(pid, "web")]
    assert listing(client, pid) == [("web", 2, 1)]


@UNKNOWN_PROCESS
def test_bind_to_an_unknown_process_is_404(client, db_url, account, biz, offset):
    make_module(client, make_set(client), "web")
    # the same module name exists in the other business and account too
    make_module(client, make_set(client, biz=2), "web", biz=2)
    make_module(client, make_set(client, account="other"), "web", account="other")
    pid = create(client)
    missing = pid + offset
    before = snapshot(db_url)
    msg = err(bind(client, missing, "web", account, biz, headers=EN), 404, 1199019)
    assert "bk_process_id" in msg and str(missing) in msg
    assert binding_rows(db_url) == []
    assert snapshot(db_url) == before


def _idle(client):
    make_module(client, make_set(client, "idle"), "web", default=1)


def _fault(client):
    make_module(client, make_set(client, "fault"), "web", default=2)


def _other_business(client):
    make_module(client, make_set(client, biz=2), "web", biz=2)


def _other_account(client):
    make_module(client, make_set(client, account="tenant-b"), "web", account="tenant-b")


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
    make_module(client, make_set(client, "main"), "db")
    if setup is _web_exists:
        make_module(client, make_set(client, "main2"), "web")
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
    make_module(client, make_set(client), composed)
    pid = create(client)
    err(bind(client, pid, decomposed, headers=EN), 404, 1199019, "bk_module_name")
    bound(client, pid, composed)
    assert binding_rows(db_url) == [(pid, composed)]


def test_binding_twice_keeps_one_row_and_one_audit_row(client, db_url):
    make_module(client, make_set(client), "web")
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
    s1 = make_set(client)
    make_module(client, s1, "web")
    make_module(client, s1, "db")
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
    s1 = make_set(client)
    make_module(client, s1, "plain")
    make_module(client, s1, name)
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
    s1 = make_set(client)
    make_module(client, s1, "a b")
    make_module(client, s1, "a+b")
    pid = create(client)
    assert ok(client.put(module_url(pid, "a+b", raw=True))) == "success"
    assert binding_rows(db_url) == [(pid, "a+b")]
    assert ok(client.put(module_url(pid, "a%20b", raw=True))) == "success"
    assert binding_rows(db_url) == sorted([(pid, "a+b"), (pid, "a b")])


def test_a_name_is_percent_decoded_exactly_once(client, db_url):
    s1 = make_set(client)
    make_module(client, s1, "a/b")
    make_module(client, s1, "a%2Fb")
    pid = create(client)
    bound(client, pid, "a%2Fb")  # sent as a%252Fb
    assert binding_rows(db_url) == [(pid, "a%2Fb")]
    assert listing(client, pid) == [("a/b", 1, 0), ("a%2Fb", 1, 1)]
    ok(unbind(client, pid, "a/b"))  # a/b is not bound: a%2Fb stays
    assert binding_rows(db_url) == [(pid, "a%2Fb")]


@pytest.mark.parametrize("name", ["m" * 257, "模" * 257], ids=["257-ascii", "257-cjk"])
def test_a_name_over_256_characters_is_400(client, db_url, name):
    make_module(client, make_set(client), "web")
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
    make_module(client, make_set(client), "web")
    make_module(client, make_set(client, "s2"), "web\ufffd")
    pid = create(client)
    # The test client would turn bad percent-escapes into U+FFFD before the app sees them; a
    # WSGI server hands the app the path's bytes as latin-1 (PEP 3333), as here.
    path = (module_url(pid) + "/").encode() + raw
    environ = {"PATH_INFO": path.decode("latin-1")}
    for call in (client.put, client.delete):
        resp = call(module_url(pid, "x"), headers=EN, environ_overrides=environ)
        err(resp, 400, 1199003, "bk_module_name")
    assert binding_rows(db_url) == []


# --- delete_process_module_binding -----------------------------------------------------------


def test_unbind_removes_only_that_binding(client, db_url):
    s1 = make_set(client)
    for name in ["web", "db"]:
        make_module(client, s1, name)
    p1 = create(client, bk_process_name="p1")
    p2 = create(client, bk_process_name="p2")
    for pid in (p1, p2):
        bound(client, pid, "web")
        bound(client, pid, "db")
    assert ok(unbind(client, p1, "web")) == "success"
    assert binding_rows(db_url) == sorted([(p1, "db"), (p2, "web"), (p2, "db")])
    assert listing(client, p1) == [("web", 1, 0), ("db", 1, 1)]
    assert listing(client, p2) == [("web", 1, 1), ("db", 1, 1)]
    assert bound_to(client, "web") == [p2]
    # and it can be bound again
    bound(client, p1, "web")
    assert listing(client, p1) == [("web", 1, 1), ("db", 1, 1)]


@pytest.mark.parametrize(
    "name",
    ["db", "no-such-module", "Web", "web "],
    ids=["module-not-bound", "no-module-at-all", "other-case", "trailing-space"],
)
def test_unbinding_what_is_not_bound_is_a_silent_success(client, db_url, name):
    s1 = make_set(client)
    make_module(client, s1, "web")
    make_module(client, s1, "db")
    pid = create(client)
    bound(client, pid, "web")
    before = snapshot(db_url)
    assert ok(unbind(client, pid, name)) == "success"
    assert binding_rows(db_url) == [(pid, "web")]
    assert snapshot(db_url) == before
    assert listing(client, pid) == [("web", 1, 1), ("db", 1, 0)]


def test_unbinding_twice_is_audited_once(client, db_url):
    make_module(client, make_set(client), "web")
    pid = create(client)
    bound(client, pid, "web")
    ok(unbind(client, pid, "web"))
    ok(unbind(client, pid, "web"))
    descs = [r["op_desc"] for r in binding_audits(db_url)]
    assert descs == ["bind module [web]", "unbind module [web]"]


@UNKNOWN_PROCESS
def test_unbind_of_an_unknown_process_is_404_and_changes_nothing(
    client, db_url, account, biz, offset
):
    make_module(client, make_set(client), "web")
    pid = create(client)
    bound(client, pid, "web")
    before = snapshot(db_url)
    missing = pid + offset
    msg = err(unbind(client, missing, "web", account, biz, headers=EN), 404, 1199019)
    assert "bk_process_id" in msg and str(missing) in msg
    assert binding_rows(db_url) == [(pid, "web")]
    assert snapshot(db_url) == before


def test_a_dangling_binding_can_be_unbound(client, db_url):
    s1 = make_set(client)
    web = make_module(client, s1, "web")
    make_module(client, s1, "db")
    pid = create(client)
    bound(client, pid, "web")
    ok(client.delete(module_path(s1, web)))
    assert listing(client, pid) == [("db", 1, 0), ("web", 0, 1)]
    assert ok(unbind(client, pid, "web")) == "success"
    assert binding_rows(db_url) == []
    assert listing(client, pid) == [("db", 1, 0)]
    last = binding_audits(db_url)[-1]
    assert last["op_desc"] == "unbind module [web]"
    assert last["content"] == {
        "pre_data": {"bk_module_names": ["web"]},
        "cur_data": {"bk_module_names": []},
    }
    # and with no module left of that name, it cannot be bound again
    err(bind(client, pid, "web"), 404, 1199019, "bk_module_name")


# --- audit (§5) ------------------------------------------------------------------------------


def test_bind_and_unbind_audit_rows(client, db_url):
    account, biz = "acct-x", 7
    s1 = make_set(client, biz=biz, account=account)
    for name in ["zeta", "alpha", "mid"]:
        make_module(client, s1, name, biz=biz, account=account)
    pid = create(client, account, biz)
    steps = [
        (bind, "zeta", [], ["zeta"]),
        (bind, "alpha", ["zeta"], ["alpha", "zeta"]),
        (bind, "mid", ["alpha", "zeta"], ["alpha", "mid", "zeta"]),
        (unbind, "zeta", ["alpha", "mid", "zeta"], ["alpha", "mid"]),
    ]
    request_ids = []
    for i, (call, name, _, _) in enumerate(steps):
        headers = {"BK_User": "alice", "X-Request-Id": f"req-bind-{i}"}
        resp = call(client, pid, name, account, biz, headers=headers)
        ok(resp)
        request_ids.append(resp.headers["X-Request-Id"])
    assert request_ids == [f"req-bind-{i}" for i in range(4)]

    rows = binding_audits(db_url)
    assert len(rows) == 4
    for row, (call, name, pre, cur), request_id in zip(rows, steps, request_ids, strict=True):
        verb = "bind" if call is bind else "unbind"
        assert row["op_desc"] == f"{verb} module [{name}]"
        assert row["op_type"] == 2 and row["op_target"] == "process"
        assert row["inst_id"] == pid
        assert row["bk_supplier_account"] == account and row["bk_biz_id"] == biz
        assert row["operator"] == "alice"
        assert row["request_id"] == request_id
        assert row["content"] == {
            "pre_data": {"bk_module_names": pre},
            "cur_data": {"bk_module_names": cur},
        }

    # the rows are what audit search shows for the process
    found = ok(
        client.post(
            "/api/v3/audit/search",
            json={"condition": {"op_target": "process", "inst_id": pid, "op_type": 2}},
            headers={**_acct(account), "HTTP_BLUEKING_LANGUAGE": "en"},
        )
    )
    assert found["count"] == 4
    assert sorted(r["op_desc"] for r in found["info"]) == sorted(r["op_desc"] for r in rows)


def test_bind_audit_operator_defaults_to_anonymous(client, db_url):
    make_module(client, make_set(client), "web")
    pid = create(client)
    bound(client, pid, "web")
    ok(unbind(client, pid, "web", headers={"BK-User": "bob"}))
    assert [r["operator"] for r in binding_audits(db_url)] == ["anonymous", "bob"]


def test_failed_and_idle_binding_calls_write_no_audit_row(client, db_url):
    make_module(client, make_set(client), "web")
    pid = create(client)
    bound(client, pid, "web")
    before = snapshot(db_url)
    calls = [
        bind(client, pid, "web"),  # already bound
        bind(client, pid, "nope"),  # 404 module
        bind(client, pid + 99, "web"),  # 404 process
        unbind(client, pid, "nope"),  # not bound
        unbind(client, pid + 99, "web"),  # 404 process
        bind(client, pid, "x" * 257),  # 400
    ]
    assert [r.status_code for r in calls] == [200, 404, 404, 200, 404, 400]
    assert snapshot(db_url) == before


# --- delete_process --------------------------------------------------------------------------


def test_delete_process_removes_its_bindings_and_audits_them(client, db_url):
    s1 = make_set(client)
    modules = {name: make_module(client, s1, name) for name in ["web", "db", "gone", "cache"]}
    attrs = {"bk_process_name": "victim", "bk_func_name": "victim", "port": "8080", "user": "u"}
    pid = create(client, **attrs)
    other = create(client, bk_process_name="other")
    for name in ["web", "gone", "db"]:
        bound(client, pid, name)
    bound(client, other, "web")
    ok(client.delete(module_path(s1, modules["gone"])))  # a dangling binding goes too

    assert ok(client.delete(proc_url(pid=pid), headers={"BK_User": "carol"})) == "success"

    assert binding_rows(db_url) == [(other, "web")]
    assert bound_to(client, "web") == [other]
    assert bound_to(client, {"$in": ["db", "gone"]}) == []
    err(client.get(module_url(pid)), 404, 1199019)
    err(bind(client, pid, "web", headers=EN), 404, 1199019, "bk_process_id")
    err(unbind(client, pid, "web", headers=EN), 404, 1199019, "bk_process_id")

    (deleted,) = [r for r in audit_rows(db_url) if r["op_type"] == 3 and r["inst_id"] == pid]
    assert deleted["op_target"] == "process" and deleted["operator"] == "carol"
    pre = deleted["content"]["pre_data"]
    assert pre["bk_module_names"] == ["db", "gone", "web"]
    assert {k: pre[k] for k in attrs} == attrs
    assert pre["bk_process_id"] == pid
    assert deleted["content"]["cur_data"] == {}
    assert listing(client, other) == [("web", 1, 1), ("db", 1, 0), ("cache", 1, 0)]


def test_delete_process_without_bindings_records_an_empty_list(client, db_url):
    make_module(client, make_set(client), "web")
    pid = create(client)
    bound(client, pid, "web")
    ok(unbind(client, pid, "web"))
    ok(client.delete(proc_url(pid=pid)))
    (deleted,) = [r for r in audit_rows(db_url) if r["op_type"] == 3]
    assert deleted["content"]["pre_data"]["bk_module_names"] == []


def test_a_new_process_after_a_delete_is_bound_to_nothing(client, db_url):
    s1 = make_set(client)
    make_module(client, s1, "web")
    make_module(client, s1, "db")
    pid = create(client, bk_process_name="same")
    bound(client, pid, "web")
    bound(client, pid, "db")
    ok(client.delete(proc_url(pid=pid)))
    again = create(client, bk_process_name="same")
    assert again != pid
    assert listing(client, again) == [("web", 1, 0), ("db", 1, 0)]
    assert bound_to(client, {"$in": ["web", "db"]}) == []
    assert binding_rows(db_url) == []


# --- search_process: the bk_module_name condition --------------------------------------------


@pytest.fixture
def bound_world(client):
    """p1: web · p2: web, db · p3: Web · p4: nothing · a process of business 2 and one of
    account tenant-b, both named p1 and bound to web and cache."""
    s1 = make_set(client)
    for name in ["web", "db", "Web", "cache"]:
        make_module(client, s1, name)
    ids = {}
    for i, name in enumerate(["p1", "p2", "p3", "p4"], 1):
        ids[name] = create(client, bk_process_name=name, proc_num=i)
    for process, name in [("p1", "web"), ("p2", "web"), ("p2", "db"), ("p3", "Web")]:
        bound(client, ids[process], name)
    for biz, account in [(2, "0"), (1, "tenant-b")]:
        s = make_set(client, biz=biz, account=account)
        for name in ["web", "cache"]:
            make_module(client, s, name, biz=biz, account=account)
        pid = create(client, account, biz, bk_process_name="p1")
        ids[f"{account}/{biz}"] = pid
        bound(client, pid, "web", account=account, biz=biz)
        bound(client, pid, "cache", account=account, biz=biz)
    return ids


SEARCHES = [
    ("web", ["p1", "p2"]),
    ("Web", ["p3"]),  # exact, case-sensitive
    ("we", []),  # not a substring match
    ("db", ["p2"]),
    ("cache", []),  # bound only in another business and account
    ("nothing", []),
    ({"$in": ["db"]}, ["p2"]),
    ({"$in": ["web", "db"]}, ["p1", "p2"]),  # p2 once
    ({"$in": ["db", "Web", "cache", "nothing"]}, ["p2", "p3"]),
    ({"$in": []}, []),
]


def test_search_by_module_name(client, bound_world):
    name_of = {pid: name for name, pid in bound_world.items()}
    for condition, expected in SEARCHES:
        found = [name_of[pid] for pid in bound_to(client, condition)]
        assert found == expected, condition


def test_search_by_module_name_and_other_conditions(client, bound_world):
    ids = bound_world

    def names(condition, **page):
        data = ok(search(client, {"condition": condition, "page": page}))
        return data["count"], [p["bk_process_name"] for p in data["info"]]

    assert names({"bk_module_name": "web", "bk_process_name": "1"}) == (1, ["p1"])
    assert names({"bk_module_name": "web", "proc_num": {"$gte": 2}}) == (1, ["p2"])
    assert names({"bk_module_name": {"$in": ["web", "Web"]}, "proc_num": {"$ne": 2}}) == (
        2,
        ["p1", "p3"],
    )
    assert names({"bk_module_name": "db", "bk_process_id": ids["p1"]}) == (0, [])
    # count is the total, whatever the page
    assert names({"bk_module_name": "web"}, limit=1) == (2, ["p1"])
    assert names({"bk_module_name": "web"}, start=1, limit=1) == (2, ["p2"])
    assert names({"bk_module_name": "web"}, sort="-bk_process_name") == (2, ["p2", "p1"])
    # the other business and account see only their own process
    for account, biz in [("0", 2), ("tenant-b", 1)]:
        key = f"{account}/{biz}"
        assert bound_to(client, "web", account, biz) == [ids[key]]
        assert bound_to(client, {"$in": ["cache", "db"]}, account, biz) == [ids[key]]
        assert bound_to(client, "db", account, biz) == []


@pytest.mark.parametrize(
    "value",
    [
        {"$eq": "web"},
        {"$ne": "web"},
        {"$nin": ["web"]},
        {"$regex": "web"},
        {"$in": "web"},
        {"$in": ["web", 5]},
        {"$in": ["web", None]},
        {"$in": ["web"], "$eq": "web"},
        {},
        5,
        None,
        True,
        ["web"],
    ],
    ids=[
        "$eq",
        "$ne",
        "$nin",
        "$regex",
        "$in-string",
        "$in-number",
        "$in-null",
        "$in-and-$eq",
        "empty-object",
        "number",
        "null",
        "bool",
        "list",
    ],
)
def test_search_by_a_malformed_module_name_is_400(client, value):
    make_module(client, make_set(client), "web")
    bound(client, create(client), "web")
    resp = search(client, {"condition": {"bk_module_name": value}}, headers=EN)
    body = resp.get_json()
    assert resp.status_code == 400, body
    assert body["bk_error_code"] in (1199006, 1199007), body
    err(resp, 400, body["bk_error_code"], "bk_module_name")


def test_search_by_module_name_takes_at_most_1000_names(client):
    make_module(client, make_set(client), "web")
    pid = create(client)
    bound(client, pid, "web")
    names = [f"n{i}" for i in range(999)] + ["web"]
    assert bound_to(client, {"$in": names}) == [pid]
    resp = search(client, {"condition": {"bk_module_name": {"$in": [*names, "m"]}}}, headers=EN)
    assert "1000" in err(resp, 400, 1199035, "bk_module_name")


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET", "SHOW")


def test_search_by_module_name_costs_the_same_statements_for_2_or_30_processes(app, client):
    s1 = make_set(client)
    make_module(client, s1, "web")
    make_module(client, s1, "db")
    engine = app.extensions["db_engine"]
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            statements.append(statement)

    def cost(expected: int) -> int:
        body = {"condition": {"bk_module_name": {"$in": ["web", "db"]}}, "page": {"limit": 200}}
        ok(search(client, body))  # the pool's first connection may run the dialect's queries
        statements.clear()
        event.listen(engine, "before_cursor_execute", record)
        try:
            data = ok(search(client, body))
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert data["count"] == expected == len(data["info"])
        return len(statements)

    pids = [create(client, bk_process_name=f"p{i:02}") for i in range(30)]
    for pid in pids[:2]:
        bound(client, pid, "web")
        bound(client, pid, "db")
    few = cost(2)
    for pid in pids[2:]:
        bound(client, pid, "web" if pid % 2 else "db")
    many = cost(30)
    assert few == many, statements
    assert many <= 2, statements


# --- concurrency (§9) ------------------------------------------------------------------------


def test_concurrent_binds_of_one_name_make_one_row_and_one_audit_row(app, client, db_url):
    make_module(client, make_set(client), "web")
    pid = create(client)
    results = race(app, [lambda c: bind(c, pid, "web") for _ in range(6)])
    assert [status for status, _ in results] == [200] * 6, results
    assert all(body["data"] == "success" for _, body in results)
    assert binding_rows(db_url) == [(pid, "web")]
    (row,) = binding_audits(db_url)
    assert row["content"] == {
        "pre_data": {"bk_module_names": []},
        "cur_data": {"bk_module_names": ["web"]},
    }


def test_concurrent_binds_of_different_names_all_land_and_audit_in_turn(app, client, db_url):
    s1 = make_set(client)
    names = [f"m{i}" for i in range(6)]
    for name in names:
        make_module(client, s1, name)
    pid = create(client)
    results = race(app, [lambda c, n=n: bind(c, pid, n) for n in names])
    assert [status for status, _ in results] == [200] * 6, results
    assert binding_rows(db_url) == [(pid, n) for n in names]
    assert listing(client, pid) == [(n, 1, 1) for n in names]
    # each row saw every earlier bind: the lists grow by one name at a time, none lost
    rows = binding_audits(db_url)
    assert len(rows) == 6
    seen: list[str] = []
    for row in rows:
        pre = row["content"]["pre_data"]["bk_module_names"]
        cur = row["content"]["cur_data"]["bk_module_names"]
        assert pre == sorted(seen)
        (added,) = set(cur) - set(pre)
        assert cur == sorted([*pre, added]) and row["op_desc"] == f"bind module [{added}]"
        seen.append(added)
    assert sorted(seen) == names


def test_bind_racing_delete_process_leaves_no_binding_behind(app, client, db_url):
    s1 = make_set(client)
    names = ["a", "b", "c", "d"]
    for name in names:
        make_module(client, s1, name)
    pid = create(client)
    calls = [lambda c: c.delete(proc_url(pid=pid))]
    calls += [lambda c, n=n: bind(c, pid, n) for n in names]
    results = race(app, calls)
    assert results[0][0] == 200, results
    won = {n for n, (status, _) in zip(names, results[1:], strict=True) if status == 200}
    assert all(status in (200, 404) for status, _ in results[1:]), results
    assert binding_rows(db_url) == []
    # a bind that succeeded happened before the delete, whose audit row lists it
    (deleted,) = [r for r in audit_rows(db_url) if r["op_type"] == 3]
    assert set(deleted["content"]["pre_data"]["bk_module_names"]) == won


def test_a_module_name_with_a_newline_binds_and_unbinds(client, db_url):
    """Any UTF-8 text is a name, line breaks included: the path's rest is the name, "\\n" too."""
    set_id = ok(client.post("/api/v3/set/1", json={"bk_set_name": "s"}))["bk_set_id"]
    ok(client.post(f"/api/v3/module/1/{set_id}", json={"bk_module_name": "a\nb"}))
    pid = create(client)
    url = f"/api/v3/proc/module/0/1/{pid}/{quote('a' + chr(10) + 'b', safe='')}"
    assert ok(client.put(url)) == "success"
    listed = ok(client.get(f"/api/v3/proc/module/0/1/{pid}"))
    assert listed == [{"bk_module_name": "a\nb", "set_num": 1, "is_bind": 1}]
    assert ok(client.delete(url)) == "success"
    assert ok(client.get(f"/api/v3/proc/module/0/1/{pid}"))[0]["is_bind"] == 0
