"""Service endpoints outside /api/v3 (contract §7): liveness, readiness, metrics."""

from __future__ import annotations

from flask import Blueprint, Response, current_app
from sqlalchemy import text

from .. import context, db, metrics
from ..envelope import envelope, ok

bp = Blueprint("meta", __name__)
# §8 has no code of its own for readiness; a database code keeps status and code in step (503).
NOT_READY = 1108006


@bp.get("/healthz")
def healthz():
    return ok("ok")


@bp.get("/readyz")
def readyz():
    """Ready when the database answers and carries the newest migration."""
    try:
        with db.engine().connect() as conn:
            current = {
                row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))
            }
    except Exception:  # noqa: BLE001 - any failure here means "not ready"
        current = None
    if current != current_app.extensions["migration_heads"]:
        zh = context.language() == "zh"
        message = "数据库不可达或未迁移到最新版本" if zh else "database unreachable or not migrated"
        return envelope(None, NOT_READY, message), 503
    return ok("ready")


@bp.get("/metrics")
def metrics_view():
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type)
