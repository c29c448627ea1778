"""Workflow effects: what happens when a case enters a state (the state's `on_enter` list).

A registry, like the rule operators: each effect declares the JSON Schema of its
configuration, which `check_effect` applies when a spec is saved, so a wrong config fails
at publish time with a pointer rather than at 2 a.m. Values in a config may be JSONLogic,
evaluated over the case's rule context (`{data, customer, account, case, user, now}`).

`notify` lives in notify.py, `webhook` in webhooks.py; `set_field`, `customer.set_status`
and `start_case` here. `ledger.post` comes with the accounts issue (see the end of this
module)."""

from __future__ import annotations

import contextvars
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from formflow import audit, forms, rules
from formflow.customers.models import CUSTOMER_STATUSES
from formflow.errors import Invalid, NotFound
from formflow.forms.pointers import escape, resolve, split
from formflow.processes.form_rules import convert, field_schema, known_vars, spec_tables, version_tables
from formflow.rules.operators import OperatorFailure, to_money

#: A JSON Pointer to a field of the form (no `*` rows: an effect writes one value).
POINTER_SCHEMA = {"type": "string", "pattern": "^(/([^/~*]|~[01])+)+$", "maxLength": 500}
#: Any JSON value: a literal, or JSONLogic evaluated over the rule context.
LOGIC_SCHEMA: dict = {}
#: How deeply effects may start cases whose effects start cases…: a loop in the specs, not work.
MAX_NESTING = 5

_nesting: contextvars.ContextVar[int] = contextvars.ContextVar("formflow_effect_nesting", default=0)


@dataclass
class EffectContext:
    """What an effect sees: the case entering `state`, who made it move, the effect's
    position in the state's `on_enter` list and the rule context for JSONLogic values."""

    case: Any
    actor: Any
    state: str
    now: datetime
    index: int
    context: dict = field(default_factory=dict)

    @property
    def spec(self) -> dict:
        return self.case.version.spec or {}

    @property
    def workflow(self) -> dict:
        workflow = self.spec.get("workflow")
        return workflow if isinstance(workflow, dict) else {}

    @property
    def key(self) -> str:
        """Unique per case, state, round and effect: an idempotency key."""
        return f"case:{self.case.id}:{self.state}:{self.case.state_round}:{self.index}"

    def value(self, expression: Any) -> Any:
        """A config value: literal scalars as they are, objects and lists as JSONLogic."""
        if not isinstance(expression, dict | list):
            return expression
        prepared = rules.prepare(self.context, version_tables(self.case.version))
        return rules.compile(expression).evaluate(prepared)


@dataclass(frozen=True)
class Effect:
    name: str
    #: JSON Schema (Draft 2020-12) of the effect's config, `effect` member included
    schema: dict
    run: Callable[[EffectContext, dict], dict | None]
    #: pointers into the config whose values may be JSONLogic (`*` = every member)
    logic: tuple[str, ...] = ()
    #: further checks against the whole spec: (config, spec) -> problems
    check: Callable[[dict, dict], list[dict]] | None = None


EFFECTS: dict[str, Effect] = {}


def effect(name: str, *, schema: dict, logic: tuple[str, ...] = (), check=None):
    """Register `run(ctx, config) -> outcome` as the effect `name`. `schema` describes the
    config's own members (`properties`, `required`, …); the `effect` member and
    `additionalProperties: false` are added, so a misspelt key is refused at save time. The
    outcome (a small JSON-able dict) goes into the `case.effect` audit entry."""

    def register(run: Callable[[EffectContext, dict], dict | None]):
        full_schema = {
            "type": "object",
            "required": ["effect", *schema.get("required", [])],
            "additionalProperties": False,
            **{k: v for k, v in schema.items() if k not in ("required", "properties")},
            "properties": {"effect": {"const": name}, **schema.get("properties", {})},
        }
        EFFECTS[name] = Effect(name, full_schema, run, tuple(logic), check)
        return run

    return register


# --- checking ---------------------------------------------------------------------------------


def check_effect(config: Any, spec: dict | None = None) -> list[dict]:
    """Problems in one `on_enter` entry, pointers relative to the entry ([] when fine):
    unknown effect → `/effect`; against the effect's schema → into the config; JSONLogic
    values through `rules.check`. With the whole `spec`, also what the effect refers to
    (fields, notice templates) and the variables its rules read."""
    if not isinstance(config, dict):
        return [{"pointer": "", "message": _("An effect is an object naming its “effect”.")}]
    name = config.get("effect")
    entry = EFFECTS.get(name) if isinstance(name, str) else None
    if entry is None:
        if name == "ledger.post":
            message = _("The effect “ledger.post” is not available yet (it comes with the accounts).")
        else:
            message = _(
                "Unknown effect “%(name)s”; the effects are: %(known)s.",
                name=name if isinstance(name, str) else "",
                known=", ".join(sorted(EFFECTS)),
            )
        return [{"pointer": "/effect", "message": message}]
    problems = [_at_field(problem) for problem in forms.validate(entry.schema, config)]
    if problems:
        return problems
    allowed = known_vars(spec) if spec else None
    tables = _table_columns(spec) if spec else None
    for pointer in _logic_pointers(config, entry.logic):
        expression = resolve(config, pointer)
        if isinstance(expression, dict | list):
            problems += [
                {"pointer": pointer + problem["pointer"], "message": problem["message"]}
                for problem in rules.check(expression, known_vars=allowed, tables=tables)
            ]
    if entry.check is not None and spec is not None:
        problems += entry.check(config, spec)
    return problems


def _at_field(problem: dict) -> dict:
    """A missing member is reported at its own pointer (`/template`), not at the object."""
    return {"pointer": problem.get("field") or problem["pointer"], "message": problem["message"]}


def _logic_pointers(config: dict, patterns: tuple[str, ...]) -> Iterator[str]:
    for pattern in patterns:
        tokens = split(pattern)
        if "*" not in tokens:
            yield pattern
            continue
        star = tokens.index("*")
        holder = resolve(config, "".join("/" + escape(t) for t in tokens[:star]))
        if isinstance(holder, dict):
            for key in holder:
                yield "".join("/" + escape(t) for t in [*tokens[:star], key, *tokens[star + 1 :]])


def _table_columns(spec: dict) -> dict[str, list[str]] | None:
    try:
        return {name: list(table.get("columns") or []) for name, table in spec_tables(spec).items()}
    except (KeyError, TypeError, ValueError, AttributeError):
        return None  # the tables' own checks say what is wrong with them


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


# --- running ----------------------------------------------------------------------------------


def run_effects(case, state_name: str, actor, now: datetime) -> list[dict]:
    """Run the `on_enter` effects of `state_name` in order, in the caller's transaction.

    Each effect's outcome is audit-recorded as `case.effect` (effect name, config, outcome).
    Nothing is caught: an effect that fails raises (an Invalid says which effect and why),
    the exception propagates to whoever opened the transaction, and the rollback leaves
    nothing of the action behind — transition, approvals, earlier effects alike. Effects
    that talk to the outside world (e-mail, webhooks) only queue rows here; `formflow tick`
    sends them after the commit. Returns the outcomes."""
    from formflow.workflows.engine import state_spec

    entries = state_spec(case, state_name).get("on_enter") or []
    depth = _nesting.get()
    if depth >= MAX_NESTING:
        message = _("Effects start cases whose effects start cases, more than %(n)d deep.", n=MAX_NESTING)
        raise Invalid([{"pointer": f"/workflow/states/{escape(state_name)}/on_enter", "message": message}])
    token = _nesting.set(depth + 1)
    try:
        return [_run_one(case, state_name, actor, now, index, config) for index, config in enumerate(entries)]
    finally:
        _nesting.reset(token)


def _run_one(case, state_name: str, actor, now: datetime, index: int, config: Any) -> dict:
    where = f"/workflow/states/{escape(state_name)}/on_enter/{index}"
    name = config.get("effect") if isinstance(config, dict) else None
    problems = check_effect(config)
    if problems:
        raise Invalid(_located(problems, where, name, index))
    entry = EFFECTS[name]
    ctx = EffectContext(case, actor, state_name, now, index, effect_context(case, actor, now))
    try:
        outcome = entry.run(ctx, config) or {}
    except Invalid as failure:
        raise Invalid(_located(failure.errors, where, name, index)) from failure
    audit.record(
        "case.effect",
        "case",
        case.id,
        after={
            "state": state_name,
            "round": case.state_round,
            "index": index,
            "effect": name,
            "config": config,
            "outcome": outcome,
        },
        actor=actor,
    )
    return outcome


def _located(problems: list[dict], where: str, name: str | None, index: int) -> list[dict]:
    label = _("Effect %(n)d (%(name)s)", n=index + 1, name=name or "?")
    return [
        {"pointer": where + problem.get("pointer", ""), "message": f"{label}: {problem['message']}"}
        for problem in problems
    ]


def effect_context(case, actor, now: datetime) -> dict:
    """The rule context of the case as it is now (effects earlier in the list may have
    changed its data), with `now` the moment of the transition."""
    from formflow.workflows.engine import rule_context_for

    context = rule_context_for(case, actor)
    context["now"] = now.isoformat(timespec="seconds")
    return context


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
    from formflow.cases.services import search_text

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


@effect(
    "customer.set_status",
    schema={"required": ["status"], "properties": {"status": {"enum": list(CUSTOMER_STATUSES)}}},
)
def set_customer_status(ctx: EffectContext, config: dict) -> dict:
    """E.g. in rectification, offboarded, blacklisted; the customer's own audit entry keeps
    before and after."""
    customer = ctx.case.customer
    before, after = customer.status, config["status"]
    if before != after:
        customer.status = after
        audit.record(
            "customer.status",
            "customer",
            customer.id,
            before={"status": before},
            after={"status": after, "case": ctx.case.id},
            actor=ctx.actor,
        )
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
    from formflow.cases import services as cases
    from formflow.cases.models import Case
    from formflow.extensions import db
    from formflow.workflows import engine

    parent = ctx.case
    try:
        version, customer = cases.resolve(config["process"], parent.customer.code)
    except Invalid as failure:
        raise Invalid([{"pointer": "/process", "message": e["message"]} for e in failure.errors]) from None
    except NotFound as failure:
        raise Invalid([{"pointer": "/process", "message": failure.message}]) from None
    schema, _ui = cases.form_of(version)
    data: dict = {}
    for target, expression in (config.get("data") or {}).items():
        try:
            value = convert(ctx.value(expression), field_schema(schema, target))
        except (OperatorFailure, ValueError, ArithmeticError) as failure:
            raise Invalid([{"pointer": "/data/" + escape(target), "message": str(failure)}]) from None
        _put(data, target, value)
    if "parent_case" in (schema.get("properties") or {}):  # data holds the form's fields only
        data["parent_case"] = parent.id
    data, outcome = cases.apply_case_rules(version, customer, None, ctx.actor, data, {}, submit=False)
    errors = list(outcome.errors)  # pointers relative to the new case's data
    verdict = forms.validate(cases.without_required(schema), data)
    errors += [e for e in verdict if not outcome.is_hidden(e.get("field") or e["pointer"])]
    if errors:
        where = _("The new %(process)s case", process=config["process"])
        raise Invalid(
            [
                {"pointer": "/data", "message": f"{where} {e.get('field') or e['pointer']}: {e['message']}"}
                for e in errors
            ]
        )
    child = Case(
        process=version.process,
        version=version,
        customer=customer,
        state="draft",
        data=data,
        search_text=cases.search_text(data),
        created_by_id=parent.created_by_id,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    db.session.add(child)
    db.session.flush()
    audit.record(
        "case.create",
        "case",
        child.id,
        after={**cases.snapshot(child), "parent_case": parent.id},
        actor=ctx.actor,
    )
    engine.start(child, ctx.actor, ctx.now)
    return {"case": child.id, "process": version.process.key, "version": version.number, "state": child.state}


# --- ledger.post ------------------------------------------------------------------------------
#
# NOT REGISTERED. The accounts issue adds the ledger effect here, e.g.
#
#     @effect("ledger.post", schema={"required": ["account", "kind", "amount"], "properties": {...}},
#             logic=("/amount",))
#     def ledger_post(ctx, config):
#         amount = to_money(ctx.value(config["amount"]))
#         entry = ledger.post(account, amount, key=ctx.key, memo=..., actor=ctx.actor)
#         return {"entry": entry.id, "balance_after": entry.balance_after}
#
# `ctx.key` (case:{id}:{state}:{round}:{index}) is the posting's idempotency key; the posting
# joins the transition's transaction, so a failed posting (insufficient balance) rolls the
# whole action back. Until then `check_effect` refuses "ledger.post" with a clear message.


# The other effects register themselves on import.
from formflow.workflows import notify, webhooks  # noqa: E402, F401
