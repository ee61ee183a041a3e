"""Sets and modules (docs/api.md §6): path → schemas.bodies → services.topology → models.

Writes take the supplier account from HTTP_BLUEKING_SUPPLIER_ID (their paths have none);
searches take it from the path.
"""

from __future__ import annotations

from flask_smorest import Blueprint

from ..attributes import MODULE, SET
from ..errors import Op
from ..schemas import bodies
from ..schemas.responses import (
    ModuleCreatedSchema,
    ModuleSearchResultSchema,
    SetCreatedSchema,
    SetSearchResultSchema,
)
from ..schemas.search import ModuleSearchSchema, SetSearchSchema
from ..services import topology as service
from ..web.endpoint import HEADER, endpoint
from . import examples

set_blp = Blueprint("set", __name__, url_prefix="/api/v3/set", description="Sets")
module_blp = Blueprint("module", __name__, url_prefix="/api/v3/module", description="Modules")

BIZ = "/<id:bk_biz_id>"
SET_ONE = BIZ + "/<id:bk_set_id>"
MODULE_ONE = SET_ONE + "/<id:bk_module_id>"
SEARCH = "/search/<account:bk_supplier_account>" + BIZ


@endpoint(
    set_blp,
    BIZ,
    "POST",
    op=Op.CREATE,
    body=bodies.set_create,
    kind=SET,
    result=SetCreatedSchema,
    example=examples.CREATE_SET,
    account=HEADER,
)
def create_set(call, values):
    """create_set: create a set in a business; answers the set"""
    return service.create_set(call.session, call.model, call.scope, call.actor, values)


@endpoint(
    set_blp,
    SET_ONE,
    "PUT",
    op=Op.UPDATE,
    body=bodies.set_update,
    kind=SET,
    account=HEADER,
    example=examples.UPDATE_SET,
)
def update_set(call, values, bk_set_id: int):
    """update_set: change the fields sent, leave the rest"""
    service.update_set(call.session, call.model, call.scope, call.actor, bk_set_id, values)


@endpoint(set_blp, SET_ONE, "DELETE", op=Op.DELETE, account=HEADER, kind=SET)
def delete_set(call, bk_set_id: int):
    """delete_set: delete a set and its modules (process bindings stay: they name modules)"""
    service.delete_set(call.session, call.model, call.scope, call.actor, bk_set_id)


@endpoint(
    set_blp,
    SEARCH,
    "POST",
    op=Op.SEARCH,
    body=SetSearchSchema,
    kind=SET,
    result=SetSearchResultSchema,
    example=examples.SEARCH_SET,
)
def search_set(call, body):
    """search_set: filter, project, sort and page the sets of a business"""
    return service.search_sets(call.session, call.model, call.scope, body, call.regex_timeout_ms)


@endpoint(
    module_blp,
    SET_ONE,
    "POST",
    op=Op.CREATE,
    body=bodies.module_create,
    kind=MODULE,
    result=ModuleCreatedSchema,
    example=examples.CREATE_MODULE,
    account=HEADER,
)
def create_module(call, values, bk_set_id: int):
    """create_module: create a module in a set; answers the module"""
    return service.create_module(
        call.session, call.model, call.scope, call.actor, bk_set_id, values
    )


@endpoint(
    module_blp,
    MODULE_ONE,
    "PUT",
    op=Op.UPDATE,
    body=bodies.module_update,
    kind=MODULE,
    account=HEADER,
    example=examples.UPDATE_MODULE,
)
def update_module(call, values, bk_set_id: int, bk_module_id: int):
    """update_module: change the fields sent, leave the rest"""
    service.update_module(
        call.session, call.model, call.scope, call.actor, bk_set_id, bk_module_id, values
    )


@endpoint(module_blp, MODULE_ONE, "DELETE", op=Op.DELETE, account=HEADER, kind=MODULE)
def delete_module(call, bk_set_id: int, bk_module_id: int):
    """delete_module: delete a module (process bindings stay: they name modules)"""
    service.delete_module(call.session, call.model, call.scope, call.actor, bk_set_id, bk_module_id)


@endpoint(
    module_blp,
    SEARCH + "/<id:bk_set_id>",
    "POST",
    op=Op.SEARCH,
    body=ModuleSearchSchema,
    kind=MODULE,
    result=ModuleSearchResultSchema,
    example=examples.SEARCH_MODULE,
)
def search_module(call, body, bk_set_id: int):
    """search_module: filter, project, sort and page the modules of a set"""
    return service.search_modules(
        call.session, call.model, call.scope, bk_set_id, body, call.regex_timeout_ms
    )
