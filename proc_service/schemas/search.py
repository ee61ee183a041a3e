"""Search bodies: search_process, search_set and search_module (§3, §6), and audit search (§5).

Loading checks shapes and types; which conditions, fields and sort keys a kind takes is
data/query.py's business, read from the attribute tables. The document says all of it per kind,
generated from the same tables (document.py).
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields

from ..attributes import AUDIT, MODULE, PROCESS, SET, Kind
from .attribute import IntegerText, fail
from .document import condition, names_condition, page_limit, page_start, sort_pattern, time_range


def _invalid(*keys: str) -> dict:
    return dict.fromkeys(keys, "1199006")


def start_field() -> IntegerText:
    """A page's start, as every search declares it (checked by query.page_window)."""
    # null is "not an integer" (1199009), as any other non-integer start or limit (§3)
    return IntegerText(
        load_default=0,
        error_messages={"null": "1199009"},
        metadata={"description": "rows to skip", **page_start()},
    )


def limit_field(default: int) -> IntegerText:
    """A page's limit, as every search declares it; absent or 0 is ``default`` rows (0: every
    match, up to 1000). Checked by query.page_window."""
    every = f"{default} rows" if default else "every match, up to 1000"
    return IntegerText(
        load_default=0,
        error_messages={"null": "1199009"},
        metadata={"description": f"page size, 1..200; absent or 0: {every}", **page_limit()},
    )


def _sort(kind: Kind, description: str) -> fields.String:
    return fields.String(
        load_default="",
        error_messages={"invalid": "1199007", "null": "1199007"},
        metadata={"description": description, "pattern": sort_pattern(kind)},
    )


class Condition(fields.Raw):
    """A condition object (a JSON object, else 1199006), documented per kind."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise fail(1199006)
        return value


def _condition(kind: Kind, extra: dict | None = None) -> Condition:
    return Condition(
        load_default=dict,
        error_messages=_invalid("null"),
        metadata={
            "description": "attribute -> value, or -> {$eq, $ne, $in, $nin, $gt, $gte, $lt, "
            "$lte, $regex}, all of which must hold",
            **condition(kind, extra),
        },
    )


def _fields(kind: Kind) -> fields.List:
    return fields.List(
        fields.String(
            error_messages=_invalid("invalid"), metadata={"enum": list(kind.output_fields)}
        ),
        data_key="fields",
        attribute="fields",
        load_default=list,
        error_messages=_invalid("invalid", "null"),
        metadata={"description": "the fields to answer; empty or absent: all"},
    )


def search_schema(kind: Kind, name: str, extra: dict | None = None) -> type[Schema]:
    """The body of search_process, search_set or search_module over ``kind``."""

    class Page(Schema):
        class Meta:
            unknown = RAISE

    page = Page.from_dict(
        {
            "start": start_field(),
            "limit": limit_field(kind.default_limit),
            "sort": _sort(kind, "comma-separated fields, '-' prefix for descending"),
        },
        name=f"{name}Page",
    )

    class Search(Schema):
        class Meta:
            unknown = RAISE

    schema = Search.from_dict(
        {
            "condition": _condition(kind, extra),
            "fields_": _fields(kind),
            "page": fields.Nested(
                page,
                load_default=lambda: page().load({}),
                error_messages=_invalid("type", "null"),
            ),
        },
        name=f"{name}Search",
    )
    return schema


ProcessSearchSchema = search_schema(PROCESS, "Process", {"bk_module_name": names_condition()})
SetSearchSchema = search_schema(SET, "Set")
ModuleSearchSchema = search_schema(MODULE, "Module")


class AuditSearchSchema(Schema):
    class Meta:
        unknown = RAISE

    condition = _condition(AUDIT, {"op_time": time_range()})
    start = start_field()
    limit = limit_field(AUDIT.default_limit)
    sort = _sort(
        AUDIT,
        "comma-separated fields, '-' prefix for descending; absent or empty: "
        f"{AUDIT.default_sort} (newest first)",
    )
