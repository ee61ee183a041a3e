"""search_business: POST /api/v3/biz/search/{bk_supplier_account}, the businesses of an
account that hold processes or sets (bk-cmdb's path; businesses here are implicit, §1)."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, validate

from .. import db
from ..envelope import ok
from ..errors import ApiError
from ..schemas import EnvelopeSchema, IntegerText, load
from ..services import business as service
from . import check_path, doc, json_body

blp = Blueprint("business", __name__, url_prefix="/api/v3/biz", description="Businesses")
blp.url_value_preprocessor(check_path)
PAGE_MAX = 200
SORTS = ("bk_biz_id", "-bk_biz_id")


class BusinessPageSchema(Schema):
    class Meta:
        unknown = RAISE

    start = IntegerText(load_default=0, error_messages={"null": "1199009"}, metadata={"minimum": 0})
    limit = IntegerText(
        load_default=0,
        error_messages={"null": "1199009"},
        metadata={"minimum": 0, "maximum": PAGE_MAX, "description": "absent or 0: 200"},
    )
    sort = fields.String(
        load_default="bk_biz_id",
        validate=validate.OneOf(SORTS, error="1199011"),
        error_messages={"invalid": "1199007", "null": "1199007"},
        metadata={"enum": ["bk_biz_id", "-bk_biz_id"], "description": "default bk_biz_id"},
    )


class BusinessSearchSchema(Schema):
    class Meta:
        unknown = RAISE

    page = fields.Nested(
        BusinessPageSchema,
        load_default=lambda: BusinessPageSchema().load({}),
        error_messages={"type": "1199006", "null": "1199006"},
    )


class BusinessSearchResultSchema(EnvelopeSchema):
    class Data(Schema):
        class Business(Schema):
            bk_biz_id = fields.Integer()
            bk_supplier_account = fields.String()

        count = fields.Integer()
        info = fields.List(fields.Nested(Business))

    data = fields.Nested(Data)


@blp.route("/search/<account:bk_supplier_account>", methods=["POST"])
@doc(blp, BusinessSearchSchema, BusinessSearchResultSchema)
def search_business(bk_supplier_account: str):
    """search_business: the businesses of an account that hold processes or sets"""
    page = load(BusinessSearchSchema(), json_body(), ignore=())["page"]
    start, limit = page["start"], page["limit"] or PAGE_MAX
    if start < 0:
        raise ApiError(1199006, "page.start")
    if limit < 0:
        raise ApiError(1199006, "page.limit")
    if limit > PAGE_MAX:
        raise ApiError(1199015, "page.limit")
    descending = page["sort"] == "-bk_biz_id"
    return ok(service.search(db.session(), bk_supplier_account, start, limit, descending))
