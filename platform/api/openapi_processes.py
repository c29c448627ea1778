"""The OpenAPI schemas and paths of processes: list, import, read and publish a process spec."""

from __future__ import annotations

from formflow.api.openapi_responses import error_response, json_response, key_parameter

#: A process spec as the API accepts it; the full rules are in processes/spec.schema.json.
PROCESS_SPEC = {
    "type": "object",
    "description": "A process spec (formflow 1): key, category, name {zh-CN, en}, form {schema, uiSchema}, "
    "and optional description, rules, tables, workflow, tests.",
    "required": ["formflow", "key", "category", "name", "form"],
    "properties": {
        "formflow": {"const": 1},
        "key": {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,79}$"},
        "category": {"enum": ["deduction", "prepaid", "management_fee", "payment", "offboarding", "other"]},
        "name": {"$ref": "#/components/schemas/Text"},
        "description": {"$ref": "#/components/schemas/Text"},
        "form": {
            "type": "object",
            "required": ["schema"],
            "properties": {"schema": {"type": "object"}, "uiSchema": {"type": "object"}},
        },
        "rules": {"type": "array", "items": {"type": "object"}},
        "tables": {"type": "array", "items": {"type": "object"}},
        "workflow": {"type": "object"},
        "tests": {"type": "array", "items": {"type": "object"}},
    },
}

PROCESS_SCHEMAS = {
    "Text": {
        "type": "object",
        "required": ["zh-CN", "en"],
        "properties": {"zh-CN": {"type": "string"}, "en": {"type": "string"}},
    },
    "ProcessSpec": PROCESS_SPEC,
    "ProcessImported": {
        "type": "object",
        "properties": {
            "key": {"type": "string"},
            "version": {"type": "integer"},
            "status": {"enum": ["draft", "published", "retired"]},
            "created": {"type": "boolean", "description": "a new process or a new version was created"},
            "changed": {"type": "boolean"},
            "changes": {"type": "array", "items": {"type": "string"}},
        },
    },
    "ProcessVersion": {
        "type": "object",
        "properties": {
            "number": {"type": "integer"},
            "status": {"enum": ["draft", "published", "retired"]},
            "sha256": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "published_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
}


PROCESS_PATHS = {
    "/processes": {
        "get": {
            "summary": "Published processes (for pickers)",
            "responses": {
                "200": {
                    "description": "Each published process with its version",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "processes": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "properties": {
                                                "key": {"type": "string"},
                                                "category": {"type": "string"},
                                                "name": {"$ref": "#/components/schemas/Text"},
                                                "version": {"type": "integer"},
                                            },
                                        },
                                    }
                                },
                            }
                        }
                    },
                },
                "401": error_response("Missing or invalid token"),
            },
        },
        "post": {
            "summary": "Import a process spec as a draft",
            "description": "A new key creates the process (version 1); otherwise the latest draft is "
            "replaced, or a new draft follows a published version. Identical specs change nothing.",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ProcessSpec"}}},
            },
            "responses": {
                "201": json_response(
                    "A process or version was created", "#/components/schemas/ProcessImported"
                ),
                "200": json_response(
                    "A draft was updated, or nothing changed", "#/components/schemas/ProcessImported"
                ),
                "400": error_response("Body is not JSON"),
                "401": error_response("Missing or invalid token"),
                "403": error_response("Not allowed"),
                "409": error_response("Changed concurrently; retry"),
                "422": error_response("Invalid spec, with JSON Pointers into it; nothing stored"),
            },
        },
    },
    "/processes/{key}": {
        "get": {
            "summary": "A process and its versions",
            "parameters": [key_parameter()],
            "responses": {
                "200": {
                    "description": "The process",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "key": {"type": "string"},
                                    "category": {"type": "string"},
                                    "name": {"$ref": "#/components/schemas/Text"},
                                    "published": {"type": ["integer", "null"]},
                                    "versions": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/ProcessVersion"},
                                    },
                                },
                            }
                        }
                    },
                },
                "401": error_response("Missing or invalid token"),
                "403": error_response("Not allowed"),
                "404": error_response("No such process"),
            },
        }
    },
    "/processes/{key}/publish": {
        "post": {
            "summary": "Publish the latest draft (or a given version); the published one is retired",
            "parameters": [key_parameter()],
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {"type": "object", "properties": {"version": {"type": "integer"}}}
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "Published",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "key": {"type": "string"},
                                    "version": {"type": "integer"},
                                    "status": {"const": "published"},
                                },
                            }
                        }
                    },
                },
                "401": error_response("Missing or invalid token"),
                "403": error_response("Not allowed"),
                "404": error_response("No such process or version"),
                "409": error_response("Nothing to publish, or already published"),
                "422": error_response("The spec fails its checks or tests"),
            },
        }
    },
}
