"""Search bodies: search_process, search_set and search_module (§3, §6), and audit search (§5).

They check shapes and types only; which conditions, fields and sort keys a kind takes is
query.py's business, read from the attribute tables.
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields

from ..attributes import AUDIT, PROCESS
from ..values import PAGE_LIMIT
from .attribute import IntegerText


def _invalid(*keys: str) -> dict:
    return dict.fromkeys(keys, "1199006")


def _start() -> IntegerText:
    # null is "not an integer" (1199009), as any other non-integer start or limit (§3)
    return IntegerText(load_default=0, error_messages={"null": "1199009"}, metadata={"minimum": 0})


def _limit(default: int) -> IntegerText:
    return IntegerText(
        load_default=0,
        error_messages={"null": "1199009"},
        metadata={
            "minimum": 0,
            "maximum": PAGE_LIMIT,
            "description": f"page size; absent or 0: {default}",
        },
    )


def _sort(description: str) -> fields.String:
    return fields.String(
        load_default="",
        error_messages={"invalid": "1199007", "null": "1199007"},
        metadata={"description": description},
    )


def _condition(description: str) -> fields.Dict:
    return fields.Dict(
        load_default=dict,
        error_messages=_invalid("invalid", "null"),
        metadata={"description": description},
    )


class PageSchema(Schema):
    class Meta:
        unknown = RAISE

    start = _start()
    limit = _limit(PROCESS.default_limit)
    sort = _sort("comma-separated fields, '-' prefix for descending")


class SearchSchema(Schema):
    class Meta:
        unknown = RAISE

    condition = _condition("attribute -> value, or -> {$eq, $ne, $in, $nin, $gt, ...}")
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

    condition = _condition(
        "bk_biz_id, op_type, op_target, inst_id, operator (values or operators as in "
        "search_process), op_time: [from, to] (ISO 8601, inclusive)"
    )
    start = _start()
    limit = _limit(AUDIT.default_limit)
    sort = _sort(
        "comma-separated fields, '-' prefix for descending; absent or empty: "
        f"{AUDIT.default_sort} (newest first)"
    )
