"""GET /api/v3/auth/token: what the request's token may do (docs/api.md §7b), so that a client
(the web pages) can disable what it would be refused rather than try and fail. No database."""

from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint

from ..errors import Op
from ..schemas.responses import TokenResultSchema
from ..web import auth
from ..web.endpoint import ANY, endpoint

blp = Blueprint("token", __name__, url_prefix="/api/v3/auth", description="Access control")


@endpoint(blp, "/token", "GET", op=Op.SEARCH, result=TokenResultSchema, account=ANY)
def get_token(call):
    """get_token: the token's name, its supplier accounts and whether it may write"""
    if current_app.extensions["api_tokens"] is None:  # access control off: anyone does anything
        return {"access_control": False, "name": "", "accounts": ["*"], "write": True}
    token = auth.current()
    return {
        "access_control": True,
        "name": token.name,
        "accounts": sorted(token.accounts),
        "write": token.write,
    }
