"""Swagger UI's own files for /docs, served by this service: /docs works on a network with no
internet access. They come from the pinned flask-swagger-ui package (its dist/ directory is
Swagger UI's release, with Swagger UI's license); its blueprint and template are not used,
flask-smorest renders /docs and loads these files from ASSETS_URL."""

from __future__ import annotations

import copy
from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, jsonify, request, send_from_directory

from .. import context
from ..attributes import KINDS
from ..data import db
from ..errors import ApiError
from ..schemas.document import condition, output_value, sort_pattern, write_value
from ..services import model

ASSETS_URL = "/docs/assets/"
ASSETS_DIR = Path(flask_swagger_ui.__file__).resolve().parent / "dist"

bp = Blueprint("docs_assets", __name__)


@bp.get(f"{ASSETS_URL}<path:filename>")
def asset(filename: str):
    # The files change only with the pinned package, so browsers may keep them for a day.
    return send_from_directory(ASSETS_DIR, filename, max_age=86400)


@bp.get("/favicon.ico")
def favicon():
    # Browsers ask for it on /docs (whose page names no icon): Swagger UI's own, not a 404.
    return send_from_directory(ASSETS_DIR, "favicon-32x32.png", mimetype="image/png", max_age=86400)


# --- /openapi.json?account=X: the model as one account has extended it (§14) -----------------

# The component schemas each kind's model shapes (flask-smorest names them after the schemas).
_BODIES = {
    "process": ("ProcessCreate", "ProcessUpdate", "ProcessBatchUpdate"),
    "set": ("SetCreate", "SetUpdate"),
    "module": ("ModuleCreate", "ModuleUpdate"),
}
_OUTPUT = {"process": "Process", "set": "Set", "module": "Module"}
_SEARCH = {"process": "ProcessSearch", "set": "SetSearch", "module": "ModuleSearch"}
_PAGE = {"process": "ProcessPage", "set": "SetPage", "module": "ModulePage"}


def account_document(api):
    """Before every request: GET /openapi.json?account=X answers the document of X's model;
    anything else goes on (None)."""
    if request.path != "/openapi.json" or "account" not in request.args:
        return None
    account = request.args["account"]
    if not context.ACCOUNT.fullmatch(account):
        raise ApiError(1199003, "account")
    sess = db.session(reads_only=True)
    models = {kind.name: model.current(sess, account, kind) for kind in KINDS}
    return jsonify(model_document(api.spec.to_dict(), models))


def model_document(spec: dict, models: dict) -> dict:
    """``spec`` (the preset model's document) with each kind's custom attributes (``models``:
    kind name → the account's model) in its bodies, outputs, conditions, fields and sorts."""
    doc = copy.deepcopy(spec)
    schemas = doc["components"]["schemas"]
    for name, kind in models.items():
        for attr in kind.custom:
            value = {"description": f"{attr.en} (custom)", **write_value(attr)}
            for body in _BODIES[name]:
                schemas[body]["properties"][attr.id] = value
            if attr.required:
                schemas[_BODIES[name][0]].setdefault("required", []).append(attr.id)
            schemas[_OUTPUT[name]]["properties"][attr.id] = {
                **output_value(attr),
                "description": f"{attr.en} (custom)",
            }
        search = schemas[_SEARCH[name]]["properties"]
        extra = search["condition"].get("properties", {})
        keep = {k: v for k, v in extra.items() if k not in kind.by_id}  # bk_module_name
        search["condition"].update(condition(kind, keep))
        items = search.get("fields", {}).get("items")
        if isinstance(items, dict) and "enum" in items:
            items["enum"] = list(kind.output_fields)
        page = schemas.get(_PAGE[name], {}).get("properties", {})
        if "sort" in page:
            page["sort"]["pattern"] = sort_pattern(kind)
    return doc
