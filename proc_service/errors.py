"""The error catalogue (contract §8) and the one place that turns any error into the envelope."""

from __future__ import annotations

import logging

from flask import Flask, current_app, request
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge

from . import context
from .envelope import envelope

log = logging.getLogger(__name__)

# code -> (HTTP status, English, Chinese)
CATALOGUE: dict[int, tuple[int, str, str]] = {
    1199000: (400, "Deserializing JSON data failed", "反序列化JSON数据失败"),
    1199003: (400, "invalid input parameter: '%s'", "输入参数无效: '%s'"),
    1199006: (400, "'%s' data parameter verification does not pass", "'%s' 数据参数校验不通过"),
    1199007: (400, "'%s' must be a string type", "'%s' 必须为字符串类型"),
    1199008: (400, "'%s' cannot be omitted", "'%s' 不可以被省略"),
    1199009: (400, "'%s' parameters must be integral", "'%s' 参数必须是整型"),
    1199010: (400, "'%s' unassigned", "'%s' 未赋值"),
    1199011: (
        400,
        "'%s' the parameter is invalid or does not exist",
        "'%s' 参数无效或不存在",
    ),
    1199014: (409, "duplicated instances exist, %s duplicated", "数据唯一性校验失败， %s 重复"),
    1199015: (400, "'%s' data out of range", "'%s' 数据越界"),
    1199016: (400, "'%s' field regular check failed", "'%s' 字段正则校验失败"),
    1199019: (404, "No relevant data found: %s", "未找到相关数据: %s"),
    1199025: (400, "'%s' must be boolean", "'%s' 必须为布尔类型"),
    1199027: (401, "'%s' authorization information query failed", "[%s]授权信息查询失败"),
    1199035: (400, "%s exceed the limit %d", "%s 超过限制 %d"),
    1199999: (500, "Internal Server Error (request %s)", "服务器内部错误 (请求 %s)"),
    9900403: (403, "no permission", "没有权限"),
}

# Database unavailable: 503 with one code per operation, as bk-cmdb numbers them. Views are
# named after the contract's API names, which pick the code; the topology and audit views share
# the codes of the operation they perform.
_DB_OPERATIONS = (
    (1108001, ("get_process_detail",), "query process detail", "查询进程详情"),
    (1108002, ("bind_process_module",), "bind", "绑定进程到模块"),
    (1108003, ("delete_process_module_binding",), "unbind", "解绑进程模块"),
    (1108004, ("get_process_bind_module",), "list bindings", "获取进程绑定模块"),
    (1108005, ("update_process", "batch_update_process", "update_set", "update_module"),
     "update", "更新"),
    (1108006, ("search_process", "search_set", "search_module", "search_audit"), "search", "查询"),
    (1108007, ("delete_process", "delete_set", "delete_module"), "delete", "删除"),
    (1108008, ("create_process", "create_set", "create_module"), "create", "创建"),
)  # fmt: skip
for _code, _views, _en, _zh in _DB_OPERATIONS:
    CATALOGUE[_code] = (503, f"database unavailable while: {_en}", f"数据库不可用: {_zh}")
DB_UNAVAILABLE_BY_VIEW = {view: code for code, views, _, _ in _DB_OPERATIONS for view in views}
DB_UNAVAILABLE_DEFAULT = 1108006


class ApiError(Exception):
    """An error a client will see: a catalogue code and the values for its message."""

    def __init__(self, code: int, *args: object, status: int | None = None):
        super().__init__(code, *args)
        self.code = code
        self.args_ = args
        self.status = status or CATALOGUE[code][0]

    def message(self, lang: str) -> str:
        _, en, zh = CATALOGUE[self.code]
        template = en if lang == "en" else zh
        return template % self.args_ if "%" in template else template


def invalid(field: str) -> ApiError:
    return ApiError(1199003, field)


def not_found(what: str) -> ApiError:
    return ApiError(1199019, what)


def is_connection_error(exc: BaseException) -> bool:
    """True when the database could not be reached (as opposed to a bad statement)."""
    return isinstance(exc, OperationalError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


def error_response(exc: ApiError):
    lang = context.language()
    response = envelope(None, code=exc.code, message=exc.message(lang))
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
            view = (request.endpoint or "").rpartition(".")[2]
            return error_response(
                ApiError(DB_UNAVAILABLE_BY_VIEW.get(view, DB_UNAVAILABLE_DEFAULT))
            )
        log.exception("unhandled error")
        return error_response(ApiError(1199999, context.request_id()))
