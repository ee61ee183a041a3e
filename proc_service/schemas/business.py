"""search_business: its body and answer."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from ..values import PAGE_LIMIT
from .responses import EnvelopeSchema
from .search import limit_field, start_field

SORTS = ("bk_biz_id", "-bk_biz_id")


class BusinessPageSchema(Schema):
    class Meta:
        unknown = RAISE

    start = start_field()
    limit = limit_field(PAGE_LIMIT)
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
