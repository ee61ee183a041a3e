"""Value rules and limits of the domain (docs/api.md §2, §3, §4): plain Python, no web framework.

Each rule returns the normalised value or raises ``Invalid`` carrying the contract's error
code; the schemas (request bodies) and the search builder (conditions) turn that into the
error that names the field.
"""

from __future__ import annotations

import functools
import math
import re
from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import re2

from .attributes import Attribute

# docs/api.md §4: every limit, defined once.
PAGE_LIMIT = 200  # an explicit page.limit (or audit limit)
BATCH_LIMIT = 1000  # ids in one batch update; also rows of a search without a limit
LIST_LIMIT = 1000  # values of $in / $nin
REGEX_LIMIT = 256  # characters of a $regex pattern
INT64_MAX = 2**63 - 1
# What "spaces around" an id of a batch or a sort key may be (the OpenAPI patterns say the same)
SPACES = " \t\n\r\f\v"

# A positive id as decimal text: "+5" and "007" are fine; leading zeros do not count as digits.
_ID_TEXT = re.compile(r"\+?0*([0-9]{1,19})")
_INT_TEXT = re.compile(r"[+-]?[0-9]+")
# The port grammar (§2), the one copy: a port 1..65535 without leading zeros, a range of two,
# comma-separated. The document (schemas/document.py) and §11's option (services/metadata.py)
# spell it from these; a range's "a <= b" is beyond a regular expression (valid_port_list).
PORT_NUMBER = (
    r"(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
)
PORT_ITEM = rf"{PORT_NUMBER}(?:-{PORT_NUMBER})?"
PORT_LIST = rf"{PORT_ITEM}(?:,{PORT_ITEM})*"
_PORT_ITEM = re.compile(rf"({PORT_NUMBER})(?:-({PORT_NUMBER}))?")


class Invalid(ValueError):
    """A value that breaks a rule; ``code`` is the contract's error code for it."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


def to_int(value: object) -> int:
    """A JSON integer or a string of decimal digits; anything else fails with 1199009."""
    if isinstance(value, str) and _INT_TEXT.fullmatch(value):
        digits = value.lstrip("+-").lstrip("0") or "0"  # "007" is 7, however many zeros
        if len(digits) > 19:
            raise Invalid(1199006)  # cannot fit in 64 bits: out of every range we have
        value = -int(digits) if value.startswith("-") else int(digits)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(1199009)
    if not -INT64_MAX - 1 <= value <= INT64_MAX:
        raise Invalid(1199006)
    return value


def storable_text(value: object) -> str:
    """A JSON string a database can store: 1199007 if not a string, 1199006 if it holds NUL
    (PostgreSQL text cannot; refused on both databases alike)."""
    if not isinstance(value, str):
        raise Invalid(1199007)
    if "\x00" in value:
        raise Invalid(1199006)
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
        if low > high:
            return False
    return True


def coerce(attr: Attribute, value: object, *, strict: bool = True) -> object:
    """Normalise one attribute value as §2 says, or raise Invalid with its code.

    ``strict`` applies the write-only rules (ranges, enum options, the port grammar); search
    conditions compare with the same normalisation but not those rules.
    """
    kind = attr.type
    if kind in ("singlechar", "longchar", "objuser"):
        if attr.port and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        value = storable_text(value)
        if strict and len(value) > attr.max_length:
            raise Invalid(1199015)
        if strict and attr.port and value and not valid_port_list(value):
            raise Invalid(1199016)
        if strict and attr.pattern and value and not _matches(attr.pattern, value):
            raise Invalid(1199016)
        return value
    if kind == "int":
        value = to_int(value)
        if strict and not _within(attr, value):
            raise Invalid(1199006)
        return value
    if kind == "float":
        value = to_float(value)
        if strict and not _within(attr, value):
            raise Invalid(1199006)
        return value
    if kind == "date":
        return _text_time(value, _DATE, date.fromisoformat if strict else None)
    if kind == "datetime":
        return _text_time(value, _DATETIME, _datetime_text if strict else None)
    if kind == "timezone":
        value = storable_text(value)
        if strict and not valid_zone(value):
            raise Invalid(1199006)
        return value
    if kind == "enum":
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        value = storable_text(value)
        if value == "" and not attr.required:
            return attr.empty  # bk-cmdb's clients send "" for "no choice", like null
        if strict and value not in {o.code for o in attr.options}:
            raise Invalid(1199006)
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise Invalid(1199025)
        return value
    if kind == "time":
        return timestamp(value)
    raise Invalid(1199006)  # a json column (audit content) takes no value comparisons


def to_float(value: object) -> float:
    """A finite JSON number, or decimal text of one; else 1199006."""
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise Invalid(1199006) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(1199006)
    value = float(value)
    if not math.isfinite(value):
        raise Invalid(1199006)
    return value


def _within(attr: Attribute, value: float) -> bool:
    low, high = attr.minimum, attr.maximum
    return (low is None or value >= low) and (high is None or value <= high)


@functools.lru_cache(maxsize=1024)
def _pattern(translated: str):
    return re2.compile(translated)


def _matches(translated: str, value: str) -> bool:
    """A custom text attribute's option (§14): found in the value, as bk-cmdb matched it."""
    return _pattern(translated).search(value) is not None


def _datetime_text(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")


def _text_time(value: object, shape: re.Pattern, parse) -> str:
    """A date or time as the text bk-cmdb keeps: of ``shape``, and (``parse`` given, for a
    write) a real one. A condition compares the text: an impossible date matches nothing."""
    value = storable_text(value)
    if not shape.fullmatch(value):
        raise Invalid(1199006)
    if parse is not None:
        try:
            parse(value)
        except ValueError:
            raise Invalid(1199006) from None
    return value


def valid_zone(name: str) -> bool:
    """An IANA time zone name (timezone attributes, §14)."""
    if not name or name.startswith("/") or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def timestamp(value: object, zone: tzinfo = UTC) -> datetime:
    """ISO 8601 text (or bk-cmdb's "YYYY-MM-DD hh:mm:ss") as an aware UTC datetime; a time
    without an offset is read in ``zone``. Anything else fails with 1199006."""
    if not isinstance(value, str):
        raise Invalid(1199006)
    try:
        parsed = datetime.fromisoformat(value)
        # an offset near year 1 or 9999 can leave datetime's range
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise Invalid(1199006) from None


def render(value: object) -> object:
    """A stored value as the API answers it: times in ISO 8601 with microseconds (§2)."""
    return value.isoformat(timespec="microseconds") if isinstance(value, datetime) else value
