"""Marshmallow schemas: request bodies (validated) and responses (documented in OpenAPI).

The body schemas are generated from the attribute tables of attributes.py (PROCESS, SET,
MODULE). A field fails with a ValidationError whose message is the contract's error code;
``load`` picks the first failure in the contract's order (attributes in table order, then
unknown keys) and raises it as an ApiError.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from marshmallow import RAISE, Schema, ValidationError, fields, missing

from .attributes import MODULE, PROCESS, SET, Attribute, Kind
from .errors import ApiError

INT64_MAX = 2**63 - 1
BATCH_LIMIT = 1000
# A positive id as decimal text: "+5" and "007" are fine; leading zeros do not count as digits.
_ID_TEXT = re.compile(r"\+?0*([0-9]{1,19})")
_INT_TEXT = re.compile(r"[+-]?[0-9]+")
_PORT = r"(?:[1-9][0-9]{0,4})"
_PORT_ITEM = re.compile(rf"({_PORT})(?:-({_PORT}))?")


def fail(code: int) -> ValidationError:
    return ValidationError(str(code))


def to_int(value: object) -> int:
    """A JSON integer or a string of decimal digits; anything else fails with 1199009."""
    if isinstance(value, str) and _INT_TEXT.fullmatch(value):
        digits = value.lstrip("+-").lstrip("0") or "0"  # "007" is 7, however many zeros
        if len(digits) > 19:
            raise fail(1199006)  # cannot fit in 64 bits: out of every range we have
        value = -int(digits) if value.startswith("-") else int(digits)
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(1199009)
    if not -INT64_MAX - 1 <= value <= INT64_MAX:
        raise fail(1199006)
    return value


def storable_text(value: object) -> str:
    """A JSON string a database can store: 1199007 if not a string, 1199006 if it holds NUL
    (PostgreSQL text cannot; refused on both databases alike)."""
    if not isinstance(value, str):
        raise fail(1199007)
    if "\x00" in value:
        raise fail(1199006)
    return value


def positive_id(raw: object) -> int | None:
    """A positive 64-bit id, as a JSON integer or decimal text (§1); None if it is not one."""
    if isinstance(raw, str) and (match := _ID_TEXT.fullmatch(raw)):
        raw = int(match.group(1))
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 < raw <= INT64_MAX:
        return None
    return raw


def valid_port_list(text: str) -> bool:
    for item in text.split(","):
        match = _PORT_ITEM.fullmatch(item)
        if not match:
            return False
        low = int(match.group(1))
        high = int(match.group(2) or low)
        if not (low <= high <= 65535):
            return False
    return True


def coerce(attr: Attribute, value: object, *, strict: bool = True) -> object:
    """Normalise one attribute value as §2 says, or fail with its code.

    ``strict`` applies the write-only rules (ranges, enum options, the port grammar); search
    conditions compare with the same normalisation but not those rules.
    """
    kind = attr.type
    if kind in ("singlechar", "longchar"):
        if attr.port and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        value = storable_text(value)
        if strict and len(value) > attr.max_length:
            raise fail(1199015)
        if strict and attr.port and value and not valid_port_list(value):
            raise fail(1199016)
        return value
    if kind == "int":
        value = to_int(value)
        if strict and not (attr.minimum <= value <= attr.maximum):
            raise fail(1199006)
        return value
    if kind == "enum":
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        value = storable_text(value)
        if value == "" and not attr.required:
            return attr.empty  # bk-cmdb's clients send "" for "no choice", like null
        if strict and value not in {o.code for o in attr.options}:
            raise fail(1199006)
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise fail(1199025)
        return value
    if kind == "time":
        return timestamp(value)
    raise AssertionError(f"unknown attribute type {kind}")


def timestamp(value: object) -> datetime:
    """ISO 8601 text as an aware UTC datetime; without an offset it means UTC. Else 1199006."""
    if not isinstance(value, str):
        raise fail(1199006)
    try:
        parsed = datetime.fromisoformat(value)
        # an offset near year 1 or 9999 can leave datetime's range
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise fail(1199006) from None


_OPENAPI_TYPES = {
    "singlechar": fields.String,
    "longchar": fields.String,
    "int": fields.Integer,
    "enum": fields.String,
    "bool": fields.Boolean,
    "time": fields.DateTime,  # ISO 8601 with offset and microseconds
}


def _openapi(attr: Attribute) -> dict:
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
    """A marshmallow field for one attribute, typed for OpenAPI from its table."""
    base = _OPENAPI_TYPES[attr.type]

    class AttributeField(base):
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
            return coerce(attr, value)

    return AttributeField(
        required=create and attr.required,
        # create fills every absent attribute with its empty value (§2)
        load_default=attr.empty if create and not attr.required else missing,
        allow_none=not attr.required,
        metadata=_openapi(attr),
        error_messages={"required": "1199010"},
    )


def body_schema(kind: Kind, name: str, *, create: bool, batch: bool = False) -> type[Schema]:
    declared: dict = {}
    if batch:
        # Parsed by process_ids(); declared here for the OpenAPI document.
        declared["bk_process_id"] = fields.Raw(
            metadata={
                "description": 'ids to update: "44,45,46", 44 or [44, 45]',
                "example": "44,45,46",
            },
        )
    for attr in kind.writable:
        declared[attr.id] = attribute_field(attr, create=create, batch=batch)
    return Schema.from_dict(declared, name=name)  # unknown keys raise: marshmallow's default


ProcessCreateSchema = body_schema(PROCESS, "ProcessCreate", create=True)
ProcessUpdateSchema = body_schema(PROCESS, "ProcessUpdate", create=False)
ProcessBatchUpdateSchema = body_schema(PROCESS, "ProcessBatchUpdate", create=False, batch=True)
SetCreateSchema = body_schema(SET, "SetCreate", create=True)
SetUpdateSchema = body_schema(SET, "SetUpdate", create=False)
ModuleCreateSchema = body_schema(MODULE, "ModuleCreate", create=True)
ModuleUpdateSchema = body_schema(MODULE, "ModuleUpdate", create=False)


def load_batch_update(body: dict) -> tuple[list[int], dict]:
    """batch_update_process's body: the ids, then the attributes (validated like an update)."""
    ids = process_ids(body.get("bk_process_id", missing))
    values = load(ProcessBatchUpdateSchema(), body, ignore=(*PROCESS.ignored, "bk_process_id"))
    if not values:
        raise ApiError(1199008, "attributes")
    return ids, values


def process_ids(raw: object) -> list[int]:
    """bk_process_id of a batch: "44,45", 44 or [44, 45]; spaces tolerated, duplicates collapse."""
    if raw is missing:
        raise ApiError(1199008, "bk_process_id")
    if isinstance(raw, str):
        items = [item.strip() for item in raw.split(",")]
    elif isinstance(raw, list) and raw:
        items = raw
    else:
        items = [raw]
    ids: dict[int, None] = {}
    for item in items:
        pid = positive_id(item)
        if pid is None:
            raise ApiError(1199003, "bk_process_id")
        ids[pid] = None
    if len(ids) > BATCH_LIMIT:
        raise ApiError(1199035, "bk_process_id", BATCH_LIMIT)
    return list(ids)


def load(schema: Schema, data: dict, ignore: tuple[str, ...] = PROCESS.ignored) -> dict:
    """Validate ``data`` with ``schema`` and return the normalised values, or raise the first
    failure in contract order: declared fields in order, then unknown keys as sent."""
    data = {k: v for k, v in data.items() if k not in ignore}
    try:
        return schema.load(data)
    except ValidationError as exc:
        field, code = _first_error(exc.messages, schema, data)
        raise ApiError(code, field) from None


def _first_error(errors: dict, schema: Schema | None, data: object, prefix: str = ""):
    declared = list(schema.fields) if schema else []
    sent = list(data) if isinstance(data, dict) else []
    for name in [*declared, *sent, *errors]:
        if name not in errors:
            continue
        found = errors[name]
        if isinstance(found, dict) and "_schema" in found:  # a nested object of the wrong type
            return f"{prefix}{name}", 1199006
        if isinstance(found, dict) and not all(isinstance(k, int) for k in found):
            field = schema.fields.get(name) if schema else None
            nested = getattr(field, "schema", None)
            return _first_error(found, nested, data.get(name), f"{prefix}{name}.")
        while isinstance(found, (dict, list)):  # a list's errors are keyed by item index
            found = next(iter(found.values())) if isinstance(found, dict) else found[0]
        code = int(found) if str(found).isdigit() else 1199011  # marshmallow: "Unknown field."
        return f"{prefix}{name}", code
    raise AssertionError(f"no error to report in {errors!r}")


# --- search ----------------------------------------------------------------------------------


class IntegerText(fields.Integer):
    """An integer that may come as a string of digits (page.start, page.limit)."""

    def _deserialize(self, value, attr, data, **kwargs):
        return to_int(value)


def _invalid(*keys: str) -> dict:
    return dict.fromkeys(keys, "1199006")


class PageSchema(Schema):
    class Meta:
        unknown = RAISE

    # null is "not an integer" (1199009), as any other non-integer start or limit (§3)
    start = IntegerText(
        load_default=0,
        error_messages={"null": "1199009"},
        metadata={"minimum": 0, "description": "offset"},
    )
    limit = IntegerText(
        load_default=0,
        error_messages={"null": "1199009"},
        metadata={"minimum": 0, "maximum": 200, "description": "page size; absent or 0: 200"},
    )
    sort = fields.String(
        load_default="",
        error_messages={"invalid": "1199007", "null": "1199007"},
        metadata={"description": "comma-separated fields, '-' prefix for descending"},
    )


class SearchSchema(Schema):
    class Meta:
        unknown = RAISE

    condition = fields.Dict(
        load_default=dict,
        error_messages=_invalid("invalid", "null"),
        metadata={"description": "attribute -> value, or -> {$eq, $ne, $in, $nin, $gt, ...}"},
    )
    fields_ = fields.List(
        fields.String(error_messages=_invalid("invalid")),
        data_key="fields",
        attribute="fields",
        load_default=list,
        error_messages=_invalid("invalid", "null"),
    )
    page = fields.Nested(
        PageSchema,
        load_default=lambda: PageSchema().load({}),
        error_messages=_invalid("type", "null"),
    )


class AuditSearchSchema(Schema):
    class Meta:
        unknown = RAISE

    condition = fields.Dict(
        load_default=dict,
        error_messages=_invalid("invalid", "null"),
        metadata={
            "description": "bk_biz_id, op_type, op_target, inst_id, operator (values or "
            "operators as in search_process), op_time: [from, to] (ISO 8601, inclusive)"
        },
    )
    start = IntegerText(load_default=0, error_messages={"null": "1199009"}, metadata={"minimum": 0})
    limit = IntegerText(
        load_default=0,
        error_messages={"null": "1199009"},
        metadata={"minimum": 0, "maximum": 200, "description": "page size; absent or 0: 20"},
    )
    sort = fields.String(
        load_default="",
        error_messages={"invalid": "1199007", "null": "1199007"},
        metadata={
            "description": "comma-separated fields, '-' prefix for descending; "
            "absent or empty: -op_time (newest first)"
        },
    )


# --- responses (documentation) ---------------------------------------------------------------


class EnvelopeSchema(Schema):
    result = fields.Boolean(required=True)
    bk_error_code = fields.Integer(required=True)
    bk_error_msg = fields.String(required=True)
    data = fields.Raw(allow_none=True)


def output_schema(kind: Kind, name: str) -> type[Schema]:
    """What search (and create, for sets and modules) answers for one object of ``kind``."""
    return Schema.from_dict(
        {
            a.id: _OPENAPI_TYPES[a.type](allow_none=True, metadata=_openapi(a))
            for a in (*kind.attributes, *kind.system)
        },
        name=name,
    )


ProcessSchema = output_schema(PROCESS, "Process")
SetSchema = output_schema(SET, "Set")
ModuleSchema = output_schema(MODULE, "Module")


class CreatedSchema(EnvelopeSchema):
    data = fields.Dict(metadata={"example": {"bk_process_id": 1}})


def search_result_schema(item: type[Schema], name: str) -> type[Schema]:
    data = Schema.from_dict(
        {"count": fields.Integer(), "info": fields.List(fields.Nested(item))}, name=f"{name}Data"
    )
    return type(name, (EnvelopeSchema,), {"data": fields.Nested(data)})


def created_schema(item: type[Schema], name: str) -> type[Schema]:
    return type(name, (EnvelopeSchema,), {"data": fields.Nested(item)})


SearchResultSchema = search_result_schema(ProcessSchema, "ProcessSearchResult")
SetSearchResultSchema = search_result_schema(SetSchema, "SetSearchResult")
ModuleSearchResultSchema = search_result_schema(ModuleSchema, "ModuleSearchResult")
SetCreatedSchema = created_schema(SetSchema, "SetCreated")
ModuleCreatedSchema = created_schema(ModuleSchema, "ModuleCreated")


class DetailSchema(EnvelopeSchema):
    class Row(Schema):
        bk_property_id = fields.String()
        bk_property_name = fields.String()
        bk_property_value = fields.Raw(allow_none=True)

    data = fields.List(fields.Nested(Row))


class SuccessSchema(EnvelopeSchema):
    data = fields.String(metadata={"example": "success"})


class AuditRowSchema(Schema):
    id = fields.Integer()
    bk_supplier_account = fields.String()
    bk_biz_id = fields.Integer(allow_none=True)
    op_type = fields.Integer(metadata={"description": "1 create, 2 update, 3 delete"})
    op_target = fields.String(metadata={"description": "process, set or module"})
    inst_id = fields.Integer()
    op_desc = fields.String()
    operator = fields.String()
    op_from = fields.String()
    op_time = fields.DateTime()
    request_id = fields.String()
    content = fields.Dict(metadata={"description": "{pre_data, cur_data}"})


AuditSearchResultSchema = search_result_schema(AuditRowSchema, "AuditSearchResult")


class BindingListSchema(EnvelopeSchema):
    class BoundModule(Schema):
        bk_module_name = fields.String()
        set_num = fields.Integer()
        is_bind = fields.Integer(metadata={"enum": [0, 1]})

    data = fields.List(fields.Nested(BoundModule))
