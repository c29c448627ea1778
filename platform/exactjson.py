"""JSON that keeps money exact: non-integer numbers are Decimal in Python and are written
back digit for digit (never through float). Used for submitted data and for the API."""

from __future__ import annotations

from typing import Any

import simplejson
from flask.json.provider import DefaultJSONProvider
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator


def dumps(value: Any, **kwargs: Any) -> str:
    kwargs.setdefault("ensure_ascii", False)
    return simplejson.dumps(value, use_decimal=True, default=_default, **kwargs)


def loads(text: str | bytes) -> Any:
    return simplejson.loads(text, use_decimal=True)


def _default(value: Any) -> Any:
    # What Flask's provider also turns into text: dates, UUIDs, lazy strings…
    return DefaultJSONProvider.default(value)


class ExactJSON(TypeDecorator):
    """A JSON document stored as text, read back with Decimal numbers."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect) -> str | None:
        return None if value is None else dumps(value, separators=(",", ":"))

    def process_result_value(self, value: str | None, dialect) -> Any:
        return None if value is None else loads(value)


class ExactJSONProvider(DefaultJSONProvider):
    """Flask's JSON for requests and responses with exact decimals (API bodies)."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        kwargs.setdefault("sort_keys", self.sort_keys)
        return dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s)
