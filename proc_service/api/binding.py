"""Process bindings (docs/api.md §3): path → services.binding → models.ProcessBinding / Module."""

from __future__ import annotations

from flask_smorest import Blueprint

from ..errors import Op
from ..schemas.responses import BindingListSchema
from ..services import binding as service
from ..web.endpoint import endpoint

blp = Blueprint(
    "binding", __name__, url_prefix="/api/v3/proc/module", description="Process bindings"
)

ONE = "/<proc_account:bk_supplier_account>/<id:bk_biz_id>/<id:bk_process_id>"
# A module name is URL-decoded text that may hold "/" (sent as %2F): the rest of the path.
NAMED = ONE + "/<module_name:bk_module_name>"


@endpoint(blp, ONE, "GET", op=Op.LIST_BINDINGS, result=BindingListSchema, lean=True)
def get_process_bind_module(call, bk_process_id: int):
    """get_process_bind_module: the business's module names, and which this process is bound to"""
    return service.list_modules(call.reader, call.scope, bk_process_id)


@endpoint(blp, NAMED, "PUT", op=Op.BIND)
def bind_process_module(call, bk_process_id: int, bk_module_name: str):
    """bind_process_module: bind a process to a module name (every module of that name)"""
    service.bind(call.session, call.scope, call.actor, bk_process_id, bk_module_name)


@endpoint(blp, NAMED, "DELETE", op=Op.UNBIND)
def delete_process_module_binding(call, bk_process_id: int, bk_module_name: str):
    """delete_process_module_binding: unbind; unbinding what is not bound is a success"""
    service.unbind(call.session, call.scope, call.actor, bk_process_id, bk_module_name)
