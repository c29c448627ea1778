"""Between JSON values and the strings HTML inputs carry, both ways.

Numbers become Decimal (money exact, never float); empty inputs become absent;
a datetime-local input ("2026-01-31T09:30") becomes RFC 3339 with the business time zone."""

from __future__ import annotations

import re
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _

from formflow.forms.choice_options import token_of
from formflow.forms.nodes import MISSING, Node
from formflow.forms.validation import exact
from formflow.i18n import business_zone


class Unreadable(ValueError):
    """The input cannot become a value of the field's type; the message says why."""


# --- value -> input ----------------------------------------------------------------


def input_value(node: Node) -> Any:
    """What the node's input shows: a string, a bool (checkbox) or a list (checkboxes)."""
    value = node.constant if node.constant is not MISSING else node.value
    if node.multiple:
        return [token_of(item) for item in value] if isinstance(value, list) else []
    if node.widget == "checkbox":
        return value is True
    if value is MISSING or value is None:
        return ""
    if node.options:
        return token_of(value)
    if node.widget == "datetime" and isinstance(value, str):
        return _local_datetime(value)
    if node.widget == "time" and isinstance(value, str):
        return _local_time(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict | list):
        return token_of(value)
    return str(value)


def _local_datetime(text: str) -> str:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is not None:
        moment = moment.astimezone(business_zone())
    return moment.strftime("%Y-%m-%dT%H:%M:%S" if moment.second else "%Y-%m-%dT%H:%M")


def _local_time(text: str) -> str:
    match = re.match(r"^(\d{2}:\d{2})(:\d{2})?", text)
    if not match:
        return text
    return match.group(1) + (match.group(2) if match.group(2) and match.group(2) != ":00" else "")


# --- input -> value ----------------------------------------------------------------


def read(node: Node, raw: Any) -> Any:
    """The JSON value of one posted input (MISSING when empty). Raises Unreadable."""
    if node.constant is not MISSING:
        return exact(node.constant)
    if node.multiple:
        tokens = raw if isinstance(raw, list) else []
        # nothing ticked in an optional list is an absent list, like an empty text box
        # (an optional field with minItems must not fail for being left alone)
        return [_option_value(node, token) for token in tokens] if tokens or node.required else MISSING
    if node.widget == "checkbox":
        return bool(raw)
    text = raw if isinstance(raw, str) else ""
    if node.widget == "textarea":
        text = text.replace("\r\n", "\n")  # browsers post a textarea's line breaks as CR LF
    elif node.widget != "password":
        text = text.strip()
    if text == "":
        return None if node.nullable and node.required else MISSING
    if node.options:
        return _option_value(node, text)
    if node.type in ("number", "integer"):
        return read_number(text, integer=node.type == "integer")
    if node.type == "boolean":
        if text.lower() in ("true", "1", "on", "yes"):
            return True
        if text.lower() in ("false", "0", "off", "no"):
            return False
        raise Unreadable(_("Choose yes or no."))
    if node.widget == "datetime":
        return _rfc3339_datetime(text)
    if node.widget == "time":
        return _rfc3339_time(text)
    return text


def _option_value(node: Node, token: str) -> Any:
    for option in node.options:
        if option.token == token:
            return exact(option.value)  # a schema's 0.06 is read as Decimal, never float
    raise Unreadable(_("Choose one of the options."))


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def read_number(text: str, *, integer: bool = False) -> int | Decimal:
    """'1,234.50' -> Decimal('1234.50'); whole numbers -> int. Never a float."""
    cleaned = text.replace(",", "").replace("，", "").replace(" ", "")
    if not _NUMBER.match(cleaned):
        raise Unreadable(_("Enter a whole number.") if integer else _("Enter a number."))
    try:
        number = Decimal(cleaned)
    except InvalidOperation as error:  # pragma: no cover - the pattern admits only numbers
        raise Unreadable(_("Enter a number.")) from error
    if integer:
        if number != number.to_integral_value():
            raise Unreadable(_("Enter a whole number."))
        return int(number)
    return number


def _rfc3339_datetime(text: str) -> str:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise Unreadable(_("Enter a date and time.")) from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=business_zone())
    return moment.isoformat(timespec="seconds")


def _rfc3339_time(text: str) -> str:
    try:
        moment = time.fromisoformat(text)
    except ValueError as error:
        raise Unreadable(_("Enter a time.")) from error
    if moment.tzinfo is None:
        offset = datetime.now(business_zone()).strftime("%z")
        return moment.isoformat(timespec="seconds") + f"{offset[:3]}:{offset[3:]}"
    return moment.isoformat(timespec="seconds")
