"""The process endpoints (§3): path → schemas.bodies → services.process → models.Process."""

from __future__ import annotations

from flask_smorest import Blueprint

from ..attributes import PROCESS
from ..errors import Op
from ..schemas import bodies
from ..schemas.responses import CreatedSchema, DetailSchema, SearchResultSchema
from ..schemas.search import ProcessSearchSchema
from ..services import process as service
from ..web.endpoint import endpoint
from . import examples

blp = Blueprint("process", __name__, url_prefix="/api/v3/proc", description="Processes")

ALL = "/<proc_account:bk_supplier_account>/<id:bk_biz_id>"
ONE = ALL + "/<id:bk_process_id>"


@endpoint(
    blp,
    ALL,
    "POST",
    op=Op.CREATE,
    body=bodies.process_create,
    result=CreatedSchema,
    example=examples.CREATE_PROCESS,
    kind=PROCESS,
)
def create_process(call, values):
    """create_process: create a process; answers its id"""
    pid = service.create(call.session, call.model, call.scope, call.actor, values)
    return {"bk_process_id": pid}


@endpoint(
    blp,
    "/search" + ALL,
    "POST",
    op=Op.SEARCH,
    body=ProcessSearchSchema,
    result=SearchResultSchema,
    example=examples.SEARCH_PROCESS,
    kind=PROCESS,
)
def search_process(call, body):
    """search_process: filter, project, sort and page the processes of a business"""
    return service.search(call.session, call.model, call.scope, body, call.regex_timeout_ms)


@endpoint(blp, ONE, "GET", op=Op.DETAIL, result=DetailSchema, kind=PROCESS, lean=True)
def get_process_detail(call, bk_process_id: int):
    """get_process_detail: the 22 attributes (then the account's own), named in the request's
    language"""
    return service.detail(call.reader, call.model, call.scope, bk_process_id, call.lang)


@endpoint(
    blp,
    ONE,
    "PUT",
    op=Op.UPDATE,
    body=bodies.process_update,
    example=examples.UPDATE_PROCESS,
    kind=PROCESS,
)
def update_process(call, values, bk_process_id: int):
    """update_process: change the attributes sent, leave the rest"""
    service.update(call.session, call.model, call.scope, call.actor, bk_process_id, values)


@endpoint(
    blp,
    ALL,
    "PUT",
    op=Op.UPDATE,
    body=bodies.process_batch_update,
    example=examples.BATCH_UPDATE_PROCESS,
    kind=PROCESS,
)
def batch_update_process(call, values):
    """batch_update_process: set the same attributes on several processes, all or none"""
    ids = values.pop("bk_process_id")
    service.batch_update(call.session, call.model, call.scope, call.actor, ids, values)


@endpoint(blp, ONE, "DELETE", op=Op.DELETE, kind=PROCESS)
def delete_process(call, bk_process_id: int):
    """delete_process: delete a process and its module bindings"""
    service.delete(call.session, call.model, call.scope, call.actor, bk_process_id)
