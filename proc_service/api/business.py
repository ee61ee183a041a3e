"""search_business: POST /api/v3/biz/search/{bk_supplier_account}, the businesses of an
account that hold processes or sets (bk-cmdb's path; businesses here are implicit, §1)."""

from __future__ import annotations

from flask_smorest import Blueprint

from ..errors import Op
from ..schemas.business import BusinessSearchResultSchema, BusinessSearchSchema
from ..services import business as service
from ..web.endpoint import endpoint
from . import examples

blp = Blueprint("business", __name__, url_prefix="/api/v3/biz", description="Businesses")


@endpoint(
    blp,
    "/search/<account:bk_supplier_account>",
    "POST",
    op=Op.SEARCH,
    body=BusinessSearchSchema,
    result=BusinessSearchResultSchema,
    example=examples.SEARCH_BUSINESS,
)
def search_business(call, body):
    """search_business: the businesses of an account that hold processes or sets"""
    return service.search(call.session, call.account, body["page"])
