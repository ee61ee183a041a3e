"""/openapi.json is exact and generated from the attribute tables (docs/api.md §7, issue 9).

schemathesis (test_schemathesis.py) compares the document with the server at large; these tests
pin the parts a client reads: the OpenAPI 3 schema, the enumerations per kind, required names,
the header pattern and the documented error statuses.
"""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from openapi_spec_validator import validate

from .kit import CONTRACT_ATTRIBUTES, SYSTEM_FIELDS, ok
from .support.topology import MODULE_FIELDS, SET_FIELDS

KINDS = {
    "Process": CONTRACT_ATTRIBUTES + SYSTEM_FIELDS,
    "Set": SET_FIELDS,
    "Module": MODULE_FIELDS,
}


@pytest.fixture
def spec(client):
    return client.get("/openapi.json").get_json()


def _ecma(pattern: str) -> re.Pattern:
    """An OpenAPI pattern as Python reads it ($ is the end, not before a final newline)."""
    return re.compile(pattern.removesuffix("$") + r"\Z" if pattern.endswith("$") else pattern)


def test_the_document_validates_against_openapi_3(spec):
    validate(spec)
    assert spec["openapi"].startswith("3.0")


def test_condition_keys_fields_and_sort_keys_are_enumerated_per_kind(spec):
    schemas = spec["components"]["schemas"]
    for kind, output in KINDS.items():
        search = schemas[f"{kind}Search"]
        assert search["additionalProperties"] is False
        condition = search["properties"]["condition"]
        assert condition["additionalProperties"] is False
        keys = set(condition["properties"])
        assert set(output) <= keys, kind  # every attribute and system field
        assert search["properties"]["fields"]["items"]["enum"] == output
        sort = _ecma(schemas[f"{kind}Page"]["properties"]["sort"]["pattern"])
        for good in ["", "id", "-id", *output, f"{output[2]},-{output[1]}", " id , ", ","]:
            if good not in ("bk_supplier_account",):
                assert sort.match(good), (kind, good)
        for bad in ["ids", "-", "- id", "name;drop", "id\n;"]:
            assert not sort.match(bad), (kind, bad)
    assert "bk_module_name" in schemas["ProcessSearch"]["properties"]["condition"]["properties"]
    audit = schemas["AuditSearch"]["properties"]["condition"]["properties"]
    assert set(audit) == {"bk_biz_id", "op_type", "op_target", "inst_id", "operator", "op_time"}


def test_operator_objects_are_typed_per_attribute(spec):
    condition = spec["components"]["schemas"]["ProcessSearch"]["properties"]["condition"]
    plain, operators = condition["properties"]["proc_num"]["anyOf"]
    assert plain["allOf"] == [{"$ref": "#/components/schemas/Int64"}]
    assert operators["additionalProperties"] is False
    assert set(operators["properties"]) == {
        "$eq", "$ne", "$in", "$nin", "$gt", "$gte", "$lt", "$lte",
    }  # fmt: skip  # no $regex on a number
    assert operators["properties"]["$in"]["maxItems"] == 1000
    text = condition["properties"]["user"]["anyOf"][1]["properties"]
    assert text["$regex"]["maxLength"] == 256
    assert condition["properties"]["auto_start"]["anyOf"][0]["type"] == "boolean"
    # a plain string for bk_process_name is a substring, never null
    assert condition["properties"]["bk_process_name"]["anyOf"][0] == {
        "type": "string",
        "pattern": "^[^\\x00]*$",
        "description": "a literal, case-sensitive substring",
    }


def test_required_names_have_min_length_in_every_body(spec):
    schemas = spec["components"]["schemas"]
    for body, names in [
        ("ProcessCreate", ["bk_process_name", "bk_func_name"]),
        ("ProcessUpdate", ["bk_process_name", "bk_func_name"]),
        ("SetCreate", ["bk_set_name"]),
        ("SetUpdate", ["bk_set_name"]),
        ("ModuleCreate", ["bk_module_name"]),
        ("ModuleUpdate", ["bk_module_name"]),
    ]:
        for name in names:
            prop = schemas[body]["properties"][name]
            assert (prop["minLength"], prop["maxLength"]) == (1, 256), (body, name)
            assert not prop.get("nullable"), (body, name)
    batch = schemas["ProcessBatchUpdate"]["properties"]
    assert batch["bk_process_name"]["readOnly"] is True  # may not be batch-updated
    assert batch["bk_func_id"]["readOnly"] is True


def test_the_supplier_header_pattern_is_what_the_server_accepts(spec, client):
    (param,) = spec["paths"]["/api/v3/audit/search"]["post"]["parameters"]
    assert param["name"] == "HTTP_BLUEKING_SUPPLIER_ID"
    pattern = _ecma(param["schema"]["pattern"])
    for value in ["", "0", " 0 ", "\t", "acme.cn_1-x", "a" * 64, "a" * 65, "a b", "a/b", "é", "*"]:
        resp = client.post(
            "/api/v3/audit/search", json={}, headers={"HTTP_BLUEKING_SUPPLIER_ID": value}
        )
        assert (resp.status_code == 200) == bool(pattern.match(value)), (value, resp.get_json())


def test_every_error_status_is_documented_per_endpoint(spec, client):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            statuses = set(operation["responses"])
            assert {"200", "400", "401", "403", "404", "500", "503"} <= statuses, (path, method)
            assert "default" not in statuses
            assert ("413" in statuses) == ("requestBody" in operation), (path, method)
            writes = operation["operationId"].split("_")[0] in ("create", "update", "batch")
            assert ("409" in statuses) == writes, (path, method)
            for status, response in operation["responses"].items():
                assert "X-Request-Id" in response["headers"], (path, method, status)
                schema = response["content"]["application/json"]["schema"]["$ref"]
                assert schema.endswith("/ErrorEnvelope") == (status != "200")
    # and the operation ids are bk-cmdb's API names
    ids = {
        op["operationId"]
        for item in spec["paths"].values()
        for method, op in item.items()
        if method != "parameters"
    }
    assert {"create_process", "search_process", "get_process_bind_module"} <= ids
    ok(client.post("/api/v3/proc/search/0/1", json={}))


class _Stub(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_every_example_in_the_document_is_accepted_as_it_stands(client, spec, monkeypatch):
    """Issue 14: /docs offers each request body's example for "Try it out"; each one, sent as
    it stands, succeeds. Creates come first (their ids fill the later paths), then searches,
    updates and the rest; the seed's batch example names processes 44 to 48, so the business
    holds 48 before the example create."""
    for n in range(48):
        ok(
            client.post(
                "/api/v3/proc/0/12233", json={"bk_process_name": f"p{n}", "bk_func_name": "f"}
            )
        )
    ids = {"bk_supplier_account": "0", "bk_biz_id": "12233", "bk_resource": "process"}
    created = {"create_process": "bk_process_id", "create_set": "bk_set_id"}
    created["create_module"] = "bk_module_id"
    created["subscribe_event"] = "subscription_id"
    # §15: the examples' callback URL (monitor.example.com) is sent to a stub on loopback
    # instead: a test opens no connection beyond this machine
    stub = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    monkeypatch.setenv("PROC_EVENT_ALLOW_PRIVATE_CALLBACKS", "1")
    client.application.config["WATCH_HOLD_SECONDS"] = 0.05
    operations = [
        (path, method.upper(), op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if "requestBody" in op
    ]
    order = ["create_process", "create_set", "create_module"]
    operations.sort(
        key=lambda o: (
            order.index(o[2]["operationId"]) if o[2]["operationId"] in order else 3,
            o[1] == "PUT",
        )
    )
    assert len(operations) == 21
    for path, method, op in operations:
        media = op["requestBody"]["content"]["application/json"]
        assert "example" in media, op["operationId"]
        url = re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)
        example = dict(media["example"])
        if "callback_url" in example:
            example["callback_url"] = f"http://127.0.0.1:{stub.server_address[1]}/hook"
        resp = client.open(url, method=method, json=example, headers={"BK_User": "admin"})
        data = ok(resp)
        if op["operationId"] in created:
            key = created[op["operationId"]]
            ids[key] = data[key] if isinstance(data, dict) else data
        if op["operationId"] == "create_object_attribute":  # §14: update_object_attribute's id
            ids["attr_id"] = data["id"]
        if op["operationId"] == "search_process":
            assert data["count"] == 1, data  # the example create's "nginx"
    stub.shutdown()
    stub.server_close()
