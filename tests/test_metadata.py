"""Attribute metadata (docs/api.md §11): POST /api/v3/object/attr/search.

Checked against the validation rules through the API itself: every listed enum option is
accepted by create and anything else refused, the int limits are exactly what create accepts,
the required flags are what create requires, the port pattern agrees with the port grammar.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from pathlib import Path

import pytest

from proc_service import create_app

from .kit import CONTRACT_ATTRIBUTES, EN, ZH, err, ok

URL = "/api/v3/object/attr/search"
ROOT = Path(__file__).resolve().parent.parent
# docs/api.md §2 and §6: (id, zh, en, type) of a few attributes, copied from the contract.
CONTRACT_NAMES = {
    "process": [
        ("port", "端口", "port", "singlechar"),
        ("bind_ip", "绑定IP", "bind ip", "enum"),
        ("proc_num", "启动数量", "process number", "int"),
        ("auto_start", "是否自动拉起", "autostart", "bool"),
        ("pid_file", "PID文件路径", "PID file path", "longchar"),
    ],
}
PORTS_PASS = ["80", "8080-8089", "8080-8089,8199", "1,2,3", "65535", "1-65535"]
PORTS_FAIL = ["0", "65536", "080", "80,", "80 ,81", "80;81", "a", "", "-80", "99999"]
_names = itertools.count()


def attrs(client, body=None, headers=None) -> list[dict]:
    return ok(client.post(URL, json={} if body is None else body, headers=headers or EN))


def create(client, kind: str, values: dict, biz: int = 1):
    """create_process / create_set / create_module with a fresh valid name, plus ``values``."""
    n = next(_names)
    if kind == "process":
        body = {"bk_process_name": f"p{n}", "bk_func_name": f"f{n}", **values}
        return client.post(f"/api/v3/proc/0/{biz}", json=body)
    if kind == "set":
        return client.post(f"/api/v3/set/{biz}", json={"bk_set_name": f"s{n}", **values})
    set_id = ok(client.post(f"/api/v3/set/{biz}", json={"bk_set_name": f"ms{n}"}))["bk_set_id"]
    body = {"bk_module_name": f"m{n}", **values}
    return client.post(f"/api/v3/module/{biz}/{set_id}", json=body)


def test_process_attributes_in_contract_order_with_names_in_the_language(client):
    en = attrs(client, {"bk_obj_id": "process"})
    zh = attrs(client, {"bk_obj_id": "process"}, ZH)
    # model attributes only: the process id is a system field, as in bk-cmdb (§13)
    assert [a["bk_property_id"] for a in en] == CONTRACT_ATTRIBUTES
    assert [a["bk_property_index"] for a in en] == list(range(len(en)))
    by_en = {a["bk_property_id"]: a for a in en}
    by_zh = {a["bk_property_id"]: a for a in zh}
    for id_, zh_name, en_name, type_ in CONTRACT_NAMES["process"]:
        assert by_en[id_]["bk_property_name"] == en_name
        assert by_zh[id_]["bk_property_name"] == zh_name
        assert by_en[id_]["bk_property_type"] == type_
    assert by_zh["port"]["bk_property_group_name"] == "监听端口"
    assert by_en["port"]["bk_property_group_name"] == "listening port"
    # the same definitions in both languages, apart from names, group names and placeholders
    for a in en:
        other = by_zh[a["bk_property_id"]]
        for key in ("id", "bk_property_type", "isrequired", "isonly", "isreadonly", "editable"):
            assert a[key] == other[key]


def test_every_definition_has_the_documented_keys(client):
    keys = {
        "id", "bk_obj_id", "bk_property_id", "bk_property_name", "bk_property_type",
        "bk_property_index", "bk_property_group", "bk_property_group_name", "isrequired",
        "isonly", "isreadonly", "editable", "ispre", "isapi", "option", "placeholder", "unit",
        "description", "creator", "bk_supplier_account",
    }  # fmt: skip
    every = attrs(client, {"bk_supplier_account": "acme"})
    assert {a["bk_obj_id"] for a in every} == {"process", "set", "module"}
    for a in every:
        assert set(a) == keys, a["bk_property_id"]
        assert a["creator"] == "cc_system" and a["ispre"] is True and a["unit"] == ""
        assert a["bk_supplier_account"] == "acme"
        assert a["bk_property_type"] in {"singlechar", "longchar", "int", "enum", "bool"}
    ids = [a["id"] for a in every]
    assert len(set(ids)) == len(ids)
    # stable: asking for one kind gives the same ids as asking for all
    sets = attrs(client, {"bk_obj_id": "set"})
    assert [a["id"] for a in sets] == [a["id"] for a in every if a["bk_obj_id"] == "set"]


def test_groups_readonly_and_api_flags(client):
    by = {a["bk_property_id"]: a for a in attrs(client, {"bk_obj_id": "process"})}
    assert {k for k, a in by.items() if a["bk_property_group"] == "proc_port"} == {
        "bind_ip",
        "port",
        "protocol",
    }
    assert by["bk_process_name"]["bk_property_group"] == "default"
    assert by["start_cmd"]["bk_property_group"] == "none"
    assert {k for k, a in by.items() if a["isreadonly"]} == {"bk_biz_id"}
    assert {k for k, a in by.items() if a["isapi"]} == {"bk_biz_id"}
    assert {k for k, a in by.items() if a["isonly"]} == {
        "bk_process_name",
        "bk_func_id",
        "bk_func_name",
        "bk_start_param_regex",
    }
    modules = {a["bk_property_id"]: a for a in attrs(client, {"bk_obj_id": "module"})}
    assert {k for k, a in modules.items() if a["isreadonly"]} == {"bk_biz_id"}


def test_object_ids_and_system_fields_are_not_model_attributes(client):
    """§13: as in bk-cmdb, ids, the supplier account and the two times are system fields."""
    system = {"bk_process_id", "bk_set_id", "bk_module_id", "bk_supplier_account"}
    system |= {"create_time", "last_time"}
    listed = {a["bk_property_id"] for a in attrs(client)}
    assert listed & system == set()
    assert {"bk_process_name", "bk_set_name", "bk_module_name"} <= listed


@pytest.mark.parametrize("kind", ["process", "set", "module"])
def test_every_enum_option_is_accepted_and_nothing_else(client, kind):
    enums = [a for a in attrs(client, {"bk_obj_id": kind}) if a["bk_property_type"] == "enum"]
    assert enums
    for a in enums:
        codes = [o["id"] for o in a["option"]]
        assert all(o["type"] == "text" and o["name"] for o in a["option"])
        assert sum(o["is_default"] for o in a["option"]) <= 1
        for code in codes:
            ok(create(client, kind, {a["bk_property_id"]: code}))
        for outside in ("0", str(len(codes) + 1), "x", codes[0] + " "):
            assert outside not in codes
            resp = create(client, kind, {a["bk_property_id"]: outside})
            err(resp, 400, 1199006, a["bk_property_id"])


def test_enum_option_names_follow_the_language(client):
    def bind_ip(headers):
        by = {a["bk_property_id"]: a for a in attrs(client, {"bk_obj_id": "process"}, headers)}
        return {o["id"]: o["name"] for o in by["bind_ip"]["option"]}, by["protocol"]["option"]

    assert bind_ip(EN)[0]["3"] == "first intranet IP"
    assert bind_ip(ZH)[0]["3"] == "第一内网IP"
    # protocol defaults to TCP ("1") on create, and says so
    assert [o["id"] for o in bind_ip(EN)[1] if o["is_default"]] == ["1"]


@pytest.mark.parametrize("kind", ["process", "set", "module"])
def test_int_limits_are_what_create_accepts(client, kind):
    ints = [
        a
        for a in attrs(client, {"bk_obj_id": kind})
        if a["bk_property_type"] == "int" and a["editable"]
    ]
    assert ints
    for a in ints:
        low, high = int(a["option"]["min"]), int(a["option"]["max"])
        assert low <= high
        ok(create(client, kind, {a["bk_property_id"]: low}))
        ok(create(client, kind, {a["bk_property_id"]: high}))
        err(create(client, kind, {a["bk_property_id"]: low - 1}), 400, 1199006, a["bk_property_id"])
        err(
            create(client, kind, {a["bk_property_id"]: high + 1}), 400, 1199006, a["bk_property_id"]
        )


@pytest.mark.parametrize("kind", ["process", "set", "module"])
def test_required_flags_are_what_create_requires(client, kind):
    listed = attrs(client, {"bk_obj_id": kind})
    required = [a["bk_property_id"] for a in listed if a["isrequired"]]
    assert required
    n = next(_names)
    minimal = {name: f"r{n}{name}" for name in required}
    base = {"process": "/api/v3/proc/0/1", "set": "/api/v3/set/1"}
    if kind == "module":
        set_id = ok(client.post("/api/v3/set/1", json={"bk_set_name": f"rs{n}"}))["bk_set_id"]
        base["module"] = f"/api/v3/module/1/{set_id}"
    ok(client.post(base[kind], json=minimal))  # the required ones are enough
    for name in required:
        body = {k: f"{v}x" for k, v in minimal.items() if k != name}
        err(client.post(base[kind], json=body, headers=EN), 400, 1199010, name)


def test_string_limits_follow_the_type(client):
    """The definitions carry no length: a form takes it from the type (§2: 256 and 2000)."""
    by = {a["bk_property_id"]: a for a in attrs(client, {"bk_obj_id": "process"})}
    assert by["description"]["bk_property_type"] == "singlechar"
    assert by["work_path"]["bk_property_type"] == "longchar"
    ok(create(client, "process", {"description": "d" * 256, "work_path": "w" * 2000}))
    err(create(client, "process", {"description": "d" * 257}), 400, 1199015, "description")
    err(create(client, "process", {"work_path": "w" * 2001}), 400, 1199015, "work_path")


def test_port_pattern_agrees_with_create(client):
    by = {a["bk_property_id"]: a for a in attrs(client, {"bk_obj_id": "process"})}
    pattern = re.compile(by["port"]["option"])
    assert "8080-8089" in by["port"]["placeholder"]
    assert [
        a["bk_property_id"] for a in by.values() if a["option"] and isinstance(a["option"], str)
    ] == ["port"]
    for port in PORTS_PASS:
        assert pattern.search(port), port
        ok(create(client, "process", {"port": port}))
    for port in PORTS_FAIL:
        assert not pattern.search(port), port
        if port:  # "" is no port at all, which create allows
            err(create(client, "process", {"port": port}), 400, 1199016, "port")
    # a reversed range matches the pattern; §11 leaves "a <= b" to a check of its own
    assert pattern.search("90-80")
    err(create(client, "process", {"port": "90-80"}), 400, 1199016, "port")


def test_isonly_attributes_are_unique(client):
    ok(create(client, "process", {"bk_func_id": "f-1"}))
    err(create(client, "process", {"bk_func_id": "f-1"}), 409, 1199014, "bk_func_id")


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"bk_obj_id": "host"}, 1199006, "bk_obj_id"),
        ({"bk_obj_id": ""}, 1199006, "bk_obj_id"),
        ({"bk_obj_id": 1}, 1199007, "bk_obj_id"),
        ({"bk_obj_id": None}, 1199007, "bk_obj_id"),
        ({"bk_supplier_account": "a b"}, 1199006, "bk_supplier_account"),
        ({"bk_property_id": "port"}, 1199011, "bk_property_id"),
    ],
)
def test_bad_bodies_are_refused_naming_the_field(client, body, code, field):
    err(client.post(URL, json=body, headers=EN), 400, code, field)


def test_body_must_be_a_json_object(client):
    err(client.post(URL, data="[]"), 400, 1199000)
    err(client.post(URL, data=""), 400, 1199000)
    err(client.get(URL), 405, 1199003, "method")


def test_documented_in_openapi(client):
    spec = client.get("/openapi.json").get_json()
    body = spec["paths"][URL]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body  # a $ref to AttributeSearch
    props = spec["components"]["schemas"]["AttributeSearch"]["properties"]
    assert props["bk_obj_id"]["enum"] == ["process", "set", "module"]


def test_a_read_only_token_may_read_the_model(db_url, tmp_path):
    token = "reader-s3cret"
    path = tmp_path / "tokens.json"
    entry = {"name": "r", "sha256": hashlib.sha256(token.encode()).hexdigest(), "accounts": ["0"]}
    path.write_text(json.dumps([entry]))
    app = create_app({"DATABASE_URL": db_url, "LOG_LEVEL": "WARNING", "API_TOKENS_FILE": str(path)})
    try:
        client = app.test_client()
        err(client.post(URL, json={}), 401, 1199027)
        assert attrs(client, {}, {"Authorization": f"Bearer {token}", **EN})
    finally:
        app.extensions["db_engine"].dispose()
