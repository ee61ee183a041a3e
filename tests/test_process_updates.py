"""Ids, times, update and batch_update_process (docs/api.md §3)."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from .dbkit import audit_rows, snapshot
from .kit import (
    EN,
    FULL_LOOSE,
    FULL_LOOSE_STORED,
    ISO_TIME,
    create,
    detail,
    err,
    ok,
    proc_url,
    search,
    search_one,
)

# --- ids, times, update ----------------------------------------------------------------------


def test_process_ids_are_never_reused(client):
    create(client, bk_process_name="keep")
    last = create(client, bk_process_name="gone")
    ok(client.delete(proc_url(pid=last)))
    again = create(client, bk_process_name="gone")
    assert again > last


def test_update_moves_last_time_only(client):
    pid = create(client)
    created = search_one(client, pid)
    assert ISO_TIME.fullmatch(created["create_time"]), created
    assert ISO_TIME.fullmatch(created["last_time"]), created
    previous = datetime.fromisoformat(created["last_time"])
    for body in [{}, {}, {"user": "root"}, {"user": "root"}, {}]:
        assert ok(client.put(proc_url(pid=pid), json=body)) == "success"
        now = search_one(client, pid)
        assert now["create_time"] == created["create_time"]
        current = datetime.fromisoformat(now["last_time"])
        assert current > previous, (body, now["last_time"])
        previous = current


def test_update_is_partial_and_renames(client):
    pid = ok(client.post(proc_url(), json=FULL_LOOSE))["bk_process_id"]
    assert ok(client.put(proc_url(pid=pid), json={"bk_process_name": "renamed", "port": 8080}))
    values = detail(client, pid)
    assert values == {
        "bk_biz_id": 1,
        **FULL_LOOSE_STORED,
        "bk_process_name": "renamed",
        "port": "8080",
    }
    assert ok(search(client, {"condition": {"bk_process_name": "renamed"}}))["count"] == 1


@pytest.mark.parametrize(
    "account, biz, offset",
    [("0", 1, 1000), ("other", 1, 0), ("0", 2, 0)],
    ids=["unknown-id", "other-account", "other-business"],
)
def test_update_and_delete_not_found_change_nothing(client, db_url, account, biz, offset):
    pid = create(client)
    target = pid + offset
    before = snapshot(db_url)
    put = client.put(proc_url(account, biz, target), json={"user": "x"}, headers=EN)
    assert str(target) in err(put, 404, 1199019)
    err(client.put(proc_url(account, biz, target), json={}), 404, 1199019)
    err(client.delete(proc_url(account, biz, target)), 404, 1199019)
    batch = {"bk_process_id": str(target), "user": "x"}
    err(client.put(proc_url(account, biz), json=batch), 404, 1199019, str(target))
    if offset == 0:  # the process itself: still readable, unchanged, where it lives
        err(client.get(proc_url(account, biz, target)), 404, 1199019)
        assert detail(client, pid)["user"] == ""
    assert snapshot(db_url) == before


# --- batch_update_process --------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_ids",
    [
        lambda ids: ",".join(map(str, ids)),
        lambda ids: " " + " , ".join(map(str, ids)) + " ",
        lambda ids: ids[0],
        lambda ids: list(ids),
    ],
    ids=["comma-string", "spaces", "integer", "list"],
)
def test_batch_update_id_forms(client, make_ids):
    ids = [create(client, bk_process_name=f"p{i}") for i in range(3)]
    untouched = create(client, bk_process_name="untouched")
    value = make_ids(ids)
    targets = ids[:1] if isinstance(value, int) else ids
    body = {"bk_process_id": value, "start_cmd": "./start.sh 8080", "port": "1000"}
    assert ok(client.put(proc_url(), json=body)) == "success"
    for pid in [*ids, untouched]:
        values = detail(client, pid)
        expected = ("./start.sh 8080", "1000") if pid in targets else ("", "")
        assert (values["start_cmd"], values["port"]) == expected, pid


@pytest.mark.parametrize("dup", ["{a},{a},{b}", [0, 0, 1]], ids=["string", "list"])
def test_batch_update_duplicates_collapse(client, db_url, dup):
    a = create(client, bk_process_name="a")
    b = create(client, bk_process_name="b")
    value = dup.format(a=a, b=b) if isinstance(dup, str) else [(a, b)[i] for i in dup]
    before = len(audit_rows(db_url))
    ok(client.put(proc_url(), json={"bk_process_id": value, "user": "svc"}))
    new = audit_rows(db_url)[before:]
    assert sorted(r["inst_id"] for r in new) == [a, b]
    assert all(r["op_type"] == 2 and r["op_target"] == "process" for r in new)


def test_batch_update_without_ids_is_1199008(client, db_url):
    create(client)
    before = snapshot(db_url)
    err(client.put(proc_url(), json={"user": "x"}, headers=EN), 400, 1199008, "bk_process_id")
    assert snapshot(db_url) == before


@pytest.mark.parametrize(
    "value",
    ["", "a,b", "1,,2", "0", "-1", 1.5, True, None, {}, [], 0, -1, [1, "a"]],
    ids=repr,
)
def test_batch_update_malformed_ids_are_1199003(client, db_url, value):
    create(client)
    before = snapshot(db_url)
    resp = client.put(proc_url(), json={"bk_process_id": value, "user": "x"}, headers=EN)
    err(resp, 400, 1199003, "bk_process_id")
    assert snapshot(db_url) == before


def test_batch_update_limit_is_1000_ids(client, db_url):
    pid = create(client)
    before = snapshot(db_url)
    over = ",".join(str(i) for i in range(1, 1002))
    resp = client.put(proc_url(), json={"bk_process_id": over, "user": "x"}, headers=EN)
    msg = err(resp, 400, 1199035, "bk_process_id")
    assert "1000" in msg
    # duplicates collapse before counting: 1001 items, 1000 distinct ids is within the limit
    at_limit = [*range(pid, pid + 1000), pid]
    resp = client.put(proc_url(), json={"bk_process_id": at_limit, "user": "x"}, headers=EN)
    msg = err(resp, 404, 1199019)  # within the limit; the ids other than pid do not exist
    assert str(pid + 999) in msg
    assert snapshot(db_url) == before


def test_batch_update_needs_an_attribute(client, db_url):
    pid = create(client)
    before = snapshot(db_url)
    for body in [{"bk_process_id": str(pid)}, {"bk_process_id": str(pid), "bk_biz_id": 1}]:
        err(client.put(proc_url(), json=body), 400, 1199008)
    assert snapshot(db_url) == before


@pytest.mark.parametrize("field", ["bk_process_name", "bk_func_id"])
def test_batch_update_refuses_name_and_func_id(client, db_url, field):
    pid = create(client)
    before = snapshot(db_url)
    body = {"bk_process_id": str(pid), "user": "x", field: "new"}
    msg = err(client.put(proc_url(), json=body, headers=EN), 400, 1199006, field)
    assert msg == f"'{field}' data parameter verification does not pass"
    assert snapshot(db_url) == before


@pytest.mark.parametrize(
    "who",
    ["unknown", "other-account", "other-business"],
)
def test_batch_update_missing_id_lists_it_and_changes_nothing(client, db_url, who):
    a = create(client, bk_process_name="a")
    b = create(client, bk_process_name="b")
    if who == "unknown":
        missing = [b + 5000, b + 7000]
    elif who == "other-account":
        missing = [create(client, account="acme", bk_process_name="x")]
    else:
        missing = [create(client, biz=2, bk_process_name="x")]
    before = snapshot(db_url)
    ids = ",".join(map(str, [a, *missing, b]))
    resp = client.put(proc_url(), json={"bk_process_id": ids, "user": "x"}, headers=EN)
    msg = err(resp, 404, 1199019)
    for pid in missing:
        assert str(pid) in msg
    assert not re.search(rf"\b({a}|{b})\b", msg), msg  # only the missing ones are listed
    assert snapshot(db_url) == before


@pytest.mark.parametrize(
    "attrs, code, field",
    [
        ({"proc_num": 0}, 1199006, "proc_num"),
        ({"port": "80,"}, 1199016, "port"),
        ({"user": "ok", "auto_start": "yes"}, 1199025, "auto_start"),
        ({"user": "ok", "no_such": 1}, 1199011, "no_such"),
        ({"user": "ok", "bk_func_name": ""}, 1199010, "bk_func_name"),
    ],
)
def test_batch_update_bad_value_changes_nothing(client, db_url, attrs, code, field):
    ids = [create(client, bk_process_name=f"p{i}") for i in range(2)]
    before = snapshot(db_url)
    body = {"bk_process_id": ",".join(map(str, ids)), **attrs}
    err(client.put(proc_url(), json=body, headers=EN), 400, code, field)
    assert snapshot(db_url) == before


def test_batch_update_conflict_inside_batch_rolls_back(client, db_url):
    # both share bk_func_name "nginx"; one regex for both makes the pair collide
    a = create(client, bk_process_name="a", bk_func_name="nginx")
    b = create(client, bk_process_name="b", bk_func_name="nginx")
    before = snapshot(db_url)
    body = {"bk_process_id": f"{a},{b}", "bk_start_param_regex": "master", "user": "x"}
    msg = err(client.put(proc_url(), json=body, headers=EN), 409, 1199014, "bk_start_param_regex")
    assert "bk_func_name" in msg
    assert snapshot(db_url) == before
    # the same with bk_func_name sent in the batch as well
    create(client, bk_process_name="c", bk_func_name="apache")
    before = snapshot(db_url)
    body = {"bk_process_id": [a, b], "bk_func_name": "same", "bk_start_param_regex": "r"}
    err(client.put(proc_url(), json=body), 409, 1199014, "bk_func_name")
    assert snapshot(db_url) == before
