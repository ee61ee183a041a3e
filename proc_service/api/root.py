"""Service endpoints outside /api/v3 (docs/api.md §7): liveness, readiness, metrics, and `/`."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, redirect, request

from ..data import db
from ..errors import ApiError, Op
from ..services import health, subscriptions
from ..web import metrics
from ..web.envelope import ok

bp = Blueprint("root", __name__)


@bp.get("/")
def root():
    """A browser goes to the web pages; an API client gets the envelope's 404 saying where the
    pages and the API reference are."""
    # JSON wins a tie, so that curl's "*/*" gets the envelope.
    if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
        return redirect("/ui/", code=302)
    raise ApiError(1199019, text="root")


@bp.get("/healthz")
def healthz():
    return ok("ok")


@bp.get("/readyz")
def readyz():
    """Ready when the database, and the read replica if one is set, answer and carry the newest
    migration (else 503 / 1108006)."""
    heads = current_app.extensions["migration_heads"]
    sessions = {db.session(), db.session(reads_only=True)}
    if not all(health.ready(sess, heads) for sess in sessions):
        raise ApiError(Op.SEARCH.code, text="not ready")
    return ok("ready")


@bp.get("/metrics")
def metrics_view():
    body, content_type = metrics.exposition(
        lambda: subscriptions.delivery_figures(db.session(reads_only=True))
    )
    return Response(body, content_type=content_type)
