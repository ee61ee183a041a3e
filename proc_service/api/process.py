"""The process endpoints (contract §3): path → schema → services.process → models.Process."""

from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint

from .. import context, db
from ..envelope import ok
from ..schemas import (
    CreatedSchema,
    DetailSchema,
    ProcessBatchUpdateSchema,
    ProcessCreateSchema,
    ProcessUpdateSchema,
    SearchResultSchema,
    SearchSchema,
    SuccessSchema,
    load,
    load_batch_update,
)
from ..services import process as service
from . import actor, check_path, doc, json_body, scope

blp = Blueprint("process", __name__, url_prefix="/api/v3/proc", description="Processes")
blp.url_value_preprocessor(check_path)

# Issue 7: one instance of each body schema, made once. Building one per request cost
# 30-240 µs (marshmallow copies every declared field); loading keeps no state on the instance.
CREATE = ProcessCreateSchema()
SEARCH = SearchSchema()
UPDATE = ProcessUpdateSchema()

ONE = "/<account:bk_supplier_account>/<id:bk_biz_id>/<id:bk_process_id>"
ALL = "/<account:bk_supplier_account>/<id:bk_biz_id>"


def _doc(body=None, result=SuccessSchema):
    return doc(blp, body, result)


@blp.route(ALL, methods=["POST"])
@_doc(ProcessCreateSchema, CreatedSchema)
def create_process(bk_supplier_account: str, bk_biz_id: int):
    """create_process: create a process; answers its id"""
    values = load(CREATE, json_body())
    where = scope(bk_supplier_account, bk_biz_id)
    return ok({"bk_process_id": service.create(db.session(), where, actor(), values)})


@blp.route("/search" + ALL, methods=["POST"])
@_doc(SearchSchema, SearchResultSchema)
def search_process(bk_supplier_account: str, bk_biz_id: int):
    """search_process: filter, project, sort and page the processes of a business"""
    params = load(SEARCH, json_body(), ignore=())
    where = scope(bk_supplier_account, bk_biz_id)
    timeout = current_app.config["REGEX_TIMEOUT_MS"]
    return ok(service.search(db.session(), where, params, regex_timeout_ms=timeout))


@blp.route(ONE, methods=["GET"])
@_doc(result=DetailSchema)
def get_process_detail(bk_supplier_account: str, bk_biz_id: int, bk_process_id: int):
    """get_process_detail: the 22 attributes, named in the request's language"""
    where = scope(bk_supplier_account, bk_biz_id)
    return ok(service.detail(db.session(), where, bk_process_id, context.language()))


@blp.route(ONE, methods=["PUT"])
@_doc(ProcessUpdateSchema)
def update_process(bk_supplier_account: str, bk_biz_id: int, bk_process_id: int):
    """update_process: change the attributes sent, leave the rest"""
    values = load(UPDATE, json_body())
    where = scope(bk_supplier_account, bk_biz_id)
    service.update(db.session(), where, actor(), bk_process_id, values)
    return ok()


@blp.route(ALL, methods=["PUT"])
@_doc(ProcessBatchUpdateSchema)
def batch_update_process(bk_supplier_account: str, bk_biz_id: int):
    """batch_update_process: set the same attributes on several processes, all or none"""
    ids, values = load_batch_update(json_body())
    where = scope(bk_supplier_account, bk_biz_id)
    service.batch_update(db.session(), where, actor(), ids, values)
    return ok()


@blp.route(ONE, methods=["DELETE"])
@_doc()
def delete_process(bk_supplier_account: str, bk_biz_id: int, bk_process_id: int):
    """delete_process: delete a process and its module bindings"""
    service.delete(db.session(), scope(bk_supplier_account, bk_biz_id), actor(), bk_process_id)
    return ok()
