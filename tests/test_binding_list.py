"""get_process_bind_module (docs/api.md §3), and bindings that outlive topology changes (§6)."""

from __future__ import annotations

import pytest

from .dbkit import binding_rows
from .kit import EN, ZH, binding_url, create, err, new_module, new_set, ok
from .support.bindings import UNKNOWN_PROCESS, bound, bound_to, listing, module_path

# --- get_process_bind_module -----------------------------------------------------------------


def test_list_one_entry_per_normal_module_name_in_first_created_order(client):
    s1, s2, s3 = (
        new_set(client, "s1")["bk_set_id"],
        new_set(client, "s2")["bk_set_id"],
        new_set(client, "s3")["bk_set_id"],
    )
    new_module(client, s1, "zeta")
    new_module(client, s1, "web")
    new_module(client, s2, "alpha")
    new_module(client, s2, "web")
    new_module(client, s3, "web")
    new_module(client, s3, "zeta")
    # idle and fault modules are not listed, nor counted in set_num
    new_module(client, s1, "idle", default=1)
    new_module(client, s2, "fault", default=2)
    new_module(client, s3, "alpha", default=1)
    # modules of another business or another account do not count
    other_biz = new_set(client, "s1", biz=2)["bk_set_id"]
    new_module(client, other_biz, "web", biz=2)
    new_module(client, other_biz, "beta", biz=2)
    other_account = new_set(client, "s1", account="tenant-b")["bk_set_id"]
    new_module(client, other_account, "web", account="tenant-b")
    new_module(client, other_account, "gamma", account="tenant-b")
    pid = create(client)

    # created order, not alphabetical: zeta came first, then web, then alpha
    assert listing(client, pid) == [("zeta", 2, 0), ("web", 3, 0), ("alpha", 1, 0)]

    bound(client, pid, "web")
    assert listing(client, pid) == [("zeta", 2, 0), ("web", 3, 1), ("alpha", 1, 0)]
    bound(client, pid, "alpha")
    assert listing(client, pid) == [("zeta", 2, 0), ("web", 3, 1), ("alpha", 1, 1)]


def test_list_order_follows_the_first_module_of_a_name_across_sets(client):
    s1, s2 = new_set(client, "s1")["bk_set_id"], new_set(client, "s2")["bk_set_id"]
    new_module(client, s1, "b")
    new_module(client, s2, "a")
    new_module(client, s1, "a")
    new_module(client, s2, "c")
    new_module(client, s2, "b")
    pid = create(client)
    assert listing(client, pid) == [("b", 2, 0), ("a", 2, 0), ("c", 1, 0)]


def test_list_of_a_business_without_modules_is_empty(client):
    other = new_set(client, "s1", biz=2)["bk_set_id"]
    new_module(client, other, "web", biz=2)
    pid = create(client)
    assert listing(client, pid) == []


def test_list_is_per_process(client):
    s1 = new_set(client, "set")["bk_set_id"]
    for name in ["web", "db", "cache"]:
        new_module(client, s1, name)
    p1 = create(client, bk_process_name="p1")
    p2 = create(client, bk_process_name="p2")
    bound(client, p1, "web")
    bound(client, p2, "db")
    bound(client, p2, "cache")
    assert listing(client, p1) == [("web", 1, 1), ("db", 1, 0), ("cache", 1, 0)]
    assert listing(client, p2) == [("web", 1, 0), ("db", 1, 1), ("cache", 1, 1)]


@UNKNOWN_PROCESS
def test_list_of_an_unknown_process_is_404(client, account, biz, offset):
    new_module(client, new_set(client, "set")["bk_set_id"], "web")
    pid = create(client)
    missing = pid + offset
    resp = client.get(binding_url(missing, account=account, biz=biz), headers=EN)
    msg = err(resp, 404, 1199019, "bk_process_id")
    assert str(missing) in msg
    resp = client.get(binding_url(missing, account=account, biz=biz), headers=ZH)
    assert err(resp, 404, 1199019).startswith("未找到相关数据")


# --- dangling bindings: topology changes never delete bindings (§3, §6) ----------------------


def _delete_module(client, ctx):
    ok(client.delete(module_path(ctx["set"], ctx["web"])))


def _rename_module(client, ctx):
    ok(client.put(module_path(ctx["set"], ctx["web"]), json={"bk_module_name": "www"}))


def _delete_set(client, ctx):
    ok(client.delete(f"/api/v3/set/1/{ctx['set']}"))


def _make_module_idle(client, ctx):
    ok(client.put(module_path(ctx["set"], ctx["web"]), json={"default": 1}))


@pytest.mark.parametrize(
    "vanish",
    [_delete_module, _rename_module, _delete_set, _make_module_idle],
    ids=["delete-module", "rename-module", "delete-set", "module-made-idle"],
)
def test_a_binding_outlives_its_modules_and_is_listed_last(client, db_url, vanish):
    keep = new_set(client, "keep")["bk_set_id"]
    new_module(client, keep, "db")
    new_module(client, keep, "web", default=1)[
        "bk_module_id"
    ]  # an idle "web" does not keep the name alive
    doomed = new_set(client, "doomed")["bk_set_id"]
    web = new_module(client, doomed, "web")["bk_module_id"]
    new_module(client, keep, "cache")
    pid = create(client)
    bound(client, pid, "web")
    bound(client, pid, "db")
    assert listing(client, pid) == [("db", 1, 1), ("web", 1, 1), ("cache", 1, 0)]

    vanish(client, {"set": doomed, "web": web})

    rows = binding_rows(db_url)
    assert rows == sorted([(pid, "web"), (pid, "db")])
    expected = [("db", 1, 1), ("cache", 1, 0), ("web", 0, 1)]
    if vanish is _rename_module:  # the new name is an ordinary, unbound name, in web's place
        expected.insert(1, ("www", 1, 0))
    assert listing(client, pid) == expected
    assert bound_to(client, "web") == [pid]  # still bound, so still found


def test_dangling_bindings_are_listed_in_binding_order(client):
    s1 = new_set(client, "set")["bk_set_id"]
    ids = {name: new_module(client, s1, name)["bk_module_id"] for name in ["a", "b", "c", "d", "e"]}
    pid = create(client)
    for name in ["c", "a", "e", "b"]:
        bound(client, pid, name)
    for name in ["b", "c", "a"]:  # deleted in yet another order
        ok(client.delete(module_path(s1, ids[name])))
    # names still there first (d unbound, e bound), then c, a, b as they were bound; a deleted
    # name that was never bound is simply gone
    assert listing(client, pid) == [("d", 1, 0), ("e", 1, 1), ("c", 0, 1), ("a", 0, 1), ("b", 0, 1)]


def test_a_name_left_in_one_set_keeps_its_place(client):
    s1, s2 = new_set(client, "s1")["bk_set_id"], new_set(client, "s2")["bk_set_id"]
    new_module(client, s1, "web")
    second = new_module(client, s2, "web")["bk_module_id"]
    new_module(client, s2, "db")
    pid = create(client)
    bound(client, pid, "web")
    ok(client.delete(module_path(s2, second)))
    assert listing(client, pid) == [("web", 1, 1), ("db", 1, 0)]


def test_a_recreated_module_makes_a_dangling_binding_ordinary_again(client):
    s1 = new_set(client, "set")["bk_set_id"]
    web = new_module(client, s1, "web")["bk_module_id"]
    new_module(client, s1, "db")
    pid = create(client)
    bound(client, pid, "web")
    ok(client.delete(module_path(s1, web)))
    assert listing(client, pid) == [("db", 1, 0), ("web", 0, 1)]
    new_module(client, new_set(client, "s2")["bk_set_id"], "web")
    assert listing(client, pid) == [("db", 1, 0), ("web", 1, 1)]
