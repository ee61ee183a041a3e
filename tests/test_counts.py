"""The counts a search reads instead of counting (issue 7), on both databases: a whole
business's count comes from process_counts (kept by triggers), a module-name search's from the
bindings' index. Both must equal a real count through creates, deletes, failed transactions and
concurrent writers."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from .dbkit import race
from .kit import create, ok, proc_url, search

EVERYTHING = {"bk_process_id": {"$gt": 0}}  # a condition, so counted row by row


def _count(client, condition=None, biz=1) -> int:
    body = {"page": {"limit": 1}, **({"condition": condition} if condition else {})}
    return ok(search(client, body, biz=biz))["count"]


def _rows(db_url: str, biz: int = 1) -> int:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                text("SELECT count(*) FROM processes WHERE bk_supplier_account = '0'"
                     " AND bk_biz_id = :biz"), {"biz": biz}
            ).scalar()  # fmt: skip
    finally:
        engine.dispose()


def test_whole_business_count_follows_creates_deletes_and_failures(client, db_url):
    assert _count(client) == 0
    ids = [create(client, bk_process_name=f"p{i}") for i in range(5)]
    create(client, biz=2, bk_process_name="elsewhere")
    assert _count(client) == 5 == _count(client, EVERYTHING)
    assert _count(client, biz=2) == 1
    # a create that fails (name taken) and a batch that fails (unknown id) change nothing
    resp = client.post(proc_url(), json={"bk_process_name": "p0", "bk_func_name": "x"})
    assert resp.status_code == 409
    resp = client.put(proc_url(), json={"bk_process_id": f"{ids[0]},999", "port": "80"})
    assert resp.status_code == 404
    assert _count(client) == 5
    ok(client.delete(proc_url(pid=ids[1])))
    ok(client.delete(proc_url(pid=ids[2])))
    assert _count(client) == 3 == _count(client, EVERYTHING) == _rows(db_url)
    assert _count(client, biz=3) == 0  # a business that never had a process


def test_whole_business_count_under_concurrent_writers(app, client, db_url):
    """Creates, deletes and failing creates racing in one business: the kept count is the
    real one afterwards (no lost update, nothing from a rolled-back transaction)."""
    doomed = [create(client, bk_process_name=f"old{i}") for i in range(6)]
    create(client, bk_process_name="taken")
    calls = []
    for i in range(6):
        calls.append(
            lambda c, i=i: c.post(
                proc_url(), json={"bk_process_name": f"new{i}", "bk_func_name": "f"}
            )
        )
        calls.append(lambda c, pid=doomed[i]: c.delete(proc_url(pid=pid)))
        calls.append(
            lambda c: c.post(proc_url(), json={"bk_process_name": "taken", "bk_func_name": "f"})
        )
    results = race(app, calls)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 12 + [409] * 6, results
    assert _count(client) == 7 == _rows(db_url) == _count(client, EVERYTHING)


def test_module_name_count_follows_binds_unbinds_and_deletes(client, db_url):
    set_id = ok(client.post("/api/v3/set/1", json={"bk_set_name": "s"}))["bk_set_id"]
    for name in ("web", "db"):
        ok(client.post(f"/api/v3/module/1/{set_id}", json={"bk_module_name": name}))
    ids = [create(client, bk_process_name=f"p{i}") for i in range(4)]
    for pid in ids:
        ok(client.put(f"/api/v3/proc/module/0/1/{pid}/web"))
    ok(client.put(f"/api/v3/proc/module/0/1/{ids[0]}/db"))
    assert _count(client, {"bk_module_name": "web"}) == 4
    assert _count(client, {"bk_module_name": {"$in": ["web", "db"]}}) == 4  # each process once
    ok(client.delete(f"/api/v3/proc/module/0/1/{ids[1]}/web"))
    ok(client.delete(proc_url(pid=ids[2])))
    assert _count(client, {"bk_module_name": "web"}) == 2
    # the same searches counted row by row agree
    assert _count(client, {"bk_module_name": "web", **EVERYTHING}) == 2
    assert _count(client, {"bk_module_name": "db"}) == 1


def test_module_name_count_under_concurrent_binds_and_cascades(app, client, db_url):
    """Binds and unbinds racing on one name, then a process deleted by SQL (its bindings go
    through the foreign key's cascade): the kept count is the real one."""
    set_id = ok(client.post("/api/v3/set/1", json={"bk_set_name": "s"}))["bk_set_id"]
    ok(client.post(f"/api/v3/module/1/{set_id}", json={"bk_module_name": "web"}))
    ids = [create(client, bk_process_name=f"p{i}") for i in range(8)]
    for pid in ids[:4]:
        ok(client.put(f"/api/v3/proc/module/0/1/{pid}/web"))
    calls = [lambda c, pid=pid: c.put(f"/api/v3/proc/module/0/1/{pid}/web") for pid in ids[4:]]
    calls += [lambda c, pid=pid: c.delete(f"/api/v3/proc/module/0/1/{pid}/web") for pid in ids[:3]]
    assert [status for status, _ in race(app, calls)] == [200] * 7
    assert _count(client, {"bk_module_name": "web"}) == 5
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            conn.execute(text("DELETE FROM processes WHERE bk_process_id = :pid"), {"pid": ids[7]})
    finally:
        engine.dispose()
    assert _count(client, {"bk_module_name": "web"}) == 4
    assert _count(client, {"bk_module_name": "web", **EVERYTHING}) == 4


# --- issue 15: equality and $in on one custom attribute read custom_counts -----------------

ATTR = "/api/v3/object/attr"


def _define(client, prop, kind_type, **extra):
    body = {"bk_obj_id": "process", "bk_property_id": prop, "bk_property_name": prop,
            "bk_property_type": kind_type, **extra}  # fmt: skip
    ok(client.post(ATTR, json=body))


def _kept(db_url: str) -> dict:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT bk_biz_id, bk_property_id, value, processes FROM custom_counts"
                     " WHERE bk_supplier_account = '0' AND processes <> 0")
            ).all()  # fmt: skip
    finally:
        engine.dispose()
    return {(b, k, v): n for b, k, v, n in rows}


def _real(client, keys=("owner", "weight", "managed")) -> dict:
    """The same counts, from the processes as a client reads them."""
    found: dict = {}
    for biz in (1, 2):
        body = {"page": {"limit": 200}, "fields": list(keys)}
        for row in ok(search(client, body, biz=biz))["info"]:
            for key in keys:
                value = row.get(key)
                if value is not None:
                    text_ = str(value).lower() if isinstance(value, bool) else str(value)
                    found[(biz, key, text_)] = found.get((biz, key, text_), 0) + 1
    return found


def test_custom_value_counts_follow_every_write(client, db_url):
    """custom_counts (migration 0005) equals the values the processes hold through creates,
    updates, batch updates, failed writes, deletes and an attribute's deletion; a search by
    equality or $in on one custom attribute answers its count."""
    _define(client, "owner", "singlechar")
    _define(client, "weight", "int")
    _define(client, "managed", "bool")
    _define(client, "ratio", "float")
    ids = [
        create(
            client,
            bk_process_name=f"p{i}",
            owner=f"team{i % 3}",
            weight=i % 4,
            managed=i % 2 == 0,
            ratio=i / 10,
        )
        for i in range(9)
    ]
    create(client, biz=2, bk_process_name="elsewhere", owner="team0", weight=0)
    create(client, bk_process_name="bare")  # no custom value at all
    assert _kept(db_url) == _real(client)
    assert _kept(db_url)[(1, "owner", "team0")] == 3

    ok(client.put(proc_url(pid=ids[0]), json={"owner": "team1", "weight": None}))
    ok(client.put(proc_url(), json={"bk_process_id": f"{ids[1]},{ids[2]}", "owner": "solo"}))
    # a batch with an unknown id and a create with a taken name change nothing
    resp = client.put(proc_url(), json={"bk_process_id": f"{ids[3]},999999", "owner": "x"})
    assert resp.status_code == 404
    resp = client.post(proc_url(), json={"bk_process_name": "p4", "bk_func_name": "f",
                                         "owner": "ghost"})  # fmt: skip
    assert resp.status_code == 409
    ok(client.delete(proc_url(pid=ids[4])))
    assert _kept(db_url) == _real(client)

    def count(condition):
        return ok(search(client, {"condition": condition, "page": {"limit": 1}}))["count"]

    everything = {"bk_process_id": {"$gt": 0}}  # a second key: counted row by row
    for condition in (
        {"owner": "team1"},
        {"owner": {"$eq": "solo"}},
        {"owner": {"$in": ["team0", "team1", "solo", "nobody"]}},
        {"weight": {"$in": [0, 1, 3]}},
        {"weight": 2},
        {"managed": True},
        {"managed": {"$in": [False]}},
        {"ratio": {"$in": [0.1, 0.2]}},  # floats are counted row by row
    ):
        assert count(condition) == count({**condition, **everything}), condition

    # deleting an attribute removes its values and so its counts, in the same transaction
    weight = next(a["id"] for a in ok(client.post(f"{ATTR}/search",
                                                  json={"bk_obj_id": "process"}))
                  if a["bk_property_id"] == "weight")  # fmt: skip
    ok(client.delete(f"{ATTR}/{weight}"))
    assert not [k for k in _kept(db_url) if k[1] == "weight"]
    assert _kept(db_url) == _real(client, keys=("owner", "managed"))


def test_a_custom_equality_search_reads_the_kept_count(client, db_url):
    """The count of such a search is the kept one, not a count of the rows: proven by a kept
    count made wrong on purpose."""
    _define(client, "owner", "singlechar")
    create(client, bk_process_name="a", owner="ops")
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE custom_counts SET processes = 41 WHERE value = 'ops'"))
    finally:
        engine.dispose()
    found = ok(search(client, {"condition": {"owner": "ops"}}))
    assert (found["count"], len(found["info"])) == (41, 1)
    body = {"condition": {"owner": "ops", "bk_process_id": {"$gt": 0}}}
    assert ok(search(client, body))["count"] == 1
