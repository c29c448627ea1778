"""Helpers for the case tests: a small process, customers, users, and reading forms back."""

from __future__ import annotations

from html.parser import HTMLParser

from formflow.auth import services as users
from formflow.customers import services as customers
from formflow.extensions import db
from formflow.processes import services as processes

PASSWORD = "correct-horse-9"

PAYMENT_SCHEMA = {
    "type": "object",
    "required": ["amount", "method"],
    "properties": {
        "amount": {"type": "number", "title": "Amount", "exclusiveMinimum": 0},
        "method": {"type": "string", "title": "Method", "enum": ["bank", "cash"]},
        "note": {"type": "string", "title": "Note", "maxLength": 200},
        "receipt": {"type": "string", "title": "Receipt", "maxLength": 64},
        "items": {
            "type": "array",
            "title": "Items",
            "items": {
                "type": "object",
                "properties": {
                    "label": {"type": "string", "title": "Label"},
                    "qty": {"type": "integer", "title": "Quantity"},
                },
            },
        },
    },
}
PAYMENT_UI = {
    "receipt": {
        "ui:widget": "file",
        "ui:options": {"accept": [".pdf", ".txt", ".html", "image/*"], "maxSize": 2048},
    },
}


def spec(key="t_payment", schema=None, ui_schema=None, name=None) -> dict:
    return {
        "formflow": 1,
        "key": key,
        "category": "payment",
        "name": name or {"zh-CN": "测试缴费", "en": "Test payment"},
        "form": {
            "schema": schema or PAYMENT_SCHEMA,
            "uiSchema": PAYMENT_UI if ui_schema is None else ui_schema,
        },
    }


def publish_process(key="t_payment", schema=None, ui_schema=None, name=None):
    """Import and publish a process in the current app context; returns its version."""
    processes.import_spec(spec(key, schema, ui_schema, name))
    version = processes.publish(key)
    db.session.commit()
    return version


def new_customer(code="C100", name="上海测试有限公司", tier="B"):
    customer = customers.create(code, name, tier)
    db.session.commit()
    return customer


def new_user(username, roles=("staff",)):
    user = users.create_user(username, PASSWORD, list(roles))
    db.session.commit()
    return user


class FormReader(HTMLParser):
    """What a browser would post for the case form (class `case-form`) on a page: every
    named input, checked box/radio, selected option and textarea (buttons left out)."""

    def __init__(self):
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self.buttons: list[dict] = []
        self._in_form = False
        self._done = False
        self._select: str | None = None
        self._select_options: list[tuple[str, bool]] = []
        self._multiple = False
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and not self._done and "case-form" in (attrs.get("class") or "").split():
            self._in_form = True
        if not self._in_form:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset"):
                self.buttons.append(attrs)
            elif kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields.append((name, attrs.get("value") or "on"))
            elif kind == "file":
                pass
            elif "disabled" not in attrs:
                self.fields.append((name, attrs.get("value") or ""))
        elif tag == "button":
            self.buttons.append(attrs)
        elif tag == "select" and name:
            self._select, self._select_options = name, []
            self._multiple = "multiple" in attrs
        elif tag == "option" and self._select is not None:
            self._select_options.append((attrs.get("value", ""), "selected" in attrs))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_data(self, data):
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "form" and self._in_form:
            self._in_form, self._done = False, True
        elif tag == "select" and self._select is not None:
            chosen = [value for value, selected in self._select_options if selected]
            if not chosen and self._select_options and not self._multiple:
                chosen = [self._select_options[0][0]]
            self.fields.extend((self._select, value) for value in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # As a browser does: CR LF in the page is read as LF, the one newline right after
            # <textarea> is dropped, and the value is posted with CR LF line breaks.
            text = self._text.replace("\r\n", "\n").replace("\r", "\n").removeprefix("\n")
            self.fields.append((self._textarea, text.replace("\n", "\r\n")))
            self._textarea = None


def read_form(html: str) -> FormReader:
    reader = FormReader()
    reader.feed(html)
    return reader
