"""The attribute model: search_object_attribute (docs/api.md §11), and the model API of §14
(create, update and delete an account's custom attributes): path → schemas.model →
services.model → models.CustomAttribute."""

from __future__ import annotations

from flask_smorest import Blueprint

from ..attributes import KINDS
from ..data import db
from ..errors import ApiError, Op
from ..schemas.metadata import (
    AttributeCreatedSchema,
    AttributeSearchResultSchema,
    AttributeSearchSchema,
)
from ..schemas.model import AttributeCreateSchema, AttributeUpdateSchema
from ..schemas.responses import NullSchema
from ..services import metadata as service
from ..services import model
from ..web import auth
from ..web.endpoint import ANY, HEADER, NULL, endpoint
from . import examples

blp = Blueprint("metadata", __name__, url_prefix="/api/v3/object", description="Attribute model")


@endpoint(
    blp,
    "/attr/search",
    "POST",
    op=Op.SEARCH,
    body=AttributeSearchSchema,
    result=AttributeSearchResultSchema,
    example=examples.SEARCH_ATTRIBUTE,
    account=ANY,
)
def search_object_attribute(call, params):
    """search_object_attribute: the attribute definitions a form needs, in table order"""
    kind = params.get("bk_obj_id")
    account = params["bk_supplier_account"]
    with db.read(call.session):
        custom = {
            k.name: model.definitions(call.session, account, k)
            for k in KINDS
            if kind in (None, k.name)
        }
    return service.attributes(kind, call.lang, account, custom)


ONE = "/attr/<attr_id:attr_id>"


@endpoint(
    blp,
    "/attr",
    "POST",
    op=Op.CREATE,
    body=AttributeCreateSchema,
    result=AttributeCreatedSchema,
    example=examples.CREATE_ATTRIBUTE,
    account=HEADER,
)
def create_object_attribute(call, values):
    """create_object_attribute: add a custom attribute to an account's process, set or module
    model; answers it as stored"""
    account = values.pop("bk_supplier_account", "") or call.account
    if account != call.account:  # the body names another account: the token must allow it
        auth.authorize(writes=True, account=account)
    values.pop("ispre", None)
    return model.create_attribute(call.session, account, call.actor, values)


@endpoint(
    blp,
    ONE,
    "PUT",
    op=Op.UPDATE,
    body=AttributeUpdateSchema,
    result=NullSchema,
    example=examples.UPDATE_ATTRIBUTE,
    account=HEADER,
)
def update_object_attribute(call, values, attr_id: int):
    """update_object_attribute: change a custom attribute's definition (not its id or type)"""
    values.pop("ispre", None)
    account = values.pop("bk_supplier_account", None)
    if account not in (None, call.account):
        raise ApiError(1199006, "bk_supplier_account")
    model.update_attribute(call.session, call.account, call.actor, attr_id, values)
    return NULL


@endpoint(blp, ONE, "DELETE", op=Op.DELETE, result=NullSchema, account=HEADER)
def delete_object_attribute(call, attr_id: int):
    """delete_object_attribute: remove a custom attribute and its values from every object"""
    model.delete_attribute(call.session, call.account, call.actor, attr_id)
    return NULL
