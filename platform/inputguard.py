"""What no request may carry into the application, refused at the edge with what and where.

* Characters no database column can hold: NUL (PostgreSQL refuses it in text) and unpaired
  UTF-16 surrogates (a JSON escape such as "\\ud800" decodes to one; UTF-8 cannot encode it).
  Checked in the path, the query string, form fields and upload names before any view runs,
  and in JSON bodies by `json_problem`.
* JSON nested deeper than any form or spec needs (the parser itself recurses), and integers
  no column holds (a version number of 2^64 overflowed the database driver).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter

from formflow.errors import DomainError
from formflow.forms.pointers import join

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
#: Deeper than any schema, spec or case data the product writes (the rules engine allows 64).
MAX_JSON_DEPTH = 64
#: The largest integer a database column (BIGINT) holds.
MAX_INTEGER = 2**63 - 1
#: The largest id an INTEGER primary key holds.
MAX_ROW_ID = 2**31 - 1


class UnstorableInput(DomainError):
    status = 400


class RowNumber(IntegerConverter):
    """`<int:…>` in routes: at most what an INTEGER column holds (a larger id is no row's:
    404, where PostgreSQL answered "integer out of range" with a 500)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


def register(app: Flask) -> None:
    app.url_map.converters["int"] = RowNumber
    app.before_request(refuse_unstorable_request)


def refuse_unstorable_request() -> None:
    """400 when the path, a query parameter, a form field or an upload name holds a
    character that cannot be stored; the message names the parameter or field."""
    if UNSTORABLE.search(request.path):
        raise UnstorableInput(_("The address contains a character that is not allowed."))
    places = [request.args]
    # Reading the whole body here, before any database work, means a writing request takes
    # SQLite's write lock only once its body has arrived (a slow client holds nothing).
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        places.append(request.form)
    else:
        request.get_data(cache=True)
    for values in places:
        for name, value in values.items(multi=True):
            if any(isinstance(text, str) and UNSTORABLE.search(text) for text in (name, value)):
                raise UnstorableInput(_unstorable_message(name))
    if request.mimetype == "multipart/form-data":
        for name, upload in request.files.items(multi=True):
            if any(isinstance(text, str) and UNSTORABLE.search(text) for text in (name, upload.filename)):
                raise UnstorableInput(_unstorable_message(name))


def _unstorable_message(name: str) -> str:
    shown = UNSTORABLE.sub("\N{REPLACEMENT CHARACTER}", name)
    return _(
        "“%(field)s” contains a character that cannot be stored (a NUL or an unpaired surrogate).",
        field=shown,
    )


def json_problem(value: Any) -> tuple[str, str] | None:
    """(pointer, message) of the first thing in a parsed JSON document that cannot be
    stored: nesting beyond MAX_JSON_DEPTH, an unstorable character in a key or string, an
    integer beyond MAX_INTEGER. Iterative, so a deep document cannot exhaust the stack."""
    pending: list[tuple[str, Any, int]] = [("", value, 0)]
    while pending:
        pointer, item, depth = pending.pop()
        if isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                return pointer, nesting_message()
            members = list(item.items() if isinstance(item, dict) else enumerate(item))
            for key, _member in members:
                if isinstance(key, str) and UNSTORABLE.search(key):
                    return join(pointer, UNSTORABLE.sub("\N{REPLACEMENT CHARACTER}", key)), _unstorable()
            # reversed onto the stack, so problems are found in the document's order
            pending.extend((join(pointer, str(key)), member, depth + 1) for key, member in reversed(members))
        elif isinstance(item, str) and UNSTORABLE.search(item):
            return pointer, _unstorable()
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > MAX_INTEGER:
            return pointer, _("The number is too large.")
    return None


def _unstorable() -> str:
    return _("Contains a character that cannot be stored (a NUL or an unpaired surrogate).")


def nesting_message() -> str:
    return _("The data is nested more than %(n)d levels deep.", n=MAX_JSON_DEPTH)
