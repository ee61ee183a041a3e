"""proc-service: BlueKing CMDB's v3 process management API as a Flask service."""

from __future__ import annotations

import logging
import time

from flask import Flask, g, request
from flask_smorest import Api

from . import auth, config, context, db, docs, envelope, errors, logs, metrics
from .migrate import head_revisions

log = logging.getLogger(__name__)


class _App(Flask):
    def make_default_options_response(self):
        """OPTIONS answers in the envelope too (§1): data and Allow list the route's methods."""
        allow = super().make_default_options_response().allow
        response = envelope.ok(sorted(allow))
        response.allow.update(allow)
        return response


def create_app(overrides: dict | None = None) -> Flask:
    app = _App(__name__)
    # "/proc/0/1//7" is an unknown route (404 in the envelope), not an HTML redirect.
    app.url_map.merge_slashes = False
    app.config.update(config.from_environment())
    app.config.update(
        API_TITLE="proc-service",
        API_VERSION="v3",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=docs.ASSETS_URL,  # served locally: /docs works offline
        # §7b: a bearer token when PROC_API_TOKENS_FILE is set, none otherwise ({}).
        API_SPEC_OPTIONS={
            "components": {
                "securitySchemes": {
                    "bearer": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "required on /api/v3 when PROC_API_TOKENS_FILE is set",
                    }
                }
            },
            "security": [{"bearer": []}, {}],
        },
    )
    app.config.update(overrides or {})
    logs.configure(app.config["LOG_LEVEL"])
    db.init_app(app)
    app.extensions["migration_heads"] = head_revisions(app.config["DATABASE_URL"])

    from .api import CONVERTERS, audit, binding, meta, process, topology

    api = Api(app)
    for name, converter in CONVERTERS.items():
        app.url_map.converters[name] = converter
        api.register_converter(converter, lambda c: dict(c.openapi))
    for blueprint in (process.blp, binding.blp, topology.set_blp, topology.module_blp, audit.blp):
        api.register_blueprint(blueprint)
    app.register_blueprint(meta.bp)
    app.register_blueprint(docs.bp)
    errors.register(app)  # after Api(), so that these handlers replace flask-smorest's
    auth.init_app(app)  # a malformed tokens file stops here: never serve unprotected
    _request_hooks(app)
    return app


def _request_hooks(app: Flask) -> None:
    @app.before_request
    def _start():
        g.started = time.perf_counter()
        context.request_id()

    @app.after_request
    def _finish(response):
        response.headers["X-Request-Id"] = context.request_id()
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
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
