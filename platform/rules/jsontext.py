"""The rules engine's JSON text, kept inside the leaf package: numbers stay exact (Decimal in
Python, written digit for digit), other values as Flask writes them; and JSON Pointers for the problems
`check` reports. The same behaviour as formflow.exactjson and formflow.forms.pointers, which the
engine may not import (it is a leaf: tests/test_layers.py, `make lint`)."""

from __future__ import annotations

from typing import Any

import simplejson
from flask.json.provider import DefaultJSONProvider


def dumps(value: Any, **kwargs: Any) -> str:
    kwargs.setdefault("ensure_ascii", False)
    return simplejson.dumps(value, use_decimal=True, default=_default, **kwargs)


def loads(text: str | bytes) -> Any:
    return simplejson.loads(text, use_decimal=True)


def _default(value: Any) -> Any:
    # What Flask's provider also turns into text: dates, UUIDs, lazy strings…
    return DefaultJSONProvider.default(value)


def pointer_join(pointer: str, *tokens: str | int) -> str:
    """`pointer` with `tokens` appended, each escaped as RFC 6901 says (~ → ~0, / → ~1)."""
    return pointer + "".join("/" + str(token).replace("~", "~0").replace("/", "~1") for token in tokens)
