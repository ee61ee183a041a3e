"""Generated process requests: every answer is the envelope, a refusal writes nothing."""

from __future__ import annotations

import json
from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st

from .dbkit import snapshot
from .fuzz import (
    BIG_INTS,
    INT64_MAX,
    JSON_CT,
    KEYS,
    PATH_SEGMENT,
    PROPERTY,
    condition,
    envelope,
    json_value,
    scalar,
    sort,
)
from .kit import EN, ok, proc_url, search, search_url

page = st.one_of(
    json_value,
    st.fixed_dictionaries(
        {},
        optional={
            "start": st.one_of(st.sampled_from(BIG_INTS), json_value),
            "limit": st.one_of(st.sampled_from([*BIG_INTS, 200, 201]), json_value),
            "sort": sort,
        },
    ),
)
search_body = st.fixed_dictionaries(
    {},
    optional={
        "condition": st.one_of(condition, json_value),
        "fields": st.one_of(st.lists(st.sampled_from([*KEYS, "x", ""]), max_size=4), json_value),
        "page": page,
    },
)
attributes = st.dictionaries(st.sampled_from([*KEYS, "unknown"]), json_value, max_size=4)
batch_ids = st.one_of(
    json_value,
    st.sampled_from(["1,2", " 1 , 2,2 ", [1, 2], 1, "1,99", [INT64_MAX], [2**63], "0001"]),
)


# One well-formed key whose operand is an extreme scalar: nothing else can mask a failure.
one_operand = st.tuples(
    st.sampled_from([*KEYS, "bk_module_name"]),
    st.sampled_from([None, "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin"]),
    scalar,
).map(
    lambda t: {t[0]: t[2] if t[1] is None else {t[1]: [t[2]] if t[1] in ("$in", "$nin") else t[2]}}
)


@PROPERTY
@given(body=st.one_of(search_body, condition.map(lambda c: {"condition": c})))
def test_any_search_body_gets_the_envelope(client, seeded, db_url, body):
    before = snapshot(db_url)
    resp = client.post(search_url(), json=body, headers=EN)
    found = envelope(resp, {200, 400})
    if resp.status_code == 200:
        data = found["data"]
        assert isinstance(data["count"], int) and 0 <= len(data["info"]) <= min(200, data["count"])
    assert snapshot(db_url) == before


@settings(PROPERTY, max_examples=400)
@given(condition=one_operand)
def test_any_single_operand_gets_the_envelope(client, seeded, condition):
    resp = search(client, {"condition": condition}, headers=EN)
    code = envelope(resp, {200, 400})["bk_error_code"]
    if code not in (0, 1199000):  # 1199000: a lone surrogate, the body is not text
        assert next(iter(condition)) in resp.get_json()["bk_error_msg"]


@PROPERTY
@given(
    body=attributes,
    kind=st.sampled_from(["create", "update", "batch"]),
    ids=batch_ids,
    as_text=st.booleans(),
)
def test_any_write_gets_the_envelope_and_a_refusal_writes_nothing(
    client, seeded, db_url, body, kind, ids, as_text
):
    method, url, body = _write_request(kind, body, seeded, ids)
    # as_text: the body as raw JSON text, so lone surrogates and NUL arrive escaped
    raw = json.dumps(body) if as_text else None
    before = snapshot(db_url)
    if raw is None:
        resp = client.open(url, method=method, json=body, headers=EN)
    else:
        resp = client.open(url, method=method, data=raw, content_type="text/plain", headers=EN)
    envelope(resp, {200, 400, 404, 409})
    if resp.status_code != 200:
        assert snapshot(db_url) == before, (kind, body)
    elif kind == "create":  # keep the name free for the next example
        ok(client.delete(proc_url(pid=resp.get_json()["data"]["bk_process_id"])))


def _write_request(kind: str, body: dict, seeded: list[int], ids: object):
    """(method, url, body) for a create, an update of a seeded process, or a batch of ``ids``."""
    if kind == "create":
        return "POST", proc_url(), {"bk_process_name": "new", "bk_func_name": "f", **body}
    if kind == "update":
        return "PUT", proc_url(pid=seeded[0]), body
    return "PUT", proc_url(), {**body, "bk_process_id": ids}


@settings(PROPERTY, max_examples=300)
@given(
    key=st.sampled_from([*KEYS, "unknown"]),
    value=scalar,
    kind=st.sampled_from(["create", "update", "batch"]),
)
def test_any_single_attribute_gets_the_envelope(client, seeded, db_url, key, value, kind):
    body = {key: value}
    if kind == "batch" and key != "bk_process_id":
        body = {"user": "u", **body}
    ids = value if key == "bk_process_id" else seeded[1:3]
    method, url, body = _write_request(kind, body, seeded, ids)
    before = snapshot(db_url)
    resp = client.open(url, method=method, json=body, headers=EN)
    code = envelope(resp, {200, 400, 404, 409})["bk_error_code"]
    if code:
        assert snapshot(db_url) == before, body
    if code not in (0, 1199000, 1199008, 1199014):  # codes that name something else
        assert key in resp.get_json()["bk_error_msg"], (body, resp.get_json())
    if code == 0 and kind == "create":
        ok(client.delete(proc_url(pid=resp.get_json()["data"]["bk_process_id"])))


@PROPERTY
@given(
    account=PATH_SEGMENT,
    biz=PATH_SEGMENT,
    pid=PATH_SEGMENT,
    method=st.sampled_from(["GET", "PUT", "DELETE", "POST", "PATCH", "HEAD", "OPTIONS"]),
)
def test_any_path_gets_the_envelope(client, seeded, account, biz, pid, method):
    url = "/api/v3/proc/" + "/".join(quote(p, safe="") for p in (account, biz, pid))
    resp = client.open(url, method=method, json={"user": "u"}, headers=EN)
    if method == "HEAD":  # no body, by HTTP; the headers still say JSON
        assert resp.status_code in {200, 400, 404}
        assert resp.headers["Content-Type"] == JSON_CT and resp.get_data() == b""
        return
    envelope(resp, {200, 400, 404, 405})
