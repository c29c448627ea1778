"""Who is acting in this request: the API token's user (`g.api_user`, set by formflow.api),
else the logged-in user; None outside a request or when nobody is logged in.

Below every feature package (it reads only Flask's request state), so the audit log can
name the actor without importing formflow.auth, which re-exports it as auth.current."""

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
