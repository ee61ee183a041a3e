"""schemathesis hooks (SCHEMATHESIS_HOOKS=tests.schemathesis_hooks): values for the named formats
of /openapi.json (proc_service/schemas/document.py), whose rules JSON Schema cannot state.

- ``port-list``: the port grammar of §2 with a range's ``a <= b``;
- ``portable-regex``: patterns of the $regex dialect (regex.py);
- ``iso-time``: times datetime.fromisoformat reads (ISO 8601, or "YYYY-MM-DD hh:mm:ss");
- ``bk-time`` and ``iana-zone``: custom attributes' time texts and time zone names (§14).

And cases adjusted, each with the contract's reason (``map_body``):
- audit search's ``op_time`` ``[from, to]`` with ``from > to`` is 400 / 1199006 (§13), an order
  between two values JSON Schema cannot say, so a generated range whose ends are out of order
  is put in order;
- a custom attribute's definition (§14): which ``option`` a type takes, an int option's bounds
  as integers and in order, enum ids unique with at most one default, ``isonly`` only for
  singlechar and int: rules between fields that JSON Schema cannot say, so a generated
  definition is made consistent (a shape the document refuses is left as it is). Definitions
  are made for an account of their own: /openapi.json without ``?account=`` describes the
  preset model, and a required attribute of account "0" would change what its creates need;
- update_object_attribute: a definition's id, kind and type stay, and its option and isonly
  depend on its stored type, which one request's document cannot know: those keys are left out;
- and no update or delete reaches the attributes of account "0" that the document under test
  describes (tests/test_schemathesis.py makes them before the run): that model holds for the
  whole run; the requests meant to be accepted are made for account "0" (path or header),
  whose model the document describes (another account's requests follow its own model).
"""

from __future__ import annotations

import os
import zoneinfo
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
# §14's custom attribute values: "YYYY-MM-DD HH:MM:SS" texts of real times, IANA zone names
schemathesis.openapi.format("bk-time", _INSTANTS.map(lambda t: t.strftime("%Y-%m-%d %H:%M:%S")))
schemathesis.openapi.format(
    "iana-zone", st.sampled_from(sorted(zoneinfo.available_timezones() - {"Factory", "localtime"}))
)


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


MODEL_ACCOUNT = "schemathesis"
FIXTURE_IDS = {str(n) for n in range(10001, 10100)}
_TEXT_OPTION = ("singlechar", "longchar")


def _bound(value: object, integer: bool) -> object:
    if not isinstance(value, str) or value == "":
        return value
    return value.split(".")[0] if integer else value


def _definition(body: dict) -> None:
    """A create_object_attribute body made consistent across its fields (see above)."""
    body["bk_supplier_account"] = MODEL_ACCOUNT
    kind = body.get("bk_property_type")
    option = body.get("option")
    if kind in ("int", "float"):
        bounds = option if isinstance(option, dict) else {}
        bounds = {k: _bound(v, kind == "int") for k, v in bounds.items()}
        low, high = bounds.get("min", ""), bounds.get("max", "")
        if low not in ("", None) and high not in ("", None) and float(low) > float(high):
            bounds["min"], bounds["max"] = high, low
        body["option"] = bounds
    elif kind == "enum":
        items = option if isinstance(option, list) and option else [{"id": "a", "name": "A"}]
        seen, default = set(), False
        for n, item in enumerate(items):
            if item.get("id") in seen:
                item["id"] = f"{item['id']}-{n}"[:128]
            seen.add(item.get("id"))
            if item.get("is_default") is True:
                item["is_default"] = not default
                default = True
        body["option"] = items
    elif kind in _TEXT_OPTION:
        if not isinstance(option, str):
            body["option"] = ""
    else:
        body["option"] = None
    if body.get("isonly") is True and kind not in ("singlechar", "int"):
        body["isonly"] = False


def _event_body(path: str, case) -> None:
    """§15: a callback URL must name an address the server may reach (the live server allows
    loopback, PROC_EVENT_ALLOW_PRIVATE_CALLBACKS=1): the test's own stub, whatever was
    generated, so that no case makes the server open a connection anywhere else; a confirm
    pattern must suit its mode (3 digits for httpstatus, a regex for regular) and bk_resource
    name the path's resource, rules between two values that JSON Schema cannot state."""
    body = case.body
    if "callback_url" in body:
        body["callback_url"] = os.environ["PROC_ST_CALLBACK"]
    if "confirm_pattern" in body or "confirm_mode" in body:
        regular = body.get("confirm_mode") == "regular"
        body["confirm_pattern"] = "^ok" if regular else "200"
    if path.startswith("/api/v3/event/watch/") and body.get("bk_resource"):
        body["bk_resource"] = case.path_parameters["bk_resource"]


def _positive(case) -> bool:
    generation = getattr(getattr(case, "meta", None), "generation", None)
    mode = getattr(generation, "mode", None)
    return mode is None or str(getattr(mode, "value", mode)) == "positive"


@schemathesis.hook
def before_call(context, case, **kwargs):
    """The model API's adjustments (above): account "0"'s own attributes, which the document
    under test describes (made by tests/test_schemathesis.py, ids from 10001), are never
    updated or deleted, whatever the case; the other adjustments are for the cases meant to be
    accepted (a case meant to be refused is sent as generated)."""
    path = case.operation.path
    fixed = str((case.path_parameters or {}).get("attr_id")) in FIXTURE_IDS
    if path.startswith("/api/v3/object/attr/{") and fixed:
        case.path_parameters["attr_id"] = 99_999_999  # an id nobody has: 404
    if not _positive(case):
        return
    # the document under test describes account "0"'s model; another account's requests are
    # judged by that account's model, which this document does not describe
    if "bk_supplier_account" in (case.path_parameters or {}):
        case.path_parameters["bk_supplier_account"] = "0"
    if any(p.name == "HTTP_BLUEKING_SUPPLIER_ID" for p in case.operation.iter_parameters()):
        case.headers = {**(case.headers or {}), "HTTP_BLUEKING_SUPPLIER_ID": "0"}
    if not isinstance(case.body, dict):
        return
    if path.startswith("/api/v3/event/"):
        _event_body(path, case)
    if path == "/api/v3/object/attr" and case.method.upper() == "POST":
        _definition(case.body)
    elif path.startswith("/api/v3/object/attr/{") and case.method.upper() == "PUT":
        stored = ("bk_obj_id", "bk_property_id", "bk_property_type", "option", "isonly")
        for key in (*stored, "bk_supplier_account"):
            case.body.pop(key, None)


@schemathesis.hook
def map_body(context, body):
    """The adjustments above, for rules JSON Schema cannot state."""
    condition = body.get("condition") if isinstance(body, dict) else None
    span = condition.get("op_time") if isinstance(condition, dict) else None
    if isinstance(span, list) and len(span) == 2:
        low, high = (_instant(v) for v in span)
        if low is not None and high is not None and low > high:
            condition["op_time"] = [span[1], span[0]]
    return body
