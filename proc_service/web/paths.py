"""Path parameters as docs/api.md §1 defines them: converters that document them in OpenAPI, and
the check that answers a malformed one with 400 / 1199003."""

from __future__ import annotations

from typing import ClassVar

from flask import request
from werkzeug.routing import BaseConverter

from .. import context
from ..errors import invalid
from ..values import INT64_MAX, positive_id

ACCOUNT_DOC = f"^{context.ACCOUNT.pattern}$"  # OpenAPI patterns match anywhere unless anchored
ID_PARAMETERS = ("bk_biz_id", "bk_process_id", "bk_set_id", "bk_module_id")


class IdConverter(BaseConverter):
    """<id:...> in a rule: the id as an int, or None when the segment is not one. It matches any
    segment, so that check_path can answer a bad id with 400 / 1199003 rather than the route
    not matching (404)."""

    openapi: ClassVar[dict] = {"type": "integer", "minimum": 1, "maximum": INT64_MAX}

    def to_python(self, value: str) -> int | None:
        return positive_id(value)


class EventBizConverter(IdConverter):
    """<event_biz:...>: the business of an event subscription path (§15), which v3.1's page
    sends as 0: subscriptions are account-wide, so 0 is accepted, and any business is."""

    openapi: ClassVar[dict] = {"type": "integer", "minimum": 0, "maximum": INT64_MAX}

    def to_python(self, value: str) -> int | None:
        return 0 if value == "0" else positive_id(value)


class WatchResourceConverter(BaseConverter):
    """<watch_resource:...>: what resource_watch watches here (§15)."""

    regex = "process|set|module|process_module"
    openapi: ClassVar[dict] = {
        "type": "string",
        "enum": ["process", "set", "module", "process_module"],
    }


class AttributeIdConverter(IdConverter):
    """<attr_id:...>: a custom attribute's id (§14); §11's preset ids are below 10001, and the
    model API refuses them (400 / 1199054)."""

    # "search" is the route word of search_object_attribute: PUT /attr/search is 405
    regex = "(?!search(?:/|$))[^/]+"
    openapi: ClassVar[dict] = {"type": "integer", "minimum": 10001, "maximum": INT64_MAX}


class AccountConverter(BaseConverter):
    """<account:...> in a rule; checked by check_path, documented here."""

    openapi: ClassVar[dict] = {"type": "string", "pattern": ACCOUNT_DOC, "maxLength": 64}


# In /api/v3/proc paths, "search" and "module" are route words, never accounts, as go-restful's
# preference for literal segments made them in bk-cmdb: PUT /proc/search/0/1 is a method that
# search_process does not take (405), not update_process for the account "search".
ROUTE_WORDS = ("search", "module")
PROC_ACCOUNT_DOC = f"^(?!(?:{'|'.join(ROUTE_WORDS)})$){context.ACCOUNT.pattern}$"


class ProcAccountConverter(AccountConverter):
    """<proc_account:...>: an account segment of /api/v3/proc, any segment but a route word."""

    regex = f"(?!(?:{'|'.join(ROUTE_WORDS)})(?:/|$))[^/]+"
    openapi: ClassVar[dict] = {"type": "string", "pattern": PROC_ACCOUNT_DOC, "maxLength": 64}


class EventAccountConverter(AccountConverter):
    """<event_account:...>: an account segment of /api/v3/event/subscribe, which is any
    segment but "search", the route word of search_subscription (as in /proc paths)."""

    regex = "(?!search(?:/|$))[^/]+"
    openapi: ClassVar[dict] = {
        "type": "string",
        "pattern": f"^(?!search$){context.ACCOUNT.pattern}$",
        "maxLength": 64,
    }


class ModuleNameConverter(BaseConverter):
    """<module_name:...>: the rest of the path, "/" included, even first ("/opt/app" arrives
    as "%2Fopt%2Fapp" and is decoded before routing); werkzeug's <path:> refuses a leading
    "/". check_path applies the length and encoding rules."""

    regex = r"[\s\S]+"  # any character, newlines too
    part_isolating = False
    openapi: ClassVar[dict] = {"type": "string", "minLength": 1, "maxLength": 256}


CONVERTERS = {
    "id": IdConverter,
    "event_biz": EventBizConverter,
    "watch_resource": WatchResourceConverter,
    "attr_id": AttributeIdConverter,
    "account": AccountConverter,
    "proc_account": ProcAccountConverter,
    "event_account": EventAccountConverter,
    "module_name": ModuleNameConverter,
}


def check_path(values: dict | None) -> None:
    """Path parameters as docs/api.md §1 defines them (the converters have typed them), or
    400 / 1199003 naming the first that is not."""
    for name, value in (values or {}).items():
        if name == "bk_supplier_account" and not context.ACCOUNT.fullmatch(value):
            raise invalid(name)
        if name in ID_PARAMETERS and value is None:
            raise invalid(name)
        if name == "bk_module_name" and not _module_name(value):
            raise invalid(name)


def _module_name(name: str) -> bool:
    """1-256 characters of UTF-8 text that a database can store. Werkzeug decodes the path's
    bytes leniently (bad UTF-8 turns into U+FFFD), so the raw bytes are checked here."""
    try:
        request.environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
    except UnicodeError:
        return False
    return 1 <= len(name) <= 256 and "\x00" not in name
