"""The cost-per-request baseline (issue 7): a bare Flask app answering every path and method
with one constant JSON body, served by the same gunicorn settings as the project."""

from __future__ import annotations

from flask import Flask, Response

app = Flask(__name__)
BODY = b'{"result": true, "bk_error_code": 0, "bk_error_msg": "success", "data": "success"}'


@app.route("/", defaults={"path": ""}, methods=["GET", "POST", "PUT", "DELETE"])
@app.route("/<path:path>", methods=["GET", "POST", "PUT", "DELETE"])
def constant(path: str) -> Response:
    return Response(BODY, content_type="application/json; charset=utf-8")
