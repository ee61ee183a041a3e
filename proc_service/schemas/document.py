"""What /openapi.json says a value may be, generated from the attribute tables (docs/api.md §2, §3,
§5, §6) and the value rules (values.py). It is exact (§7): a value it calls valid is not refused
for its shape, and one it calls invalid is refused.

Two rules that JSON Schema cannot state are carried by named formats, whose meaning the
description gives: ``port-list`` (a range ``a-b`` needs ``a <= b``) and ``portable-regex``
(the ``$regex`` dialect of regex.py). ``iso-time`` is a time ``datetime.fromisoformat`` reads.
"""

from __future__ import annotations

import re

from ..attributes import Attribute, Kind
from ..data.query import OPERATORS
from ..values import INT64_MAX, LIST_LIMIT, PAGE_LIMIT, PORT_LIST, REGEX_LIMIT, SPACES

INT64_MIN = -INT64_MAX - 1
NO_NUL = "^[^\\x00]*$"  # no database stores NUL (values.storable_text)
PORT_PATTERN = f"^(?:{PORT_LIST})?$"  # "" clears the port
PORT_LIST = (
    "comma-separated ports 1..65535 and ranges a-b with a <= b, no leading zeros or spaces "
    "(format port-list)"
)
REGEX_DOC = "a pattern of the portable dialect (README: Search) (format portable-regex)"
TIME_DOC = (
    "ISO 8601 (or 'YYYY-MM-DD hh:mm:ss'); without an offset: PROC_TIME_ZONE (format iso-time)"
)
SPACES_CLASS = "[ \\t\\n\\r\\f\\v]"  # values.SPACES, as a regex
assert re.fullmatch(f"{SPACES_CLASS}*", SPACES)
_WS = f"{SPACES_CLASS}*"


def _digits(low: int, high: int) -> str:
    """A regex for the decimal numbers low..high (0 <= low <= high), without leading zeros."""
    if len(str(low)) < len(str(high)):
        split = 10 ** len(str(low)) - 1
        return f"{_digits(low, split)}|{_digits(split + 1, high)}"
    return "|".join(_same_length(str(low), str(high)))


def _same_length(low: str, high: str) -> list[str]:
    if not low:
        return [""]
    rest = len(low) - 1
    tail = f"[0-9]{{{rest}}}" if rest else ""
    if low[0] == high[0]:
        return [low[0] + _group(_same_length(low[1:], high[1:]))]
    if low[1:] == "0" * rest and high[1:] == "9" * rest:
        return [f"[{low[0]}-{high[0]}]{tail}"]
    found = [low[0] + _group(_same_length(low[1:], "9" * rest))]
    if int(high[0]) - int(low[0]) > 1:
        found.append(f"[{int(low[0]) + 1}-{int(high[0]) - 1}]{tail}")
    found.append(high[0] + _group(_same_length("0" * rest, high[1:])))
    return found


def _group(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"(?:{'|'.join(parts)})"


def int_text_pattern(low: int, high: int) -> str:
    """Decimal text that values.to_int reads as an integer in low..high ("+5", "007", "-0")."""
    parts = []
    if high >= 0:
        parts.append(f"\\+?0*(?:{_digits(max(low, 0), high)})")
    if low <= 0:
        parts.append(f"-0*(?:{_digits(max(-high, 0), -low)})")
    return f"^(?:{'|'.join(parts)})$"


def _integer(low: int, high: int) -> dict:
    return {
        "anyOf": [
            {"type": "integer", "minimum": low, "maximum": high},
            {"type": "string", "pattern": int_text_pattern(low, high)},
        ],
        "description": f"an integer {low}..{high}, or its decimal text",
    }


# The 64-bit ranges recur everywhere: the document names them once and refers to them
# (create_app registers COMPONENTS).
_NAMED_RANGES = {
    (INT64_MIN, INT64_MAX): "Int64",
    (0, INT64_MAX): "Int64NonNegative",
    (1, INT64_MAX): "Int64Positive",
}
COMPONENTS: dict[str, dict] = {name: _integer(*bounds) for bounds, name in _NAMED_RANGES.items()}


def integer(low: int, high: int) -> dict:
    """A JSON integer or its decimal text, within low..high (a named range by reference)."""
    name = _NAMED_RANGES.get((low, high))
    return {"allOf": [{"$ref": f"#/components/schemas/{name}"}]} if name else _integer(low, high)


def _nullable(schema: dict, nullable: bool) -> dict:
    return {**schema, "nullable": True} if nullable else schema


def write_value(attr: Attribute) -> dict:
    """An attribute's value in a write body (§2): its type, limits, options; null clears an
    optional attribute."""
    optional = not attr.required
    if attr.custom and attr.type in CUSTOM_TEXT:  # §14: "" on an optional one means no value
        text = {"type": "string", **CUSTOM_TEXT[attr.type]}
        rule = {k: text.pop(k) for k in ("format",) if k in text}
        if attr.pattern:  # the option's pattern: found in the value
            rule["pattern"] = attr.pattern
        if rule and optional:  # "" is no value, whatever the rule
            text["anyOf"] = [{"maxLength": 0}, rule]
        elif rule:
            text.update(rule)
        return _nullable(text if optional else {**text, "minLength": 1}, optional)
    if attr.type == "float":
        number = {"type": "number"}
        if attr.minimum is not None:
            number["minimum"] = attr.minimum
        if attr.maximum is not None:
            number["maximum"] = attr.maximum
        return _nullable(number, optional)
    if attr.type in ("singlechar", "longchar"):
        text = {"type": "string", "maxLength": attr.max_length, "pattern": NO_NUL}
        if attr.port:
            text = {**text, "pattern": PORT_PATTERN, "format": "port-list"}
            port = {"type": "integer", "minimum": 1, "maximum": 65535}
            return _nullable({"anyOf": [text, port], "description": PORT_LIST}, optional)
        return _nullable(text if optional else {**text, "minLength": 1}, optional)
    if attr.type == "int":
        low = INT64_MIN if attr.minimum is None else attr.minimum
        high = INT64_MAX if attr.maximum is None else attr.maximum
        return _nullable(integer(low, high), optional)
    if attr.type == "enum":
        codes = [o.code for o in attr.options]
        members = [{"type": "string", "enum": [*codes, ""] if optional else codes}]
        numbers = [int(c) for c in codes if c.isdigit()]
        if numbers:  # "1" may come as 1
            members.append({"type": "integer", "enum": numbers})
        return _nullable({"anyOf": members}, optional)
    if attr.type == "bool":
        return _nullable({"type": "boolean"}, optional)
    raise ValueError(f"{attr.id} is not writable")


# §14's text types of custom attributes, as a write body takes them ("" is no value). Named
# formats where JSON Schema cannot say the rule (a real date, an IANA zone); the schemathesis
# hooks give values for them.
CUSTOM_TEXT = {
    "singlechar": {"maxLength": 256},
    "longchar": {"maxLength": 2000},
    "objuser": {"maxLength": 2000, "description": "comma-separated user names"},
    "timezone": {"format": "iana-zone", "description": "an IANA time zone name (Asia/Shanghai)"},
    "date": {"format": "date", "example": "2024-01-31"},
    "datetime": {
        "format": "bk-time",
        "description": "YYYY-MM-DD HH:MM:SS",
        "example": "2024-01-31 18:30:00",
    },
}
# The shapes a condition compares date and time texts in (no calendar check there: an
# impossible date simply matches nothing).
TEXT_SHAPES = {
    "date": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
    "datetime": "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$",
}


def _compared(attr: Attribute, nullable: bool, ordered: bool = False) -> dict:
    """A value compared with the attribute (§3): normalised like a write, without the write-only
    rules (ranges, options, the port grammar, lengths). ``ordered``: for $gt and the like,
    which need a value; an optional enum's "" means no value, like null."""
    if attr.type in ("date", "datetime"):  # compared as the text they are kept as
        return _nullable({"type": "string", "pattern": TEXT_SHAPES[attr.type]}, nullable)
    if attr.type in ("objuser", "timezone"):
        return _nullable({"type": "string", "pattern": NO_NUL}, nullable)
    if attr.type == "float":
        return _nullable({"type": "number"}, nullable)
    if attr.type in ("singlechar", "longchar", "enum"):
        text = {"type": "string", "pattern": NO_NUL}
        if ordered and attr.type == "enum" and attr.empty is None:
            text["minLength"] = 1
        if attr.port or attr.type == "enum":  # 80 is "80"
            return _nullable({"anyOf": [text, {"type": "integer"}]}, nullable)
        return _nullable(text, nullable)
    if attr.type == "int":
        return _nullable(integer(INT64_MIN, INT64_MAX), nullable)
    if attr.type == "bool":
        return _nullable({"type": "boolean"}, nullable)
    if attr.type == "time":
        return _nullable(
            {"type": "string", "format": "iso-time", "description": TIME_DOC}, nullable
        )
    raise ValueError(f"{attr.id} takes no condition")


def output_value(attr: Attribute) -> dict:
    """An attribute's value as a search answers it (a custom one may be null)."""
    return _compared(attr, nullable=True)


def condition_value(attr: Attribute) -> dict:
    """A condition key's value: a plain value, or an object of operators that must all hold."""
    nullable = not attr.never_null  # null means the attribute's empty value
    value = _compared(attr, nullable)
    # $gt and the like need a value to compare with: null only where "empty" is one
    ordered = _compared(attr, nullable and attr.empty is not None, ordered=True)
    listed = {"type": "array", "maxItems": LIST_LIMIT, "items": value}
    operators = {
        "$eq": value,
        "$ne": value,
        "$in": listed,
        "$nin": listed,
        **dict.fromkeys(("$gt", "$gte", "$lt", "$lte"), ordered),
    }
    if attr.type in ("singlechar", "longchar", "enum"):
        operators["$regex"] = {
            "type": "string",
            "maxLength": REGEX_LIMIT,
            "format": "portable-regex",
            "description": REGEX_DOC,
        }
    assert set(operators) <= set(OPERATORS)
    plain = _compared(attr, False) if attr.contains else value
    if attr.contains:
        plain = {**plain, "description": "a literal, case-sensitive substring"}
    ops = {"type": "object", "additionalProperties": False, "properties": operators}
    return {"anyOf": [plain, ops], "description": f"{attr.en} ({attr.zh})"}


def names_condition() -> dict:
    """bk_module_name in search_process: a name, or {"$in": [names]}."""
    text = {"type": "string", "pattern": NO_NUL}
    listed = {"type": "array", "maxItems": LIST_LIMIT, "items": text}
    return {
        "anyOf": [
            text,
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["$in"],
                "properties": {"$in": listed},
            },
        ],
        "description": "processes bound to this module name (or any of these)",
    }


def time_range() -> dict:
    """Audit op_time: [from, to], inclusive; null or "" is an open end (§5)."""
    end = {
        "anyOf": [
            {"type": "string", "format": "iso-time", "description": TIME_DOC},
            {"type": "string", "enum": [""]},
        ],
        "nullable": True,
    }
    return {
        "type": "array",
        "minItems": 2,
        "maxItems": 2,
        "items": end,
        "description": "[from, to], inclusive, from <= to; null or '' for an open end",
    }


def condition(kind: Kind, extra: dict | None = None) -> dict:
    """The condition object of a search over ``kind``: every key it takes, typed."""
    properties = {key: condition_value(attr) for key, attr in kind.conditions.items()}
    ignored = {"description": "accepted and ignored: the path wins"}
    properties.update(dict.fromkeys(kind.ignored_conditions, ignored))
    properties.update(extra or {})
    return {"type": "object", "additionalProperties": False, "properties": properties}


def sort_pattern(kind: Kind) -> str:
    """page.sort: comma-separated sort keys, '-' for descending, spaces around them allowed."""
    keys = "|".join(re.escape(k) for k in sorted(kind.sort_keys, key=len, reverse=True))
    item = f"{_WS}(?:-?(?:{keys}))?{_WS}"
    return f"^{item}(?:,{item})*$"


def page_limit() -> dict:
    return integer(0, PAGE_LIMIT)


def page_start() -> dict:
    return integer(0, INT64_MAX)
