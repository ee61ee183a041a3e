"""Attribute metadata (docs/api.md §11): POST /api/v3/object/attr/search, bk-cmdb's
search_object_attribute. No database: the answer comes from the attribute tables."""

from __future__ import annotations

from flask_smorest import Blueprint

from ..errors import Op
from ..schemas.metadata import AttributeSearchResultSchema, AttributeSearchSchema
from ..services import metadata as service
from ..web.endpoint import ANY, endpoint
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
    return service.attributes(kind, call.lang, params["bk_supplier_account"])
