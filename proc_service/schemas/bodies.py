"""Request bodies of the writes, generated from the attribute tables (§2, §6)."""

from __future__ import annotations

from typing import ClassVar

from marshmallow import Schema, fields, post_load, pre_load

from ..attributes import PROCESS, Kind
from ..errors import ApiError
from ..values import BATCH_LIMIT, INT64_MAX, SPACES, positive_id
from .attribute import attribute_field
from .document import SPACES_CLASS, int_text_pattern, integer


class BodySchema(Schema):
    """A body whose ``ignored`` keys are dropped before validation: the path's values win, or
    bk-cmdb clients send them. Unknown keys raise (marshmallow's default)."""

    ignored: ClassVar[tuple[str, ...]] = ()

    @pre_load
    def _drop_ignored(self, data: object, **_kwargs) -> object:
        if not isinstance(data, dict):
            return data
        return {key: value for key, value in data.items() if key not in self.ignored}


def ignored_fields(kind: Kind) -> dict[str, fields.Field]:
    """The ignored keys, for the document only: BodySchema drops them before validation."""
    doc = {"description": "accepted and ignored: the path (or header) wins"}
    return {key: fields.Raw(metadata=doc) for key in kind.ignored}


def body_schema(kind: Kind, name: str, *, create: bool) -> type[BodySchema]:
    declared = {a.id: attribute_field(a, create=create) for a in kind.writable}
    declared.update(ignored_fields(kind))
    # the kind's ignored keys are part of the class from the start
    base = type(f"{name}Base", (BodySchema,), {"ignored": kind.ignored})
    return base.from_dict(declared, name=name)


# One id of a batch's comma-separated list, spaces around it allowed.
_ID = f"{SPACES_CLASS}*{int_text_pattern(1, INT64_MAX)[1:-1]}{SPACES_CLASS}*"


class ProcessIds(fields.Raw):
    """bk_process_id of a batch: "44,45", 44 or [44, 45]; spaces tolerated, duplicates
    collapse (§3). Malformed → 1199003, more than BATCH_LIMIT → 1199035."""

    def _deserialize(self, raw, attr, data, **kwargs) -> list[int]:
        if isinstance(raw, str):
            items = [item.strip(SPACES) for item in raw.split(",")]
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


def _batch_schema(kind: Kind = PROCESS) -> type[BodySchema]:
    declared: dict = {
        # first, so that its errors come before any attribute's
        "bk_process_id": ProcessIds(
            required=True,
            error_messages={"required": "1199008", "null": "1199003"},
            metadata={
                "description": 'ids to update: "44,45,46", 44 or [44, 45]; at most '
                f"{BATCH_LIMIT} distinct ids",
                "example": "44,45,46",
                "anyOf": [
                    {"type": "string", "pattern": f"^{_ID}(?:,{_ID})*$"},
                    {"type": "integer", "minimum": 1, "maximum": INT64_MAX},
                    {
                        "type": "array",
                        "minItems": 1,
                        "items": integer(1, INT64_MAX),
                    },
                ],
            },
        ),
    }
    for attr in kind.writable:
        declared[attr.id] = attribute_field(attr, create=False, batch=True)
    declared.update(ignored_fields(kind))

    class Batch(BodySchema):
        ignored = kind.ignored
        # at least one attribute besides the ids (else 1199008 'attributes')
        openapi_extra: ClassVar[dict] = {
            "allOf": [{"anyOf": [{"required": [a.id]} for a in kind.writable if a.batch_writable]}]
        }

        @post_load
        def _some_attribute(self, values: dict, **kwargs) -> dict:
            if len(values) < 2:
                raise ApiError(1199008, "attributes")
            return values

    return Batch.from_dict(declared, name="ProcessBatchUpdate")


# Each body per model (§14: an account's custom attributes join the preset ones); the endpoint
# builds one schema per model and keeps it with the model (web/endpoint.py).
def process_create(kind: Kind) -> type[BodySchema]:
    return body_schema(kind, "ProcessCreate", create=True)


def process_update(kind: Kind) -> type[BodySchema]:
    return body_schema(kind, "ProcessUpdate", create=False)


def process_batch_update(kind: Kind) -> type[BodySchema]:
    return _batch_schema(kind)


def set_create(kind: Kind) -> type[BodySchema]:
    return body_schema(kind, "SetCreate", create=True)


def set_update(kind: Kind) -> type[BodySchema]:
    return body_schema(kind, "SetUpdate", create=False)


def module_create(kind: Kind) -> type[BodySchema]:
    return body_schema(kind, "ModuleCreate", create=True)


def module_update(kind: Kind) -> type[BodySchema]:
    return body_schema(kind, "ModuleUpdate", create=False)
