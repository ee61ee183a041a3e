"""Process bindings (contract §3): path → services.binding → models.ProcessBinding / Module."""

from __future__ import annotations

from flask_smorest import Blueprint

from .. import db
from ..envelope import ok
from ..schemas import BindingListSchema
from ..services import binding as service
from . import actor, check_path, doc, scope

blp = Blueprint(
    "binding", __name__, url_prefix="/api/v3/proc/module", description="Process bindings"
)
blp.url_value_preprocessor(check_path)

ONE = "/<account:bk_supplier_account>/<id:bk_biz_id>/<id:bk_process_id>"
# A module name is URL-decoded text that may hold "/" (sent as %2F): the rest of the path.
NAMED = ONE + "/<module_name:bk_module_name>"


@blp.route(ONE, methods=["GET"])
@doc(blp, result=BindingListSchema)
def get_process_bind_module(bk_supplier_account: str, bk_biz_id: int, bk_process_id: int):
    """get_process_bind_module: the business's module names, and which this process is bound to"""
    where = scope(bk_supplier_account, bk_biz_id)
    return ok(service.list_modules(db.session(), where, bk_process_id))


@blp.route(NAMED, methods=["PUT"])
@doc(blp)
def bind_process_module(
    bk_supplier_account: str, bk_biz_id: int, bk_process_id: int, bk_module_name: str
):
    """bind_process_module: bind a process to a module name (every module of that name)"""
    where = scope(bk_supplier_account, bk_biz_id)
    service.bind(db.session(), where, actor(), bk_process_id, bk_module_name)
    return ok()


@blp.route(NAMED, methods=["DELETE"])
@doc(blp)
def delete_process_module_binding(
    bk_supplier_account: str, bk_biz_id: int, bk_process_id: int, bk_module_name: str
):
    """delete_process_module_binding: unbind; unbinding what is not bound is a success"""
    where = scope(bk_supplier_account, bk_biz_id)
    service.unbind(db.session(), where, actor(), bk_process_id, bk_module_name)
    return ok()
