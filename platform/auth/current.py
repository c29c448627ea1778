"""Who is acting in this request: the API token's user, else the logged-in user
(formflow.acting, below the audit log, which names the actor too)."""

from __future__ import annotations

from formflow.acting import acting_user

__all__ = ["acting_user"]
