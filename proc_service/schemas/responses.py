"""Response schemas: what each endpoint answers, for the OpenAPI document only (views build
the envelope themselves, envelope.py)."""

from __future__ import annotations

import functools

from marshmallow import Schema, fields

from ..attributes import AUDIT, MODULE, PROCESS, SET, Kind
from .attribute import FIELD_TYPES, attribute_doc


class EnvelopeSchema(Schema):
    result = fields.Boolean(required=True)
    bk_error_code = fields.Integer(required=True)
    bk_error_msg = fields.String(required=True)
    data = fields.Raw(allow_none=True)


class ErrorEnvelopeSchema(EnvelopeSchema):
    """An error (§1): result false, a code > 0, the message in the request's language, data
    null."""

    result = fields.Boolean(required=True, metadata={"description": "false"})
    bk_error_code = fields.Integer(required=True, metadata={"minimum": 1})
    data = fields.Raw(allow_none=True, metadata={"description": "null"})


@functools.cache  # one class per name: OpenAPI names components after them
def output_schema(kind: Kind, name: str) -> type[Schema]:
    """One object of ``kind`` as search (and create, for sets and modules) answers it."""
    return Schema.from_dict(
        {
            a.id: FIELD_TYPES[a.type](allow_none=True, metadata=attribute_doc(a))
            for a in (*kind.attributes, *kind.system)
        },
        name=name,
    )


def enveloped(data: fields.Field, name: str) -> type[Schema]:
    return type(name, (EnvelopeSchema,), {"data": data})


def search_result(kind: Kind, name: str) -> type[Schema]:
    item = output_schema(kind, name)
    data = Schema.from_dict(
        {"count": fields.Integer(), "info": fields.List(fields.Nested(item))},
        name=f"{name}SearchData",
    )
    return enveloped(fields.Nested(data), f"{name}SearchResult")


class DetailRowSchema(Schema):
    bk_property_id = fields.String()
    bk_property_name = fields.String()
    bk_property_value = fields.Raw(allow_none=True)


class BoundModuleSchema(Schema):
    bk_module_name = fields.String()
    set_num = fields.Integer()
    is_bind = fields.Integer(metadata={"enum": [0, 1]})


SuccessSchema = enveloped(fields.String(metadata={"example": "success"}), "Success")
# bk-cmdb's update and delete of an attribute answer data: null (§14)
NullSchema = enveloped(
    fields.Constant(None, allow_none=True, metadata={"nullable": True, "enum": [None]}), "Null"
)
CreatedSchema = enveloped(
    fields.Nested(
        Schema.from_dict({"bk_process_id": fields.Integer(required=True)}, name="CreatedData")
    ),
    "Created",
)
SearchResultSchema = search_result(PROCESS, "Process")
SetSearchResultSchema = search_result(SET, "Set")
ModuleSearchResultSchema = search_result(MODULE, "Module")
AuditSearchResultSchema = search_result(AUDIT, "AuditRow")
SetCreatedSchema = enveloped(fields.Nested(output_schema(SET, "Set")), "SetCreated")
ModuleCreatedSchema = enveloped(fields.Nested(output_schema(MODULE, "Module")), "ModuleCreated")
DetailSchema = enveloped(fields.List(fields.Nested(DetailRowSchema)), "Detail")
BindingListSchema = enveloped(fields.List(fields.Nested(BoundModuleSchema)), "BindingList")


TokenResultSchema = enveloped(
    fields.Nested(
        Schema.from_dict(
            {
                "access_control": fields.Boolean(
                    required=True, metadata={"description": "false: PROC_API_TOKENS_FILE unset"}
                ),
                "name": fields.String(required=True, metadata={"description": "'' when off"}),
                "accounts": fields.List(
                    fields.String(),
                    required=True,
                    metadata={"description": 'supplier accounts; ["*"]: every one'},
                ),
                "write": fields.Boolean(required=True),
            },
            name="TokenData",
        )
    ),
    "TokenResult",
)
