"""search_process (docs/api.md §3): the empty body, equality and the name substring."""

from __future__ import annotations

from .dbkit import snapshot
from .kit import EN, ISO_TIME, ZH, create, err, refused, search, search_url
from .support.search import ATTRIBUTE_IDS, SYSTEM, check_table, found, matching

# --- the empty body -------------------------------------------------------------------------


def test_empty_body_returns_every_process_with_all_26_fields(client):
    first = create(client, bk_process_name="nginx", port=80, bind_ip=1, proc_num="5")
    second = create(client, bk_process_name="redis", bk_func_name="redis", auto_start=True)

    data = found(client, {})
    assert data["count"] == 2
    assert [p["bk_process_id"] for p in data["info"]] == [first, second]
    for process in data["info"]:
        assert set(process) == set(ATTRIBUTE_IDS) | set(SYSTEM)
        assert len(process) == 26
        assert process["bk_supplier_account"] == "0" and process["bk_biz_id"] == 1
        assert ISO_TIME.fullmatch(process["create_time"]), process["create_time"]
        assert ISO_TIME.fullmatch(process["last_time"]), process["last_time"]
    nginx, redis = data["info"]
    # values as written, normalised (§2), with create's empty values for what was not sent
    assert (nginx["port"], nginx["bind_ip"], nginx["proc_num"], nginx["protocol"]) == (
        "80",
        "1",
        5,
        "1",
    )
    assert (redis["auto_start"], redis["bind_ip"], redis["proc_num"], redis["description"]) == (
        True,
        None,
        None,
        "",
    )


def test_body_must_be_a_json_object(client):
    create(client)
    for raw in ["", "null", "[]", '"x"', "{"]:
        resp = client.post(search_url(), data=raw, content_type="application/json", headers=EN)
        refused(raw, resp, 400, 1199000)


# --- plain equality --------------------------------------------------------------------------

EQUALITY = [
    ({"port": 80}, {"a"}),  # the integer is normalised to the stored "80"
    ({"port": "80"}, {"a"}),  # equality, not substring: "8080" does not match
    ({"port": "8080"}, {"b"}),
    ({"bind_ip": 1}, {"a"}),
    ({"bind_ip": "2"}, {"b"}),
    ({"bind_ip": None}, {"c"}),
    ({"proc_num": "5"}, {"a"}),
    ({"proc_num": 50}, {"b"}),
    ({"proc_num": None}, {"c"}),
    ({"auto_start": True}, {"a"}),
    ({"auto_start": False}, {"b", "c"}),
    ({"protocol": 1}, {"b", "c"}),  # create's default protocol is "1"
    ({"user": "root"}, {"a"}),  # other strings: exact, case-sensitive
    ({"user": "ROOT"}, set()),
    ({"description": ""}, {"b", "c"}),
    ({"description": None}, {"b", "c"}),  # null means the empty string, as on write
    ({"port": 80, "user": "root", "proc_num": "5"}, {"a"}),  # keys are ANDed
    ({"port": 80, "user": "rootless"}, set()),
]


def test_plain_value_is_equality_after_normalisation(client):
    ids = {
        "a": create(
            client, bk_process_name="a", port="80", bind_ip="1", proc_num=5, auto_start=True,
            protocol="2", user="root", description="web",
        ),
        "b": create(
            client, bk_process_name="b", port="8080", bind_ip="2", proc_num=50, user="rootless",
        ),
        "c": create(client, bk_process_name="c"),
    }  # fmt: skip
    check_table(client, EQUALITY)
    assert matching(client, {"bk_process_id": ids["b"]}) == {"b"}
    assert matching(client, {"bk_process_id": str(ids["c"])}) == {"c"}


WRONG_TYPE = [
    ({"auto_start": "yes"}, 1199025, "auto_start"),
    ({"auto_start": 1}, 1199025, "auto_start"),
    ({"proc_num": "abc"}, 1199009, "proc_num"),
    ({"proc_num": 1.5}, 1199009, "proc_num"),
    ({"priority": True}, 1199009, "priority"),
    ({"bk_process_id": "x"}, 1199009, "bk_process_id"),
    ({"bind_ip": True}, 1199007, "bind_ip"),
    ({"description": 5}, 1199007, "description"),
    ({"port": [80]}, 1199007, "port"),
    ({"bk_process_name": 5}, 1199007, "bk_process_name"),
    ({"bk_process_name": ["nginx"]}, 1199007, "bk_process_name"),
]


def test_plain_value_of_the_wrong_type_is_the_section_2_error(client, db_url):
    create(client)
    before = snapshot(db_url)
    for condition, code, field in WRONG_TYPE:
        refused(condition, search(client, {"condition": condition}, headers=EN), 400, code, field)
    assert snapshot(db_url) == before

    body = {"condition": {"auto_start": "yes"}}
    en = err(search(client, body, headers=EN), 400, 1199025, "auto_start")
    zh = err(search(client, body, headers=ZH), 400, 1199025, "auto_start")
    assert en == "'auto_start' must be boolean"
    assert zh == "'auto_start' 必须为布尔类型"


# --- bk_process_name: a literal, case-sensitive substring ------------------------------------

NAMES = ["a.b", "axb", "a%b", "a_b", "A.B", "a*b", "a\\b", "ab", "xa.by", "a[b]"]
SUBSTRING = [
    ("a.b", {"a.b", "xa.by"}),  # "." is not "any character", and A.B differs in case
    ("A.B", {"A.B"}),
    ("a%b", {"a%b"}),  # "%" and "_" are not LIKE wildcards
    ("a_b", {"a_b"}),
    ("%", {"a%b"}),
    ("_", {"a_b"}),
    ("a*b", {"a*b"}),  # "*" is not a glob or a regex quantifier
    ("*", {"a*b"}),
    ("a\\b", {"a\\b"}),  # a backslash escapes nothing
    ("\\", {"a\\b"}),
    ("[b]", {"a[b]"}),
    ("ab", {"ab"}),
    ("x", {"axb", "xa.by"}),
    ("B", {"A.B"}),
    ("b", set(NAMES) - {"A.B"}),
    ("", set(NAMES)),  # the empty string is a substring of every name
    ("a.b.", set()),
]


def test_process_name_is_a_literal_case_sensitive_substring(client):
    for name in NAMES:
        create(client, bk_process_name=name)
    check_table(client, [({"bk_process_name": needle}, names) for needle, names in SUBSTRING])
    # $eq is exact
    assert matching(client, {"bk_process_name": {"$eq": "a.b"}}) == {"a.b"}
    assert matching(client, {"bk_process_name": {"$eq": "a"}}) == set()
