"""`permission_required`: `require` at the top of a view, as a decorator."""

from __future__ import annotations

from functools import wraps

from formflow.auth.current import acting_user
from formflow.auth.permissions import require


def permission_required(permission: str):
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            require(acting_user(), permission)
            return view(*args, **kwargs)

        return wrapper

    return decorate
