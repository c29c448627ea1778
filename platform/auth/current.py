"""Who is acting in this request: the API token's user, else the logged-in user."""

from __future__ import annotations

from flask import g, has_request_context
from flask_login import current_user


def acting_user():
    if not has_request_context():
        return None
    api_user = g.get("api_user")
    if api_user is not None:
        return api_user
    return current_user if getattr(current_user, "is_authenticated", False) else None
