"""Service endpoints outside /api/v3 (docs/api.md §7)."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from proc_service import create_app


def test_health_and_ready(client):
    assert client.get("/healthz").get_json()["data"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["data"] == "ready"


def test_not_ready_when_not_migrated(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'blank.sqlite3'}"})
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 503 and resp.get_json()["result"] is False
    # Liveness does not depend on the database.
    assert app.test_client().get("/healthz").status_code == 200


def test_not_ready_when_behind_head(db_url):
    engine = create_engine(db_url)
    with engine.begin() as conn:
        head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    try:
        app = create_app({"DATABASE_URL": db_url})
        assert app.test_client().get("/readyz").status_code == 503
        app.extensions["db_engine"].dispose()
    finally:  # the PostgreSQL database is shared by the session's tests
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
        engine.dispose()


def test_openapi_documents_the_process_endpoints(client):
    spec = client.get("/openapi.json").get_json()
    paths = spec["paths"]
    assert set(paths["/api/v3/proc/{bk_supplier_account}/{bk_biz_id}"]) >= {"post", "put"}
    assert set(paths["/api/v3/proc/{bk_supplier_account}/{bk_biz_id}/{bk_process_id}"]) >= {
        "get",
        "put",
        "delete",
    }
    assert "post" in paths["/api/v3/proc/search/{bk_supplier_account}/{bk_biz_id}"]
    create = spec["components"]["schemas"]["ProcessCreate"]
    # Generated from the attribute table: limits and options come through.
    assert create["properties"]["bk_process_name"]["maxLength"] == 256
    assert create["properties"]["bk_process_name"]["minLength"] == 1
    assert create["properties"]["work_path"]["maxLength"] == 2000
    # an enum is its code, as text ("" for no choice) or as an integer
    assert [m["enum"] for m in create["properties"]["bind_ip"]["anyOf"]] == [
        ["1", "2", "3", "4", ""],
        [1, 2, 3, 4],
    ]
    assert create["properties"]["proc_num"]["anyOf"][0]["maximum"] == 10000
    assert set(create["required"]) == {"bk_process_name", "bk_func_name"}
    params = paths["/api/v3/proc/{bk_supplier_account}/{bk_biz_id}/{bk_process_id}"]["parameters"]
    assert {p["name"]: p["schema"]["type"] for p in params} == {
        "bk_supplier_account": "string",
        "bk_biz_id": "integer",
        "bk_process_id": "integer",
    }
    assert client.get("/docs").status_code == 200


def test_openapi_documents_topology_bindings_and_audit(client):
    spec = client.get("/openapi.json").get_json()
    paths = spec["paths"]
    binding = "/api/v3/proc/module/{bk_supplier_account}/{bk_biz_id}/{bk_process_id}"
    assert "get" in paths[binding]
    assert set(paths[binding + "/{bk_module_name}"]) >= {"put", "delete"}
    assert set(paths["/api/v3/set/{bk_biz_id}/{bk_set_id}"]) >= {"put", "delete"}
    assert set(paths["/api/v3/module/{bk_biz_id}/{bk_set_id}/{bk_module_id}"]) >= {"put", "delete"}
    assert "post" in paths["/api/v3/module/search/{bk_supplier_account}/{bk_biz_id}/{bk_set_id}"]
    # Writes without an account in the path document the header that carries it.
    create_set = paths["/api/v3/set/{bk_biz_id}"]["post"]
    assert [p["name"] for p in create_set["parameters"]] == ["HTTP_BLUEKING_SUPPLIER_ID"]
    audit = paths["/api/v3/audit/search"]["post"]
    assert [p["name"] for p in audit["parameters"]] == ["HTTP_BLUEKING_SUPPLIER_ID"]
    schemas = spec["components"]["schemas"]
    # Generated from the set and module tables, like the process schemas.
    assert schemas["SetCreate"]["properties"]["bk_set_env"]["anyOf"][0]["enum"] == [
        "1",
        "2",
        "3",
        "",
    ]
    assert schemas["SetCreate"]["properties"]["bk_capacity"]["anyOf"][0]["maximum"] == 999999999
    assert schemas["SetCreate"]["required"] == ["bk_set_name"]
    assert schemas["ModuleCreate"]["required"] == ["bk_module_name"]
    assert schemas["ModuleCreate"]["properties"]["bk_module_type"]["anyOf"][1]["enum"] == [1, 2]


def test_metrics_count_requests(client):
    client.post("/api/v3/proc/search/0/1", json={})
    text_ = client.get("/metrics").get_data(as_text=True)
    assert "proc_service_requests_total" in text_
    assert 'endpoint="process.search_process"' in text_
