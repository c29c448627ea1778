"""Bearer-token authentication for the API (cookies are never used there)."""

from __future__ import annotations

from flask import g, request

from formflow.auth.services import user_for_token
from formflow.errors import Unauthorized


def authenticate_bearer() -> None:
    """Set g.api_user from `Authorization: Bearer <token>`, or raise Unauthorized."""
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    user = user_for_token(token.strip()) if scheme.lower() == "bearer" and token else None
    if user is None:
        raise Unauthorized()
    g.api_user = user
