"""Edge values: wide integers, booleans in ranges, odd search shapes, 64-bit ids, unicode."""

from __future__ import annotations

import json

import pytest

from .dbkit import snapshot
from .fuzz import INT64_MAX, envelope
from .kit import EN, create, err, ok, proc_url, search, search_url

# --- integers wider than the columns (PostgreSQL answered 500) ----------------------------------


@pytest.mark.parametrize(
    ("condition", "matches"),
    [
        ({"proc_num": 2**31}, []),
        ({"proc_num": INT64_MAX}, []),
        ({"proc_num": -(2**63)}, []),
        ({"proc_num": {"$gt": 2**40}}, []),
        ({"proc_num": {"$lt": 2**40}}, [0, 1, 2, 3]),
        ({"proc_num": {"$gte": -(2**63)}}, [0, 1, 2, 3]),
        ({"proc_num": {"$in": [2**40, 2, str(INT64_MAX)]}}, [1]),
        ({"proc_num": {"$nin": [2**40, 2]}}, [0, 2, 3]),
        ({"priority": {"$ne": INT64_MAX}}, [0, 1, 2, 3]),
        ({"timeout": {"$lte": "9223372036854775807"}}, []),  # all null: in no range
    ],
)
def test_ints_compare_with_any_64_bit_value(client, seeded, condition, matches):
    found = ok(search(client, {"condition": condition, "fields": ["bk_process_id"]}, headers=EN))
    assert sorted(p["bk_process_id"] for p in found["info"]) == [seeded[i] for i in matches]


def test_ints_beyond_64_bits_are_out_of_range(client, seeded):
    for condition in [
        {"proc_num": 2**63},
        {"proc_num": {"$gt": -(2**63) - 1}},
        {"timeout": 10**30},
    ]:
        field = next(iter(condition))
        err(search(client, {"condition": condition}, headers=EN), 400, 1199006, field)


# --- booleans in ranges (answered 500 on both databases) ----------------------------------------


@pytest.mark.parametrize(
    ("operand", "matches"),
    [
        ({"$gt": False}, [0, 2]),  # false < true, as both databases order them
        ({"$gte": False}, [0, 1, 2, 3]),
        ({"$gt": True}, []),
        ({"$lt": True}, [1, 3]),
        ({"$lte": True}, [0, 1, 2, 3]),
        ({"$lt": False}, []),
        ({"$gte": True, "$ne": False}, [0, 2]),
        ({"$gt": None}, [0, 2]),  # null is false, as on writes (§2)
    ],
)
def test_bools_are_ordered_false_before_true(client, seeded, operand, matches):
    body = {"condition": {"auto_start": operand}, "fields": ["bk_process_id"]}
    found = ok(search(client, body, headers=EN))
    assert sorted(p["bk_process_id"] for p in found["info"]) == [seeded[i] for i in matches]


def test_bool_range_with_a_non_bool_is_the_bool_error(client, seeded):
    for operand in ["true", 1, 0.0, [True], {"$eq": True}]:
        body = {"condition": {"auto_start": {"$gt": operand}}}
        err(search(client, body, headers=EN), 400, 1199025, "auto_start")


# --- odd shapes inside conditions, fields and page ----------------------------------------------

DEEP = {"$eq": 1}
for _ in range(150):
    DEEP = {"$eq": DEEP}

# (body, status, codes allowed, field named). Where the contract leaves the code open between a
# malformed operand (1199006) and the §2 type error, both are allowed.
SEARCH_EDGES = [
    ({"condition": {"port": {"$eq": [80, 81]}}}, 400, {1199006, 1199007}, "port"),
    ({"condition": {"proc_num": {"$eq": [1]}}}, 400, {1199006, 1199009}, "proc_num"),
    ({"condition": {"port": {"$in": [{"a": 1}]}}}, 400, {1199006, 1199007}, "port"),
    ({"condition": {"proc_num": {"$in": [{"$gt": 1}]}}}, 400, {1199006, 1199009}, "proc_num"),
    ({"condition": {"port": {"$eq": {"$eq": 80}}}}, 400, {1199006, 1199007}, "port"),
    ({"condition": {"port": {"$in": {"$in": [80]}}}}, 400, {1199006}, "port"),
    ({"condition": {"port": DEEP}}, 400, {1199006, 1199007}, "port"),
    ({"condition": {"bk_process_name": {"$regex": {"$regex": "a"}}}}, 400, {1199006}, None),
    ({"condition": {"bk_process_id": {"$gt": 1.5}}}, 400, {1199009}, "bk_process_id"),
    ({"condition": {"proc_num": 1.0}}, 400, {1199009}, "proc_num"),
    ({"condition": {"proc_num": 1e308}}, 400, {1199009}, "proc_num"),
    ({"condition": {"port": 80.0}}, 400, {1199007}, "port"),
    ({"condition": {"create_time": {"$in": [None]}}}, 400, {1199006}, "create_time"),
    ({"condition": {"x" * 10000: 1}}, 400, {1199011}, "x" * 100),
    ({"condition": {"a\u0000b": 1}}, 400, {1199011}, None),
    ({"fields": ["bk_process_id", "x" * 10000]}, 400, {1199011}, "x" * 100),
    ({"fields": [["bk_process_id"]]}, 400, {1199006}, "fields"),
    ({"fields": [{"a": 1}]}, 400, {1199006}, "fields"),
    ({"page": {"sort": "--bk_process_id"}}, 400, {1199011}, "-bk_process_id"),
    ({"page": {"sort": "-"}}, 400, {1199011}, None),
    ({"page": {"sort": "bk_process_id,-"}}, 400, {1199011}, None),
    ({"page": {"start": 2**63}}, 400, {1199006, 1199015}, "page.start"),
    ({"page": {"start": 2**64}}, 400, {1199006, 1199015}, "page.start"),
    ({"page": {"start": "9" * 40}}, 400, {1199006, 1199015}, "page.start"),
    ({"page": {"start": 1.0}}, 400, {1199009}, "page.start"),
    ({"page": {"limit": True}}, 400, {1199009}, "page.limit"),
    ({"page": {"limit": 2**63}}, 400, {1199006, 1199015}, "page.limit"),
    ({"page": {"limit": -(2**63)}}, 400, {1199006, 1199015}, "page.limit"),
]


@pytest.mark.parametrize(("body", "status", "codes", "field"), SEARCH_EDGES)
def test_odd_search_shapes_are_refused_with_their_code(client, seeded, body, status, codes, field):
    body_out = envelope(search(client, body, headers=EN), {status})
    assert body_out["bk_error_code"] in codes, body_out
    if field is not None:
        assert field in body_out["bk_error_msg"], body_out


def test_largest_page_start_is_an_empty_page_with_the_count(client, seeded):
    found = ok(search(client, {"page": {"start": INT64_MAX}}, headers=EN))
    assert found == {"count": 4, "info": []}
    found = ok(search(client, {"page": {"start": str(INT64_MAX), "limit": "1"}}, headers=EN))
    assert found == {"count": 4, "info": []}


@pytest.mark.parametrize("sort", [",,", " , ", "bk_process_id,,", ",-bk_process_id,"])
def test_sort_with_empty_items(client, seeded, sort):
    """Empty items between commas name no field: they are skipped (a refusal would be 1199011)."""
    resp = search(client, {"page": {"sort": sort}, "fields": ["bk_process_id"]}, headers=EN)
    found = envelope(resp, {200, 400})
    if resp.status_code == 400:
        assert found["bk_error_code"] == 1199011
        return
    ids = [p["bk_process_id"] for p in found["data"]["info"]]
    assert ids == (sorted(seeded, reverse=True) if "-" in sort else sorted(seeded))


def test_duplicated_fields_and_sort_keys_are_answered_once(client, seeded):
    body = {
        "fields": ["bk_process_id", "bk_process_id", "port"],
        "page": {"sort": "-port,port,-port"},
    }
    found = ok(search(client, body, headers=EN))
    assert [sorted(p) for p in found["info"]] == [["bk_process_id", "port"]] * 4
    assert [p["port"] for p in found["info"]] == ["83", "82", "81", "80"]


# --- ids at the edge of 64 bits, in paths and in batch lists --------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_process_id_in_the_path_at_and_past_int64(client, db_url, method):
    pid = create(client)
    before = snapshot(db_url)
    for raw, status in [
        (str(INT64_MAX), 404),
        (f"+{INT64_MAX}", 404),
        (f"000{INT64_MAX}", 404),  # leading zeros do not count towards the 19 digits
        (str(2**63), 400),
        (f"000{2**63}", 400),
        (str(2**64), 400),
        ("9" * 400, 400),
        ("0" * 30, 400),
    ]:
        resp = client.open(proc_url(pid=raw), method=method, json={}, headers=EN)
        code = 1199019 if status == 404 else 1199003
        err(resp, status, code, "bk_process_id")
    assert snapshot(db_url) == before
    ok(client.open(proc_url(pid="0" * 25 + str(pid)), method=method, json={}))


def test_business_id_with_leading_zeros_is_that_business(client):
    pid = ok(
        client.post(
            proc_url(biz="0" * 25 + "7"), json={"bk_process_name": "z", "bk_func_name": "z"}
        )
    )
    assert ok(client.get(proc_url(biz=7, pid=pid["bk_process_id"])))[0]["bk_property_value"] == 7


@pytest.mark.parametrize(
    ("ids", "status", "code"),
    [
        ([INT64_MAX], 404, 1199019),
        (str(INT64_MAX), 404, 1199019),
        (f"1,{INT64_MAX}", 404, 1199019),
        ([2**63], 400, 1199003),
        (str(2**63), 400, 1199003),
        ([1, 2**64], 400, 1199003),
        ([-(2**63)], 400, 1199003),
        ([0], 400, 1199003),
        ([True], 400, 1199003),
        ([1.0], 400, 1199003),
        ([[1]], 400, 1199003),
        ([{"bk_process_id": 1}], 400, 1199003),
        ({"1": 1}, 400, 1199003),
        ("1,,2", 400, 1199003),
        (",", 400, 1199003),
        ("9" * 5000, 400, 1199003),
        ("0" * 5000 + "1,x", 400, 1199003),
        ("\u0661", 400, 1199003),  # ARABIC-INDIC DIGIT ONE is not a decimal id
    ],
)
def test_batch_ids_at_and_past_int64(client, db_url, ids, status, code):
    create(client)
    before = snapshot(db_url)
    resp = client.put(proc_url(), json={"bk_process_id": ids, "user": "u"}, headers=EN)
    message = err(resp, status, code, "bk_process_id")
    if status == 404:
        assert str(INT64_MAX) in message
    assert snapshot(db_url) == before


def test_batch_ids_with_leading_zeros(client):
    pid = create(client)
    ok(client.put(proc_url(), json={"bk_process_id": "0" * 5000 + str(pid), "user": "z"}))
    found = ok(search(client, {"condition": {"bk_process_id": pid}, "fields": ["user"]}))
    assert found["info"] == [{"user": "z"}]


def test_ints_with_leading_zeros_are_their_value(client):
    pid = create(client, proc_num="0" * 30 + "5")
    found = ok(search(client, {"condition": {"proc_num": "0" * 5000 + "5"}}))
    assert [p["bk_process_id"] for p in found["info"]] == [pid]


# --- unicode ------------------------------------------------------------------------------------

UNICODE_NAMES = [
    "\u202enginx\u202c",  # right-to-left override
    "e\u0301",  # combining acute: not the same name as the precomposed é
    "\u00e9",
    "\U0001f600\U0001f469\u200d\U0001f469\u200d\U0001f467",  # emoji, ZWJ sequence
    "\ufeffbom",
    "\uffff\U0010ffff",
    "\u05e9\u05dc\u05d5\u05dd",  # Hebrew
    "进程\t名\n称",
]


def test_unicode_is_stored_and_matched_as_sent(client):
    ids = {name: create(client, bk_process_name=name, bk_func_name=name) for name in UNICODE_NAMES}
    for name, pid in ids.items():
        for condition in [{"bk_process_name": name}, {"bk_process_name": {"$eq": name}}]:
            found = ok(search(client, {"condition": condition}, headers=EN))
            assert [p["bk_process_id"] for p in found["info"]] == [pid], name
            assert found["info"][0]["bk_process_name"] == name
        rows = ok(client.get(proc_url(pid=pid), headers=EN))
        assert rows[1]["bk_property_value"] == name


@pytest.mark.parametrize("char", ["\U0001f600", "\U0010ffff", "e\u0301"[1]])
def test_lengths_count_characters_outside_the_bmp(client, db_url, char):
    escaped = json.dumps(char)[1:-1]  # \\ud83d\\ude00: a surrogate pair on the wire
    raw = '{"bk_process_name": "%s", "bk_func_name": "f"}'
    ok(client.post(proc_url(), data=raw % (escaped * 256), content_type="application/json"))
    before = snapshot(db_url)
    resp = client.post(proc_url(), data=raw % (escaped * 257), headers=EN)
    err(resp, 400, 1199015, "bk_process_name")
    assert snapshot(db_url) == before


LONE_SURROGATE = "\\ud800"
SURROGATE_BODIES = [
    ("POST", proc_url(), '{"bk_process_name": "a%s", "bk_func_name": "f"}'),
    ("POST", proc_url(), '{"bk_process_name": "a", "bk_func_name": "f", "x%s": 1}'),
    ("PUT", proc_url(pid=1), '{"description": "%s"}'),
    ("PUT", proc_url(), '{"bk_process_id": "1", "user": "%s"}'),
    ("PUT", proc_url(), '{"bk_process_id": "1%s", "user": "u"}'),
    ("POST", search_url(), '{"condition": {"bk_process_name": "%s"}}'),
    ("POST", search_url(), '{"condition": {"port": {"$in": ["%s"]}}}'),
    ("POST", search_url(), '{"fields": ["%s"]}'),
    ("POST", search_url(), '{"page": {"sort": "%s"}}'),
]


@pytest.mark.parametrize(("method", "url", "template"), SURROGATE_BODIES)
def test_lone_surrogates_anywhere_are_a_client_error(client, db_url, method, url, template):
    create(client)
    before = snapshot(db_url)
    for piece in [LONE_SURROGATE, "\\udfff", "\\udfff\\ud800"]:
        resp = client.open(url, method=method, data=template % piece, headers=EN)
        assert envelope(resp, {400})["bk_error_code"] in {1199000, 1199006, 1199003}
    assert snapshot(db_url) == before


def test_nul_in_keys_and_values_never_reaches_the_database(client, db_url):
    pid = create(client)
    before = snapshot(db_url)
    for method, url, body in [
        ("POST", proc_url(), {"bk_process_name": "a\u0000", "bk_func_name": "f"}),
        ("POST", proc_url(), {"bk_process_name": "a", "bk_func_name": "f", "a\u0000": 1}),
        ("PUT", proc_url(pid=pid), {"pid_file": "\u0000"}),
        ("PUT", proc_url(), {"bk_process_id": f"{pid}\u0000", "user": "u"}),
        ("PUT", proc_url(), {"bk_process_id": pid, "bind_ip": "1\u0000"}),
        ("POST", search_url(), {"condition": {"user": {"$in": ["\u0000"]}}}),
        ("POST", search_url(), {"condition": {"bk_module_name": "\u0000"}}),
        ("POST", search_url(), {"page": {"sort": "bk_process_id\u0000"}}),
    ]:
        envelope(client.open(url, method=method, json=body, headers=EN), {400})
    assert snapshot(db_url) == before


def test_duplicate_keys_the_last_one_wins(client):
    """As bk-cmdb's Go decoder does: the last of duplicated keys is the value."""
    raw = '{"bk_process_name": "first", "bk_func_name": "f", "bk_process_name": "last"}'
    pid = ok(client.post(proc_url(), data=raw))["bk_process_id"]
    found = ok(search(client, {"condition": {"bk_process_id": pid}}))
    assert found["info"][0]["bk_process_name"] == "last"
