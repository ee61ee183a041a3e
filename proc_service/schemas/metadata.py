"""Attribute metadata (docs/api.md §11): the search body and the definitions it answers."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from .. import context
from ..attributes import CUSTOM_TYPES
from ..services import metadata as service
from .responses import EnvelopeSchema


class AttributeSearchSchema(Schema):
    class Meta:
        unknown = RAISE

    bk_obj_id = fields.String(
        validate=validate.OneOf(service.KIND_NAMES, error="1199006"),
        error_messages={"invalid": "1199007", "null": "1199007"},
        metadata={"description": "process, set or module; absent: all three"},
    )
    bk_supplier_account = fields.String(
        load_default="0",
        validate=validate.Regexp(f"^{context.ACCOUNT.pattern}$", error="1199006"),
        error_messages={"invalid": "1199007", "null": "1199007"},
        metadata={"description": "echoed in each definition", "maxLength": 64},
    )


class AttributeSchema(Schema):
    id = fields.Integer()
    bk_obj_id = fields.String()
    bk_property_id = fields.String()
    bk_property_name = fields.String()
    bk_property_type = fields.String(metadata={"enum": list(CUSTOM_TYPES)})
    bk_property_index = fields.Integer()
    bk_property_group = fields.String(
        metadata={"description": f"preset: {', '.join(service.GROUPS)}; custom: as defined"}
    )
    bk_property_group_name = fields.String()
    isrequired = fields.Boolean()
    isonly = fields.Boolean()
    isreadonly = fields.Boolean()
    editable = fields.Boolean()
    ispre = fields.Boolean()
    isapi = fields.Boolean()
    option = fields.Raw(
        metadata={
            "description": 'enum: [{"id", "name", "type", "is_default"}]; int: {"min", "max"};'
            " strings: a pattern or empty"
        }
    )
    placeholder = fields.String()
    unit = fields.String()
    description = fields.String()
    creator = fields.String()
    bk_supplier_account = fields.String()
    create_time = fields.String(metadata={"description": "custom attributes only"})
    last_time = fields.String(metadata={"description": "custom attributes only"})


class AttributeSearchResultSchema(EnvelopeSchema):
    data = fields.List(fields.Nested(AttributeSchema))


class AttributeCreatedSchema(EnvelopeSchema):
    data = fields.Nested(AttributeSchema)
