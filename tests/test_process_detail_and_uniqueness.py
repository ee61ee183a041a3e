"""get_process_detail and uniqueness (docs/api.md §3), held by the database under concurrency."""

from __future__ import annotations

import pytest

from .dbkit import race, snapshot
from .kit import EN, FULL_LOOSE, FULL_LOOSE_STORED, ZH, create, detail, err, ok, proc_url, search
from .support.writes import ATTRIBUTE_IDS, ATTRIBUTE_NAMES

# --- get_process_detail ----------------------------------------------------------------------


@pytest.mark.parametrize("headers, lang_index", [(EN, 2), (ZH, 1)])
def test_detail_rows_in_contract_order_and_language(client, headers, lang_index):
    pid = ok(client.post(proc_url(biz=5), json=FULL_LOOSE))["bk_process_id"]
    rows = ok(client.get(proc_url(biz=5, pid=pid), headers=headers))

    assert len(rows) == 22
    assert [r["bk_property_id"] for r in rows] == ATTRIBUTE_IDS
    assert [r["bk_property_name"] for r in rows] == [n[lang_index] for n in ATTRIBUTE_NAMES]
    assert all(set(r) == {"bk_property_id", "bk_property_name", "bk_property_value"} for r in rows)
    values = {r["bk_property_id"]: r["bk_property_value"] for r in rows}
    # enum codes, not their labels ("3", not "first intranet IP"; "2", not "UDP")
    assert values == {"bk_biz_id": 5, **FULL_LOOSE_STORED}


def test_detail_of_minimal_process_shows_create_defaults(client):
    pid = create(client, bk_process_name="mini", bk_func_name="mini")
    values = detail(client, pid)
    assert values == {
        "bk_biz_id": 1,
        "bk_process_name": "mini",
        "description": "",
        "bind_ip": None,
        "port": "",
        "protocol": "1",
        "bk_func_id": "",
        "bk_func_name": "mini",
        "work_path": "",
        "user": "",
        "proc_num": None,
        "priority": None,
        "timeout": None,
        "start_cmd": "",
        "stop_cmd": "",
        "restart_cmd": "",
        "face_stop_cmd": "",
        "reload_cmd": "",
        "pid_file": "",
        "auto_start": False,
        "auto_time_gap": None,
        "bk_start_param_regex": "",
    }


@pytest.mark.parametrize(
    "account, biz, offset",
    [("0", 1, 1000), ("other", 1, 0), ("0", 2, 0)],
    ids=["unknown-id", "other-account", "other-business"],
)
def test_detail_not_found(client, account, biz, offset):
    pid = create(client)
    missing = pid + offset
    msg = err(client.get(proc_url(account, biz, missing), headers=EN), 404, 1199019)
    assert msg.startswith("No relevant data found") and str(missing) in msg
    msg = err(client.get(proc_url(account, biz, missing), headers=ZH), 404, 1199019)
    assert msg.startswith("未找到相关数据")


def test_detail_of_deleted_process_is_404(client):
    pid = create(client)
    ok(client.delete(proc_url(pid=pid)))
    err(client.get(proc_url(pid=pid), headers=EN), 404, 1199019, str(pid))


# --- uniqueness (held by the database) -------------------------------------------------------


def test_same_name_in_one_business_conflicts(client, db_url):
    create(client, bk_process_name="nginx")
    before = snapshot(db_url)
    resp = client.post(proc_url(), json={"bk_process_name": "nginx", "bk_func_name": "x"})
    msg = err(resp, 409, 1199014, "bk_process_name")
    assert msg.startswith("数据唯一性校验失败")  # no language header: Chinese
    resp = client.post(
        proc_url(), json={"bk_process_name": "nginx", "bk_func_name": "x"}, headers=EN
    )
    assert err(resp, 409, 1199014, "bk_process_name").startswith("duplicated instances exist")
    assert snapshot(db_url) == before


def test_same_name_allowed_in_another_business_or_account(client):
    first = create(client, bk_process_name="nginx")
    in_biz_2 = create(client, biz=2, bk_process_name="nginx")
    in_acct = create(client, account="acme", bk_process_name="nginx")
    assert len({first, in_biz_2, in_acct}) == 3
    for account, biz in [("0", 1), ("0", 2), ("acme", 1)]:
        assert ok(search(client, {}, account, biz))["count"] == 1


def test_func_id_unique_per_business_when_not_empty(client, db_url):
    create(client, bk_process_name="a", bk_func_id="f1")
    before = snapshot(db_url)
    resp = client.post(
        proc_url(), json={"bk_process_name": "b", "bk_func_name": "b", "bk_func_id": "f1"}
    )
    err(resp, 409, 1199014, "bk_func_id")
    assert snapshot(db_url) == before
    # empty function ids never conflict, explicit or filled in by create
    create(client, bk_process_name="c", bk_func_id="")
    create(client, bk_process_name="d", bk_func_id="")
    create(client, bk_process_name="e")
    # another business may reuse the id
    create(client, biz=2, bk_process_name="a", bk_func_id="f1")


def test_func_name_and_regex_unique_when_both_set(client, db_url):
    create(client, bk_process_name="a", bk_func_name="nginx", bk_start_param_regex="master")
    before = snapshot(db_url)
    resp = client.post(
        proc_url(),
        json={"bk_process_name": "b", "bk_func_name": "nginx", "bk_start_param_regex": "master"},
        headers=EN,
    )
    msg = err(resp, 409, 1199014, "bk_func_name")
    assert "bk_start_param_regex" in msg
    assert snapshot(db_url) == before
    # only one of the pair set: no rule
    create(client, bk_process_name="c", bk_func_name="nginx", bk_start_param_regex="")
    create(client, bk_process_name="d", bk_func_name="nginx", bk_start_param_regex="")
    # a different half of the pair: no conflict
    create(client, bk_process_name="e", bk_func_name="nginx", bk_start_param_regex="worker")
    create(client, bk_process_name="f", bk_func_name="apache", bk_start_param_regex="master")
    create(client, biz=2, bk_process_name="a", bk_func_name="nginx", bk_start_param_regex="master")


def test_func_regex_uniqueness_with_2000_cjk_characters(client, db_url):
    """6000 bytes in UTF-8: past PostgreSQL's btree entry limit unless the index hashes it."""
    regex = "进程参数" * 500
    assert len(regex) == 2000
    create(client, bk_process_name="a", bk_func_name="svc", bk_start_param_regex=regex)
    near = regex[:-1] + "参"  # differs only in the last character
    assert near != regex
    create(client, bk_process_name="b", bk_func_name="svc", bk_start_param_regex=near)
    before = snapshot(db_url)
    resp = client.post(
        proc_url(),
        json={"bk_process_name": "c", "bk_func_name": "svc", "bk_start_param_regex": regex},
    )
    err(resp, 409, 1199014, "bk_start_param_regex")
    assert snapshot(db_url) == before
    found = ok(search(client, {"condition": {"bk_start_param_regex": regex}}))
    assert [p["bk_process_name"] for p in found["info"]] == ["a"]


def test_rename_to_taken_name_conflicts_and_changes_nothing(client, db_url):
    create(client, bk_process_name="nginx")
    pid = create(client, bk_process_name="apache", bk_func_id="f2")
    before = snapshot(db_url)
    resp = client.put(proc_url(pid=pid), json={"bk_process_name": "nginx", "user": "root"})
    err(resp, 409, 1199014, "bk_process_name")
    assert snapshot(db_url) == before
    values = detail(client, pid)
    assert (values["bk_process_name"], values["user"]) == ("apache", "")


def test_update_func_id_to_taken_one_conflicts(client, db_url):
    create(client, bk_process_name="a", bk_func_id="f1")
    pid = create(client, bk_process_name="b", bk_func_id="f2")
    before = snapshot(db_url)
    err(client.put(proc_url(pid=pid), json={"bk_func_id": "f1"}), 409, 1199014, "bk_func_id")
    assert snapshot(db_url) == before


# --- concurrency -----------------------------------------------------------------------------


def test_concurrent_creates_of_one_name_one_wins(app, client):
    for round_ in range(5):
        name = f"race-{round_}"
        body = {"bk_process_name": name, "bk_func_name": "f"}
        results = race(app, [lambda c, b=body: c.post(proc_url(), json=b)] * 2)
        statuses = sorted(status for status, _ in results)
        assert statuses == [200, 409], results
        loser = next(body for status, body in results if status == 409)
        assert loser["bk_error_code"] == 1199014 and "bk_process_name" in loser["bk_error_msg"]
        found = ok(search(client, {"condition": {"bk_process_name": name}}))
        assert found["count"] == 1


def test_concurrent_renames_to_one_name_one_wins(app, client):
    for round_ in range(5):
        first = create(client, bk_process_name=f"a-{round_}")
        second = create(client, bk_process_name=f"b-{round_}")
        target = {"bk_process_name": f"target-{round_}"}
        calls = [
            lambda c, p=pid, t=target: c.put(proc_url(pid=p), json=t) for pid in (first, second)
        ]
        results = race(app, calls)
        assert sorted(status for status, _ in results) == [200, 409], results
        names = {
            detail(client, first)["bk_process_name"],
            detail(client, second)["bk_process_name"],
        }
        assert f"target-{round_}" in names
        assert len(names) == 2  # the loser kept its own name
