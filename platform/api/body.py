"""Reading JSON request bodies with errors that say what and where."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _

from formflow import exactjson
from formflow.errors import DomainError, Invalid
from formflow.inputguard import json_problem, nesting_message


class BadJson(DomainError):
    status = 400


def json_object() -> dict:
    """The body as a JSON object; 400 when it is not JSON (or nested too deep for the
    parser), 422 when not an object or when it holds what cannot be stored (with its pointer)."""
    if not request.is_json:
        raise BadJson(_("Send the body as JSON (Content-Type: application/json)."))
    try:
        body = exactjson.loads(request.get_data(cache=True))
    except RecursionError:
        raise BadJson(nesting_message()) from None
    except ValueError:  # also bad UTF-8 and integers of more than 4,300 digits
        raise BadJson(_("The request body is not valid JSON.")) from None
    if not isinstance(body, dict):
        raise Invalid([{"pointer": "", "message": _("The body must be a JSON object.")}])
    if (problem := json_problem(body)) is not None:
        pointer, message = problem
        raise Invalid([{"pointer": pointer, "message": message}])
    return body


def text_field(body: dict, name: str) -> str:
    """A string member of the body ("" when absent); 422 with its pointer when not a string."""
    value = body.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Invalid([{"pointer": f"/{name}", "message": _("Must be a string.")}])
    return value


#: The largest value of an INTEGER column (version and lock numbers are INTEGER).
MAX_COUNTER = 2**31 - 1


def counter_field(body: dict, name: str) -> int | None:
    """A whole-number member of the body (None when absent), 0 … 2^31-1; 422 otherwise."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid([{"pointer": f"/{name}", "message": _("Must be a whole number.")}])
    if not 0 <= value <= MAX_COUNTER:
        message = _("Must be between %(low)d and %(high)d.", low=0, high=MAX_COUNTER)
        raise Invalid([{"pointer": f"/{name}", "message": message}])
    return value
