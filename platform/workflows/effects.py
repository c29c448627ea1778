"""Running a state's effects: when a case enters a state, its `on_enter` list, entry by
entry, each looked up in the effect registry (formflow.effects) — the engine names none.

The effects themselves live with their packages: set_field, customer.set_status and
start_case in formflow/cases/effects.py, notify in notify.py, webhook in webhooks.py."""

from __future__ import annotations

import contextvars
from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from formflow import audit
from formflow.effects import EFFECTS, EffectContext, check_effect
from formflow.errors import Invalid
from formflow.forms.pointers import escape
from formflow.processes.form_rules import version_tables

#: How deeply effects may start cases whose effects start cases…: a loop in the specs, not work.
MAX_NESTING = 5

_nesting: contextvars.ContextVar[int] = contextvars.ContextVar("formflow_effect_nesting", default=0)


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
    context = effect_context(case, actor, now)
    ctx = EffectContext(case, actor, state_name, now, index, context, version_tables(case.version))
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
