"""Request bodies: JSON, whatever the Content-Type says (docs/api.md §1)."""

from __future__ import annotations

import json

from flask import request

from ..errors import ApiError


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
