"""An offboarding-like process with SLA timers, shared by the timer tests.

draft → rectification (30 days; reminders 3 days and 1 hour before; on expiry the
evaluation starts by itself) → evaluation (48 hours; reminder 4 hours before; escalated
to the managers when overdue) → notice (due on the date in /deadline; closes itself, but
only when its checklist is complete) → closed."""

from __future__ import annotations

from formflow.auth import services as auth
from formflow.cases import services as cases
from formflow.customers import services as customers
from formflow.extensions import db
from formflow.processes import services as processes

KEY = "wf_offboarding"

SPEC = {
    "formflow": 1,
    "key": KEY,
    "category": "offboarding",
    "name": {"zh-CN": "清退", "en": "Offboarding"},
    "form": {
        "schema": {
            "type": "object",
            "properties": {
                "reason": {"type": "string"},
                "deadline": {"type": "string", "format": "date"},
            },
        }
    },
    "workflow": {
        "start": "draft",
        "states": {
            "draft": {"kind": "form", "actions": {"submit": {"to": "rectification", "roles": ["staff"]}}},
            "rectification": {
                "kind": "automatic",
                "title": {"zh-CN": "整改期", "en": "Rectification period"},
                "assignee": {"role": "risk"},
                "sla": {
                    "due": "P30D",
                    "remind_before": ["P3D", "PT1H"],
                    "on_expire": {"do": "action", "action": "evaluate"},
                },
                "actions": {
                    "evaluate": {"to": "evaluation", "roles": ["risk"]},
                    "withdraw": {"to": "closed", "roles": ["risk"]},
                },
            },
            "evaluation": {
                "kind": "approval",
                "title": {"zh-CN": "评估", "en": "Evaluation"},
                "assignee": {"role": "manager"},
                "approvals": {"required": 1},
                "sla": {
                    "due": "PT48H",
                    "remind_before": ["PT4H"],
                    "on_expire": {"do": "escalate", "role": "admin"},
                },
                "actions": {
                    "approve": {"to": "notice", "roles": ["manager"]},
                    "reject": {"to": "closed", "roles": ["manager"]},
                    "return": {"to": "rectification", "roles": ["manager"]},
                },
            },
            "notice": {
                "kind": "automatic",
                "assignee": {"role": "finance"},
                "checklist": [
                    {
                        "id": "settle",
                        "label": {"zh-CN": "结清账户", "en": "Settle the account"},
                        "required": True,
                    }
                ],
                "sla": {"due": {"field": "/deadline"}, "on_expire": {"do": "action", "action": "close"}},
                "actions": {"close": {"to": "closed", "roles": ["finance"], "requires": ["checklist"]}},
            },
            "closed": {"kind": "final"},
        },
    },
}

USERS = {"staff1": ["staff"], "risk1": ["risk"], "mgr1": ["manager"], "fin1": ["finance"]}


def load_world() -> None:
    """The process (published), a customer and one user per role (in an app context)."""
    processes.import_spec(SPEC)
    processes.publish(KEY)
    customers.create("S100", "整改测试", "C")
    for name, roles in USERS.items():
        auth.create_user(name, "correct-horse-9", roles)
    db.session.commit()


def user(name: str):
    return auth.find_user(name)


def new_case(data: dict | None = None):
    """A case submitted now: it has just entered the rectification period."""
    case = cases.start(KEY, "S100", data or {"reason": "late payments"}, submit=True, actor=user("staff1"))
    db.session.flush()
    return case
