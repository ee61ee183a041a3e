"""Swagger UI's own files for /docs, served by this service: /docs works on a network with no
internet access. They come from the pinned flask-swagger-ui package (its dist/ directory is
Swagger UI's release, with Swagger UI's license); its blueprint and template are not used,
flask-smorest renders /docs and loads these files from ASSETS_URL."""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, send_from_directory

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
