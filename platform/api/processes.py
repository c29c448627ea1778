"""API endpoints for processes (registered on the api blueprint)."""

from __future__ import annotations

from formflow.api.views import bp  # noqa: F401
