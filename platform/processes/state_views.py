"""The page that changes a workflow step (its kind, who acts, approvals, SLA, actions and
effects) and the button that removes one, on the processes blueprint; the logic is in
formflow.processes.state_editor. The diagram shows the step as edited before it is saved."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from formflow.auth.decorators import permission_required
from formflow.auth.permissions import ROLES
from formflow.errors import Invalid
from formflow.processes import diagram, effect_forms, form_fields, services
from formflow.processes import state_editor as editor
from formflow.processes.editor_problems import whole_number
from formflow.processes.editor_saving import save_edit
from formflow.processes.forms import DraftEditorForm
from formflow.processes.rule_inputs import spec_tables
from formflow.processes.state_settings import ActionRow, from_form, settings_of
from formflow.processes.titles import state_title
from formflow.processes.views import bp


@bp.route("/<key>/steps/<state>/edit", methods=["GET", "POST"])
@permission_required("processes.manage")
def edit_step(key: str, state: str):
    latest = services.latest_version(key)
    states = (latest.spec.get("workflow") or {}).get("states") or {}
    if not isinstance(states.get(state), dict):
        flash(_("The workflow has no step %(name)s.", name=state), "error")
        return redirect(url_for("processes.show", key=key, _anchor="workflow"))
    form = DraftEditorForm()
    if request.method == "GET":
        form.base.data = latest.sha256
        return _page(latest, form, state, settings_of(states[state]))
    configs, bad_json = effect_forms.read(request.form)
    settings = from_form(request.form, configs)
    if not form.validate_on_submit():
        return _page(latest, form, state, settings, [{"pointer": "", "message": _("Reload the page.")}], 400)
    command = request.form.get("command", "save")
    if command != "save":
        return _page(latest, form, state, _changed(settings, command), diagram_of=command == "diagram")
    if bad_json:
        at = f"/workflow/states/{state}/"
        return _page(
            latest,
            form,
            state,
            settings,
            [{"pointer": at + p["input"], "message": p["message"]} for p in bad_json],
            422,
        )
    return save_edit(
        key,
        lambda: editor.with_state_changed(latest.spec, state, settings, services.check_spec),
        source="workflow",
        base=form.base.data,
        page=lambda problems, status: _page(latest, form, state, settings, problems, status),
        saved=lambda number: _done(key, _("The step is saved in draft version %(number)d.", number=number)),
    )


@bp.route("/<key>/steps/<state>/remove", methods=["POST"])
@permission_required("processes.manage")
def remove_step(key: str, state: str):
    latest = services.latest_version(key)
    form = DraftEditorForm()
    if not form.validate_on_submit():
        flash(_("Reload the page."), "error")
        return redirect(url_for("processes.edit_step", key=key, state=state))
    settings = settings_of((latest.spec.get("workflow") or {}).get("states", {}).get(state) or {})
    return save_edit(
        key,
        lambda: editor.without_state(
            latest.spec, state, services.check_spec, request.form.get("instead", "")
        ),
        source="workflow",
        base=form.base.data,
        page=lambda problems, status: _page(latest, form, state, settings, problems, status),
        saved=lambda number: _done(key, _("The step is removed in draft version %(number)d.", number=number)),
    )


def _done(key: str, message: str):
    flash(message, "success")
    return redirect(url_for("processes.show", key=key, _anchor="workflow"))


def _changed(settings, command: str):
    """The form after an add/remove button: nothing is saved until Save."""
    verb, _sep, index = command.partition(":")
    if verb == "add_action":
        settings.actions.append(ActionRow())
    elif verb == "remove_action" and whole_number(index) is not None and int(index) < len(settings.actions):
        del settings.actions[int(index)]
    elif verb == "add_effect" and request.form.get("new_effect") in dict(effect_forms.effect_choices()):
        settings.effects.append({"effect": request.form["new_effect"]})
    elif verb == "remove_effect" and whole_number(index) is not None and int(index) < len(settings.effects):
        del settings.effects[int(index)]
    return settings


def _page(latest, form, state: str, settings, problems=(), status: int = 200, diagram_of: bool = False):
    spec = latest.spec
    workflow = spec.get("workflow") or {}
    blocks = [effect_forms.block(config) for config in settings.effects]
    base = f"/workflow/states/{state}/"
    known = _inputs_shown(settings, blocks, start=state == workflow.get("start"))
    at_inputs: dict[str, list[str]] = {}
    rest = []
    for problem in problems:
        pointer = problem.get("pointer") or ""
        if pointer.startswith(base) and pointer[len(base) :] in known:
            at_inputs.setdefault(pointer[len(base) :], []).append(problem["message"])
        else:
            rest.append(problem)  # above the form: nothing is lost for want of an input to put it on
    shown = spec
    if diagram_of:
        try:
            shown = editor.with_state_changed(spec, state, settings, lambda _spec: [])
        except Invalid:
            shown = spec
    page = render_template(
        "processes/step_edit.html",
        version=latest,
        process=latest.process,
        form=form,
        state=state,
        state_title=state_title(spec, state),
        is_start=state == workflow.get("start"),
        settings=settings,
        kinds=editor.KINDS,
        states=[(name, state_title(spec, name)) for name in workflow.get("states") or {}],
        all_roles=ROLES,
        fields=[(item.slug, item.label) for item in form_fields.outline(spec)],
        field_pointers=["/" + item.slug for item in form_fields.outline(spec)],
        tables=_table_columns(spec),
        effects=blocks,
        effect_choices=effect_forms.effect_choices(),
        at_inputs=at_inputs,
        problems=rest,
        diagram=diagram.workflow_svg(shown),
    )
    return page, status


def _table_columns(spec: dict) -> dict[str, list[str]]:
    """Table key -> its column names, for the threshold form's suggestions."""
    found = {}
    for name, table in spec_tables(spec).items():
        columns = table.get("columns") if isinstance(table, dict) else None
        found[name] = [c if isinstance(c, str) else str(c.get("key", "")) for c in columns or []]
    return found


_HEAD_INPUTS = {
    "title_zh", "title_en", "kind", "assignee_role", "assignee_field", "sla_due", "sla_remind",
    "sla_expire", "sla_expire_role", "sla_expire_action", "remove",
}  # fmt: skip
_APPROVAL_INPUTS = {
    "approvals_number", "approvals_more", "approvals_field", "approvals_table", "approvals_column",
    "approvals_logic",
}  # fmt: skip
_ACTION_INPUTS = ("name", "title_zh", "title_en", "to", "roles", "guard", "guard_zh", "guard_en")


def _inputs_shown(settings, blocks, *, start: bool) -> set[str]:
    """The inputs of the page that show a problem beside them (the others go above the form)."""
    shown = set(_HEAD_INPUTS)
    if settings.kind == "approval":
        shown |= _APPROVAL_INPUTS
    if settings.kind == "form" and not start:
        shown.add("fields")
    for index in range(len(settings.actions)):
        shown |= {f"actions-{index}-{name}" for name in _ACTION_INPUTS}
    for index, block in enumerate(blocks):
        shown |= {f"effects-{index}", *(f"effects-{index}-{item.name}" for item in block.inputs)}
    return shown
