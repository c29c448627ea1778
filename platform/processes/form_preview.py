"""The form designer's preview: the form rendered by the same engine staff see it through, in
a chosen language, as a chosen role at a chosen workflow step.

At a form step that names its fields, the others are read-only (as on a case); at a step that
is no form (an approval), every field is read-only; the rules run with the role as the user's
and the step as the case's state, so a field a rule shows or hides for them is shown or hidden.

    preview(spec, language="en", role="staff", state="review")
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from flask_babel import force_locale
from markupsafe import Markup

from formflow import forms
from formflow.forms.texts import in_language, spec_language
from formflow.processes.form_rules import apply_rules
from formflow.processes.rule_inputs import rule_context, spec_tables
from formflow.processes.titles import state_title
from formflow.rules import RuleError
from formflow.rules.operators import business_today

LANGUAGES = ("zh-CN", "en")
_LOCALES = {"zh-CN": "zh_Hans_CN", "en": "en"}


@dataclass(frozen=True)
class PreviewChoice:
    language: str = "zh-CN"
    role: str = ""
    state: str = ""


def choice_from(args, spec: dict, roles: list[str]) -> PreviewChoice:
    """What the designer's preview controls ask for, each one checked against what exists."""
    language = args.get("preview_language") or spec_language()
    role, state = args.get("preview_role") or "", args.get("preview_state") or ""
    return PreviewChoice(
        language if language in LANGUAGES else "zh-CN",
        role if role in roles else "",
        state if state in dict(states(spec)) else "",
    )


def states(spec: dict) -> list[tuple[str, str]]:
    """(name, title) of the workflow's states, the start first."""
    workflow = spec.get("workflow") if isinstance(spec.get("workflow"), dict) else {}
    names = list((workflow.get("states") or {}) if isinstance(workflow.get("states"), dict) else {})
    start = workflow.get("start")
    if start in names:
        names.remove(start)
        names.insert(0, start)
    return [(name, state_title(spec, name)) for name in names]


@dataclass(frozen=True)
class Preview:
    html: Markup
    live: dict | None  # what rules/_live.html embeds so the browser runs the rules as on a case


def preview(spec: dict, choice: PreviewChoice) -> Preview:
    """The form as the role sees it at the step, in the language, with its rules live."""
    form = spec.get("form") if isinstance(spec.get("form"), dict) else {}
    schema = form.get("schema") if isinstance(form.get("schema"), dict) else {}
    layout = form.get("uiSchema") if isinstance(form.get("uiSchema"), dict) else {}
    ui = _at_step(spec, schema, layout, choice.state)
    context = _context(spec, choice)
    tables = spec_tables(spec) if spec.get("rules") else {}
    outcome = _rules(spec, context, tables)
    with force_locale(_LOCALES[choice.language]), in_language(choice.language):
        html = forms.render(schema, ui, None, rules=outcome)
    live = None
    if spec.get("rules"):
        live = {
            "rules": spec["rules"],
            "tables": tables,
            "context": {name: value for name, value in context.items() if name != "data"},
            "today": business_today().isoformat(),
        }
    return Preview(html, live)


def _at_step(spec: dict, schema: dict, ui: dict, state: str) -> dict:
    """The layout as the step shows it: fields it may not change read-only."""
    workflow = spec.get("workflow") if isinstance(spec.get("workflow"), dict) else {}
    states_ = workflow.get("states") if isinstance(workflow.get("states"), dict) else {}
    step = states_.get(state) if isinstance(states_.get(state), dict) else None
    if not state or step is None:
        return ui
    is_form = step.get("kind", "form") == "form" and step.get("kind") != "final"
    named = step.get("fields") if isinstance(step.get("fields"), list) else None
    if is_form and (named is None and state == workflow.get("start")):
        return ui
    editable = set(named or []) if is_form else set()
    shown = copy.deepcopy(ui)
    for name in schema.get("properties") or {}:
        if not any(f == "/" + name or f.startswith("/" + name + "/") for f in editable):
            field_ui = shown.setdefault(name, {})
            if isinstance(field_ui, dict):
                field_ui["ui:readonly"] = True
    return shown


def _context(spec: dict, choice: PreviewChoice) -> dict:
    user = {"username": "preview", "roles": [choice.role] if choice.role else []}
    case = {"id": None, "state": choice.state or "draft", "process": spec.get("key"), "version": None}
    return rule_context({}, case=case, user=user)


def _rules(spec: dict, context: dict, tables: dict):
    if not spec.get("rules"):
        return None
    try:
        _data, outcome = apply_rules(
            spec, {}, context, tables=tables, check_required=False, check_validate=False
        )
    except RuleError:
        return None  # a draft's rule that fails shows the form without the rules' decisions
    return outcome
