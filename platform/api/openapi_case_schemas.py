"""The OpenAPI schemas of cases: a case, its explanation, its actions, approvals and attachments."""

from __future__ import annotations

#: Cases. Error pointers point into the request body: /process, /customer, /data/…, /submit.
CASE_SCHEMAS = {
    "CaseCreate": {
        "type": "object",
        "required": ["process", "customer"],
        "properties": {
            "process": {
                "type": "string",
                "description": "process key; the case runs on its published version",
            },
            "customer": {"type": "string", "description": "customer code"},
            "data": {
                "type": "object",
                "description": "the form's data, checked against the version's JSON Schema",
            },
            "submit": {
                "type": "boolean",
                "default": False,
                "description": "true: submit at once (the data must be complete); false: a draft, "
                "where required fields may be missing but every value given must be valid",
            },
        },
    },
    "CaseCreated": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "state": {"type": "string"},
            "version": {"type": "integer", "description": "the process version the case runs on"},
        },
    },
    "Attachment": {
        "type": "object",
        "properties": {
            "token": {"type": "string", "description": "the value of the file field in the data"},
            "field": {"type": "string", "description": "JSON Pointer of the field it was uploaded to"},
            "filename": {"type": "string"},
            "content_type": {"type": "string"},
            "size": {"type": "integer"},
            "sha256": {"type": "string"},
        },
    },
    "ExplainNode": {
        "type": "object",
        "properties": {
            "operator": {
                "type": ["string", "null"],
                "description": "the JSONLogic operator (null: a literal)",
            },
            "text": {"type": "string", "description": "the step in words: data.amount (3000) > 2000 → true"},
            "result": {"description": "the step's result"},
            "error": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/ExplainNode"}},
        },
    },
    "Explanation": {
        "type": "object",
        "properties": {
            "result": {"description": "the rule's result (null when it failed)"},
            "reads": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "path": {"type": "string", "description": "a context path: data.amount"},
                        "lookup": {
                            "type": "array",
                            "items": {},
                            "description": "[table, key, column] of a parameter-table lookup",
                        },
                        "value": {},
                    },
                },
            },
            "tree": {"oneOf": [{"$ref": "#/components/schemas/ExplainNode"}, {"type": "null"}]},
            "error": {"type": "string", "description": "why the rule could not be evaluated"},
        },
    },
    "CaseExplanation": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "state": {"type": "string"},
            "rules": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "kind": {"enum": ["compute", "visible", "enable", "required", "validate"]},
                        "pointer": {"type": "string"},
                        "result": {},
                        "explain": {"$ref": "#/components/schemas/Explanation"},
                    },
                },
            },
            "approvals_required": {
                "oneOf": [{"$ref": "#/components/schemas/Explanation"}, {"type": "null"}],
                "description": "the current step's approvals required (null outside an approval step)",
            },
            "guards": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "action": {"type": "string"},
                        "explain": {"$ref": "#/components/schemas/Explanation"},
                    },
                },
            },
            "checklist": {
                "type": "array",
                "description": "the current step's checklist items whose required is a rule",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "explain": {"$ref": "#/components/schemas/Explanation"},
                    },
                },
            },
        },
    },
    "Case": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "process": {"type": "string"},
            "version": {"type": "integer"},
            "customer": {"type": "string"},
            "state": {
                "type": "string",
                "description": "the workflow state (without a workflow: draft or submitted)",
            },
            "data": {"type": "object"},
            "attachments": {"type": "array", "items": {"$ref": "#/components/schemas/Attachment"}},
            "created_at": {"type": "string", "format": "date-time"},
            "created_by": {"type": ["string", "null"]},
            "updated_at": {"type": "string", "format": "date-time"},
            "submitted_at": {"type": ["string", "null"], "format": "date-time"},
            "submitted_by": {"type": ["string", "null"]},
            "lock_version": {
                "type": "integer",
                "description": "send it back with an action: a change since then is a 409",
            },
            "state_title": {"type": "string"},
            "state_round": {"type": "integer", "description": "how many times the case entered its state"},
            "state_entered_at": {"type": ["string", "null"], "format": "date-time"},
            "closed_at": {"type": ["string", "null"], "format": "date-time"},
            "due_at": {"type": ["string", "null"], "format": "date-time"},
            "overdue": {"type": "boolean"},
            "assigned_to": {"type": ["string", "null"], "description": "a manager's reassignment"},
            "waiting_for": {
                "type": "object",
                "properties": {
                    "users": {"type": "array", "items": {"type": "string"}},
                    "roles": {"type": "array", "items": {"type": "string"}},
                    "why": {
                        "enum": [
                            "reassigned",
                            "field",
                            "initiator",
                            "assignee",
                            "actions",
                            "timer",
                            "unasked",
                            None,
                        ]
                    },
                },
            },
            "approvals": {"oneOf": [{"$ref": "#/components/schemas/Approvals"}, {"type": "null"}]},
            "actions": {
                "type": "array",
                "description": "the actions open to the caller now",
                "items": {"$ref": "#/components/schemas/ActionOption"},
            },
            "checklist": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "label": {"type": "string"},
                        "required": {"type": "boolean"},
                        "done": {"type": "boolean"},
                    },
                },
            },
            "computed": {"type": "object", "description": "computed values by JSON Pointer"},
            "rules": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "rule": {"type": "string"},
                        "kind": {"enum": ["compute", "validate"]},
                        "pointer": {"type": "string"},
                        "ok": {"type": "boolean"},
                        "message": {"type": "string"},
                    },
                },
            },
            "history": {"type": "array", "items": {"$ref": "#/components/schemas/HistoryEntry"}},
        },
    },
    "Approvals": {
        "type": "object",
        "properties": {
            "required": {"type": "integer"},
            "remaining": {"type": "integer"},
            "distinct": {"type": "boolean"},
            "roles": {"type": "array", "items": {"type": "string"}, "description": "who may approve"},
            "given": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "user": {"type": ["string", "null"]},
                        "at": {"type": "string", "format": "date-time"},
                        "comment": {"type": "string"},
                    },
                },
            },
        },
    },
    "ActionOption": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "title": {"type": "string"},
            "to": {"type": "string"},
            "requires_comment": {"type": "boolean"},
            "is_approval": {"type": "boolean"},
            "needs_input": {"type": "boolean", "description": "a comment, checklist or guard is involved"},
            "blocked": {"type": ["string", "null"], "description": "why the caller cannot take it now"},
        },
    },
    "HistoryEntry": {
        "type": "object",
        "properties": {
            "at": {"type": "string", "format": "date-time"},
            "kind": {
                "type": "string",
                "description": "transition, approval, rejection, checklist, effect, timer, …",
            },
            "action": {"type": "string", "description": "the audit action, e.g. case.transition"},
            "actor": {"type": ["string", "null"]},
            "summary": {"type": "string"},
            "comment": {"type": "string"},
            "data": {"type": "object"},
        },
    },
    "CaseAction": {
        "type": "object",
        "properties": {
            "comment": {"type": "string"},
            "data": {
                "type": "object",
                "description": (
                    "values merged into the case's data: only at a form step, only by who may edit "
                    "there, only the fields the step lets change; checked like a save and audited"
                ),
            },
            "lock_version": {
                "type": "integer",
                "description": (
                    "the case's lock_version as last read: if the case changed since, 409. Without it "
                    "the action applies to the case as it is now (data sent is merged into the "
                    "current data: a field someone else changed meanwhile is overwritten)"
                ),
            },
        },
    },
    "AttachmentCreated": {
        "type": "object",
        "properties": {
            "token": {"type": "string", "description": "the value for a file field of a case"},
            "filename": {"type": "string"},
            "size": {"type": "integer"},
            "sha256": {"type": "string"},
            "content_type": {"type": "string"},
        },
    },
    "CaseActionDone": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "state": {"type": "string"},
            "transitioned": {
                "type": "boolean",
                "description": "false: an approval was recorded and more are needed",
            },
            "approvals": {"oneOf": [{"$ref": "#/components/schemas/Approvals"}, {"type": "null"}]},
            "lock_version": {"type": "integer"},
        },
    },
}
