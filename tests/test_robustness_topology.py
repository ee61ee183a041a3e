"""Adversarial inputs against sets, modules, bindings and audit search (docs/api.md §1, §3, §5, §6).

The same promise as test_robustness.py makes for the process endpoints: whatever a client sends,
the answer is the envelope with a status and code that agree with §8, no message leaks, and a
refused write leaves every table as it was.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .dbkit import snapshot
from .fuzz import (
    BIG_INTS,
    ODD_TEXT,
    OPERATORS,
    PATH_SEGMENT,
    PROPERTY,
    envelope,
    json_value,
    scalar,
)
from .kit import EN, create, ok

SET_KEYS = ["bk_set_name", "bk_set_desc", "bk_set_env", "bk_service_status", "bk_capacity",
            "description", "default", "bk_parent_id", "bk_biz_id", "bk_supplier_account",
            "bk_set_id", "create_time", "last_time"]  # fmt: skip
MODULE_KEYS = ["bk_module_name", "bk_module_type", "operator", "bk_bak_operator", "default",
               "bk_parent_id", "bk_biz_id", "bk_set_id", "bk_supplier_account", "bk_module_id",
               "create_time", "last_time"]  # fmt: skip
AUDIT_KEYS = ["bk_biz_id", "op_type", "op_target", "inst_id", "operator", "op_time"]
AUDIT_SORT = ["id", "op_time", "-op_time", "inst_id", "-operator", "content", "bk_supplier_account"]


@pytest.fixture
def topology(client) -> dict:
    """A set with two modules (one idle), and a process bound to a module name."""
    set_id = ok(client.post("/api/v3/set/1", json={"bk_set_name": "s"}))["bk_set_id"]
    modules = [
        ok(client.post(f"/api/v3/module/1/{set_id}", json=body))["bk_module_id"]
        for body in ({"bk_module_name": "gs"}, {"bk_module_name": "idle", "default": 1})
    ]
    pid = create(client, biz=1)
    ok(client.put(f"/api/v3/proc/module/0/1/{pid}/gs"))
    return {"set": set_id, "modules": modules, "process": pid}


def _body(keys: list[str]):
    return st.dictionaries(st.sampled_from([*keys, "unknown"]), json_value, max_size=4)


@PROPERTY
@given(
    kind=st.sampled_from(["create_set", "update_set", "create_module", "update_module"]),
    body=st.one_of(_body(SET_KEYS), _body(MODULE_KEYS)),
    account=st.sampled_from([None, "", "0", "acme", "a b", "x" * 65, "\u00e9"]),
)
def test_any_topology_write_gets_the_envelope_and_a_refusal_writes_nothing(
    client, topology, db_url, kind, body, account
):
    set_id, module_id = topology["set"], topology["modules"][0]
    url, method = {
        "create_set": ("/api/v3/set/1", "POST"),
        "update_set": (f"/api/v3/set/1/{set_id}", "PUT"),
        "create_module": (f"/api/v3/module/1/{set_id}", "POST"),
        "update_module": (f"/api/v3/module/1/{set_id}/{module_id}", "PUT"),
    }[kind]
    if kind == "create_set":
        body = {"bk_set_name": "new", **body}
    if kind == "create_module":
        body = {"bk_module_name": "new", **body}
    headers = {**EN} if account is None else {**EN, "HTTP_BLUEKING_SUPPLIER_ID": account}
    before = snapshot(db_url)
    resp = client.open(url, method=method, json=body, headers=headers)
    envelope(resp, {200, 400, 404, 409})
    if resp.status_code != 200:
        assert snapshot(db_url) == before, (kind, body)
    elif kind == "create_set":  # keep the name free for the next example
        created = resp.get_json()["data"]
        ok(client.delete(f"/api/v3/set/1/{created['bk_set_id']}", headers=headers))
    elif kind == "create_module":
        created = resp.get_json()["data"]
        url = f"/api/v3/module/1/{set_id}/{created['bk_module_id']}"
        ok(client.delete(url, headers=headers))


condition = st.dictionaries(
    st.sampled_from([*SET_KEYS, *MODULE_KEYS, "bk_module_name", "x", ""]),
    st.one_of(scalar, st.dictionaries(st.sampled_from(OPERATORS), scalar, max_size=2)),
    max_size=3,
)


@PROPERTY
@given(
    kind=st.sampled_from(["set", "module"]),
    body=st.fixed_dictionaries(
        {},
        optional={
            "condition": st.one_of(condition, json_value),
            "fields": st.one_of(
                st.lists(st.sampled_from([*SET_KEYS, *MODULE_KEYS, "x"]), max_size=3), json_value
            ),
            "page": st.one_of(
                json_value,
                st.fixed_dictionaries(
                    {},
                    optional={
                        "start": st.sampled_from(BIG_INTS),
                        "limit": st.sampled_from([*BIG_INTS, 200, 201]),
                        "sort": st.lists(st.sampled_from([*SET_KEYS, "-default", "x"])).map(
                            ",".join
                        ),
                    },
                ),
            ),
        },
    ),
)
def test_any_topology_search_gets_the_envelope(client, topology, db_url, kind, body):
    before = snapshot(db_url)
    url = (
        "/api/v3/set/search/0/1"
        if kind == "set"
        else f"/api/v3/module/search/0/1/{topology['set']}"
    )
    resp = client.post(url, json=body, headers=EN)
    found = envelope(resp, {200, 400})
    if resp.status_code == 200:
        assert 0 <= len(found["data"]["info"]) <= found["data"]["count"]
    assert snapshot(db_url) == before


@PROPERTY
@given(
    body=st.one_of(
        json_value,
        st.fixed_dictionaries(
            {},
            optional={
                "condition": st.one_of(
                    json_value,
                    st.dictionaries(
                        st.sampled_from([*AUDIT_KEYS, "bk_supplier_account", "x"]),
                        st.one_of(
                            scalar,
                            st.lists(st.one_of(st.none(), st.sampled_from(ODD_TEXT)), max_size=3),
                            st.dictionaries(st.sampled_from(OPERATORS), scalar, max_size=2),
                        ),
                        max_size=3,
                    ),
                ),
                "start": st.one_of(st.sampled_from(BIG_INTS), json_value),
                "limit": st.one_of(st.sampled_from([*BIG_INTS, 20, 200, 201]), json_value),
                "sort": st.one_of(
                    st.lists(st.sampled_from([*AUDIT_SORT, "", "-"])).map(",".join), json_value
                ),
            },
        ),
    )
)
def test_any_audit_search_gets_the_envelope(client, topology, db_url, body):
    before = snapshot(db_url)
    resp = client.post("/api/v3/audit/search", json=body, headers=EN)
    found = envelope(resp, {200, 400})
    if resp.status_code == 200:
        data = found["data"]
        assert 0 <= len(data["info"]) <= min(200, data["count"])
        assert all(row["bk_supplier_account"] == "0" for row in data["info"])
    assert snapshot(db_url) == before


MODULE_NAME = st.one_of(
    st.sampled_from(
        ["gs", "idle", "GS", "gs ", "a/b", "%", "%25", "..", ".", "x" * 256, "x" * 257]
    ),
    st.text(min_size=1, max_size=10),
)


@settings(PROPERTY, max_examples=200)
@given(
    name=MODULE_NAME,
    method=st.sampled_from(["GET", "PUT", "DELETE", "POST"]),
    pid=st.one_of(st.just(None), PATH_SEGMENT),
)
def test_any_binding_path_gets_the_envelope(client, topology, db_url, name, method, pid):
    pid = topology["process"] if pid is None else pid
    url = f"/api/v3/proc/module/0/1/{quote(str(pid), safe='')}/{quote(name, safe='')}"
    before = snapshot(db_url)
    resp = client.open(url, method=method, headers=EN)
    envelope(resp, {200, 400, 404, 405})
    if method == "PUT" and resp.status_code == 200:
        assert name == "gs"  # the only normal module: nothing else can be bound
    if resp.status_code != 200 or method in ("GET", "POST"):
        assert snapshot(db_url) == before
    elif method == "DELETE" and name == "gs":  # bind it again for the next example
        ok(client.put(f"/api/v3/proc/module/0/1/{topology['process']}/gs"))
