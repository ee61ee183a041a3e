"""schemathesis hooks (SCHEMATHESIS_HOOKS=tests.schemathesis_hooks): values for the named formats
of /openapi.json (proc_service/schemas/document.py), whose rules JSON Schema cannot state.

- ``port-list``: the port grammar of §2 with a range's ``a <= b``;
- ``portable-regex``: patterns of the $regex dialect (regex.py);
- ``iso-time``: times datetime.fromisoformat reads (ISO 8601, or "YYYY-MM-DD hh:mm:ss").

And one case left out, with the contract's reason: audit search's ``op_time`` ``[from, to]``
with ``from > to`` is 400 / 1199006 (§13), an order between two values JSON Schema cannot say,
so a generated range whose ends are out of order is put in order (``map_body``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import schemathesis
from hypothesis import strategies as st

_PORT = st.integers(min_value=1, max_value=65535)
_PORT_ITEM = st.one_of(
    _PORT.map(str),
    st.tuples(_PORT, _PORT).map(lambda ab: f"{min(ab)}-{max(ab)}"),
)
PORT_LIST = st.one_of(st.just(""), st.lists(_PORT_ITEM, min_size=1, max_size=6).map(",".join))

_ATOMS = st.one_of(
    st.sampled_from(["a", "b", "x", "0", "9", "_", "-", "/", ".", "\\d", "\\w", "[a-z]", "[0-9]"]),
    st.sampled_from(["\\.", "\\*", "(?:ab|c)", "(x)", "[^,]", "\\s"]),
)
_QUANTIFIERS = st.sampled_from(["", "", "*", "+", "?", "{2}", "{1,3}"])
PORTABLE_REGEX = st.builds(
    "{}{}{}".format,
    st.sampled_from(["", "^"]),
    st.lists(st.builds("{}{}".format, _ATOMS, _QUANTIFIERS), max_size=5).map("".join),
    st.sampled_from(["", "$"]),
)

_ZONES = st.sampled_from(
    [None, UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]
)
_INSTANTS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1))
ISO_TIME = st.one_of(
    st.builds(lambda t, z: t.replace(tzinfo=z).isoformat(), _INSTANTS, _ZONES),
    _INSTANTS.map(lambda t: t.strftime("%Y-%m-%d %H:%M:%S")),
)

schemathesis.openapi.format("port-list", PORT_LIST)
schemathesis.openapi.format("portable-regex", PORTABLE_REGEX)
schemathesis.openapi.format("iso-time", ISO_TIME)


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@schemathesis.hook
def map_body(context, body):
    """op_time's ends in order: from > to is refused by a rule JSON Schema cannot state."""
    condition = body.get("condition") if isinstance(body, dict) else None
    span = condition.get("op_time") if isinstance(condition, dict) else None
    if isinstance(span, list) and len(span) == 2:
        low, high = (_instant(v) for v in span)
        if low is not None and high is not None and low > high:
            condition["op_time"] = [span[1], span[0]]
    return body
