"""The web pages (docs/api.md §12): static HTML, CSS and JavaScript modules from proc_service/ui/,
served as they are (no build step). They are a client of the public API and nothing else."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, redirect, send_from_directory

ROOT = Path(__file__).resolve().parent.parent / "ui"
# Everything comes from this service: a page cannot load or send anything to another host.
POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)

bp = Blueprint("ui", __name__, url_prefix="/ui")


@bp.after_request
def _headers(response):
    response.headers["Content-Security-Policy"] = POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    # Revalidated on each load (ETag): a new release is picked up at once, unchanged files
    # cost a 304.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("")
def _slash():
    return redirect("/ui/", code=308)


@bp.get("/")
def index():
    return send_from_directory(ROOT, "index.html")


@bp.get("/<path:name>")
def asset(name: str):
    return send_from_directory(ROOT, name)  # safe_join: no way out of ROOT
