"""Cases: start one (pick process and customer, fill the form), drafts, submit, list, page."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _

from formflow import forms, tabular
from formflow.auth.current import acting_user
from formflow.auth.decorators import permission_required
from formflow.auth.permissions import require
from formflow.cases import services, uploads
from formflow.cases.listing import LIST_ARGS, filters_from
from formflow.customers import services as customers
from formflow.errors import Invalid
from formflow.extensions import db
from formflow.i18n import select_locale
from formflow.pagination import next_page_url
from formflow.processes import services as processes
from formflow.workflows.races import lost_race_is_conflict

bp = Blueprint("cases", __name__, url_prefix="/cases")

#: The name of the form's "Save draft" / "Submit" buttons (field inputs are named by
#: JSON Pointer, so they all start with "/" and cannot collide with it).
ACTION = "case_action"


def _filters() -> services.CaseFilter:
    return filters_from(request.args, acting_user())


@bp.route("/")
@permission_required("cases.read")
def index():
    size, filters = current_app.config["PAGE_SIZE"], _filters()
    rows, next_cursor = services.page(filters, after=request.args.get("after") or None, size=size)
    exports = tabular.export_urls("cases.export", LIST_ARGS)
    return render_template(
        "cases/index.html",
        rows=rows,
        next_url=next_page_url("cases.index", "after", next_cursor),
        args=request.args,
        processes=services.process_choices(),
        state_choices=services.state_choices(select_locale(), filters.process),
        state_title=services.state_title,
        totals=services.totals(filters),
        csv_url=exports["csv"],
        xlsx_url=exports["xlsx"],
        locale=select_locale(),
    )


@bp.route("/export.<format>")
@permission_required("cases.read")
def export(format: str):
    """What the list shows for the same filters and viewer, as CSV or XLSX (streamed)."""
    return tabular.export_response("cases", format, request.args, acting_user())


def _choose_page(errors=None, status=200):
    published = [process for process, _version in processes.published_processes()]
    page = render_template(
        "cases/choose.html",
        processes=published,
        args=request.args,
        errors=errors or [],
        locale=select_locale(),
    )
    return page, status


def _unchosen() -> tuple[list[dict], int]:
    """The choose page's problems when its form came back with a choice missing (a link
    that names only the process just shows the page)."""
    if "customer" not in request.args:
        return [], 200
    errors = []
    if not request.args.get("process", "").strip():
        errors.append({"pointer": "/process", "message": _("Choose a process.")})
    if not request.args.get("customer", "").strip():
        errors.append({"pointer": "/customer", "message": _("Enter a customer code or name.")})
    return errors, 422


def _choose_customer(process_key: str, text: str):
    """The customer typed on the choose page (a code in any case, or an exact name): a
    redirect to the same step with its code, the choose page with the problem (422), or
    None when `text` is the code already."""
    try:
        customer = customers.choose(text)
    except Invalid as invalid:
        return _choose_page(invalid.errors, 422)
    if customer.code != text:
        return redirect(url_for("cases.new", process=process_key, customer=customer.code))
    return None


def form_page(version, customer, case=None, data=None, errors=None, status=200, selections=None):
    """The case's form (a new case's when `case` is None), with `errors` next to their fields."""
    schema, ui_schema = services.step_form(version, case)
    errors = errors or []
    in_data = [_relative_to_data(e) for e in errors if _in_data(e)]
    outcome, live_rules = services.rules_preview(version, customer, case, acting_user(), data)
    page = render_template(
        "cases/form.html",
        version=version,
        customer=customer,
        case=case,
        live_rules=live_rules,
        fields=forms.render(schema, ui_schema, data, in_data, selections=selections, rules=outcome),
        general_errors=[e["message"] for e in errors if not _in_data(e)],
        submit_title=services.submit_title(version, case),
        at_start=case is None or services.at_start(case),
        returned=services.return_note(case) if case is not None else None,
        locale=select_locale(),
    )
    return page, status


def _in_data(error: dict) -> bool:
    return (error.get("field") or error["pointer"]).startswith("/data/")


def _relative_to_data(error: dict) -> dict:
    """A service error (`/data/amount`) as the forms engine points (`/amount`)."""
    moved = {**error, "pointer": error["pointer"].removeprefix("/data")}
    if "field" in error:
        moved["field"] = error["field"].removeprefix("/data")
    return moved


def _read_form(version, stored: dict, case=None) -> forms.Parsed:
    """The posted form as data; read-only fields (and those the case's step may not change)
    keep their `stored` (or default) value."""
    schema, ui_schema = services.step_form(version, case)
    parsed = forms.parse(
        schema, ui_schema, request.form, request.files, store_upload=uploads.store_upload, previous=stored
    )
    # Uploads are committed on their own, before the case is checked: an invalid case
    # rolls the request back, yet the form shown again refers to the files it already
    # received (by token, in a hidden input) and must not ask for them a second time.
    db.session.commit()
    return parsed


@bp.route("/new", methods=["GET", "POST"])
@permission_required("cases.create")
def new():
    process_key, customer_code = request.args.get("process", ""), request.args.get("customer", "")
    if not (process_key and customer_code):
        return _choose_page(*_unchosen())
    if request.method == "GET" and (chosen := _choose_customer(process_key, customer_code)) is not None:
        return chosen
    try:
        version, customer = services.resolve(process_key, customer_code)
    except Invalid as invalid:
        return _choose_page(invalid.errors, 422)
    if request.method == "GET":
        return form_page(version, customer)
    parsed = _read_form(version, {})
    if parsed.command is not None:
        return form_page(version, customer, data=parsed.data, selections=parsed.selections)
    try:
        case = services.start(
            process_key,
            customer_code,
            parsed.data,
            submit=_submitting(),
            actor=acting_user(),
            input_errors=parsed.errors,
        )
    except Invalid as invalid:
        db.session.rollback()
        return form_page(
            version,
            customer,
            data=parsed.data,
            errors=invalid.errors,
            status=422,
            selections=parsed.selections,
        )
    return _saved(case)


@bp.route("/<int:case_id>/edit", methods=["GET", "POST"])
@permission_required("cases.read")
def edit(case_id: int):
    case = services.get(case_id)
    services.ensure_editable(case, acting_user())
    if request.method == "GET":
        return form_page(case.version, case.customer, case, case.data)
    parsed = _read_form(case.version, case.data, case)
    if parsed.command is not None:
        return form_page(case.version, case.customer, case, parsed.data, selections=parsed.selections)
    lock_version = request.form.get("lock_version", type=int)
    try:
        with lost_race_is_conflict():
            services.save(
                case,
                parsed.data,
                submit=_submitting(),
                actor=acting_user(),
                input_errors=parsed.errors,
                lock_version=lock_version,
            )
    except Invalid as invalid:
        db.session.rollback()
        return form_page(
            case.version, case.customer, case, parsed.data, invalid.errors, 422, selections=parsed.selections
        )
    return _saved(case)


def _submitting() -> bool:
    return request.form.get(ACTION) == "submit"


def _saved(case):
    with lost_race_is_conflict():
        db.session.commit()
    if _submitting():
        flash(_("Case submitted."), "success")
    else:
        flash(_("Draft saved.") if services.at_start(case) else _("Changes saved."), "success")
    return redirect(url_for("cases.show", case_id=case.id))


@bp.route("/<int:case_id>")
@permission_required("cases.read")
def show(case_id: int):
    case = services.get(case_id)
    return show_page(case)


def show_page(case, status: int = 200, **extra):
    """The case page; the workflow's action forms pass a refusal to show (`action_error`,
    `failed_action`, `comment`) with its status."""
    from formflow.workflows import engine
    from formflow.workflows.casepage import decision

    require(acting_user(), "cases.read", case)
    page = render_template(
        "cases/show.html",
        case=case,
        rows=services.display_rows(case),
        attachments={a.token: a for a in case.attachments},
        submitted_by=services.submitter(case),
        workflow=decision(case, acting_user()),
        editable=engine.may_edit(case, acting_user()),
        at_start=services.at_start(case),
        locale=select_locale(),
        **extra,
    )
    return page, status


@bp.route("/attachments/<token>")
@permission_required("cases.read")
def attachment(token: str):
    found = uploads.for_download(token, acting_user())
    response = send_file(
        uploads.blob_path(found.sha256),
        mimetype=uploads.served_type(found.content_type),
        as_attachment=True,
        download_name=found.filename,
        etag=found.sha256,
        conditional=True,
    )
    # Never rendered by the browser, whatever the bytes say.
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.cache_control.private = True
    response.cache_control.no_cache = True
    return response
