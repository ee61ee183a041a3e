"""proc-service: BlueKing CMDB's v3 process management API as a Flask service."""

from __future__ import annotations

from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from flask_smorest import Api

from . import cli, config
from .api import audit, binding, business, events, metadata, process, root, token, topology, ui
from .data import db
from .data.migrate import head_revisions
from .schemas.document import COMPONENTS
from .web import auth, docs, envelope, handlers, logs, pipeline
from .web.paths import CONVERTERS


class _App(Flask):
    def make_default_options_response(self):
        """OPTIONS answers in the envelope too (§1): data and Allow list the route's methods."""
        allow = super().make_default_options_response().allow
        response = envelope.ok(sorted(allow))
        response.allow.update(allow)
        return response


class _Api(Api):
    # Every endpoint documents its own error statuses (web/endpoint.py), not a catch-all.
    DEFAULT_ERROR_RESPONSE_NAME = None


class _MarshmallowPlugin(MarshmallowPlugin):
    """A schema's ``openapi_extra`` (what its fields alone cannot say) joins its document."""

    def schema_helper(self, name, _, schema=None, **kwargs):
        doc = super().schema_helper(name, _, schema=schema, **kwargs)
        return {**doc, **getattr(schema, "openapi_extra", {})} if doc is not None else doc


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
    # The order below matters where it says so; elsewhere it is free.
    logs.configure(app.config["LOG_LEVEL"])
    db.init_app(app)
    app.extensions["migration_heads"] = head_revisions(app.config["DATABASE_URL"])

    # flask-smorest's Api first: the components and converters it documents are registered on
    # it before any blueprint that refers to them.
    api = _Api(app, spec_kwargs={"marshmallow_plugin": _MarshmallowPlugin()})
    for name, schema in COMPONENTS.items():  # shared value schemas (schemas/document.py)
        api.spec.components.schema(name, schema)
    for name, converter in CONVERTERS.items():
        app.url_map.converters[name] = converter
        api.register_converter(converter, lambda c: dict(c.openapi))
    for blueprint in (
        process.blp,
        binding.blp,
        topology.set_blp,
        topology.module_blp,
        audit.blp,
        metadata.blp,  # §11 attribute metadata
        business.blp,
        token.blp,  # §7b: what the request's token may do
        events.blp,  # §15 subscriptions and the watch
    ):
        api.register_blueprint(blueprint)
    app.register_blueprint(root.bp)  # /, health, readiness, metrics: outside /api/v3
    app.register_blueprint(ui.bp)
    app.register_blueprint(docs.bp)
    handlers.register(app)  # after Api(), so that these handlers replace flask-smorest's
    auth.init_app(app)  # a malformed tokens file stops here: never serve unprotected
    pipeline.init_app(app)  # after auth: its steps call authenticate and authorize
    # /openapi.json?account=X: the document of one account's model (§14); after the pipeline,
    # whose first step starts the request's clock and log line
    app.before_request(lambda: docs.account_document(api))
    cli.init_app(app)
    return app
