"""Audit search (docs/api.md §5): body → schemas.search → services.audit → models.AuditLog."""

from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint

from ..errors import Op
from ..schemas.responses import AuditSearchResultSchema
from ..schemas.search import AuditSearchSchema
from ..services import audit as service
from ..web.endpoint import HEADER, endpoint
from . import examples

blp = Blueprint("audit", __name__, url_prefix="/api/v3/audit", description="Audit log")


@endpoint(
    blp,
    "/search",
    "POST",
    op=Op.SEARCH,
    body=AuditSearchSchema,
    result=AuditSearchResultSchema,
    example=examples.SEARCH_AUDIT,
    account=HEADER,
)
def search_audit(call, body):
    """search_audit: the audit rows of one supplier account (HTTP_BLUEKING_SUPPLIER_ID)"""
    zone = current_app.config["TIME_ZONE"]
    return service.search(call.session, call.account, body, call.regex_timeout_ms, zone, call.lang)
