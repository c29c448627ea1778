"""The effects a workflow has on cases: `set_field` (a value into the case's data),
`customer.set_status` and `start_case` (a draft case of another process). They register in
the effect registry (formflow.effects) on import; the app factory imports this module. They
live with cases, above the workflow engine that runs them, because start_case starts a case."""

from __future__ import annotations

import copy
from typing import Any

from flask_babel import gettext as _

from formflow import audit, forms
from formflow.cases import services as cases
from formflow.customers import statuses
from formflow.customers.models import CUSTOMER_STATUSES
from formflow.effects import LOGIC_SCHEMA, POINTER_SCHEMA, EffectContext, effect
from formflow.errors import Invalid, NotFound
from formflow.extensions import db
from formflow.forms.pointers import escape, resolve, split
from formflow.forms.texts import localized
from formflow.processes.form_rules import convert, field_schema
from formflow.records.changes import search_text
from formflow.records.models import Case
from formflow.rules.operators import OperatorFailure, to_money
from formflow.workflows import engine


def _form_schema(spec: dict) -> dict:
    form = spec.get("form") if isinstance(spec.get("form"), dict) else {}
    return form.get("schema") if isinstance(form.get("schema"), dict) else {}


def _check_field(pointer_name: str):
    def check(config: dict, spec: dict) -> list[dict]:
        if field_schema(_form_schema(spec), config[pointer_name]):
            return []
        message = _("The form has no field %(field)s.", field=config[pointer_name])
        return [{"pointer": "/" + pointer_name, "message": message}]

    return check


# --- set_field --------------------------------------------------------------------------------


@effect(
    "set_field",
    schema={"required": ["field", "value"], "properties": {"field": POINTER_SCHEMA, "value": LOGIC_SCHEMA}},
    logic=("/value",),
    check=_check_field("field"),
)
def set_field(ctx: EffectContext, config: dict) -> dict:
    """Store a value into the case's data, converted to the field's type (money exact)."""
    pointer = config["field"]
    schema = _form_schema(ctx.spec)
    target = field_schema(schema, pointer)
    result = ctx.value(config["value"])
    try:
        money = result is not None and _is_money(ctx.spec, pointer, target)
        value = to_money(result) if money else convert(result, target)
    except (OperatorFailure, ValueError, ArithmeticError) as failure:
        raise Invalid([{"pointer": "/value", "message": str(failure)}]) from None
    if target and value is not None:
        errors = forms.validate(target, value)
        if errors:
            raise Invalid([{"pointer": "/value", "message": f"{pointer}: {errors[0]['message']}"}])
    data = copy.deepcopy(ctx.case.data or {})
    before = resolve(data, pointer)
    _put(data, pointer, value)
    ctx.case.data = data  # a new object: the JSON column sees the change
    ctx.case.search_text = search_text(data)
    return {"field": pointer, "before": before, "after": value}


def _is_money(spec: dict, pointer: str, target: dict) -> bool:
    ui = (spec.get("form") or {}).get("uiSchema") or {}
    for token in split(pointer):
        ui = ui.get(token) if isinstance(ui, dict) else None
    widget = ui.get("ui:widget") if isinstance(ui, dict) else None
    return widget == "money" or str(target.get("multipleOf")) == "0.01"


def _put(data: dict, pointer: str, value: Any) -> None:
    """Set (or, for None, remove) the value at `pointer`, making objects on the way."""
    tokens = split(pointer)
    holder: Any = data
    for token in tokens[:-1]:
        if isinstance(holder, list) and token.isdigit() and int(token) < len(holder):
            holder = holder[int(token)]
        elif isinstance(holder, dict):
            holder = holder.setdefault(token, {})
        else:
            raise Invalid(
                [{"pointer": "/field", "message": _("%(field)s is not inside an object.", field=pointer)}]
            )
    last = tokens[-1]
    if isinstance(holder, list) and last.isdigit() and int(last) < len(holder):
        holder[int(last)] = value
    elif isinstance(holder, dict):
        if value is None:
            holder.pop(last, None)
        else:
            holder[last] = value
    else:
        raise Invalid(
            [{"pointer": "/field", "message": _("%(field)s is not inside an object.", field=pointer)}]
        )


# --- customer.set_status ----------------------------------------------------------------------


#: a reason in the spec: plain text or {"zh-CN": …, "en": …}
REASON_SCHEMA = {
    "anyOf": [
        {"type": "string", "maxLength": 2000},
        {"type": "object", "additionalProperties": {"type": "string", "maxLength": 2000}},
    ]
}


@effect(
    "customer.set_status",
    schema={
        "required": ["status"],
        "properties": {"status": {"enum": list(CUSTOMER_STATUSES)}, "reason": REASON_SCHEMA},
    },
)
def set_customer_status(ctx: EffectContext, config: dict) -> dict:
    """E.g. in rectification, offboarded, blacklisted: a line of the customer's status history
    naming the case (and the audit entry). Blacklisted also puts the customer on the
    blacklist, the case named as the one that decided it; a blacklisted customer stays so."""
    customer = ctx.case.customer
    before, after = customer.status, config["status"]
    reason = localized(config.get("reason")) or _(
        "Decided by case #%(id)d (%(process)s).",
        id=ctx.case.id,
        process=localized(ctx.case.version.spec.get("name")),
    )
    if after == "blacklisted" and statuses.current_entry(customer) is None:
        statuses.add_to_blacklist(customer, reason, actor=ctx.actor, case_id=ctx.case.id)
    elif before == "blacklisted":  # off the blacklist only by lifting it, never as a side effect
        after = before
    elif before != after:
        statuses.set_status(customer, after, reason=reason, actor=ctx.actor, case_id=ctx.case.id)
    return {"customer": customer.code, "before": before, "after": after}


# --- start_case -------------------------------------------------------------------------------


@effect(
    "start_case",
    schema={
        "required": ["process"],
        "properties": {
            "process": {"type": "string", "minLength": 1, "maxLength": 80},
            "data": {"type": "object", "propertyNames": POINTER_SCHEMA, "additionalProperties": LOGIC_SCHEMA},
        },
    },
    logic=("/data/*",),
)
def start_case(ctx: EffectContext, config: dict) -> dict:
    """A draft case of another process (e.g. a dispute) for the same customer, its data from
    the mapping (target pointer → JSONLogic) plus `parent_case` when its form has that field
    (the audit entry names the parent in any case); its workflow starts.

    Not `cases.services.start`: that is the door for people and requires the actor to hold
    `cases.create`, which an approver or the timer does not — here the authority is the
    published spec. The new case belongs to the parent's initiator (who can then edit its
    draft); its `case.create` audit entry names the actor who really caused it."""
    parent = ctx.case
    try:
        version, customer = cases.resolve(config["process"], parent.customer.code)
    except Invalid as failure:
        raise Invalid([{"pointer": "/process", "message": e["message"]} for e in failure.errors]) from None
    except NotFound as failure:
        raise Invalid([{"pointer": "/process", "message": failure.message}]) from None
    values = {}
    for target, expression in (config.get("data") or {}).items():
        try:
            values[target] = ctx.value(expression)
        except (OperatorFailure, ValueError, ArithmeticError) as failure:
            raise Invalid([{"pointer": "/data/" + escape(target), "message": str(failure)}]) from None
    child = open_draft(
        version, customer, values, created_by_id=parent.created_by_id, actor=ctx.actor, now=ctx.now,
        parent_case=parent.id,
    )  # fmt: skip
    return {"case": child.id, "process": version.process.key, "version": version.number, "state": child.state}


def open_draft(
    version,
    customer,
    values: dict,
    *,
    created_by_id,
    actor,
    now,
    parent_case: int | None = None,
    audit_extra: dict | None = None,
) -> Case:
    """A draft case of `version` for `customer`, its fields set from `values` (target pointer →
    value, converted to each field's type), its workflow started; Invalid (pointer /data, each
    message naming the field) when the data does not fit the form. Also used by the offboarding
    screening (cases/screening.py)."""
    schema, _ui = cases.form_of(version)
    data: dict = {}
    for target, value in values.items():
        try:
            converted = convert(value, field_schema(schema, target))
        except (OperatorFailure, ValueError, ArithmeticError) as failure:
            raise Invalid([{"pointer": "/data/" + escape(target), "message": str(failure)}]) from None
        _put(data, target, converted)
    if parent_case is not None and "parent_case" in (schema.get("properties") or {}):
        data["parent_case"] = parent_case  # data holds the form's fields only
    data, outcome = cases.apply_case_rules(version, customer, None, actor, data, {}, submit=False)
    errors = list(outcome.errors)  # pointers relative to the new case's data
    verdict = forms.validate(cases.without_required(schema), data)
    errors += [e for e in verdict if not outcome.is_hidden(e.get("field") or e["pointer"])]
    if errors:
        where = _("The new %(process)s case", process=version.process.key)
        raise Invalid(
            [
                {"pointer": "/data", "message": f"{where} {e.get('field') or e['pointer']}: {e['message']}"}
                for e in errors
            ]
        )
    child = Case(
        process=version.process, version=version, customer=customer, state="draft", data=data,
        search_text=search_text(data), created_by_id=created_by_id, created_at=now, updated_at=now,
    )  # fmt: skip
    db.session.add(child)
    db.session.flush()
    extra = {"parent_case": parent_case} if parent_case is not None else {}
    audit.record(
        "case.create",
        "case",
        child.id,
        after={**cases.snapshot(child), **extra, **(audit_extra or {})},
        actor=actor,
    )
    engine.start(child, actor, now)
    return child
