"""Bodies of the model API (§14): create_object_attribute and update_object_attribute, in the
shapes bk-cmdb v3.1's documents and its model page send. Shapes and types here; what depends on
the stored model (reserved ids, the type's option, the limit of 64) is services/model.py's."""

from __future__ import annotations

import re

from marshmallow import fields

from .. import context
from ..attributes import CUSTOM_TYPES, KINDS, RESERVED
from ..values import Invalid, storable_text
from .attribute import fail
from .bodies import BodySchema
from .document import NO_NUL

PROPERTY_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,127}")
ACCOUNT_OR_EMPTY = re.compile(f"(?:{context.ACCOUNT.pattern})?")
# What the document says of a new attribute's id: the pattern, less the ids no kind may take
# (services/model.py: every kind's preset and system fields, and the prefix bk_).
PROPERTY_ID_DOC = (
    "^(?![Bb][Kk]_)(?!(?:" + "|".join(sorted(RESERVED)) + ")$)[A-Za-z][A-Za-z0-9_]{0,127}$"
)
_BOUND = {"type": "string", "pattern": "^$|^-?[0-9]{1,18}(?:\\.[0-9]{1,6})?$"}
OPTION_DOC = {
    "description": 'int and float: {"min", "max"} (strings, "" for no bound); enum: '
    '[{"id", "name", "type": "text", "is_default"}] (ids unique, at most one default); '
    'singlechar and longchar: a pattern in the $regex dialect, or ""; other types: null',
    "nullable": True,
    "anyOf": [
        {"type": "string", "format": "portable-regex", "maxLength": 256},
        {
            "type": "object",
            "properties": {"min": _BOUND, "max": _BOUND},
            "additionalProperties": False,
        },
        {
            "type": "array",
            "minItems": 1,
            "maxItems": 20,
            "items": {
                "type": "object",
                "required": ["id", "name"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": NO_NUL},
                    "name": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": NO_NUL},
                    "type": {"type": "string", "enum": ["text"]},
                    "is_default": {"type": "boolean"},
                },
            },
        },
    ],
}
# Sent by bk-cmdb v3.1's clients and its model page, kept by nothing here: accepted, ignored.
IGNORED = (
    "id",
    "isreadonly",
    "isapi",
    "bk_asst_obj_id",
    "bk_asst_forward",
    "bk_property_index",
    "bk_property_group_name",
    "bk_obj_name",
    "create_time",
    "last_time",
)


def _doc(kw: dict, doc: dict) -> dict:
    kw["metadata"] = {**doc, **kw.get("metadata", {})}
    return kw


class Text(fields.Raw):
    """A string of ``low``..``high`` characters (1199007 if not a string, 1199015 if longer)."""

    def __init__(
        self, high: int, low: int = 0, pattern: re.Pattern | None = None, doc_pattern="", **kw
    ):
        doc = {"type": "string", "maxLength": high, "pattern": doc_pattern or NO_NUL}
        if low:
            doc["minLength"] = low
        super().__init__(**_doc(kw, doc))
        self.low, self.high, self.pattern = low, high, pattern

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            value = storable_text(value)
        except Invalid as exc:
            raise fail(exc.code) from None
        if len(value) > self.high:
            raise fail(1199015)
        if len(value) < self.low or (self.pattern and not self.pattern.fullmatch(value)):
            raise fail(1199006)
        return value


class Choice(fields.Raw):
    def __init__(self, choices, **kw):
        super().__init__(**_doc(kw, {"type": "string", "enum": list(choices)}))
        self.choices = tuple(choices)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise fail(1199007)
        if value not in self.choices:
            raise fail(1199006)
        return value


class Flag(fields.Raw):
    def __init__(self, **kw):
        super().__init__(**_doc(kw, {"type": "boolean"}))

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise fail(1199025)
        return value


class NotPreset(Flag):
    """ispre: only the preset model is preset; a client may say false, never true."""

    def __init__(self, **kw):
        super().__init__(**_doc(kw, {"enum": [False]}))

    def _deserialize(self, value, attr, data, **kwargs):
        if super()._deserialize(value, attr, data, **kwargs):
            raise fail(1199006)
        return value


def _declared(create: bool) -> dict:
    def req(field: fields.Field) -> fields.Field:
        field.required = create
        field.allow_none = False
        field.error_messages = {**field.error_messages, "required": "1199008", "null": "1199006"}
        return field

    def opt(field: fields.Field, default) -> fields.Field:
        field.error_messages = {**field.error_messages, "null": "1199006"}
        if create:
            field.load_default = default
        return field

    doc = {
        "bk_obj_id": "the kind: process, set or module",
        "bk_property_id": "a letter, then letters, digits and _ (at most 128); not bk_...",
        "bk_property_type": ", ".join(CUSTOM_TYPES),
    }
    return {
        "bk_obj_id": req(
            Choice([k.name for k in KINDS], metadata={"description": doc["bk_obj_id"]})
        ),
        "bk_supplier_account": Text(
            64,
            pattern=ACCOUNT_OR_EMPTY,
            doc_pattern=f"^{ACCOUNT_OR_EMPTY.pattern}$",
            metadata={"description": "the account; absent or empty: HTTP_BLUEKING_SUPPLIER_ID's"},
        ),
        "bk_property_id": req(
            Text(
                128,
                1,
                PROPERTY_ID,
                doc_pattern=PROPERTY_ID_DOC,
                metadata={"description": doc["bk_property_id"]},
            )
        ),
        "bk_property_name": req(Text(128, 1)),
        "bk_property_type": req(
            Choice(CUSTOM_TYPES, metadata={"description": doc["bk_property_type"]})
        ),
        "option": fields.Raw(allow_none=True, metadata=OPTION_DOC),
        "isrequired": opt(Flag(), False),
        "isonly": opt(Flag(), False),
        "editable": opt(Flag(), True),
        "ispre": opt(NotPreset(), False),
        "placeholder": opt(Text(2000), ""),
        "unit": opt(Text(256), ""),
        "description": opt(Text(2000), ""),
        "bk_property_group": opt(Text(128), "default"),
        "creator": opt(Text(256), ""),
        **{
            key: fields.Raw(allow_none=True, metadata={"description": "accepted and ignored"})
            for key in IGNORED
        },
    }


def _schema(name: str, create: bool) -> type[BodySchema]:
    base = type(f"{name}Base", (BodySchema,), {"ignored": IGNORED})
    return base.from_dict(_declared(create), name=name)


AttributeCreateSchema = _schema("AttributeCreate", create=True)
AttributeUpdateSchema = _schema("AttributeUpdate", create=False)
