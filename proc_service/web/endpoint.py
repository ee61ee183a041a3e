"""Each endpoint declared once: ``@endpoint(blp, rule, method, op=..., body=..., result=...)``.

The declaration is read by everything that needs a fact about the endpoint: the body is loaded
and validated here, the scope and actor are built here, the OpenAPI document is written from it
(flask-smorest), access control asks whether it writes and which account it acts on (auth.py),
and a database outage answers with its operation's code (handlers.py). A view is then one call
to a service function.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, request
from flask_smorest import Blueprint
from marshmallow import Schema
from sqlalchemy.orm import Session

from .. import context
from ..attributes import Kind
from ..data import db
from ..data.prepared import Reader, reading
from ..errors import ApiError, Op
from ..schemas.loading import load
from ..schemas.responses import ErrorEnvelopeSchema, SuccessSchema
from ..scope import Actor, Scope
from ..services import model as models
from . import auth
from .body import json_body
from .envelope import ok
from .paths import ACCOUNT_DOC

PATH = "path"  # the account is the path's bk_supplier_account
HEADER = "header"  # the path has none: HTTP_BLUEKING_SUPPLIER_ID, default "0"
ANY = "any"  # not about one account's data (the attribute model): any token may read it


@dataclass(frozen=True)
class Endpoint:
    """What is declared of one endpoint."""

    op: Op  # what it does: whether it writes, its 503 code
    body: type[Schema] | None
    result: type[Schema]
    account: str  # PATH, HEADER or ANY
    example: dict | None = None  # the body /docs offers; tests/test_openapi.py sends each one
    # the kind whose account model (§14: preset and custom attributes) the view works with;
    # its body schema is then ``body_for(model)`` (``body`` is the preset model's)
    kind: Kind | None = None
    body_for: Callable[[Kind], type[Schema]] | None = None
    # whether it can answer 409 (a uniqueness rule); None: a create or update can
    conflicts: bool | None = None
    # a read of a few statements by key, run on the driver's connection (data/prepared.py):
    # the view reads through ``call.reader``, not the session
    lean: bool = False

    def account_of(self, view_args: dict) -> str | None:
        if self.account == HEADER:
            return context.supplier_account()
        if self.account == ANY:
            return None
        return view_args["bk_supplier_account"]


class Call:
    """What a view works with: the session (or, for a lean endpoint, the reader), the scope and
    actor the declaration built."""

    def __init__(self, declared: Endpoint, view_args: dict):
        self.declared = declared
        biz = view_args.get("bk_biz_id")
        account = declared.account_of(view_args)
        self.scope = Scope(account=account, biz_id=biz) if biz is not None else None
        self.account = account
        # the account's model of the declared kind (§14), set before the view runs
        self.model: Kind | None = None
        self.reader: Reader | None = None  # a lean endpoint's read transaction

    @functools.cached_property
    def session(self) -> Session:
        # A search or a detail may read from the read replica; a write never does (issue 17).
        return db.session(reads_only=not self.declared.op.writes)

    @property
    def actor(self) -> Actor:
        """Who asks: BK_User, and with access control on, the token's name (§7b)."""
        token = auth.current()
        return Actor(
            operator=context.operator(),
            op_from=token.name if token else "",
            request_id=context.request_id(),
        )

    @property
    def lang(self) -> str:
        return context.language()

    @property
    def regex_timeout_ms(self) -> int:
        return current_app.config["REGEX_TIMEOUT_MS"]


def current_endpoint() -> Endpoint | None:
    """The declaration of the endpoint serving this request (None: not an /api/v3 route)."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return getattr(view, "declared", None)


ACCOUNT_HEADER = {
    "in": "header",
    "name": "HTTP_BLUEKING_SUPPLIER_ID",
    "description": 'supplier account (this path has none); absent or empty: "0"',
    # what context.supplier_account takes: empty (or spaces) is "0"
    "schema": {"type": "string", "pattern": f"^[ \\t]*(?:{ACCOUNT_DOC[1:-1]})?[ \\t]*$"},
}
REQUEST_ID = {
    "X-Request-Id": {
        "description": "the client's X-Request-Id when 1-128 characters of [A-Za-z0-9._:-], "
        "else a new one",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,128}$"},
    }
}
# §1, §8: the statuses an /api/v3 endpoint answers besides 200, and when.
ERRORS = {
    400: "malformed or invalid input (path, header or body)",
    401: "missing or unknown token (access control on)",
    403: "token not allowed for this account or operation",
    404: "unknown process, set or module (or route)",
    409: "uniqueness conflict",
    413: "body larger than PROC_MAX_BODY_BYTES",
    500: "unexpected error (the request id is in the message)",
    503: "database unavailable",
}
PATH_VALUES = ("bk_supplier_account", "bk_biz_id")  # the scope: not passed on to the view
# What a view returns for "data": null (bk-cmdb's update and delete of an attribute, §14);
# None is "success", as every other write answers.
NULL = object()


def endpoint(
    blp: Blueprint,
    rule: str,
    method: str,
    *,
    op: Op,
    body: type[Schema] | Callable[[Kind], type[Schema]] | None = None,
    result: type[Schema] = SuccessSchema,
    account: str = PATH,
    example: dict | None = None,
    kind: Kind | None = None,
    conflicts: bool | None = None,
    lean: bool = False,
) -> Callable:
    """Route, document and wrap a view ``view(call, [body,] **path ids)``. It returns the
    envelope's data; None means "success". An endpoint with a body gives an ``example`` of it:
    without one, Swagger UI makes up a body from the schema's types, which the server refuses
    (a string for ``proc_num``)."""
    if (body is None) != (example is None):
        raise TypeError(f"{rule} {method}: an example goes with a body, and only with one")
    if lean and (body is not None or op.writes):
        raise TypeError(f"{rule} {method}: a lean endpoint reads, and takes no body")
    body_for = None
    if body is not None and not isinstance(body, type):  # a schema per model (§14)
        body_for, body = body, body(kind)
    declared = Endpoint(
        op=op,
        body=body,
        result=result,
        account=account,
        example=example,
        kind=kind,
        body_for=body_for,
        conflicts=conflicts,
        lean=lean,
    )

    schema = body() if body is not None else None  # one instance: loading keeps no state

    def register(view: Callable) -> Callable:
        @functools.wraps(view)
        def run(**view_args):
            call = Call(declared, view_args)
            ids = {k: v for k, v in view_args.items() if k not in PATH_VALUES}
            if declared.lean:
                data = _lean(declared, call, view, ids)
            elif declared.kind is None:
                args = [load(schema, json_body())] if schema is not None else []
                data = view(call, *args, **ids)
            else:
                data = _with_model(declared, call, view, ids, schema)
            if data is NULL:
                return ok(None)
            return ok() if data is None else ok(data)

        run.declared = declared
        blp.route(rule, methods=[method])(blp.doc(**_openapi(declared, view.__name__))(run))
        return run

    return register


MODEL_ATTEMPTS = 3


def _lean(declared: Endpoint, call: Call, view: Callable, ids: dict):
    """A lean read (no body): one transaction on the driver's connection, the account's model
    checked in it. A model this worker does not hold at the version read is built (its own
    read, through the session) and the read runs again."""
    engine = db.read_engine()
    kind = declared.kind
    for _ in range(MODEL_ATTEMPTS):
        with reading(engine) as reader:
            call.reader = reader
            if kind is None:
                return view(call, **ids)
            call.model = models.known(reader, engine, call.account, kind)
            if call.model is not None:
                return view(call, **ids)
        models.current(call.session, call.account, kind)
    raise ApiError(declared.op.code)  # the model kept changing: 503, try again


def _with_model(declared: Endpoint, call: Call, view: Callable, ids: dict, schema):
    """Run ``view`` with the account's model of the declared kind, its body validated against
    that model. A write whose model changed before its transaction (models.ModelChanged) is
    validated again against the new one and run again."""
    if not declared.op.writes:
        # A read is one transaction (one snapshot on PostgreSQL): the model version, then what
        # the view reads; the version is checked where the data is read, at no extra BEGIN.
        with db.read(call.session, snapshot=True):
            call.model = models.current(call.session, call.account, declared.kind)
            args = [load(_schema_of(declared, call.model, schema), json_body())] if schema else []
            return view(call, *args, **ids)
    call.model = models.remembered(call.session, call.account, declared.kind)
    fresh = call.model is None
    for _ in range(MODEL_ATTEMPTS):
        if call.model is None:
            call.model, fresh = models.current(call.session, call.account, declared.kind), True
        try:
            args = [load(_schema_of(declared, call.model, schema), json_body())] if schema else []
        except ApiError:
            if fresh:
                raise
            call.model = None  # refused by a model that may be old: ask the current one
            continue
        try:
            return view(call, *args, **ids)
        except models.ModelChanged:  # its transaction is rolled back: try again
            call.model = None
    raise ApiError(declared.op.code)  # the model kept changing: 503, try again


def _schema_of(declared: Endpoint, model: Kind, schema: Schema) -> Schema:
    """The body schema for ``model``: the declared one for the preset model."""
    if declared.body_for is None or model is declared.kind:
        return schema
    return _model_schema(declared, model)


def _model_schema(declared: Endpoint, model: Kind) -> Schema:
    """The body schema of ``model``, built once per model (it is cached with the model)."""
    key = ("body", declared.body_for)
    found = model.cache.get(key)
    if found is None:
        found = model.cache[key] = declared.body_for(model)()
    return found


def _openapi(declared: Endpoint, name: str) -> dict:
    statuses = set(ERRORS)
    conflicts = declared.conflicts
    if conflicts is None:
        conflicts = declared.op in (Op.CREATE, Op.UPDATE)
    if not conflicts:
        statuses.discard(409)  # only creates and updates can break a uniqueness rule
    if declared.body is None:
        statuses.discard(413)  # the body is never read
    responses: dict = {
        "200": {
            "description": "success envelope",
            "headers": REQUEST_ID,
            "content": {"application/json": {"schema": declared.result}},
        }
    }
    for status in sorted(statuses):
        headers = dict(REQUEST_ID)
        if status == 401:
            headers["WWW-Authenticate"] = {"schema": {"type": "string"}}
        responses[str(status)] = {
            "description": f"error envelope: {ERRORS[status]}",
            "headers": headers,
            "content": {"application/json": {"schema": ErrorEnvelopeSchema}},
        }
    # the bk-cmdb API's name: what a generated client calls the function
    spec: dict = {"operationId": name, "responses": responses}
    if declared.account == HEADER:
        spec["parameters"] = [ACCOUNT_HEADER]
    if declared.body is not None:
        spec["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": declared.body, "example": declared.example}},
        }
    return spec
