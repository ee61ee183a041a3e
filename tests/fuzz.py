"""Generated inputs and the envelope check that robustness tests share (docs/api.md §8)."""

from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from .kit import CONTRACT_ATTRIBUTES, SYSTEM_FIELDS

JSON_CT = "application/json; charset=utf-8"
INT64_MAX = 2**63 - 1

# docs/api.md §8: the HTTP status of every code. 1199003 is also the code of a wrong method (405).
STATUS_OF = {
    1199000: {400},
    1199003: {400, 405},
    1199006: {400},
    1199007: {400},
    1199008: {400},
    1199009: {400},
    1199010: {400},
    1199011: {400},
    1199014: {409},
    1199015: {400},
    1199016: {400},
    1199019: {404},
    1199025: {400},
    1199035: {400, 413},
}
# What a message must never show (§8): SQL, a stack trace, a file path, driver text.
LEAK = re.compile(
    r"Traceback|File \"|\.py\b|site-packages|/usr/|/work/|SELECT |INSERT INTO|UPDATE processes"
    r"|DELETE FROM|sqlalchemy|psycopg|sqlite3|IntegrityError|DataError|OperationalError"
    r"|Background on this error",
    re.IGNORECASE,
)

ATTRIBUTES = CONTRACT_ATTRIBUTES
KEYS = [*ATTRIBUTES, *SYSTEM_FIELDS]
OPERATORS = ["$eq", "$ne", "$in", "$nin", "$gt", "$gte", "$lt", "$lte", "$regex"]


def envelope(resp, allowed: set[int]) -> dict:
    """The contract's envelope, with a status in ``allowed`` that agrees with its code."""
    text = resp.get_data(as_text=True)
    assert resp.status_code in allowed, (resp.status_code, text[:500])
    assert resp.headers["Content-Type"] == JSON_CT, text[:200]
    assert resp.headers.get("X-Request-Id")
    body = json.loads(text)
    assert set(body) == {"result", "bk_error_code", "bk_error_msg", "data"}, body
    if body["bk_error_code"] == 0:
        assert resp.status_code == 200 and body["result"] is True, body
    else:
        assert body["result"] is False and body["data"] is None, body
        assert resp.status_code in STATUS_OF[body["bk_error_code"]], (resp.status_code, body)
        assert body["bk_error_msg"] and not LEAK.search(body["bk_error_msg"]), body
    return body


# --- generated inputs ---------------------------------------------------------------------------

ODD_TEXT = [
    "", " ", "80", "1", "+5", "-1", " 5", "9" * 25, "8080-8089", "\u202eevil", "e\u0301",
    "\U0001f600", "\ufeff", "\uffff", "\U0010ffff", "\x00", "a\x00b", "\ud800", "\udfff",
    "2026-01-01", "2026-01-01T00:00:00+99:00", "0001-01-01T00:00:00+14:00", "(", "[", "\\",
    "a{256}", "(a+)+$", "-", ",,", "--bk_process_id", "x" * 300, "' OR 1=1 --", "null",
]  # fmt: skip
BIG_INTS = [0, 1, -1, 2**31 - 1, 2**31, INT64_MAX, 2**63, -(2**63), -(2**63) - 1, 2**64, 10**30]

scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 12),
    st.sampled_from(BIG_INTS),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(ODD_TEXT),
    st.text(max_size=8),
)
json_value = st.recursive(
    scalar,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from([*OPERATORS, "$foo", "a"]), inner, max_size=3)
    ),
    max_leaves=6,
)
operator_set = st.one_of(
    st.dictionaries(st.sampled_from(OPERATORS), scalar, min_size=1, max_size=2),
    st.dictionaries(st.sampled_from([*OPERATORS, "$where", ""]), json_value, max_size=3),
)
condition = st.dictionaries(
    st.sampled_from([*KEYS, "bk_module_name", "unknown", ""]),
    st.one_of(scalar, operator_set, json_value),
    min_size=1,
    max_size=3,
)
sort = st.one_of(
    st.sampled_from(["-", ",,", "--bk_process_id", "-proc_num,port", "auto_start,-create_time"]),
    st.lists(st.sampled_from([*KEYS, "", "-", " "]), max_size=4).map(",".join),
    json_value,
)

PROPERTY = settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


PATH_SEGMENT = st.one_of(
    st.sampled_from(
        ["0", "1", "+1", "007", str(INT64_MAX), str(2**63), "-1", "1.0", "1e3", "0x1", " 1"]
    ),
    st.text(min_size=1, max_size=12),
)
