"""The seed document's own request examples, sent verbatim (proc_config_api.txt)."""

from .kit import SEED_CREATE as CREATE
from .kit import SEED_SEARCH as SEARCH
from .kit import ok


def test_seed_create_then_search(client):
    created = ok(client.post("/api/v3/proc/0/12233", json=CREATE))
    assert set(created) == {"bk_process_id"} and created["bk_process_id"] > 0

    found = ok(client.post("/api/v3/proc/search/0/12233", json=SEARCH))
    assert found == {
        "count": 1,
        "info": [{"bk_process_id": created["bk_process_id"], "bk_process_name": "nginx"}],
    }


def test_seed_detail_update_batch_delete(client):
    pid = ok(client.post("/api/v3/proc/0/12233", json=CREATE))["bk_process_id"]
    other = ok(client.post("/api/v3/proc/0/12233", json={**CREATE, "bk_process_name": "apache"}))
    other_id = other["bk_process_id"]

    rows = ok(client.get(f"/api/v3/proc/0/12233/{pid}"))
    assert rows[1] == {
        "bk_property_id": "bk_process_name",
        "bk_property_name": "进程名称",
        "bk_property_value": "nginx",
    }

    assert ok(client.put(f"/api/v3/proc/0/12233/{pid}", json={"bk_process_name": "nginx"})) == (
        "success"
    )

    batch = {"bk_process_id": f"{pid},{other_id}", "start_cmd": "./start.sh 8080", "port": "1000"}
    assert ok(client.put("/api/v3/proc/0/12233", json=batch)) == "success"
    info = ok(client.post("/api/v3/proc/search/0/12233", json={}))["info"]
    assert [(p["start_cmd"], p["port"]) for p in info] == [("./start.sh 8080", "1000")] * 2

    assert ok(client.delete(f"/api/v3/proc/0/12233/{pid}")) == "success"
    assert ok(client.post("/api/v3/proc/search/0/12233", json={}))["count"] == 1
