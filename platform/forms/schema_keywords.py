"""Reading JSON Schema keywords for showing a form: the type a schema edits, two schemas as one."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def merge(base: dict, extra: dict) -> dict:
    """Two schemas that both apply, as one (for showing fields; jsonschema does the validating)."""
    if not extra:
        return dict(base)
    result = dict(base)
    for key, value in extra.items():
        if key == "properties" and isinstance(result.get(key), dict):
            merged = dict(result[key])
            for name, sub in value.items():
                merged[name] = merge_property(merged[name], sub) if name in merged else sub
            result[key] = merged
        elif key == "required" and isinstance(result.get(key), list):
            result[key] = list(dict.fromkeys([*result[key], *value]))
        elif key == "type" and key in result:
            both = [t for t in types_of({"type": value}) if t in types_of(result)]
            result[key] = both or value
        elif key not in result:
            result[key] = value
    return result


def merge_property(first: Any, second: Any) -> Any:
    if isinstance(first, dict) and isinstance(second, dict):
        return {"allOf": [first, second]}
    return second


def types_of(schema: dict) -> list[str]:
    declared = schema.get("type")
    if isinstance(declared, list):
        return [t for t in declared if isinstance(t, str)]
    if isinstance(declared, str):
        return [declared]
    return []


def primary_type(schema: dict) -> str:
    """The type the input edits: the declared one (null aside), else what the keywords imply."""
    declared = [t for t in types_of(schema) if t != "null"]
    if declared:
        return "number" if set(declared) == {"integer", "number"} else declared[0]
    if "properties" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    values = schema.get("enum") or ([schema["const"]] if "const" in schema else [])
    if values:
        return json_type(values[0])
    if "multipleOf" in schema or "minimum" in schema or "maximum" in schema:
        return "number"
    return "string"


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float | Decimal):
        return "number"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return "string"
