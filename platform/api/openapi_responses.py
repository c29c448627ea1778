"""The pieces every part of the OpenAPI document shares: the error body and its responses."""

from __future__ import annotations

ERRORS = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["pointer", "message"],
                "properties": {"pointer": {"type": "string"}, "message": {"type": "string"}},
            },
        }
    },
}


def error_response(description: str) -> dict:
    """A response whose body is the Errors schema."""
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}},
    }


def key_parameter() -> dict:
    return {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}


def json_response(description: str, ref: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}
