"""Access control (docs/api.md §7b): bearer tokens from PROC_API_TOKENS_FILE.

Off by default (every other test file runs without it). On, every /api/v3 request needs a known
token (401 / 1199027), the token must list the request's supplier account and, for a write,
allow writes (403 / 9900403); the service endpoints stay open; the audit trail names the token.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from harness.gunicorn import gunicorn_env, run_gunicorn
from proc_service import create_app
from proc_service.web.auth import TokensFileError

from .dbkit import audit_rows, snapshot
from .kit import EN, err, ok, proc_url

DEPLOY, READER, ADMIN = "deploy-s3cret", "reader-s3cret", "admin-s3cret"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


TOKENS = [
    {"name": "deploy-bot", "sha256": _digest(DEPLOY), "accounts": ["0"], "write": True},
    {"name": "reader", "sha256": _digest(READER).upper(), "accounts": ["0", "acme"]},
    {"name": "admin", "sha256": _digest(ADMIN), "accounts": ["*"], "write": True},
]


def bearer(token: str, **headers) -> dict:
    return {"Authorization": f"Bearer {token}", **EN, **headers}


@pytest.fixture
def app(db_url, tmp_path):
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps(TOKENS))
    app = create_app({"DATABASE_URL": db_url, "LOG_LEVEL": "WARNING", "API_TOKENS_FILE": str(path)})
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def world(client) -> dict:
    """In account "0", business 1: a set with a module, and a process bound to it."""
    admin = bearer(ADMIN)
    set_id = ok(client.post("/api/v3/set/1", json={"bk_set_name": "s"}, headers=admin))
    set_id = set_id["bk_set_id"]
    module = ok(
        client.post(f"/api/v3/module/1/{set_id}", json={"bk_module_name": "gs"}, headers=admin)
    )
    body = {"bk_process_name": "nginx", "bk_func_name": "nginx"}
    pid = ok(client.post(proc_url(), json=body, headers=admin))["bk_process_id"]
    ok(client.put(f"/api/v3/proc/module/0/1/{pid}/gs", headers=admin))
    return {"set": set_id, "module": module["bk_module_id"], "process": pid}


def requests_of(w: dict) -> dict[str, tuple[str, str, dict | None]]:
    """One request per /api/v3 endpoint, in account "0": name -> (method, url, body)."""
    pid, set_id, module = w["process"], w["set"], w["module"]
    return {
        "create_process": ("POST", proc_url(), {"bk_process_name": "n2", "bk_func_name": "f"}),
        "search_process": ("POST", "/api/v3/proc/search/0/1", {}),
        "get_process_detail": ("GET", proc_url(pid=pid), None),
        "update_process": ("PUT", proc_url(pid=pid), {"user": "u"}),
        "batch_update_process": ("PUT", proc_url(), {"bk_process_id": str(pid), "user": "u"}),
        "delete_process": ("DELETE", proc_url(pid=pid), None),
        "get_process_bind_module": ("GET", f"/api/v3/proc/module/0/1/{pid}", None),
        "bind_process_module": ("PUT", f"/api/v3/proc/module/0/1/{pid}/gs", None),
        "delete_process_module_binding": ("DELETE", f"/api/v3/proc/module/0/1/{pid}/gs", None),
        "create_set": ("POST", "/api/v3/set/1", {"bk_set_name": "s2"}),
        "update_set": ("PUT", f"/api/v3/set/1/{set_id}", {"bk_set_desc": "d"}),
        "delete_set": ("DELETE", f"/api/v3/set/1/{set_id}", None),
        "search_set": ("POST", "/api/v3/set/search/0/1", {}),
        "create_module": ("POST", f"/api/v3/module/1/{set_id}", {"bk_module_name": "m2"}),
        "update_module": ("PUT", f"/api/v3/module/1/{set_id}/{module}", {"operator": "o"}),
        "delete_module": ("DELETE", f"/api/v3/module/1/{set_id}/{module}", None),
        "search_module": ("POST", f"/api/v3/module/search/0/1/{set_id}", {}),
        "search_audit": ("POST", "/api/v3/audit/search", {}),
    }


READS = {"search_process", "get_process_detail", "get_process_bind_module", "search_set",
         "search_module", "search_audit"}  # fmt: skip
ENDPOINTS = list(requests_of({"process": 1, "set": 1, "module": 1}))


def send(client, request, headers):
    method, url, body = request
    return client.open(url, method=method, json=body, headers=headers)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_api_endpoint_needs_a_token(client, world, db_url, endpoint):
    before = snapshot(db_url)
    resp = send(client, requests_of(world)[endpoint], EN)
    err(resp, 401, 1199027, "token")
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert snapshot(db_url) == before


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer ", f"Basic {DEPLOY}", f"Bearer {DEPLOY}x", f"Bearer {DEPLOY[:-1]}",
     _digest(DEPLOY), f"Bearer {_digest(DEPLOY)}", f"Token {DEPLOY}"],
)  # fmt: skip
def test_a_missing_or_unknown_token_is_401(client, authorization):
    headers = {**EN, "Authorization": authorization} if authorization else EN
    msg = err(client.post("/api/v3/proc/search/0/1", json={}, headers=headers), 401, 1199027)
    assert msg == "'token' authorization information query failed"


def test_the_token_comes_before_any_other_check(client):
    """Without a valid token nothing else is revealed: not a bad path, body or route."""
    for method, url in [("GET", "/api/v3/proc/0/x/1"), ("POST", "/api/v3/proc/0/1"),
                        ("GET", "/api/v3/nowhere"), ("PATCH", "/api/v3/proc/0/1/1")]:  # fmt: skip
        err(client.open(url, method=method, data="{", headers=EN), 401, 1199027, "token")
    zh = client.get("/api/v3/proc/0/1/1")
    assert zh.get_json()["bk_error_msg"] == "[token]授权信息查询失败"


def test_the_scheme_is_case_insensitive(client):
    headers = {**EN, "Authorization": f"bearer {READER}"}
    assert ok(client.post("/api/v3/proc/search/0/1", json={}, headers=headers))["count"] == 0


def test_service_endpoints_need_no_token(client):
    for url in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_read_only_token_reads_and_cannot_write(client, world, db_url, endpoint):
    before = snapshot(db_url)
    resp = send(client, requests_of(world)[endpoint], bearer(READER))
    if endpoint in READS:
        ok(resp)
    else:
        msg = err(resp, 403, 9900403)
        assert msg == "no permission"
    assert snapshot(db_url) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_write_token_does_everything_in_its_account(client, world, endpoint):
    ok(send(client, requests_of(world)[endpoint], bearer(DEPLOY)))


def test_a_token_is_refused_on_an_account_it_does_not_list(client, db_url):
    """deploy-bot lists account "0": another account's paths, and the header where the path
    has none, are 403, whatever exists there; "*" allows every account."""
    body = {"bk_process_name": "n", "bk_func_name": "f"}
    for token, status in ((DEPLOY, 403), (ADMIN, 200)):
        for method, url, data, extra in [
            ("POST", proc_url("acme"), body, {}),
            ("POST", "/api/v3/proc/search/acme/1", {}, {}),
            ("POST", "/api/v3/set/1", {"bk_set_name": "x"}, {"HTTP_BLUEKING_SUPPLIER_ID": "acme"}),
            ("POST", "/api/v3/set/search/acme/1", {}, {}),
            ("POST", "/api/v3/audit/search", {}, {"HTTP_BLUEKING_SUPPLIER_ID": "acme"}),
        ]:
            resp = client.open(url, method=method, json=data, headers=bearer(token, **extra))
            assert resp.status_code == status, (token, url, resp.get_json())
            if status == 403:
                assert resp.get_json()["bk_error_code"] == 9900403
    # The refused ones wrote nothing; admin's wrote a process and a set, with their audit rows.
    assert {(r["op_target"], r["op_from"]) for r in audit_rows(db_url)} == {
        ("process", "admin"),
        ("set", "admin"),
    }


def test_audit_search_shows_only_the_tokens_accounts(client):
    body = {"bk_process_name": "n", "bk_func_name": "f"}
    ok(client.post(proc_url("acme"), json=body, headers=bearer(ADMIN)))
    ok(client.post(proc_url("0"), json=body, headers=bearer(ADMIN)))
    acme = {"HTTP_BLUEKING_SUPPLIER_ID": "acme"}
    rows = ok(client.post("/api/v3/audit/search", json={}, headers=bearer(READER, **acme)))
    assert [r["bk_supplier_account"] for r in rows["info"]] == ["acme"]
    err(client.post("/api/v3/audit/search", json={}, headers=bearer(DEPLOY, **acme)), 403, 9900403)


def test_the_audit_trail_names_the_token_beside_the_operator(client, db_url):
    body = {"bk_process_name": "n", "bk_func_name": "f"}
    pid = ok(client.post(proc_url(), json=body, headers=bearer(DEPLOY, BK_User="alice")))
    ok(client.put(proc_url(pid=pid["bk_process_id"]), json={}, headers=bearer(DEPLOY)))
    rows = audit_rows(db_url)
    # BK_User is the operator; without it, the token's name is (docs/api.md §1).
    assert [(r["operator"], r["op_from"]) for r in rows] == [
        ("alice", "deploy-bot"),
        ("deploy-bot", "deploy-bot"),
    ]


def _tokens_file(tmp_path, content) -> str:
    path = tmp_path / "tokens.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


GOOD = {"name": "a", "sha256": "ab" * 32, "accounts": ["0"], "write": True}
MALFORMED = [
    ("not json", "cannot read it as JSON"),
    ({"name": "a"}, "non-empty JSON list"),
    ([], "non-empty JSON list"),
    (["a"], "entry 1: must be an object"),
    ([{**GOOD, "acounts": ["0"]}], "unknown keys ['acounts']"),
    ([{k: v for k, v in GOOD.items() if k != "sha256"}], "'sha256'"),
    ([{**GOOD, "sha256": "xy" * 32}], "'sha256'"),
    ([{**GOOD, "sha256": "ab" * 31}], "'sha256'"),
    ([{**GOOD, "name": ""}], "'name'"),
    ([{**GOOD, "accounts": []}], "'accounts'"),
    ([{**GOOD, "accounts": "0"}], "'accounts'"),
    ([{**GOOD, "accounts": ["a b"]}], "'accounts'"),
    ([{**GOOD, "write": "yes"}], "'write'"),
    ([GOOD, {**GOOD, "name": "b"}], "entry 2: duplicate"),
    ([{**GOOD, "name": " "}], "'name'"),
    ([{**GOOD, "name": "bot "}], "'name'"),
    # json.loads would keep the last: a file that reads as read-only for account "0" would
    # grant writes everywhere.
    (
        '[{"name": "a", "sha256": "' + "ab" * 32 + '", "accounts": ["0"], "write": false,'
        ' "accounts": ["*"], "write": true}]',
        "repeated keys ['accounts', 'write']",
    ),
]


@pytest.mark.parametrize(("content", "problem"), MALFORMED)
def test_a_malformed_tokens_file_stops_start_up(tmp_path, content, problem):
    path = _tokens_file(tmp_path, content)
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    with pytest.raises(TokensFileError) as raised:
        create_app({"DATABASE_URL": url, "API_TOKENS_FILE": path})
    assert problem in str(raised.value) and path in str(raised.value)


@pytest.mark.parametrize("path", ["", "  "])
def test_a_set_but_empty_tokens_file_setting_stops_start_up(tmp_path, path):
    """PROC_API_TOKENS_FILE=${UNDEFINED} must not quietly mean "no access control"."""
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    with pytest.raises(TokensFileError, match="set but empty"):
        create_app({"DATABASE_URL": url, "API_TOKENS_FILE": path})


def test_a_missing_tokens_file_stops_start_up(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    with pytest.raises(TokensFileError, match="cannot read"):
        create_app({"DATABASE_URL": url, "API_TOKENS_FILE": str(tmp_path / "nope.json")})


@pytest.mark.slow
def test_gunicorn_refuses_to_serve_with_a_malformed_tokens_file(tmp_path):
    scratch = tmp_path / "tmp"  # where gunicorn.conf.py makes its metrics directory
    scratch.mkdir()
    env = gunicorn_env(
        TMPDIR=str(scratch),
        PROC_API_TOKENS_FILE=_tokens_file(tmp_path, [{**GOOD, "write": "yes"}]),
        PROC_DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}",
        PROC_BIND="127.0.0.1:0",
    )
    run = run_gunicorn(env)
    assert run.returncode != 0
    assert "not starting" in run.stderr and "'write' must be true or false" in run.stderr
    assert list(scratch.iterdir()) == []  # nothing left behind


def test_openapi_documents_the_bearer_scheme(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert {"bearer": []} in spec["security"]


# --- what a token may do (GET /api/v3/auth/token, issue 14) --------------------------------------


def test_a_token_learns_its_name_accounts_and_whether_it_writes(client):
    token = "/api/v3/auth/token"
    assert ok(client.get(token, headers=bearer(READER))) == {
        "access_control": True,
        "name": "reader",
        "accounts": ["0", "acme"],
        "write": False,
    }
    assert ok(client.get(token, headers=bearer(DEPLOY)))["write"] is True
    assert ok(client.get(token, headers=bearer(ADMIN)))["accounts"] == ["*"]
    err(client.get(token, headers=EN), 401, 1199027, "token")
    err(client.get(token, headers=bearer("wrong")), 401, 1199027, "token")


def test_with_access_control_off_anyone_may_do_anything(db_url):
    app = create_app({"DATABASE_URL": db_url, "LOG_LEVEL": "WARNING"})
    try:
        data = ok(app.test_client().get("/api/v3/auth/token"))
    finally:
        app.extensions["db_engine"].dispose()
    assert data == {"access_control": False, "name": "", "accounts": ["*"], "write": True}
