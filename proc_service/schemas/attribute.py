"""Marshmallow fields generated from the attribute tables: validation by the domain's value
rules (values.py), documentation for OpenAPI from the same attribute."""

from __future__ import annotations

from marshmallow import ValidationError, fields, missing

from ..attributes import Attribute
from ..values import Invalid, coerce, to_int
from .document import write_value

FIELD_TYPES = {
    "singlechar": fields.String,
    "longchar": fields.String,
    "int": fields.Integer,
    "enum": fields.String,
    "bool": fields.Boolean,
    "time": fields.DateTime,  # ISO 8601 with offset and microseconds
    "json": fields.Dict,
}


def fail(code: int) -> ValidationError:
    """A field error whose message is the contract's code (loading.load reads it back)."""
    return ValidationError(str(code))


def attribute_doc(attr: Attribute) -> dict:
    """What OpenAPI says of one attribute: limits, options, defaults."""
    doc: dict = {"description": f"{attr.en} ({attr.zh})"}
    if attr.max_length:
        doc["maxLength"] = attr.max_length
    if attr.type == "int" and attr.minimum is not None:
        doc.update(minimum=attr.minimum, maximum=attr.maximum)
    if attr.options:
        doc["enum"] = [o.code for o in attr.options]
        doc["description"] += ": " + ", ".join(f"{o.code} {o.en}" for o in attr.options)
    if attr.port:
        doc["example"] = "8080-8089,8199"
    if attr.default is not None:
        doc["default"] = attr.default
    return doc


def attribute_field(attr: Attribute, *, create: bool, batch: bool = False) -> fields.Field:
    """A body field for one attribute: the §2 rules, documented exactly from its table (a Raw
    field, so that the document says what document.write_value says and nothing else)."""

    class AttributeField(fields.Raw):
        def deserialize(self, value, attr_name=None, data=None, **kwargs):
            if value is missing:
                self._validate_missing(value)
                return self.load_default
            if batch and not attr.batch_writable:
                raise fail(1199006)
            if value is None or (attr.required and value == ""):
                if attr.required:
                    raise fail(1199010)
                return attr.empty
            if attr.custom and value == "" and attr.type not in ("int", "float"):
                return attr.empty  # bk-cmdb's form sends "" for untouched text (§14)
            try:
                return coerce(attr, value)
            except Invalid as exc:
                raise fail(exc.code) from None

    doc = {"description": attribute_doc(attr)["description"], **write_value(attr)}
    if batch and not attr.batch_writable:  # refused with 1199006: not to be sent (§3)
        doc = {"description": f"{doc['description']}: may not be batch-updated", "readOnly": True}
    return AttributeField(
        required=create and attr.required,
        # create fills every absent attribute with its empty value (§2)
        load_default=attr.empty if create and not attr.required else missing,
        allow_none=not attr.required,
        metadata=doc,
        error_messages={"required": "1199010"},
    )


class IntegerText(fields.Raw):
    """An integer that may come as a string of digits (page.start, page.limit); documented by
    the caller (document.integer)."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return to_int(value)
        except Invalid as exc:
            raise fail(exc.code) from None
