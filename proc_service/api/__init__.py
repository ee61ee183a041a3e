"""HTTP views: path and body in, one service call, the envelope out. No SQL, no business rules."""

from __future__ import annotations

import json
from typing import ClassVar

from flask import request
from flask_smorest import Blueprint
from werkzeug.routing import BaseConverter

from .. import auth, context
from ..errors import ApiError, invalid
from ..schemas import INT64_MAX, EnvelopeSchema, SuccessSchema, positive_id
from ..services import Actor, Scope

ACCOUNT_DOC = f"^{context.ACCOUNT.pattern}$"  # OpenAPI patterns match anywhere unless anchored
ID_PARAMETERS = ("bk_biz_id", "bk_process_id", "bk_set_id", "bk_module_id")


class IdConverter(BaseConverter):
    """<id:...> in a rule. It matches any segment, so that check_path can answer a bad id with
    400 / 1199003 rather than the route not matching (404); it exists to document the type."""

    openapi: ClassVar[dict] = {"type": "integer", "minimum": 1, "maximum": INT64_MAX}


class AccountConverter(BaseConverter):
    """<account:...> in a rule; checked by check_path, documented here."""

    openapi: ClassVar[dict] = {"type": "string", "pattern": ACCOUNT_DOC, "maxLength": 64}


class ModuleNameConverter(BaseConverter):
    """<module_name:...>: the rest of the path, "/" included, even first ("/opt/app" arrives
    as "%2Fopt%2Fapp" and is decoded before routing); werkzeug's <path:> refuses a leading
    "/". check_path applies the length and encoding rules."""

    regex = r"[\s\S]+"  # any character, newlines too
    part_isolating = False
    openapi: ClassVar[dict] = {"type": "string", "minLength": 1, "maxLength": 256}


CONVERTERS = {"id": IdConverter, "account": AccountConverter, "module_name": ModuleNameConverter}


def check_path(endpoint: str | None, values: dict | None) -> None:
    """url_value_preprocessor: path parameters as contract §1 defines them, or 400 / 1199003."""
    for name, raw in (values or {}).items():
        if name == "bk_supplier_account" and not context.ACCOUNT.fullmatch(raw):
            raise invalid(name)
        if name in ID_PARAMETERS:
            values[name] = positive_id(raw)
            if values[name] is None:
                raise invalid(name)
        if name == "bk_module_name" and not _module_name(raw):
            raise invalid(name)


def _module_name(name: str) -> bool:
    """1-256 characters of UTF-8 text that a database can store. Werkzeug decodes the path's
    bytes leniently (bad UTF-8 turns into U+FFFD), so the raw bytes are checked here."""
    try:
        request.environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
    except UnicodeError:
        return False
    return 1 <= len(name) <= 256 and "\x00" not in name


def _no_constants(name: str):
    raise ValueError(f"{name} is not JSON")


def json_body() -> dict:
    """The body as a JSON object, whatever the Content-Type says; else 400 / 1199000."""
    raw = request.get_data(cache=True)  # a Content-Length past MAX_CONTENT_LENGTH: 413
    if request.content_length is None:
        # A chunked body is read up to the limit and no further; one more byte means it was
        # longer, and reading it past the limit raises 413 rather than using a cut-off body.
        request.stream.read(1)
    elif len(raw) != request.content_length:
        raise ApiError(1199000)  # the client stopped before its Content-Length: not the body
    try:
        body = json.loads(raw, parse_constant=_no_constants)
    except (ValueError, RecursionError):
        raise ApiError(1199000) from None
    if not isinstance(body, dict):
        raise ApiError(1199000)
    try:  # "\ud800" parses as a lone surrogate, which no database or response can encode
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(1199000) from None
    return body


def scope(account: str, biz_id: int) -> Scope:
    return Scope(account=account, biz_id=biz_id)


ACCOUNT_HEADER = {
    "in": "header",
    "name": "HTTP_BLUEKING_SUPPLIER_ID",
    "description": "supplier account (this path has none)",
    "schema": {"type": "string", "pattern": ACCOUNT_DOC, "default": "0"},
}


def doc(blp: Blueprint, body=None, result=SuccessSchema, account_header: bool = False):
    """OpenAPI for a view, from the same schemas that validate its body."""
    spec: dict = {"responses": {"200": {"content": {"application/json": {"schema": result}}}}}
    if account_header:
        spec["parameters"] = [ACCOUNT_HEADER]
    spec["responses"]["default"] = {
        "description": "error envelope",
        "content": {"application/json": {"schema": EnvelopeSchema}},
    }
    if body is not None:
        spec["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    return blp.doc(**spec)


def actor() -> Actor:
    """Who asks: BK_User, and with access control on, the token's name (§7b)."""
    token = auth.current()
    op_from = token.name if token else ""
    return Actor(operator=context.operator(), op_from=op_from, request_id=context.request_id())
