"""A small approval process shared by the inbox, case page, API and concurrency tests.

draft (the initiator) → review (finance; 1 approval, 2 distinct above 1000; not the
initiator) → approved | rejected (final); `return` goes back to draft. Variants: the
reviewer named in the data, and an approve that needs the checklist."""

from __future__ import annotations

import copy
from decimal import Decimal

from formflow.auth import services as auth
from formflow.cases import services as cases
from formflow.customers import services as customers
from formflow.extensions import db
from formflow.processes import services as processes

PASSWORD = "correct-horse-9"
KEY = "wf_inbox"

SPEC = {
    "formflow": 1,
    "key": KEY,
    "category": "deduction",
    "name": {"zh-CN": "收件箱测试", "en": "Inbox test"},
    "form": {
        "schema": {
            "type": "object",
            "required": ["amount"],
            "properties": {
                "amount": {"type": "number", "title": "Amount", "multipleOf": 0.01, "exclusiveMinimum": 0},
                "fee": {"type": "number", "title": "Fee", "multipleOf": 0.01},
                "reviewer": {"type": "string", "title": "Reviewer"},
            },
        }
    },
    "rules": [
        {"id": "fee", "kind": "compute", "field": "/fee", "value": {"*": [{"var": "data.amount"}, 0.06]}},
        {
            "id": "amount-below-cap",
            "kind": "validate",
            "field": "/amount",
            "when": {"<=": [{"var": "data.amount"}, 50000]},
            "message": {"zh-CN": "超过上限", "en": "Above the cap"},
        },
    ],
    "workflow": {
        "start": "draft",
        "states": {
            "draft": {
                "kind": "form",
                "title": {"zh-CN": "填写", "en": "Draft"},
                "actions": {"submit": {"to": "review", "roles": ["staff"]}},
            },
            "review": {
                "kind": "approval",
                "title": {"zh-CN": "审核", "en": "Review"},
                "assignee": {"role": "finance"},
                "not_initiator": True,
                "approvals": {
                    "required": {"if": [{">": [{"var": "data.amount"}, 1000]}, 2, 1]},
                    "distinct": True,
                },
                "actions": {
                    "approve": {
                        "to": "approved",
                        "roles": ["finance"],
                        "title": {"zh-CN": "批准", "en": "Approve"},
                    },
                    "reject": {
                        "to": "rejected",
                        "roles": ["finance"],
                        "requires": ["comment"],
                        "title": {"zh-CN": "驳回", "en": "Reject"},
                    },
                    "return": {"to": "draft", "roles": ["finance"], "requires": ["comment"]},
                },
            },
            "approved": {"kind": "final", "title": {"zh-CN": "已批准", "en": "Approved"}},
            "rejected": {"kind": "final", "title": {"zh-CN": "已驳回", "en": "Rejected"}},
        },
    },
}

USERS = {
    "staff1": ["staff"],
    "staff2": ["staff"],
    "fin1": ["finance"],
    "fin2": ["finance"],
    "fin3": ["finance", "staff"],
    "mgr1": ["manager"],
    "aud1": ["auditor"],
    "admin1": ["admin"],
}


def field_assignee_spec() -> dict:
    """The same process, the review step assigned to the username in /reviewer."""
    spec = copy.deepcopy(SPEC)
    spec["key"] = "wf_inbox_field"
    spec["workflow"]["states"]["review"]["assignee"] = {"field": "/reviewer"}
    for action in spec["workflow"]["states"]["review"]["actions"].values():
        action.pop("roles")
    return spec


def checklist_spec() -> dict:
    """The same process whose approve needs the review checklist complete."""
    spec = copy.deepcopy(SPEC)
    spec["key"] = "wf_inbox_checklist"
    review = spec["workflow"]["states"]["review"]
    review["checklist"] = [{"id": "evidence", "label": {"zh-CN": "核对凭证", "en": "Check the evidence"}}]
    review["actions"]["approve"]["requires"] = ["checklist"]
    return spec


def install(*specs: dict) -> dict[str, int]:
    """Publish the processes, create customer W200 and the users; returns user ids by name."""
    for spec in specs or (SPEC,):
        processes.import_spec(spec)
        processes.publish(spec["key"])
    customers.create("W200", "华东测试", "B")
    ids = {name: auth.create_user(name, PASSWORD, roles).id for name, roles in USERS.items()}
    db.session.commit()
    return ids


def user(name: str):
    return auth.find_user(name)


def new_case(amount="100", *, by="staff1", submit=True, key=KEY, **extra):
    data = {"amount": Decimal(amount), **extra}
    case = cases.start(key, "W200", data, submit=submit, actor=user(by))
    db.session.commit()
    return case
