"""A rule's data (its context) as the engine reads it: JSON text written in one pass by orjson
(Rust), which datalogic-py's `DataHandle(text)` parses in Rust again.

Measured on a submission's context (a 20-row array, a customer; `make bench`): this costs
about what `DataHandle(dict)` costs and a third of `DataHandle(json.dumps(...))`, where a
Python walk of the context to make it engine-native costs more than the JSON text.

What reaches the engine is what it read when contexts were written by simplejson:
- a Decimal is written digit for digit (`orjson.Fragment(str(d))`), so the engine parses
  the very text it parsed before ("5" an integer, "5.00" a number with a fraction);
- dates and datetimes as ISO 8601 text (what the date operators read), UUIDs as text, lazy
  translated strings as their text (Flask's JSON provider), dict keys that are not text as
  JSON writes them, ints beyond 64 bits as numbers (floats);
- nesting is bounded without a walk of ours: orjson refuses more than 254 levels as it writes
  and the engine's parser more than 256 as it reads, both with an error (a Python dict handed
  to datalogic-py as a dict crashes the process near 20,000 levels; Python's own JSON parser
  already stops near 1,000 and the request guard at 64).

Pieces of a context that many evaluations share (a case's data across a group's rows, the
indexed parameter tables) can be written once: `fragment(value)` is embedded as it is."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _

from formflow.rules.errors import RuleError

#: the deepest nesting orjson writes (it refuses a 255th level)
MAX_DATA_DEPTH = 254
TABLES_KEY = "$tables"

Fragment = orjson.Fragment


def written_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise RuleError(_("The data holds a number that is not finite (%(value)s).", value=str(value)))
        return Fragment(str(value))
    return DefaultJSONProvider.default(value)  # lazy strings, dataclasses…; else TypeError


def too_deep() -> RuleError:
    return RuleError(_("The data is nested more than %(n)d levels deep.", n=MAX_DATA_DEPTH))


def text(value: Any) -> str:
    """`value` as the engine's JSON text (see the module's notes); RuleError when it nests too
    deeply or holds a number that is not finite."""
    try:
        return orjson.dumps(value, default=written_default).decode()
    except orjson.JSONEncodeError as error:
        return _rarer(value, error)


def _rarer(value: Any, error: orjson.JSONEncodeError) -> str:
    if isinstance(error.__cause__, RuleError):
        raise error.__cause__ from None
    problem = str(error)
    if "Recursion limit" in problem:
        raise too_deep() from None
    if "64-bit" in problem:  # an int beyond 64 bits: a float, as the engine read its digits
        try:
            return text(_widened(value))
        except RecursionError:
            raise too_deep() from None
    if "key must be str" in problem:
        try:
            return orjson.dumps(value, default=written_default, option=orjson.OPT_NON_STR_KEYS).decode()
        except orjson.JSONEncodeError as again:
            if "key must be str" in str(again):
                raise TypeError(str(again)) from None
            return _rarer(value, again)
    raise TypeError(problem) from None


def _widened(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**64 else float(value)
    if isinstance(value, dict):
        return {key: _widened(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_widened(item) for item in value]
    return value


def fragment(value: Any) -> Fragment:
    """`value` written once, to be embedded as it is in the contexts `text` writes."""
    return Fragment(text(value))


def indexed(tables: dict[str, dict] | None) -> dict:
    """{table: {key: {column: value}}} for the inlined lookups (keys as text, as JSON
    object keys are; a number key 3 and "3" are the same row)."""
    index: dict = {}
    for name, table in (tables or {}).items():
        columns = list(table.get("columns") or [])
        key_column = table.get("keyColumn") or (columns[0] if columns else None)
        if key_column not in columns:
            continue
        key_index = columns.index(key_column)
        rows = {}
        for row in table.get("rows") or []:
            if isinstance(row, list) and len(row) == len(columns):
                rows.setdefault(_key_text(row[key_index]), dict(zip(columns, row, strict=True)))
        index[name] = rows
    return index


def _key_text(value: Any) -> str:
    if isinstance(value, float | int) and not isinstance(value, bool) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if not isinstance(value, str) else value


#: id(tables) -> (tables, their index written once); the tables object is kept so that its id
#: cannot be reused by another while cached
_TABLES: dict[int, tuple[dict, Fragment]] = {}
_TABLES_SIZE = 64
_TABLES_LOCK = threading.Lock()


def tables_fragment(tables: dict[str, dict]) -> Fragment:
    """The indexed tables written once per tables object. Tables are loaded whole and not
    changed in place (`tables_for`, a version's pinned tables): pass a new dict for new rows."""
    entry = _TABLES.get(id(tables))
    if entry is not None and entry[0] is tables:
        return entry[1]
    written = fragment(indexed(tables))
    with _TABLES_LOCK:
        while len(_TABLES) >= _TABLES_SIZE:
            del _TABLES[next(iter(_TABLES))]  # the oldest
        _TABLES[id(tables)] = (tables, written)
    return written


def with_tables(data: Any, tables: dict[str, dict] | None) -> Any:
    """The context with the tables its lookups read, under `$tables`."""
    if tables and isinstance(data, dict):
        return {**data, TABLES_KEY: tables_fragment(tables)}
    return data
