"""A workflow step as the step editor's form shows it, read from a spec and from the posted form.

The form's inputs: the step's title, kind, assignee (a role or a field), "not the initiator",
the fields a later form step may change; approvals (a number, or "N when a field is above a
table's threshold", or JSONLogic); the SLA (due, reminders, what its expiry does); one row per
action (`actions-N-…`: name, titles, target, roles, guard, comment or checklist required) and one
block per effect (`effects-N-…`, see formflow.processes.effect_forms).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from formflow.forms.texts import exact_text, localized
from formflow.processes.editor_problems import whole_number

ACTION_FIELDS = ("name", "title_zh", "title_en", "to", "guard", "guard_zh", "guard_en", "old")


@dataclass
class ActionRow:
    name: str = ""
    title_zh: str = ""
    title_en: str = ""
    to: str = ""
    roles: list[str] = field(default_factory=list)
    guard: str = ""  # JSONLogic, as text
    guard_zh: str = ""
    guard_en: str = ""
    comment: bool = False
    checklist: bool = False
    old: str = ""  # the name it had: a renamed action keeps what the editor does not show


@dataclass
class StateSettings:
    title_zh: str = ""
    title_en: str = ""
    kind: str = "form"
    assignee: str = ""  # "" none, "role", "field"
    assignee_role: str = ""
    assignee_field: str = ""
    not_initiator: bool = False
    fields: list[str] = field(default_factory=list)
    approvals: str = "number"  # "number", "threshold", "logic"
    approvals_number: str = ""
    approvals_more: str = ""  # the threshold form: this many …
    approvals_field: str = ""  # … when this field (data path) …
    approvals_table: str = ""  # … is above this table's …
    approvals_column: str = ""  # … column for the customer's tier
    approvals_logic: str = ""
    distinct: bool = False
    exclude_earlier: bool = False
    sla_due: str = ""
    sla_remind: str = ""  # durations, comma-separated
    sla_expire: str = ""  # "", "escalate", "action"
    sla_expire_role: str = ""
    sla_expire_action: str = ""
    actions: list[ActionRow] = field(default_factory=list)
    effects: list[dict] = field(default_factory=list)  # the configs, as the spec holds them


def _text(value: Any) -> str:
    if value in (None, ""):
        return ""
    return json.dumps(value, ensure_ascii=False)


def threshold_parts(required: Any) -> tuple[str, str, str, str, str] | None:
    """(base, more, field, table, column) of `{"if": [{">": [{"var": "data.F"}, {"lookup": [T,
    {"var": "customer.tier"}, C]}]}, MORE, BASE]}`, else None."""
    try:
        (condition, more, base) = required["if"]
        (left, right) = condition[">"]
        table, key, column = right["lookup"]
        path = left["var"]
    except (TypeError, KeyError, ValueError):
        return None
    if key != {"var": "customer.tier"} or not isinstance(path, str) or not path.startswith("data."):
        return None
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (more, base)):
        return None
    return str(base), str(more), path.removeprefix("data."), str(table), str(column)


def settings_of(state: dict) -> StateSettings:
    assignee = state.get("assignee") if isinstance(state.get("assignee"), dict) else {}
    approvals = state.get("approvals") if isinstance(state.get("approvals"), dict) else {}
    sla = state.get("sla") if isinstance(state.get("sla"), dict) else {}
    expire = sla.get("on_expire") if isinstance(sla.get("on_expire"), dict) else {}
    required = approvals.get("required")
    settings = StateSettings(
        title_zh=localized(state.get("title"), "zh-CN"),
        title_en=exact_text(state.get("title"), "en"),
        kind=state.get("kind") or ("final" if state.get("final") else "form"),
        assignee="role" if "role" in assignee else "field" if "field" in assignee else "",
        assignee_role=assignee.get("role", ""),
        assignee_field=assignee.get("field", ""),
        not_initiator=bool(state.get("not_initiator")),
        fields=[f for f in state.get("fields") or [] if isinstance(f, str)],
        distinct=bool(approvals.get("distinct")),
        exclude_earlier=bool(approvals.get("exclude_earlier_approvers")),
        sla_due=sla.get("due") if isinstance(sla.get("due"), str) else _text(sla.get("due")),
        sla_remind=", ".join(r for r in sla.get("remind_before") or [] if isinstance(r, str)),
        sla_expire=expire.get("do", ""),
        sla_expire_role=expire.get("role", ""),
        sla_expire_action=expire.get("action", ""),
        effects=[dict(e) for e in state.get("on_enter") or [] if isinstance(e, dict)],
    )
    parts = threshold_parts(required)
    if required is None or (isinstance(required, int) and not isinstance(required, bool)):
        settings.approvals, settings.approvals_number = "number", "" if required is None else str(required)
    elif parts is not None:
        settings.approvals = "threshold"
        (settings.approvals_number, settings.approvals_more, settings.approvals_field,
         settings.approvals_table, settings.approvals_column) = parts  # fmt: skip
    else:
        settings.approvals, settings.approvals_logic = "logic", _text(required)
    for name, action in (state.get("actions") or {}).items():
        if not isinstance(action, dict):
            continue
        guard = action.get("guard") if isinstance(action.get("guard"), dict) else {}
        requires = action.get("requires") or []
        settings.actions.append(
            ActionRow(
                name=name,
                old=name,
                title_zh=localized(action.get("title"), "zh-CN"),
                title_en=exact_text(action.get("title"), "en"),
                to=action.get("to", ""),
                roles=[r for r in action.get("roles") or [] if isinstance(r, str)],
                guard=_text(guard.get("when")),
                guard_zh=exact_text(guard.get("message"), "zh-CN"),
                guard_en=exact_text(guard.get("message"), "en"),
                comment="comment" in requires or action.get("comment") == "required",
                checklist="checklist" in requires,
            )
        )
    return settings


FLAGS = ("not_initiator", "distinct", "exclude_earlier")
TEXTS = (
    "title_zh", "title_en", "kind", "assignee", "assignee_role", "assignee_field", "approvals",
    "approvals_number", "approvals_more", "approvals_field", "approvals_table", "approvals_column",
    "approvals_logic", "sla_due", "sla_remind", "sla_expire", "sla_expire_role", "sla_expire_action",
)  # fmt: skip


def from_form(form, effects: list[dict]) -> StateSettings:
    """The posted form (MultiDict); `effects` are the effect configs read by effect_forms."""
    settings = StateSettings(
        **{name: (form.get(name) or "").strip() for name in TEXTS},
        **{name: bool(form.get(name)) for name in FLAGS},
        fields=form.getlist("fields"),
        effects=effects,
    )
    count = whole_number(form.get("action_count")) or 0
    for index in range(min(count, 50)):
        prefix = f"actions-{index}-"
        row = ActionRow(
            **{name: (form.get(prefix + name) or "").strip() for name in ACTION_FIELDS},
            roles=form.getlist(prefix + "roles"),
            comment=bool(form.get(prefix + "comment")),
            checklist=bool(form.get(prefix + "checklist")),
        )
        settings.actions.append(row)
    return settings
