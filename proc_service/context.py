"""Per-request facts the contract takes from headers: request id, language, operator (§1)."""

from __future__ import annotations

import contextlib
import re
import uuid

from flask import current_app, g, has_request_context, request

from .errors import invalid

# A client-sent request id is echoed only when it is short and plain, so it cannot inject
# anything into logs or headers.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# A supplier account, in a path or in HTTP_BLUEKING_SUPPLIER_ID (§1).
ACCOUNT = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def request_id() -> str:
    if not has_request_context():
        return "-"
    if "request_id" not in g:
        sent = request.headers.get("X-Request-Id", "")
        g.request_id = sent if _REQUEST_ID.match(sent) else uuid.uuid4().hex
    return g.request_id


def language() -> str:
    """'en' or 'zh'. Werkzeug treats '_' and '-' alike, so HTTP_BLUEKING_LANGUAGE matches both."""
    if not has_request_context():
        return current_app.config["DEFAULT_LANGUAGE"]
    chosen = request.headers.get("HTTP_BLUEKING_LANGUAGE")
    if chosen is not None:
        return "en" if chosen.strip().lower() == "en" else "zh"
    # The client's most preferred language that is English or Chinese (any region: "zh-CN"
    # counts as "zh"). Werkzeug's best_match would prefer an exact "en" at q=0.8 to "zh-CN" at
    # q=0.9, so match primary subtags in the client's order of preference ourselves.
    for value, quality in request.accept_languages:  # sorted by quality, highest first
        primary = value.replace("_", "-").split("-")[0].lower()
        if quality > 0 and primary in ("en", "zh"):
            return primary
    return current_app.config["DEFAULT_LANGUAGE"]


def supplier_account() -> str:
    """HTTP_BLUEKING_SUPPLIER_ID, for the endpoints whose path has no account (§1): "0" when
    absent or empty, else an account as the path would take it, or 400 / 1199003."""
    sent = request.headers.get("HTTP_BLUEKING_SUPPLIER_ID", "").strip(" \t")
    if not sent:
        return "0"
    if not ACCOUNT.fullmatch(sent):
        raise invalid("HTTP_BLUEKING_SUPPLIER_ID")
    return sent


def operator() -> str:
    """BK_User; when absent, the token's name with access control on (§7b), else anonymous."""
    name = request.headers.get("BK_User", "")
    # WSGI hands header bytes over as Latin-1; clients send names in UTF-8 ("用户"). Bytes
    # that are not UTF-8 are kept as they came.
    with contextlib.suppress(UnicodeError):
        name = name.encode("latin-1").decode("utf-8")
    token = g.get("token")
    name = name.strip() or (token.name if token else "anonymous")
    if len(name) > 256 or "\x00" in name:  # characters, not bytes; no database stores NUL
        raise invalid("BK_User")
    return name
