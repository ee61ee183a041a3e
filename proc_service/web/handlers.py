"""The one place that turns any error into the envelope (docs/api.md §1, §8)."""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge

from .. import context
from ..errors import ApiError, Op, not_found
from .endpoint import current_endpoint
from .envelope import envelope

log = logging.getLogger(__name__)


def is_connection_error(exc: BaseException) -> bool:
    """True when the database could not be reached (as opposed to a bad statement)."""
    return isinstance(exc, OperationalError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


def error_response(exc: ApiError) -> tuple[Response, int]:
    response = envelope(None, code=exc.code, message=exc.message(context.language()))
    if exc.status == 401:  # RFC 9110: a 401 names the scheme it wants
        response.headers["WWW-Authenticate"] = 'Bearer realm="proc-service"'
    return response, exc.status


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        if exc.status >= 500:
            log.warning("request failed: %s", exc.message("en"))
        return error_response(exc)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if isinstance(exc, RequestEntityTooLarge):
            limit = current_app.config["MAX_CONTENT_LENGTH"]
            return error_response(ApiError(1199035, "request body", limit, status=413))
        if isinstance(exc, NotFound):
            return error_response(not_found("route"))
        if isinstance(exc, MethodNotAllowed):
            response, status = error_response(ApiError(1199003, "method", status=405))
            response.allow.update(exc.valid_methods or ())  # a 405 lists what is allowed
            return response, status
        if exc.code and exc.code < 500:
            return error_response(ApiError(1199003, "request", status=exc.code))
        return _unexpected(exc)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if is_connection_error(exc):
            log.error("database unavailable: %s", type(exc).__name__)
            declared = current_endpoint()
            return error_response(ApiError((declared.op if declared else Op.SEARCH).code))
        log.exception("unhandled error")
        return error_response(ApiError(1199999, context.request_id()))
