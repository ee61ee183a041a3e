"""search_process (docs/api.md §3): fields, page and sort."""

from __future__ import annotations

from .dbkit import skip_unless_linguistic
from .kit import EN, create, err, refused, search
from .support.search import ATTRIBUTE_IDS, SYSTEM, bulk, found, matching, ordered

# --- fields ---------------------------------------------------------------------------------


def test_fields_subset_returns_only_those_keys(client):
    pid = create(client, port="80", proc_num=3, auto_start=True, bind_ip="2")
    full = found(client, {"condition": {"bk_process_id": pid}})["info"][0]
    for fields in [
        ["bk_process_name", "port"],
        ["bk_process_id"],
        ["bk_supplier_account", "create_time", "last_time"],
        ["auto_start", "proc_num", "bind_ip", "bk_biz_id"],
    ]:
        (process,) = found(client, {"fields": fields})["info"]
        assert process == {name: full[name] for name in fields}, fields
    (process,) = found(client, {"fields": []})["info"]
    assert process == full and set(process) == set(ATTRIBUTE_IDS) | set(SYSTEM)


def test_unknown_or_malformed_fields(client):
    create(client)
    for name in ["foo", "bk_module_name", "BK_PROCESS_ID", "*", ""]:
        resp = search(client, {"fields": ["bk_process_id", name]}, headers=EN)
        refused(name, resp, 400, 1199011, name)
    for fields in ["bk_process_name", {"bk_process_name": 1}, 5, True, [5]]:
        resp = search(client, {"fields": fields}, headers=EN)
        assert resp.status_code == 400, fields
        assert "fields" in resp.get_json()["bk_error_msg"], fields


# --- page -----------------------------------------------------------------------------------


def test_page_start_limit_and_count(client):
    ids = bulk(client, 7)
    data = found(client, {"page": {"start": "1", "limit": "2"}})  # numeric strings
    assert data["count"] == 7
    assert [p["bk_process_id"] for p in data["info"]] == ids[1:3]

    # count is the total, independent of the page
    page = found(client, {"page": {"start": 5, "limit": 1}})
    assert page["count"] == 7 and [p["bk_process_id"] for p in page["info"]] == [ids[5]]
    assert found(client, {"page": {"start": 6, "limit": 10}})["count"] == 7
    assert found(client, {"page": {"start": 7}}) == {"count": 7, "info": []}
    assert found(client, {"page": {"start": "1000"}}) == {"count": 7, "info": []}
    narrowed = found(client, {"condition": {"proc_num": None}, "page": {"limit": 2}})
    assert narrowed["count"] == 7 and len(narrowed["info"]) == 2
    assert len(found(client, {"page": {"limit": 200}})["info"]) == 7
    assert len(found(client, {"page": {"limit": "200"}})["info"]) == 7


def test_absent_limit_answers_every_match_up_to_the_batch_limit(client):
    """§3: no page, page {} or limit 0 is "every match, up to 1000" (v3.2's select-all);
    an explicit limit stays 1..200."""
    ids = bulk(client, 201)
    for page in [None, {}, {"limit": 0}, {"limit": "0"}, {"start": 0}, {"sort": ""}]:
        data = found(client, {} if page is None else {"page": page})
        assert data["count"] == 201, page
        assert [p["bk_process_id"] for p in data["info"]] == ids, page
        rest = found(client, {"page": {**(page or {}), "start": 200}})
        assert [p["bk_process_id"] for p in rest["info"]] == ids[200:], page
    limited = found(client, {"page": {"limit": 200}})["info"]
    assert [p["bk_process_id"] for p in limited] == ids[:200]


BAD_PAGE = [
    ({"start": -1}, 1199006, "start"),
    ({"start": "-1"}, 1199006, "start"),
    ({"limit": 201}, 1199015, "limit"),
    ({"limit": "201"}, 1199015, "limit"),
    ({"limit": 10**6}, 1199015, "limit"),
    ({"start": "abc"}, 1199009, "start"),
    ({"start": 1.5}, 1199009, "start"),
    ({"start": True}, 1199009, "start"),
    ({"start": [0]}, 1199009, "start"),
    ({"start": None}, 1199009, "start"),
    ({"start": "1 0"}, 1199009, "start"),
    ({"limit": "ten"}, 1199009, "limit"),
    ({"limit": 2.5}, 1199009, "limit"),
    ({"limit": False}, 1199009, "limit"),
    ({"limit": None}, 1199009, "limit"),
]


def test_bad_page(client):
    create(client)
    for page, code, field in BAD_PAGE:
        refused(page, search(client, {"page": page}, headers=EN), 400, code, field)
    # §3 only says 1..200 (0 → 200): a negative limit must at least not succeed
    resp = search(client, {"page": {"limit": -1}}, headers=EN)
    assert resp.status_code == 400 and "limit" in resp.get_json()["bk_error_msg"]
    for page in ["x", 5, [], True]:
        resp = search(client, {"page": page}, headers=EN)
        assert resp.status_code == 400 and "page" in resp.get_json()["bk_error_msg"], page


# --- sort -----------------------------------------------------------------------------------


def test_default_order_is_bk_process_id_ascending(client):
    names = ["zeta", "alpha", "mu", "beta"]
    ids = [create(client, bk_process_name=n) for n in names]
    assert [p["bk_process_id"] for p in found(client, {})["info"]] == ids
    assert ordered(client, "") == names


def test_sort_single_field_both_directions(client):
    ids = [
        create(client, bk_process_name=n, proc_num=p)
        for n, p in [("mu", 9), ("alpha", 10), ("zeta", 2), ("beta", 90)]
    ]
    assert ordered(client, "bk_process_name") == ["alpha", "beta", "mu", "zeta"]
    assert ordered(client, "-bk_process_name") == ["zeta", "mu", "beta", "alpha"]
    assert ordered(client, "proc_num") == ["zeta", "mu", "alpha", "beta"]  # as numbers, not text
    assert ordered(client, "-proc_num") == ["beta", "alpha", "mu", "zeta"]
    assert ordered(client, "-bk_process_id", key="bk_process_id") == ids[::-1]
    assert ordered(client, "create_time", key="bk_process_id") == ids
    assert ordered(client, "-create_time", key="bk_process_id") == ids[::-1]


def test_sort_by_several_fields(client):
    for name, bind_ip in [("a", "1"), ("b", "2"), ("c", "1"), ("d", None), ("e", "2"), ("f", None)]:
        create(client, bk_process_name=name, bind_ip=bind_ip)
    assert ordered(client, "bind_ip,-bk_process_name") == ["f", "d", "c", "a", "e", "b"]
    assert ordered(client, "-bind_ip,bk_process_name") == ["b", "e", "a", "c", "d", "f"]


def test_sort_ties_are_broken_by_bk_process_id_ascending(client):
    ids = [create(client, bk_process_name=n) for n in ["z", "y", "x", "w"]]  # same protocol
    assert ordered(client, "protocol", key="bk_process_id") == ids
    assert ordered(client, "-protocol", key="bk_process_id") == ids
    assert ordered(client, "protocol,-bk_process_id", key="bk_process_id") == ids[::-1]


def test_sort_field_need_not_be_returned(client):
    for name in ["b", "c", "a"]:
        create(client, bk_process_name=name, description=f"desc {name}")
    info = found(client, {"fields": ["description"], "page": {"sort": "-bk_process_name"}})["info"]
    assert info == [{"description": "desc c"}, {"description": "desc b"}, {"description": "desc a"}]


def test_paging_with_ties_visits_every_process_exactly_once(client):
    ids = [
        create(
            client, bk_process_name=f"p{i}", protocol=str(i % 2 + 1),
            bind_ip=[None, "1", "2"][i % 3], auto_start=i % 4 == 0,
        )
        for i in range(10)
    ]  # fmt: skip
    for sort in ["protocol", "-protocol,bind_ip", "auto_start", "-auto_start", "-bind_ip"]:
        whole = ordered(client, sort, key="bk_process_id")
        seen = []
        for start in range(0, 12, 3):
            page = {"start": start, "limit": 3, "sort": sort}
            data = found(client, {"fields": ["bk_process_id"], "page": page})
            assert data["count"] == 10
            seen += [p["bk_process_id"] for p in data["info"]]
        assert seen == whole, sort
        assert sorted(seen) == sorted(ids) and len(set(seen)) == 10, sort


def test_unknown_sort_field_is_1199011(client):
    create(client)
    for sort, field in [("foo", "foo"), ("-foo", "foo"), ("bk_process_name,foo", "foo")]:
        refused(sort, search(client, {"page": {"sort": sort}}, headers=EN), 400, 1199011, field)
    resp = search(client, {"page": {"sort": "bk_module_name"}}, headers=EN)
    err(resp, 400, 1199011, "bk_module_name")


def test_nulls_sort_as_smallest(client):
    rows = [("a", "2", 7), ("b", None, None), ("c", "1", 3), ("d", None, None), ("e", "2", None)]
    for name, bind_ip, proc_num in rows:
        create(client, bk_process_name=name, bind_ip=bind_ip, proc_num=proc_num)
    assert ordered(client, "bind_ip") == ["b", "d", "c", "a", "e"]
    assert ordered(client, "-bind_ip") == ["a", "e", "c", "b", "d"]
    assert ordered(client, "proc_num") == ["b", "d", "e", "c", "a"]
    assert ordered(client, "-proc_num") == ["a", "c", "b", "d", "e"]


CODE_POINT_ORDER = ["0", "B", "Z", "_", "a", "ab", "b", "É", "é", "进", "ｚ", "😀"]


def test_strings_sort_by_code_point(client, db_url, backend):
    """On PostgreSQL the test database's own collation is ICU's (conftest), under which
    "a" < "B": the service must still order by code point, as SQLite does."""
    names = CODE_POINT_ORDER[::-1]
    assert sorted(names) == CODE_POINT_ORDER  # Python compares str by code point
    skip_unless_linguistic(db_url, backend)
    for name in names:
        create(client, bk_process_name=name, description=name)
    for field in ("bk_process_name", "description"):
        assert ordered(client, field, key=field) == CODE_POINT_ORDER, field
        assert ordered(client, f"-{field}", key=field) == CODE_POINT_ORDER[::-1], field
        # the comparison operators agree with the sort
        between = {field: {"$gt": "a", "$lt": "ｚ"}}
        assert matching(client, between) == {"ab", "b", "É", "é", "进"}, field
