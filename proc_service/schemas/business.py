"""search_business: its body and answer."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from ..values import PAGE_LIMIT
from .attribute import IntegerText
from .document import page_limit, page_start
from .responses import EnvelopeSchema

SORTS = ("bk_biz_id", "-bk_biz_id")


class BusinessPageSchema(Schema):
    class Meta:
        unknown = RAISE

    start = IntegerText(
        load_default=0,
        error_messages={"null": "1199009"},
        metadata={"description": "rows to skip", **page_start()},
    )
    limit = IntegerText(
        load_default=0,
        error_messages={"null": "1199009"},
        metadata={"description": f"page size, 1..{PAGE_LIMIT}; absent or 0: 200", **page_limit()},
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
