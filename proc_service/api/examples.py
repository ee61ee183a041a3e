"""The request bodies /docs offers for "Try it out": the seed document's own for the process
endpoints, ours for the rest. Each is sent as it stands by tests/test_openapi.py, so the
document never shows a body the server refuses."""

from __future__ import annotations

CREATE_PROCESS = {
    "bk_process_name": "nginx",
    "port": 80,
    "bind_ip": "1",
    "protocol": "1",
    "bk_func_name": "nginx",
    "work_path": "/data/cc/running",
    "user": "cc",
}
SEARCH_PROCESS = {
    "page": {"start": 0, "limit": 10, "sort": "bk_process_name"},
    "fields": ["bk_process_id", "bk_process_name"],
    "condition": {"bk_biz_id": "12233", "bk_process_name": "nginx"},
}
UPDATE_PROCESS = {"bk_process_name": "nginx"}
BATCH_UPDATE_PROCESS = {
    "bk_process_id": "44,45,46,47,48",
    "start_cmd": "./start.sh 8080",
    "port": "1000",
}
CREATE_SET = {"bk_set_name": "gameserver", "bk_set_env": "3", "bk_capacity": 1000}
UPDATE_SET = {"bk_set_desc": "the game's servers", "bk_service_status": "1"}
SEARCH_SET = {
    "page": {"start": 0, "limit": 10, "sort": "bk_set_name"},
    "fields": ["bk_set_id", "bk_set_name"],
    "condition": {"bk_set_env": "3"},
}
CREATE_MODULE = {"bk_module_name": "gamesvr", "bk_module_type": "1", "operator": "admin"}
UPDATE_MODULE = {"bk_bak_operator": "cc"}
SEARCH_MODULE = {
    "page": {"start": 0, "limit": 10, "sort": "bk_module_name"},
    "fields": ["bk_module_id", "bk_module_name"],
    "condition": {"bk_module_type": "1"},
}
SEARCH_AUDIT = {
    "condition": {"bk_biz_id": 12233, "op_target": "process"},
    "start": 0,
    "limit": 10,
    "sort": "-op_time",
}
SEARCH_ATTRIBUTE = {"bk_obj_id": "process", "bk_supplier_account": "0"}
# bk-cmdb v3.1's create_object_attribute document, with an owner field for processes (§14)
CREATE_ATTRIBUTE = {
    "bk_obj_id": "process",
    "bk_supplier_account": "0",
    "bk_property_id": "owner",
    "bk_property_name": "Owner",
    "bk_property_type": "singlechar",
    "bk_property_group": "default",
    "option": "",
    "isrequired": False,
    "isonly": False,
    "editable": True,
    "placeholder": "who to call",
    "unit": "",
    "description": "the team that runs it",
    "creator": "admin",
}
UPDATE_ATTRIBUTE = {"bk_property_name": "Owning team", "isrequired": False}
SEARCH_BUSINESS = {"page": {"start": 0, "limit": 10, "sort": "bk_biz_id"}}
