"""Sets and modules (contract §6): path → schema → services.topology → models.Set / Module.

Writes take the supplier account from HTTP_BLUEKING_SUPPLIER_ID (their paths have none);
searches take it from the path.
"""

from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint

from .. import context, db
from ..attributes import MODULE, SET
from ..envelope import ok
from ..schemas import (
    ModuleCreatedSchema,
    ModuleCreateSchema,
    ModuleSearchResultSchema,
    ModuleUpdateSchema,
    SearchSchema,
    SetCreatedSchema,
    SetCreateSchema,
    SetSearchResultSchema,
    SetUpdateSchema,
    load,
)
from ..services import topology as service
from . import actor, check_path, doc, json_body, scope

set_blp = Blueprint("set", __name__, url_prefix="/api/v3/set", description="Sets")
module_blp = Blueprint("module", __name__, url_prefix="/api/v3/module", description="Modules")
for _blp in (set_blp, module_blp):
    _blp.url_value_preprocessor(check_path)

SET_ONE = "/<id:bk_biz_id>/<id:bk_set_id>"
MODULE_ONE = "/<id:bk_biz_id>/<id:bk_set_id>/<id:bk_module_id>"


def _timeout() -> int:
    return current_app.config["REGEX_TIMEOUT_MS"]


def _here(bk_biz_id: int):
    return scope(context.supplier_account(), bk_biz_id)


@set_blp.route("/<id:bk_biz_id>", methods=["POST"])
@doc(set_blp, SetCreateSchema, SetCreatedSchema, account_header=True)
def create_set(bk_biz_id: int):
    """create_set: create a set in a business; answers the set"""
    values = load(SetCreateSchema(), json_body(), ignore=SET.ignored)
    return ok(service.create_set(db.session(), _here(bk_biz_id), actor(), values))


@set_blp.route(SET_ONE, methods=["PUT"])
@doc(set_blp, SetUpdateSchema, account_header=True)
def update_set(bk_biz_id: int, bk_set_id: int):
    """update_set: change the fields sent, leave the rest"""
    values = load(SetUpdateSchema(), json_body(), ignore=SET.ignored)
    service.update_set(db.session(), _here(bk_biz_id), actor(), bk_set_id, values)
    return ok()


@set_blp.route(SET_ONE, methods=["DELETE"])
@doc(set_blp, account_header=True)
def delete_set(bk_biz_id: int, bk_set_id: int):
    """delete_set: delete a set and its modules (process bindings stay: they name modules)"""
    service.delete_set(db.session(), _here(bk_biz_id), actor(), bk_set_id)
    return ok()


@set_blp.route("/search/<account:bk_supplier_account>/<id:bk_biz_id>", methods=["POST"])
@doc(set_blp, SearchSchema, SetSearchResultSchema)
def search_set(bk_supplier_account: str, bk_biz_id: int):
    """search_set: filter, project, sort and page the sets of a business"""
    params = load(SearchSchema(), json_body(), ignore=())
    where = scope(bk_supplier_account, bk_biz_id)
    return ok(service.search_sets(db.session(), where, params, _timeout()))


@module_blp.route(SET_ONE, methods=["POST"])
@doc(module_blp, ModuleCreateSchema, ModuleCreatedSchema, account_header=True)
def create_module(bk_biz_id: int, bk_set_id: int):
    """create_module: create a module in a set; answers the module"""
    values = load(ModuleCreateSchema(), json_body(), ignore=MODULE.ignored)
    where = _here(bk_biz_id)
    return ok(service.create_module(db.session(), where, actor(), bk_set_id, values))


@module_blp.route(MODULE_ONE, methods=["PUT"])
@doc(module_blp, ModuleUpdateSchema, account_header=True)
def update_module(bk_biz_id: int, bk_set_id: int, bk_module_id: int):
    """update_module: change the fields sent, leave the rest"""
    values = load(ModuleUpdateSchema(), json_body(), ignore=MODULE.ignored)
    where = _here(bk_biz_id)
    service.update_module(db.session(), where, actor(), bk_set_id, bk_module_id, values)
    return ok()


@module_blp.route(MODULE_ONE, methods=["DELETE"])
@doc(module_blp, account_header=True)
def delete_module(bk_biz_id: int, bk_set_id: int, bk_module_id: int):
    """delete_module: delete a module (process bindings stay: they name modules)"""
    service.delete_module(db.session(), _here(bk_biz_id), actor(), bk_set_id, bk_module_id)
    return ok()


@module_blp.route(
    "/search/<account:bk_supplier_account>/<id:bk_biz_id>/<id:bk_set_id>", methods=["POST"]
)
@doc(module_blp, SearchSchema, ModuleSearchResultSchema)
def search_module(bk_supplier_account: str, bk_biz_id: int, bk_set_id: int):
    """search_module: filter, project, sort and page the modules of a set"""
    params = load(SearchSchema(), json_body(), ignore=())
    where = scope(bk_supplier_account, bk_biz_id)
    return ok(service.search_modules(db.session(), where, bk_set_id, params, _timeout()))
