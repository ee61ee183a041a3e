"""Events (docs/api.md §15): bk-cmdb v3.1's event_subscribe and v3.8's resource_watch.
path → schemas.events → services.subscriptions / services.events → models.Subscription, Event."""

from __future__ import annotations

from flask_smorest import Blueprint

from ..errors import ApiError, Op
from ..schemas import events as schemas
from ..schemas.responses import NullSchema
from ..services import events as log
from ..services import subscriptions as service
from ..web.endpoint import HEADER, NULL, endpoint

blp = Blueprint("events", __name__, url_prefix="/api/v3/event", description="Events")

SCOPE = "/<event_account:bk_supplier_account>/<event_biz:bk_biz_id>"
SUBSCRIPTION = {
    "subscription_name": "process-watcher",
    "system_name": "monitor",
    "callback_url": "https://monitor.example.com/cmdb/events",
    "confirm_mode": "httpstatus",
    "confirm_pattern": "200",
    "subscription_form": "processcreate,processdelete,processupdate,processmodule",
    "time_out": 10,
}


@endpoint(
    blp,
    "/subscribe" + SCOPE,
    "POST",
    op=Op.CREATE,
    body=schemas.SubscriptionSchema,
    result=schemas.SubscribedSchema,
    example=SUBSCRIPTION,
    conflicts=False,  # a name the account has is v3.1's rebook, not a conflict
)
def subscribe_event(call, body):
    """subscribe_event: push the account's events named in subscription_form to callback_url
    (a name the account already has updates that subscription)"""
    return {"subscription_id": service.subscribe(call.session, call.account, call.actor, body)}


@endpoint(
    blp,
    "/subscribe" + SCOPE + "/<id:subscription_id>",
    "PUT",
    op=Op.UPDATE,
    body=schemas.SubscriptionUpdateSchema,
    result=NullSchema,
    example={"callback_url": "https://monitor.example.com/cmdb/v2/events"},
)
def update_event_subscribe(call, body, subscription_id: int):
    """update_event_subscribe: change a subscription"""
    service.update(call.session, call.account, call.actor, subscription_id, body)
    return NULL


@endpoint(
    blp, "/subscribe" + SCOPE + "/<id:subscription_id>", "DELETE", op=Op.DELETE, result=NullSchema
)
def unsubscribe_event(call, subscription_id: int):
    """unsubscribe_event: stop a subscription"""
    service.unsubscribe(call.session, call.account, subscription_id)
    return NULL


@endpoint(
    blp,
    "/subscribe/search" + SCOPE,
    "POST",
    op=Op.SEARCH,
    body=schemas.SubscriptionSearchSchema,
    result=schemas.SubscriptionSearchResultSchema,
    example={"condition": {}, "page": {"start": 0, "limit": 10, "sort": "subscription_id"}},
)
def search_subscription(call, body):
    """search_subscription: the account's subscriptions, with statistics and delivery state"""
    return service.search(call.session, call.account, body)


@endpoint(
    blp,
    "/subscribe/ping",
    "POST",
    op=Op.CREATE,  # it makes the server open a connection: a writer's right (§7b)
    body=schemas.PingSchema,
    result=schemas.PingResultSchema,
    example={"callback_url": "https://monitor.example.com/cmdb/events", "data": "{}"},
    account=HEADER,
    conflicts=False,
)
def testing_connection(call, body):
    """testing_connection (ping): POST data to callback_url, answer its status and body"""
    return service.ping(body["callback_url"], body["data"])


@endpoint(
    blp,
    "/subscribe/telnet",
    "POST",
    op=Op.CREATE,
    body=schemas.TelnetSchema,
    result=NullSchema,
    example={"callback_url": "https://monitor.example.com/cmdb/events"},
    account=HEADER,
    conflicts=False,
)
def telnet_connection(call, body):
    """testing_connection (telnet): open a TCP connection to callback_url's host and port"""
    service.telnet(body["callback_url"])
    return NULL


@endpoint(
    blp,
    "/watch/resource/<watch_resource:bk_resource>",
    "POST",
    op=Op.SEARCH,
    body=schemas.WatchSchema,
    result=schemas.WatchResultSchema,
    example={"bk_event_types": ["create", "update", "delete"], "bk_fields": [], "bk_cursor": ""},
    account=HEADER,
)
def resource_watch(call, body, bk_resource: str):
    """resource_watch: the resource's events after bk_cursor (or from bk_start_from, or from
    now), held up to 20 s until one commits"""
    if body.get("bk_resource") not in (None, "", bk_resource):
        raise ApiError(1199006, "bk_resource")
    return log.watch(call.session, call.account, bk_resource, body)
