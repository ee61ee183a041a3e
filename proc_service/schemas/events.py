"""Event bodies (§15): bk-cmdb v3.1's event_subscribe and v3.8's resource_watch."""

from __future__ import annotations

import re

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

from ..services.callbacks import URL_MAX
from ..services.events import ACTIONS, RESOURCES
from ..services.subscriptions import EVENT_NAMES
from .responses import enveloped

TEXT = {"invalid": "1199007", "null": "1199007"}
INTEGER = {"invalid": "1199009", "null": "1199009"}
LIST = {"invalid": "1199006", "null": "1199006"}


def _text(max_length: int, required: bool = False, pattern: str | None = None, **kw):
    rules = [validate.Length(max=max_length, error="1199006")]
    metadata = {}
    if pattern is not None:  # the server refuses exactly what the document's pattern does
        whole = re.compile(pattern.removeprefix("^").removesuffix("$"))

        def matches(value: str) -> None:
            # fullmatch: Python's "$" also matches before a final newline, JSON Schema's not
            if not whole.fullmatch(value):
                raise ValidationError("1199006")

        rules.append(matches)
        metadata = {"pattern": pattern}
    return fields.String(
        required=required,
        validate=rules,
        error_messages={**TEXT, "required": "1199008"},
        metadata=metadata,
        **kw,
    )


# v3.1's event names, comma-separated (no spaces); a URL's form before its address is checked
_NAME = "(?:" + "|".join(sorted(EVENT_NAMES)) + ")"
FORM = f"^{_NAME}(?:,{_NAME})*$"
URL = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#@]+(?:[/?#]\S*)?$"


class SubscriptionSchema(Schema):
    """What v3.1's subscribe and update take. The page sends a subscription back whole on
    update: its read-only keys are accepted and ignored."""

    class Meta:
        unknown = RAISE

    subscription_name = _text(256, required=True)
    system_name = _text(256, load_default="")
    callback_url = _text(URL_MAX, required=True, pattern=URL)
    confirm_mode = fields.String(
        load_default="httpstatus",
        validate=validate.OneOf(["httpstatus", "regular"], error="1199006"),
        error_messages=TEXT,
    )
    confirm_pattern = _text(1024, load_default="")
    subscription_form = _text(2048, required=True, pattern=FORM)
    # bk-cmdb's field is time_out; its document said timeout, which it ignored: both, time_out
    # first (§15)
    time_out = fields.Integer(
        strict=True, load_default=None, allow_none=True, error_messages=INTEGER
    )
    timeout = fields.Integer(
        strict=True, load_default=None, allow_none=True, error_messages=INTEGER
    )
    # read-only keys a client may send back
    subscription_id = fields.Raw(load_only=True, allow_none=True)
    bk_supplier_account = fields.Raw(load_only=True, allow_none=True)
    bk_biz_id = fields.Raw(load_only=True, allow_none=True)
    operator = fields.Raw(load_only=True, allow_none=True)
    last_time = fields.Raw(load_only=True, allow_none=True)
    statistics = fields.Raw(load_only=True, allow_none=True)
    delivery = fields.Raw(load_only=True, allow_none=True)


class SubscriptionUpdateSchema(SubscriptionSchema):
    """An update may send only what changes."""

    subscription_name = _text(256)
    callback_url = _text(URL_MAX, pattern=URL)
    confirm_mode = fields.String(
        validate=validate.OneOf(["httpstatus", "regular"], error="1199006"), error_messages=TEXT
    )
    confirm_pattern = _text(1024)
    subscription_form = _text(2048, pattern=FORM)
    system_name = _text(256)


class PageSchema(Schema):
    class Meta:
        unknown = RAISE

    start = fields.Integer(
        strict=True,
        load_default=0,
        validate=validate.Range(min=0, error="1199006"),
        error_messages=INTEGER,
    )
    limit = fields.Integer(
        strict=True,
        load_default=200,
        validate=validate.Range(min=0, max=200, error="1199006"),
        error_messages=INTEGER,
    )
    sort = fields.String(
        load_default="subscription_id",
        validate=validate.OneOf(
            [
                f"{d}{k}"
                for d in ("", "-")
                for k in ("subscription_id", "subscription_name", "last_time")
            ],
            error="1199006",
        ),
        error_messages=TEXT,
    )


class SubscriptionConditionSchema(Schema):
    """Equality on these; every key must hold."""

    class Meta:
        unknown = RAISE

    subscription_id = fields.Integer(strict=True, error_messages=INTEGER)
    subscription_name = _text(256)
    system_name = _text(256)
    callback_url = _text(URL_MAX)


class SubscriptionSearchSchema(Schema):
    class Meta:
        unknown = RAISE

    condition = fields.Nested(SubscriptionConditionSchema, load_default=dict, error_messages=LIST)
    fields_ = fields.List(
        fields.String(error_messages=TEXT),
        data_key="fields",
        attribute="fields",
        load_default=list,
        error_messages=LIST,
    )
    page = fields.Nested(PageSchema, load_default=dict, error_messages=LIST)


class PingSchema(Schema):
    class Meta:
        unknown = RAISE

    callback_url = _text(URL_MAX, required=True, pattern=URL)
    data = _text(64 * 1024, load_default="")


class TelnetSchema(Schema):
    class Meta:
        unknown = RAISE

    callback_url = _text(URL_MAX, required=True, pattern=URL)


class WatchSchema(Schema):
    """v3.8's resource_watch body. bk_resource, when sent, must name the path's resource;
    bk_filter (sub-resources of generic models) has nothing to filter here."""

    class Meta:
        unknown = EXCLUDE  # the ESB's bk_app_code, bk_username, ... ride in the body

    bk_event_types = fields.List(
        fields.String(validate=validate.OneOf(ACTIONS, error="1199006"), error_messages=TEXT),
        load_default=list,
        error_messages=LIST,
    )
    bk_fields = fields.List(
        fields.String(validate=validate.Length(max=128, error="1199006"), error_messages=TEXT),
        load_default=list,
        validate=validate.Length(max=200, error="1199006"),
        error_messages=LIST,
    )
    bk_start_from = fields.Integer(
        strict=True,
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=0, max=2**33, error="1199006"),
        error_messages=INTEGER,
    )
    bk_cursor = _text(19, load_default="", allow_none=True, pattern="^[0-9]*$")
    bk_resource = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf([*RESOURCES, ""], error="1199006"),
        error_messages=TEXT,
        metadata={"description": "when sent, the path's resource"},
    )
    bk_supplier_account = _text(64, load_default=None, allow_none=True)
    bk_filter = fields.Dict(load_default=None, allow_none=True, error_messages=LIST)


SubscribedSchema = enveloped(
    fields.Nested(
        Schema.from_dict({"subscription_id": fields.Integer(required=True)}, name="SubscribedData")
    ),
    "Subscribed",
)
SubscriptionSearchResultSchema = enveloped(
    fields.Nested(
        Schema.from_dict(
            {"count": fields.Integer(), "info": fields.List(fields.Dict())},
            name="SubscriptionSearchData",
        )
    ),
    "SubscriptionSearchResult",
)
PingResultSchema = enveloped(
    fields.Nested(
        Schema.from_dict(
            {"http_status": fields.Integer(), "response_body": fields.String()}, name="PingData"
        )
    ),
    "PingResult",
)
WatchEventSchema = Schema.from_dict(
    {
        "bk_cursor": fields.String(),
        "bk_resource": fields.String(),
        "bk_event_type": fields.String(metadata={"enum": ["create", "update", "delete", ""]}),
        "bk_detail": fields.Dict(allow_none=True),
    },
    name="WatchEvent",
)
WatchResultSchema = enveloped(
    fields.Nested(
        Schema.from_dict(
            {
                "bk_watched": fields.Boolean(),
                "bk_events": fields.List(fields.Nested(WatchEventSchema)),
            },
            name="WatchData",
        )
    ),
    "WatchResult",
)
