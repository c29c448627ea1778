"""The try-it and what-if pages, on the processes blueprint (formflow/processes/views.py)."""

from __future__ import annotations

from flask import render_template, request

from formflow.auth.decorators import permission_required
from formflow.errors import Invalid
from formflow.processes import services
from formflow.processes.forms import PublishForm, TryForm
from formflow.processes.views import bp
from formflow.trials import comparing, trying
from formflow.trials import whatif as what_if


@bp.route("/<key>/versions/<int:number>/try", methods=["GET", "POST"])
@permission_required("processes.read")
def try_rules(key: str, number: int):
    """Read-only: run the version's rules over a context; nothing is stored."""
    found = services.version(key, number)
    form = TryForm()
    result, errors = None, []
    if form.validate_on_submit():
        try:
            context = trying.chosen_context(
                found, form.context.data, form.case.data, bool(form.use_case.data)
            )
            result = trying.try_rules(found, context)
        except Invalid as invalid:
            errors = invalid.errors
        else:
            form.context.data = trying.context_text(context)
    elif not form.is_submitted():
        form.context.data = trying.context_text(trying.sample_context())
    page = render_template(
        "processes/try.html", version=found, form=form, cases=trying.recent_cases(found), result=result,
        errors=errors, shown=trying.shown,
    )  # fmt: skip
    return page, 422 if errors or form.errors else 200


@bp.route("/<key>/whatif")
@permission_required("processes.read")
def whatif(key: str):
    """The draft's (or ?version=N's) rules over the last cases, against the published version."""
    candidate = what_if.candidate(key, request.args.get("version", type=int))
    last = request.args.get("last", default=what_if.DEFAULT_LAST, type=int)
    result = what_if.replay_version(key, candidate.number, last=last) if candidate else None
    return render_template(
        "processes/whatif.html",
        process=services.get_process(key),
        candidate=candidate,
        result=result,
        publish_form=PublishForm(formdata=None),
        value_text=what_if.value_text,
    )


@bp.route("/<key>/compare")
@permission_required("processes.read")
def compare(key: str):
    """Two versions (?from=N&to=M; default the published one against the latest): the semantic
    diff, the running cases that stay where they are, the newer version's tests."""
    chosen = comparing.compare(key, request.args.get("from", type=int), request.args.get("to", type=int))
    return render_template(
        "processes/compare.html",
        process=services.get_process(key),
        versions=services.history(key),
        comparison=chosen,
        publish_form=PublishForm(formdata=None),
    )
