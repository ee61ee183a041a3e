"""Detail, update, batch update, delete, uniqueness and audit (contract §2, §3, §5, §9, §10)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, insert, select

from proc_service import create_app
from proc_service.models import Process, ProcessBinding

from .helpers import (
    EN,
    ZH,
    audit_rows,
    create,
    detail,
    err,
    ok,
    proc_url,
    race,
    search,
    snapshot,
)

# Contract §2: the 22 attributes in order, with their Chinese and English names.
ATTRIBUTE_NAMES = [
    ("bk_biz_id", "业务ID", "business id"),
    ("bk_process_name", "进程名称", "process name"),
    ("description", "进程描述", "description"),
    ("bind_ip", "绑定IP", "bind ip"),
    ("port", "端口", "port"),
    ("protocol", "协议", "protocol"),
    ("bk_func_id", "功能ID", "function id"),
    ("bk_func_name", "功能名称", "function name"),
    ("work_path", "工作路径", "work path"),
    ("user", "启动用户", "process user"),
    ("proc_num", "启动数量", "process number"),
    ("priority", "启动优先级", "process priority"),
    ("timeout", "操作超时时长", "process timeout"),
    ("start_cmd", "启动命令", "start command"),
    ("stop_cmd", "停止命令", "stop command"),
    ("restart_cmd", "重启命令", "restart command"),
    ("face_stop_cmd", "强制停止命令", "force stop command"),
    ("reload_cmd", "进程重载命令", "reload command"),
    ("pid_file", "PID文件路径", "PID file path"),
    ("auto_start", "是否自动拉起", "autostart"),
    ("auto_time_gap", "拉起间隔", "autostart period"),
    ("bk_start_param_regex", "启动参数匹配规则", "startup parameter regex"),
]
ATTRIBUTE_IDS = [row[0] for row in ATTRIBUTE_NAMES]

# Every writable attribute set, as a client might send it (port and bind_ip as JSON integers).
FULL = {
    "bk_process_name": "nginx-full",
    "description": "web front",
    "bind_ip": 3,
    "port": 80,
    "protocol": "2",
    "bk_func_id": "f-100",
    "bk_func_name": "nginx",
    "work_path": "/data/cc/running",
    "user": "cc",
    "proc_num": 4,
    "priority": "7",
    "timeout": 30,
    "start_cmd": "./start.sh",
    "stop_cmd": "./stop.sh",
    "restart_cmd": "./restart.sh",
    "face_stop_cmd": "kill -9",
    "reload_cmd": "./reload.sh",
    "pid_file": "/var/run/nginx.pid",
    "auto_start": True,
    "auto_time_gap": 60,
    "bk_start_param_regex": "nginx: master",
}
# The same, as stored and shown (§2 normalisation: enum codes as strings, int strings as ints).
FULL_STORED = {**FULL, "bind_ip": "3", "port": "80", "priority": 7}
TIME_FORMAT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00")


def get_proc(client, pid, account="0", biz=1) -> dict:
    """One process as search_process shows it (all 22 attributes and the system fields)."""
    found = ok(search(client, {"condition": {"bk_process_id": pid}}, account, biz))
    assert found["count"] == 1, found
    return found["info"][0]


def count_bindings(db_url: str, pid: int) -> int:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            stmt = select(func.count()).where(ProcessBinding.bk_process_id == pid)
            return conn.scalar(stmt.select_from(ProcessBinding))
    finally:
        engine.dispose()


def add_bindings(db_url: str, pid: int, names: list[str]) -> None:
    """Binding rows written directly: the bind endpoint is not part of this test file. A
    binding carries its process's account and business."""
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            now = datetime.now(UTC)
            account, biz = conn.execute(
                select(Process.bk_supplier_account, Process.bk_biz_id).where(
                    Process.bk_process_id == pid
                )
            ).one()
            scope = {"bk_supplier_account": account, "bk_biz_id": biz}
            conn.execute(
                insert(ProcessBinding),
                [
                    {"bk_process_id": pid, "bk_module_name": n, "create_time": now, **scope}
                    for n in names
                ],
            )
    finally:
        engine.dispose()


# --- get_process_detail ----------------------------------------------------------------------


@pytest.mark.parametrize("headers, lang_index", [(EN, 2), (ZH, 1)])
def test_detail_rows_in_contract_order_and_language(client, headers, lang_index):
    pid = ok(client.post(proc_url(biz=5), json=FULL))["bk_process_id"]
    rows = ok(client.get(proc_url(biz=5, pid=pid), headers=headers))

    assert len(rows) == 22
    assert [r["bk_property_id"] for r in rows] == ATTRIBUTE_IDS
    assert [r["bk_property_name"] for r in rows] == [n[lang_index] for n in ATTRIBUTE_NAMES]
    assert all(set(r) == {"bk_property_id", "bk_property_name", "bk_property_value"} for r in rows)
    values = {r["bk_property_id"]: r["bk_property_value"] for r in rows}
    # enum codes, not their labels ("3", not "first intranet IP"; "2", not "UDP")
    assert values == {"bk_biz_id": 5, **FULL_STORED}


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


# --- ids, times, update ----------------------------------------------------------------------


def test_process_ids_are_never_reused(client):
    create(client, bk_process_name="keep")
    last = create(client, bk_process_name="gone")
    ok(client.delete(proc_url(pid=last)))
    again = create(client, bk_process_name="gone")
    assert again > last


def test_update_moves_last_time_only(client):
    pid = create(client)
    created = get_proc(client, pid)
    assert TIME_FORMAT.fullmatch(created["create_time"]), created
    assert TIME_FORMAT.fullmatch(created["last_time"]), created
    previous = datetime.fromisoformat(created["last_time"])
    for body in [{}, {}, {"user": "root"}, {"user": "root"}, {}]:
        assert ok(client.put(proc_url(pid=pid), json=body)) == "success"
        now = get_proc(client, pid)
        assert now["create_time"] == created["create_time"]
        current = datetime.fromisoformat(now["last_time"])
        assert current > previous, (body, now["last_time"])
        previous = current


def test_update_is_partial_and_renames(client):
    pid = ok(client.post(proc_url(), json=FULL))["bk_process_id"]
    assert ok(client.put(proc_url(pid=pid), json={"bk_process_name": "renamed", "port": 8080}))
    values = detail(client, pid)
    assert values == {"bk_biz_id": 1, **FULL_STORED, "bk_process_name": "renamed", "port": "8080"}
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


# --- delete_process --------------------------------------------------------------------------


def test_delete_removes_process_and_its_bindings(client, db_url):
    pid = create(client, bk_process_name="a")
    other = create(client, bk_process_name="b")
    add_bindings(db_url, pid, ["web", "db", "cache"])
    add_bindings(db_url, other, ["web"])
    assert ok(client.delete(proc_url(pid=pid))) == "success"
    assert count_bindings(db_url, pid) == 0
    assert count_bindings(db_url, other) == 1
    assert ok(search(client, {}))["info"][0]["bk_process_id"] == other
    assert ok(search(client, {}))["count"] == 1
    before = snapshot(db_url)
    err(client.delete(proc_url(pid=pid), headers=EN), 404, 1199019, str(pid))
    assert snapshot(db_url) == before


# --- audit log (§5) --------------------------------------------------------------------------


def test_audit_rows_for_create_update_delete(client, db_url):
    acct, biz = "acme", 7
    headers = {"BK_User": "alice", "X-Request-Id": "req-create-1"}
    resp = client.post(proc_url(acct, biz), json=FULL, headers=headers)
    pid = ok(resp)["bk_process_id"]
    assert resp.headers["X-Request-Id"] == "req-create-1"

    resp = client.put(proc_url(acct, biz, pid), json={"user": "root"}, headers={"BK-User": "bob"})
    ok(resp)
    update_request = resp.headers["X-Request-Id"]
    assert update_request

    add_bindings(db_url, pid, ["web", "cache", "db"])
    resp = client.delete(proc_url(acct, biz, pid))
    ok(resp)
    delete_request = resp.headers["X-Request-Id"]
    assert delete_request != update_request

    rows = audit_rows(db_url)
    assert [r["op_type"] for r in rows] == [1, 2, 3]
    assert [r["operator"] for r in rows] == ["alice", "bob", "anonymous"]
    assert [r["request_id"] for r in rows] == ["req-create-1", update_request, delete_request]
    for row in rows:
        assert row["op_target"] == "process"
        assert row["inst_id"] == pid
        assert row["bk_supplier_account"] == acct
        assert row["bk_biz_id"] == biz
    created, updated, deleted = (r["content"] for r in rows)

    attrs = {"bk_biz_id": biz, **FULL_STORED}
    assert created["pre_data"] == {}
    assert {k: created["cur_data"][k] for k in ATTRIBUTE_IDS} == attrs
    assert created["cur_data"]["bk_process_id"] == pid

    assert {k: updated["pre_data"][k] for k in ATTRIBUTE_IDS} == attrs
    assert {k: updated["cur_data"][k] for k in ATTRIBUTE_IDS} == {**attrs, "user": "root"}

    assert deleted["cur_data"] == {}
    assert {k: deleted["pre_data"][k] for k in ATTRIBUTE_IDS} == {**attrs, "user": "root"}
    assert deleted["pre_data"]["bk_module_names"] == ["cache", "db", "web"]


def test_audit_rows_for_batch_update(client, db_url):
    ids = [create(client, bk_process_name=f"p{i}") for i in range(3)]
    start = len(audit_rows(db_url))
    resp = client.put(
        proc_url(),
        json={"bk_process_id": ids[:2], "user": "svc"},
        headers={"BK_User": "carol"},
    )
    ok(resp)
    new = audit_rows(db_url)[start:]
    assert sorted(r["inst_id"] for r in new) == ids[:2]
    for row in new:
        assert (row["op_type"], row["op_target"], row["operator"]) == (2, "process", "carol")
        assert row["request_id"] == resp.headers["X-Request-Id"]
        assert row["content"]["pre_data"]["user"] == ""
        assert row["content"]["cur_data"]["user"] == "svc"
        assert row["content"]["cur_data"]["bk_process_id"] == row["inst_id"]


def test_deleted_process_without_bindings_records_empty_module_list(client, db_url):
    pid = create(client)
    ok(client.delete(proc_url(pid=pid)))
    assert audit_rows(db_url)[-1]["content"]["pre_data"]["bk_module_names"] == []


def test_failed_writes_write_no_audit_row(client, db_url):
    pid = create(client, bk_process_name="a")
    create(client, bk_process_name="b")
    before = snapshot(db_url)
    failures = [
        client.post(proc_url(), json={"bk_process_name": "a", "bk_func_name": "a"}),  # 409
        client.post(proc_url(), json={"bk_func_name": "a"}),  # 400
        client.put(proc_url(pid=pid), json={"bk_process_name": "b"}),  # 409
        client.put(proc_url(pid=pid), json={"timeout": 0}),  # 400
        client.put(proc_url(pid=pid + 100), json={}),  # 404
        client.delete(proc_url(pid=pid + 100)),  # 404
        client.put(proc_url(), json={"bk_process_id": str(pid)}),  # 400
    ]
    assert [r.status_code for r in failures] == [409, 400, 409, 400, 404, 404, 400]
    assert snapshot(db_url) == before


# --- database unavailable --------------------------------------------------------------------

LEAKS = ("SELECT", "INSERT", "UPDATE ", "DELETE FROM", "psycopg", "sqlalchemy", "Operational",
         "127.0.0.1", "connection", "Traceback", "/", "port 1")  # fmt: skip


def test_database_unavailable_is_503_without_detail():
    app = create_app(
        {"DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none", "LOG_LEVEL": "WARNING"}
    )
    client = app.test_client()
    try:
        cases = [
            (client.post, proc_url(), {"bk_process_name": "a", "bk_func_name": "a"}, 1108008),
            (client.post, "/api/v3/proc/search/0/1", {}, 1108006),
            (client.get, proc_url(pid=1), None, 1108001),
            (client.put, proc_url(pid=1), {"user": "x"}, 1108005),
            (client.put, proc_url(), {"bk_process_id": "1,2", "user": "x"}, 1108005),
            (client.delete, proc_url(pid=1), None, 1108007),
            (client.get, "/api/v3/proc/module/0/1/1", None, 1108004),
            (client.put, "/api/v3/proc/module/0/1/1/gs", None, 1108002),
            (client.delete, "/api/v3/proc/module/0/1/1/gs", None, 1108003),
            (client.post, "/api/v3/set/1", {"bk_set_name": "a"}, 1108008),
            (client.put, "/api/v3/set/1/1", {}, 1108005),
            (client.delete, "/api/v3/set/1/1", None, 1108007),
            (client.post, "/api/v3/set/search/0/1", {}, 1108006),
            (client.post, "/api/v3/module/1/1", {"bk_module_name": "a"}, 1108008),
            (client.put, "/api/v3/module/1/1/1", {}, 1108005),
            (client.delete, "/api/v3/module/1/1/1", None, 1108007),
            (client.post, "/api/v3/module/search/0/1/1", {}, 1108006),
            (client.post, "/api/v3/audit/search", {}, 1108006),
        ]
        for method, url, body, code in cases:
            for headers in (EN, ZH):
                resp = (
                    method(url, json=body, headers=headers)
                    if body is not None
                    else method(url, headers=headers)
                )
                msg = err(resp, 503, code)
                assert msg, code
                assert not any(leak in msg for leak in LEAKS), msg
                if headers is EN:
                    assert msg.startswith("database unavailable"), msg
    finally:
        app.extensions["db_engine"].dispose()
