"""The step editor's effect blocks, generated from each effect's own config schema (the effect
registry, formflow.effects): a list for an enum, a line for a string, a JSON box for a value that
may be JSONLogic or an object. Posted back as `effects-N-effect` and `effects-N-PROPERTY`.

    blocks = [block(config) for config in state["on_enter"]]
    configs = read(request.form)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from formflow.customers.models import status_labels
from formflow.effects import EFFECTS
from formflow.ledger.services import account_label
from formflow.ledger.statements import kind_labels
from formflow.processes.editor_problems import whole_number

TITLES = {
    "ledger.post": _l("Post money to the customer's ledger"),
    "ledger.reverse": _l("Reverse what the case posted"),
    "set_field": _l("Set a field of the case"),
    "customer.set_status": _l("Change the customer's status"),
    "start_case": _l("Start another case"),
    "notify": _l("Send a notice"),
    "webhook": _l("Call a webhook"),
    "billing.subscribe": _l("Subscribe the customer to a fee plan"),
    "billing.register_payment": _l("Register the payment (invoices first, the rest to prepaid)"),
}
LABELS = {
    "kind": _l("Kind of posting"), "amount": _l("Amount (a number or JSONLogic)"),
    "account": _l("Account"), "short": _l("When the balance is short"), "memo": _l("Memo"),
    "field": _l("Field (JSON Pointer)"), "value": _l("Value (JSON or JSONLogic)"),
    "status": _l("Status"), "reason": _l("Reason"), "process": _l("Process key"),
    "data": _l("Its data (JSON: pointer → value)"), "to": _l("To (customer, initiator or JSON)"),
    "template": _l("Notice template"), "language": _l("Language (JSONLogic, optional)"),
    "url": _l("URL"), "event": _l("Event name"), "plan": _l("Fee plan key"),
    "start": _l("Start date (ISO date or JSONLogic)"), "end": _l("End date (optional)"),
    "anchor_day": _l("Billing day (optional)"),
    "paid_on": _l("Payment date (ISO date or JSONLogic)"), "method": _l("Payment method (JSONLogic)"),
    "reference": _l("Reference (optional)"), "allocations": _l("Invoices paid (JSONLogic, optional)"),
}  # fmt: skip


def _value_words() -> dict[str, dict[str, str]]:
    return {
        "kind": kind_labels(),
        "status": status_labels(),
        "account": {kind: account_label(kind) for kind in ("prepaid", "deposit", "receivable")},
        "short": {"refuse": _("Refuse the action"), "receivable": _("Book the rest as receivable")},
    }


@dataclass
class EffectInput:
    name: str
    label: str
    kind: str  # "select", "text" or "json"
    value: str
    required: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class EffectBlock:
    effect: str
    title: str
    inputs: list[EffectInput]
    unknown: str = ""  # an effect the registry does not know: its config as JSON, kept


def effect_choices() -> list[tuple[str, str]]:
    return [(name, str(TITLES.get(name, name))) for name in sorted(EFFECTS)]


def block(config: dict) -> EffectBlock:
    name = config.get("effect") if isinstance(config.get("effect"), str) else ""
    entry = EFFECTS.get(name)
    if entry is None:
        return EffectBlock(name, name, [], unknown=json.dumps(config, ensure_ascii=False))
    required = set(entry.schema.get("required") or [])
    words = _value_words()
    inputs = []
    for prop, schema in (entry.schema.get("properties") or {}).items():
        if prop == "effect":
            continue
        value = config.get(prop)
        if isinstance(schema.get("enum"), list):
            choices = [(str(v), words.get(prop, {}).get(v, str(v))) for v in schema["enum"]]
            inputs.append(
                EffectInput(
                    prop, str(LABELS.get(prop, prop)), "select", str(value or ""), prop in required, choices
                )
            )
        elif schema.get("type") == "string":
            inputs.append(
                EffectInput(
                    prop,
                    str(LABELS.get(prop, prop)),
                    "text",
                    value if isinstance(value, str) else "",
                    prop in required,
                )
            )
        else:
            shown = _json_text(value) if prop in config else ""
            inputs.append(EffectInput(prop, str(LABELS.get(prop, prop)), "json", shown, prop in required))
    return EffectBlock(name, str(TITLES.get(name, name)), inputs)


def _json_text(value: Any) -> str:
    """A JSON box's text: a string as it is, unless it would read back as something else ("2024",
    "true"), then in quotes; anything else as JSON."""
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, ensure_ascii=False)


def read(form) -> tuple[list[dict], list[dict]]:
    """The effect configs of the posted form, in order, and the problems of its JSON boxes
    ({"input": "effects-0-amount", "message": …}: text that starts as JSON but is not)."""
    text = form.get("effect_count") or "0"
    configs, problems = [], []
    for index in range(min(whole_number(text) or 0, 50)):
        prefix = f"effects-{index}-"
        name = form.get(prefix + "effect") or ""
        entry = EFFECTS.get(name)
        if entry is None:
            try:
                kept = json.loads(form.get(prefix + "json") or "{}")
            except ValueError:
                kept = {}
            configs.append(kept if isinstance(kept, dict) else {"effect": name})
            continue
        config: dict[str, Any] = {"effect": name}
        for prop, schema in (entry.schema.get("properties") or {}).items():
            raw = (form.get(prefix + prop) or "").strip()
            if prop == "effect" or not raw:
                continue
            if isinstance(schema.get("enum"), list) or schema.get("type") == "string":
                config[prop] = raw
                continue
            try:
                config[prop] = json.loads(raw)
            except ValueError:
                if raw[:1] in '{["':
                    problems.append(
                        {
                            "input": prefix + prop,
                            "message": _("Not valid JSON (JSONLogic is written as JSON)."),
                        }
                    )
                config[prop] = raw
        configs.append(config)
    return configs, problems
