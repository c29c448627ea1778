"""Customer pages: the list (search, tier and status, keyset pages, export), a customer's page
(its sections come from other packages, see page_sections), create and edit, status changes,
the blacklist, the tier list, and the import from CSV/XLSX with its preview."""

from __future__ import annotations

import base64
import binascii

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from formflow import tabular
from formflow.auth.decorators import permission_required
from formflow.auth.permissions import can
from formflow.customers import exporting, importing, services, statuses, tiers
from formflow.customers.models import status_labels
from formflow.customers.page_sections import sections
from formflow.errors import Conflict, Invalid
from formflow.extensions import db
from formflow.pagination import next_page_url

bp = Blueprint("customers", __name__, url_prefix="/customers")

#: contact rows the edit form offers beyond those the customer has
SPARE_CONTACTS = 1


def _filters() -> dict:
    return exporting.list_filters(request.args)


@bp.route("/")
@permission_required("customers.read")
def index():
    rows, next_cursor = services.page(
        **_filters(), after_code=request.args.get("after") or None, size=current_app.config["PAGE_SIZE"]
    )
    exports = tabular.export_urls("customers.export", exporting.FILTER_ARGS)
    return render_template(
        "customers/index.html",
        rows=rows,
        next_url=next_page_url("customers.index", "after", next_cursor),
        args=request.args,
        tiers=tiers.all_tiers(),
        status_labels=status_labels(),
        csv_url=exports["csv"],
        xlsx_url=exports["xlsx"],
    )


@bp.route("/export.<format>")
@permission_required("customers.read")
def export(format: str):
    """What the list shows for the same filters, as CSV or XLSX (streamed)."""
    return tabular.export_response("customers", format, request.args, current_user)


@bp.route("/search")
@permission_required("cases.create")
def search():
    """JSON for the customer picker of a new case: [{code, name, tier}], at most 20."""
    found = services.search(request.args.get("q", ""), limit=20)
    return jsonify([{"code": c.code, "name": c.name, "tier": c.tier} for c in found])


# --- one customer ---------------------------------------------------------------------------------


def _show_page(code: str, errors: list[dict] | None = None, status: int = 200):
    customer = services.get_by_code(code)
    page = render_template(
        "customers/show.html",
        customer=customer,
        tier_labels=tiers.tier_labels(),
        history=statuses.history(customer),
        blacklist=statuses.blacklist_entries(customer),
        on_blacklist=statuses.current_entry(customer),
        sections=sections(customer),
        statuses=[(name, label) for name, label in status_labels().items() if name != "blacklisted"],
        may_manage=can(current_user, "customers.manage"),
        may_blacklist=can(current_user, "customers.blacklist"),
        errors=errors or [],
    )
    return page, status


@bp.route("/<code>")
@permission_required("customers.read")
def show(code: str):
    return _show_page(code)


def _contacts_from_form() -> list[dict]:
    contacts = []
    for index in range(20):
        row = {key: request.form.get(f"contacts-{index}-{key}", "") for key in importing.CONTACT_KEYS}
        if f"contacts-{index}-person" not in request.form:
            break
        contacts.append(row)
    return contacts


def _edit_page(customer, values: dict, errors: list[dict], status: int = 200):
    contacts = list(values.get("contacts") or [])
    contacts += [dict.fromkeys(importing.CONTACT_KEYS, "")] * SPARE_CONTACTS
    page = render_template(
        "customers/edit.html",
        customer=customer,
        values=values,
        contacts=contacts,
        tiers=tiers.all_tiers(),
        status_labels=status_labels(),
        errors={error["pointer"]: error["message"] for error in errors},
        error_list=errors,
    )
    return page, status


@bp.route("/new", methods=["GET", "POST"])
@permission_required("customers.manage")
def new():
    if request.method == "GET":
        return _edit_page(None, {"status": "active", "contacts": []}, [])
    values = {key: request.form.get(key, "") for key in ("code", "name", "tier", "status")}
    values["contacts"] = _contacts_from_form()
    try:
        created = services.create(values["code"], values["name"], values["tier"], status=values["status"],
                                  contacts=values["contacts"], actor=current_user)  # fmt: skip
    except Invalid as invalid:
        db.session.rollback()
        return _edit_page(None, values, invalid.errors, 422)
    db.session.commit()
    flash(_("Customer %(code)s created.", code=created.code), "success")
    return redirect(url_for("customers.show", code=created.code))


@bp.route("/<code>/edit", methods=["GET", "POST"])
@permission_required("customers.manage")
def edit(code: str):
    customer = services.get_by_code(code)
    if request.method == "GET":
        return _edit_page(customer, services.full_snapshot(customer), [])
    values = {key: request.form.get(key, "") for key in ("name", "tier")}
    values["contacts"] = _contacts_from_form()
    values["credit_flag"] = request.form.get("credit_flag") == "on"
    try:
        services.update(customer, values, actor=current_user)
    except Invalid as invalid:
        db.session.rollback()
        return _edit_page(services.get_by_code(code), values | {"code": code}, invalid.errors, 422)
    db.session.commit()
    flash(_("Customer %(code)s saved.", code=code), "success")
    return redirect(url_for("customers.show", code=code))


@bp.route("/<code>/status", methods=["POST"])
@permission_required("customers.manage")
def change_status(code: str):
    customer = services.get_by_code(code)
    status, reason = request.form.get("status", ""), request.form.get("reason", "").strip()
    try:
        if status == "blacklisted":
            raise Invalid(
                [{"pointer": "/status", "message": _("Use the blacklist to blacklist a customer.")}]
            )
        if not reason:
            raise Invalid([{"pointer": "/reason", "message": _("Give the reason for the change.")}])
        services.update(customer, {"status": status, "reason": reason}, actor=current_user)
    except Invalid as invalid:
        db.session.rollback()
        return _show_page(code, invalid.errors, 422)
    db.session.commit()
    flash(_("Status changed to %(status)s.", status=customer.status_label), "success")
    return redirect(url_for("customers.show", code=code))


@bp.route("/<code>/blacklist", methods=["POST"])
@permission_required("customers.blacklist")
def blacklist(code: str):
    customer = services.get_by_code(code)
    try:
        if request.form.get("command") == "lift":
            back_to = request.form.get("status", "active")
            statuses.lift_blacklist(
                customer, request.form.get("reason", ""), status=back_to, actor=current_user
            )
            message = _("%(code)s is off the blacklist.", code=code)
        else:
            statuses.add_to_blacklist(customer, request.form.get("reason", ""), actor=current_user)
            message = _("%(code)s is on the blacklist.", code=code)
    except (Invalid, Conflict) as refused:
        db.session.rollback()
        errors = getattr(refused, "errors", None) or [{"pointer": "", "message": refused.message}]
        return _show_page(code, errors, refused.status)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("customers.show", code=code))


# --- the tier list ----------------------------------------------------------------------------------


@bp.route("/tiers", methods=["GET", "POST"])
@permission_required("customers.tiers")
def tier_list():
    errors, status = [], 200
    if request.method == "POST":
        codes = request.form.getlist("code")
        rows = [
            {"code": code, "name_zh": zh, "name_en": en}
            for code, zh, en in zip(
                codes, request.form.getlist("name_zh"), request.form.getlist("name_en"), strict=False
            )
            if code.strip() or zh.strip() or en.strip()
        ]
        try:
            tiers.save(rows, actor=current_user)
        except Invalid as invalid:
            db.session.rollback()
            errors, status = invalid.errors, 422
        else:
            db.session.commit()
            flash(_("Tier list saved."), "success")
            return redirect(url_for("customers.tier_list"))
        shown = rows
    else:
        shown = [{"code": t.code, "name_zh": t.name_zh, "name_en": t.name_en} for t in tiers.all_tiers()]
    return render_template("customers/tiers.html", rows=[*shown, {}], errors=errors), status


# --- import ---------------------------------------------------------------------------------------------


def _upload() -> tuple[bytes, str]:
    """The file of the import form, or of its preview (carried base64 in a hidden field)."""
    if "payload" in request.form:
        try:
            return base64.b64decode(request.form["payload"], validate=True), request.form.get("filename", "")
        except (binascii.Error, ValueError):
            raise Invalid([{"pointer": "/file", "message": _("Nothing to import; start again.")}]) from None
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Invalid([{"pointer": "/file", "message": _("Choose a CSV or XLSX file.")}])
    return upload.read(), upload.filename


@bp.route("/import", methods=["GET", "POST"])
@permission_required("customers.import")
def import_file():
    if request.method == "GET":
        return render_template("customers/import.html", errors=[])
    command = request.form.get("command")
    try:
        content, filename = _upload()
        preview = importing.preview(content, filename) if command not in ("all", "valid") else None
    except Invalid as invalid:
        return render_template("customers/import.html", errors=invalid.errors), 422
    if preview is not None:
        return render_template(
            "customers/import_preview.html",
            preview=preview,
            filename=filename,
            payload=base64.b64encode(content).decode("ascii"),
            status_labels=status_labels(),
        ), (422 if preview.all_problems else 200)
    try:
        done = importing.run(content, filename, only_valid=command == "valid", actor=current_user)
    except Invalid as invalid:
        db.session.rollback()
        return render_template("customers/import.html", errors=invalid.errors), 422
    db.session.commit()
    message = _("Imported %(count)d customers.", count=len(done.created))
    if done.skipped:
        message += " " + _("%(count)d rows with problems were left out.", count=len(done.skipped))
    flash(message, "success")
    return redirect(url_for("customers.index"))
