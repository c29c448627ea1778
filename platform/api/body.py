"""Reading JSON request bodies with errors that say what and where."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _

from formflow.errors import DomainError, Invalid


class BadJson(DomainError):
    status = 400


def json_object() -> dict:
    """The body as a JSON object; 400 when it is not JSON, 422 when not an object."""
    if not request.is_json:
        raise BadJson(_("Send the body as JSON (Content-Type: application/json)."))
    body = request.get_json(silent=True)
    if body is None:
        raise BadJson(_("The request body is not valid JSON."))
    if not isinstance(body, dict):
        raise Invalid([{"pointer": "", "message": _("The body must be a JSON object.")}])
    return body


def text_field(body: dict, name: str) -> str:
    """A string member of the body ("" when absent); 422 with its pointer when not a string."""
    value = body.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Invalid([{"pointer": f"/{name}", "message": _("Must be a string.")}])
    return value
