"""Admin pages for processes: list, versions, template upload/import, export, publish."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("processes", __name__, url_prefix="/admin/processes")
