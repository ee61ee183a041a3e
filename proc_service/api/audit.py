"""Audit search (contract §5): body → AuditSearchSchema → services.audit → models.AuditLog."""

from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint

from .. import context, db
from ..envelope import ok
from ..schemas import AuditSearchResultSchema, AuditSearchSchema, load
from ..services import audit as service
from . import doc, json_body

blp = Blueprint("audit", __name__, url_prefix="/api/v3/audit", description="Audit log")


@blp.route("/search", methods=["POST"])
@doc(blp, AuditSearchSchema, AuditSearchResultSchema, account_header=True)
def search_audit():
    """search_audit: the audit rows of one supplier account (HTTP_BLUEKING_SUPPLIER_ID)"""
    params = load(AuditSearchSchema(), json_body(), ignore=())
    timeout = current_app.config["REGEX_TIMEOUT_MS"]
    account = context.supplier_account()
    return ok(service.search(db.session(), account, params, regex_timeout_ms=timeout))
