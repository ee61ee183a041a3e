"""What every request goes through, in this order, in one place:

1. the clock starts and the request id is fixed (so every answer, refusals included, is logged
   with a real duration and its id);
2. access control authenticates (401), before anything else reads the request;
3. the path parameters are checked (400) and typed;
4. access control authorizes the declared operation on its account (403);
5. the view loads its body and calls its service (web/endpoint.py);
6. the answer is counted, timed and logged.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, g, request

from .. import context
from . import auth, metrics
from .endpoint import current_endpoint
from .paths import check_path

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    app.before_request(_begin)
    app.after_request(_finish)


def _begin() -> None:
    g.started = time.perf_counter()
    context.request_id()
    auth.authenticate()
    declared = current_endpoint()
    if declared is not None:
        check_path(request.view_args)
        auth.authorize(declared.op.writes, declared.account_of(request.view_args))


def _finish(response):
    response.headers["X-Request-Id"] = context.request_id()
    elapsed = time.perf_counter() - g.started
    endpoint = request.endpoint or "unknown"
    metrics.REQUESTS.labels(request.method, endpoint, response.status_code).inc()
    metrics.LATENCY.labels(request.method, endpoint).observe(elapsed)
    log.info(
        "request",
        extra={
            "fields": {
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 2),
            }
        },
    )
    return response
