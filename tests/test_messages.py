"""Messages and language, headers on every response, unknown routes and methods (docs/api.md §8)."""

from __future__ import annotations

import itertools

from .dbkit import snapshot
from .kit import (
    EN,
    JSON_CT,
    LEAKS,
    REQUIRED,
    ZH,
    create,
    detail,
    ok,
    proc_url,
    refused_cleanly,
    search,
    search_url,
)
from .support.validation import MIB, _padded

# --- messages and language ------------------------------------------------------------------------


def _sample_errors(client):
    """Requests producing one error of each code whose full text we check, by code."""
    pid = create(client)
    return {
        1199000: lambda h: client.post(proc_url(), data=b"{", headers=h),
        1199003: lambda h: client.post("/api/v3/proc/0/abc", json=REQUIRED, headers=h),
        1199006: lambda h: client.put(proc_url(pid=pid), json={"proc_num": 0}, headers=h),
        1199007: lambda h: client.put(proc_url(pid=pid), json={"description": 1}, headers=h),
        1199009: lambda h: client.put(proc_url(pid=pid), json={"timeout": "x"}, headers=h),
        1199010: lambda h: client.put(proc_url(pid=pid), json={"bk_func_name": ""}, headers=h),
        1199011: lambda h: client.put(proc_url(pid=pid), json={"foo": 1}, headers=h),
        1199015: lambda h: client.put(proc_url(pid=pid), json={"user": "u" * 257}, headers=h),
        1199016: lambda h: client.put(proc_url(pid=pid), json={"port": "080"}, headers=h),
        1199025: lambda h: client.put(proc_url(pid=pid), json={"auto_start": 1}, headers=h),
    }


# Full texts from the §8 table with %s filled in.
MESSAGES = {
    1199000: ("Deserializing JSON data failed", "反序列化JSON数据失败"),
    1199003: ("invalid input parameter: 'bk_biz_id'", "输入参数无效: 'bk_biz_id'"),
    1199006: (
        "'proc_num' data parameter verification does not pass",
        "'proc_num' 数据参数校验不通过",
    ),
    1199007: ("'description' must be a string type", "'description' 必须为字符串类型"),
    1199009: ("'timeout' parameters must be integral", "'timeout' 参数必须是整型"),
    1199010: ("'bk_func_name' unassigned", "'bk_func_name' 未赋值"),
    1199011: ("'foo' the parameter is invalid or does not exist", "'foo' 参数无效或不存在"),
    1199015: ("'user' data out of range", "'user' 数据越界"),
    1199016: ("'port' field regular check failed", "'port' 字段正则校验失败"),
    1199025: ("'auto_start' must be boolean", "'auto_start' 必须为布尔类型"),
}


def test_messages_match_the_catalogue_in_both_languages(client):
    for code, send in _sample_errors(client).items():
        en, zh = MESSAGES[code]
        assert refused_cleanly(send(EN), 400, code) == en
        assert refused_cleanly(send(ZH), 400, code) == zh


def test_not_found_message_in_both_languages(client):
    url = proc_url(pid=424242)
    assert refused_cleanly(client.put(url, json={}, headers=EN), 404, 1199019).startswith(
        "No relevant data found: "
    )
    assert refused_cleanly(client.put(url, json={}, headers=ZH), 404, 1199019).startswith(
        "未找到相关数据: "
    )


def test_body_too_large_message_in_both_languages(client):
    raw = _padded(REQUIRED, MIB + 1)
    en = refused_cleanly(client.post(proc_url(), data=raw, headers=EN), 413, 1199035)
    zh = refused_cleanly(client.post(proc_url(), data=raw, headers=ZH), 413, 1199035)
    assert en.endswith(f" exceed the limit {MIB}")
    assert zh.endswith(f" 超过限制 {MIB}")


LANGUAGE_CASES = [
    ({"HTTP_BLUEKING_LANGUAGE": "en"}, "en"),
    ({"HTTP-BLUEKING-LANGUAGE": "en"}, "en"),
    ({"http_blueking_language": "en"}, "en"),
    ({"HTTP_BLUEKING_LANGUAGE": "zh"}, "zh"),
    ({"HTTP_BLUEKING_LANGUAGE": "zh-cn"}, "zh"),
    ({"HTTP_BLUEKING_LANGUAGE": "fr"}, "zh"),
    ({"HTTP_BLUEKING_LANGUAGE": "fr", "Accept-Language": "en-US,en"}, "zh"),
    ({"HTTP_BLUEKING_LANGUAGE": "en", "Accept-Language": "zh-CN"}, "en"),
    ({"Accept-Language": "en-US,en"}, "en"),
    ({"Accept-Language": "en"}, "en"),
    ({"Accept-Language": "en-GB;q=0.9"}, "en"),
    ({"Accept-Language": "zh-CN"}, "zh"),
    ({"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}, "zh"),
    ({"Accept-Language": "en;q=0.8,zh-CN;q=0.9"}, "zh"),
    ({"Accept-Language": "fr,en;q=0.5"}, "en"),
    ({"Accept-Language": "en;q=0"}, "zh"),
    ({"Accept-Language": "*"}, "zh"),
    ({}, "zh"),
]


def test_language_selection(client):
    pid = create(client)
    en, zh = MESSAGES[1199016]
    for headers, lang in LANGUAGE_CASES:
        resp = client.put(proc_url(pid=pid), json={"port": "0"}, headers=headers)
        assert refused_cleanly(resp, 400, 1199016, "port") == (en if lang == "en" else zh), headers


# --- headers on every response --------------------------------------------------------------------


def _responses(client):
    """One of each kind of response: successes and errors of every status we can provoke."""
    pid = create(client)
    return [
        client.post(proc_url(), json={**REQUIRED, "bk_process_name": "h"}),
        client.put(proc_url(pid=pid), json={"user": "x"}),
        client.get(proc_url(pid=pid)),
        search(client),
        client.put(proc_url(pid=pid), json={"port": "0"}),
        client.post(proc_url(), data=b"nope"),
        client.post("/api/v3/proc/0/abc", json=REQUIRED),
        client.put(proc_url(pid=pid + 100), json={}),
        client.post(proc_url(), json=REQUIRED),  # 409: the name is taken
        client.post(proc_url(), data=_padded(REQUIRED, MIB + 1)),
        client.get("/api/v3/no/such/route"),
        client.patch(proc_url(pid=pid), json={}),
    ]


def test_every_response_is_json_utf8_with_a_request_id(client):
    responses = _responses(client)
    assert [r.status_code for r in responses] == [
        200, 200, 200, 200, 400, 400, 400, 404, 409, 413, 404, 405,
    ]  # fmt: skip
    ids = set()
    for resp in responses:
        assert resp.headers["Content-Type"] == JSON_CT
        assert set(resp.get_json()) == {"result", "bk_error_code", "bk_error_msg", "data"}
        assert resp.headers["X-Request-Id"]
        ids.add(resp.headers["X-Request-Id"])
        for leak in LEAKS:
            assert leak.lower() not in resp.get_data(as_text=True).lower()
    assert len(ids) == len(responses), "each request gets a new id"


def test_request_id_is_echoed(client):
    pid = create(client)
    for sent in ["abc-123", "7f3c2a90d4e611eea1b2c3d4e5f60789", "req.1:2_3"]:
        header = {"X-Request-Id": sent}
        for resp in [
            client.put(proc_url(pid=pid), json={"user": "x"}, headers=header),
            client.put(proc_url(pid=pid), json={"port": "x"}, headers=header),
            client.post(proc_url(), data=b"[", headers=header),
            client.get("/api/v3/nowhere", headers=header),
        ]:
            assert resp.headers["X-Request-Id"] == sent
            assert resp.headers["Content-Type"] == JSON_CT


# --- unknown routes and wrong methods -------------------------------------------------------------


UNKNOWN_ROUTES = [
    "/api/v3/nothing", "/api/v3/proc/0/1/2/3/4", "/nope", "/api/v3/proc", "/api/v4/proc/0/1",
]  # fmt: skip


def test_unknown_route_is_404_in_the_envelope(client):
    for url, method in itertools.product(UNKNOWN_ROUTES, ("GET", "POST", "PUT")):
        resp = client.open(url, method=method, json={}, headers=EN)
        assert resp.status_code == 404, (method, url)
        assert refused_cleanly(resp, 404, 1199019).startswith("No relevant data found: ")


WRONG_METHODS = [
    ("PATCH", proc_url(pid=1)), ("POST", proc_url(pid=1)), ("DELETE", proc_url()),
    ("GET", proc_url()), ("PATCH", proc_url()), ("PATCH", search_url()),
]  # fmt: skip


def test_wrong_method_is_405_in_the_envelope(client, db_url):
    create(client)
    before = snapshot(db_url)
    for method, url in WRONG_METHODS:
        resp = client.open(url, method=method, json={**REQUIRED, "bk_process_name": "m"})
        body = resp.get_json()
        assert resp.status_code == 405, (method, url, body)
        assert resp.headers["Content-Type"] == JSON_CT
        assert resp.headers["X-Request-Id"]
        assert body["result"] is False and body["bk_error_code"] > 0 and body["data"] is None
        assert body["bk_error_msg"]
        for leak in LEAKS:
            assert leak.lower() not in resp.get_data(as_text=True).lower()
    assert snapshot(db_url) == before


def test_empty_string_clears_an_optional_enum_like_null(client):
    """bk-cmdb clients send "" for an enum with no choice; it means the same as null."""
    pid = create(client, bind_ip="", protocol="2")
    assert detail(client, pid)["bind_ip"] is None
    ok(client.put(proc_url(pid=pid), json={"bind_ip": "3"}))
    ok(client.put(proc_url(pid=pid), json={"bind_ip": "", "protocol": ""}))
    values = detail(client, pid)
    assert values["bind_ip"] is None
    assert values["protocol"] == "1"  # protocol's empty value is its default
    found = ok(search(client, {"condition": {"bind_ip": ""}, "fields": ["bk_process_id"]}))
    assert found["info"] == [{"bk_process_id": pid}]
