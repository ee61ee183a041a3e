"""The envelope every response carries: {result, bk_error_code, bk_error_msg, data}."""

from __future__ import annotations

import json

from flask import Response


def envelope(data: object, code: int = 0, message: str = "") -> Response:
    body = {"result": code == 0, "bk_error_code": code, "bk_error_msg": message, "data": data}
    # ensure_ascii=False: Chinese names and messages stay readable on the wire.
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(text, mimetype="application/json; charset=utf-8")


def ok(data: object = "success") -> Response:
    return envelope(data)
