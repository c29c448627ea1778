"""The effect registry: what may happen when a case enters a state (the state's `on_enter`
list), one entry per effect, registered by the package that owns it.

Like the rule operators, each effect declares the JSON Schema of its configuration, which
`check_effect` applies when a spec is saved, so a wrong config fails at publish time with a
pointer rather than at 2 a.m. Values in a config may be JSONLogic, evaluated over the case's
rule context (`{data, customer, account, case, user, now}`).

This module names no effect and imports no package that has one: a feature package registers
with `from formflow.effects import effect` and needs nothing of the workflow engine, and the
engine (formflow.workflows.effects runs the list) looks entries up here. The app factory
imports the packages that register (formflow.app), so the registry is full whenever an app
exists. Today: `set_field`, `customer.set_status`, `start_case` (cases/effects.py),
`notify` (workflows/notify.py), `webhook` (workflows/webhooks.py), `ledger.post`
(ledger/effects.py), `billing.subscribe` (billing/effects.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from formflow import forms, rules
from formflow.forms.pointers import escape, resolve, split

#: A JSON Pointer to a field of the form (no `*` rows: an effect writes one value).
POINTER_SCHEMA = {"type": "string", "pattern": "^(/([^/~*]|~[01])+)+$", "maxLength": 500}
#: Any JSON value: a literal, or JSONLogic evaluated over the rule context.
LOGIC_SCHEMA: dict = {}


@dataclass
class EffectContext:
    """What an effect sees: the case entering `state`, who made it move, the effect's
    position in the state's `on_enter` list, the rule context for JSONLogic values and the
    tables those rules may look up (the version's, global ones as pinned)."""

    case: Any
    actor: Any
    state: str
    now: datetime
    index: int
    context: dict = field(default_factory=dict)
    tables: dict = field(default_factory=dict)

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
        return rules.compile(expression).evaluate(rules.prepare(self.context, self.tables))


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


def check_effect(
    config: Any,
    spec: dict | None = None,
    *,
    known_vars: list[str] | None = None,
    tables: dict[str, list[str]] | None = None,
) -> list[dict]:
    """Problems in one `on_enter` entry, pointers relative to the entry ([] when fine):
    unknown effect → `/effect`; against the effect's schema → into the config; JSONLogic
    values through `rules.check`, with the variables (`known_vars`) and table columns
    (`tables`: name → column names) the spec offers when the caller gives them. With the
    whole `spec`, also what the effect refers to (fields, notice templates)."""
    if not isinstance(config, dict):
        return [{"pointer": "", "message": _("An effect is an object naming its “effect”.")}]
    name = config.get("effect")
    entry = EFFECTS.get(name) if isinstance(name, str) else None
    if entry is None:
        message = _(
            "Unknown effect “%(name)s”; the effects are: %(known)s.",
            name=name if isinstance(name, str) else "",
            known=", ".join(sorted(EFFECTS)),
        )
        return [{"pointer": "/effect", "message": message}]
    problems = [_at_field(problem) for problem in forms.validate(entry.schema, config)]
    if problems:
        return problems
    for pointer in _logic_pointers(config, entry.logic):
        expression = resolve(config, pointer)
        if isinstance(expression, dict | list):
            problems += [
                {"pointer": pointer + problem["pointer"], "message": problem["message"]}
                for problem in rules.check(expression, known_vars=known_vars, tables=tables)
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
