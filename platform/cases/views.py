"""Cases: start one (pick process and customer, fill the form), drafts, submit, list, page."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("cases", __name__, url_prefix="/cases")
