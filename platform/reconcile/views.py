"""Reconciliation in the UI: the overview (what is unmatched on both sides, with its age), the
bank lines by filter, a line with its match and reason, matching by hand (an invoice, a split,
a customer, a registered payment), explaining, unmatching. The statement import and the bank
accounts are in import_views, the month close in period_views (routes on this blueprint)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from formflow import tabular
from formflow.auth.decorators import permission_required
from formflow.customers.services import get_by_code
from formflow.errors import Conflict, Invalid, NotFound
from formflow.extensions import db
from formflow.reconcile import exporting, importing, listing, matching
from formflow.rules.operators import business_today

bp = Blueprint("reconcile", __name__, url_prefix="/reconcile")
#: rows of the split form
SPLIT_ROWS = 5


@bp.route("/")
@permission_required("reconcile.read")
def index():
    today = business_today()
    return render_template(
        "reconcile/index.html",
        today=today,
        accounts=importing.accounts(),
        lines=listing.unmatched_with_age(today),
        invoices=listing.open_invoices_with_age(today),
        registered=listing.registered_without_line(today),
        months=listing.recent_months(today),
        imports=listing.recent_imports(),
    )


@bp.route("/match", methods=["POST"])
@permission_required("reconcile.manage")
def auto_match():
    account = request.form.get("account", type=int)
    matched = matching.auto_match(actor=current_user, account_id=account)
    db.session.commit()
    flash(ngettext("%(num)d bank line matched.", "%(num)d bank lines matched.", matched), "success")
    return redirect(url_for("reconcile.lines", status="matched"))


@bp.route("/lines")
@permission_required("reconcile.read")
def lines():
    try:
        filters = listing.LineFilter.from_args(request.args)
    except Invalid as invalid:
        flash(invalid.errors[0]["message"], "error")
        filters = listing.LineFilter()
    rows, more = listing.lines_page(filters, before=request.args.get("before", type=int))
    return render_template(
        "reconcile/lines.html",
        rows=rows,
        filters=filters,
        more=more,
        accounts=importing.accounts(),
        reason_text=matching.reason_text,
        status_label=listing.status_label,
        today=business_today(),
        exports=tabular.export_urls("reconcile.line_export", exporting.LINE_ARGS),
    )


@bp.route("/lines/export.<format>")
@permission_required("reconcile.read")
def line_export(format: str):
    return tabular.export_response("bank_lines", format, request.args, current_user)


@bp.route("/lines/<int:line_id>")
@permission_required("reconcile.read")
def line(line_id: int):
    return _line_page(matching.line_by_id(line_id))


def _line_page(found, errors=(), values=None, status: int = 200):
    match = matching.active_match(found)
    page = render_template(
        "reconcile/line.html",
        line=found,
        match=match,
        reason_text=matching.reason_text,
        suggestions=matching.suggestions(found) if found.status == "unmatched" else [],
        payments=listing.payment_candidates(found) if found.status == "unmatched" else [],
        history=listing.matches_of(found),
        errors=list(errors),
        values=values or {},
        split_rows=SPLIT_ROWS,
        status_label=listing.status_label,
        explain_postings=listing.explain_labels(),
    )
    return page, status


def _act(line_id: int, action, values: dict, success: str):
    found = matching.line_by_id(line_id)
    try:
        action(found)
    except Invalid as invalid:
        db.session.rollback()
        return _line_page(matching.line_by_id(line_id), invalid.errors, values, 422)
    except Conflict as conflict:
        db.session.rollback()
        flash(conflict.message, "error")
        return redirect(url_for("reconcile.line", line_id=line_id))
    db.session.commit()
    flash(success, "success")
    return redirect(url_for("reconcile.line", line_id=line_id))


@bp.route("/lines/<int:line_id>/match-invoices", methods=["POST"])
@permission_required("reconcile.manage")
def match_invoices(line_id: int):
    parts, values = [], {"parts": {}}
    for index in range(SPLIT_ROWS):
        number = request.form.get(f"parts-{index}-invoice", "").strip()
        amount = request.form.get(f"parts-{index}-amount", "").strip()
        values["parts"][index] = {"invoice": number, "amount": amount}
        if number or amount:
            parts.append(matching.Part(number, amount))
    write_off = request.form.get("write_off") == "on"
    values["write_off"] = write_off
    return _act(
        line_id,
        lambda found: matching.match_invoices(found, parts, actor=current_user, write_off=write_off),
        values,
        _("The bank line is matched."),
    )


@bp.route("/lines/<int:line_id>/match-customer", methods=["POST"])
@permission_required("reconcile.manage")
def match_customer(line_id: int):
    code = request.form.get("customer", "").strip()

    def act(found):
        try:
            customer = get_by_code(code)
        except NotFound:
            message = (
                _("No customer has the code “%(code)s”.", code=code) if code else _("Give a customer code.")
            )
            raise Invalid([{"pointer": "/customer", "message": message}]) from None
        matching.match_customer(found, customer, actor=current_user)

    return _act(line_id, act, {"customer": code}, _("The bank line is matched."))


@bp.route("/lines/<int:line_id>/link-payment", methods=["POST"])
@permission_required("reconcile.manage")
def link_payment(line_id: int):
    payment_id = request.form.get("payment", type=int)
    return _act(
        line_id,
        lambda found: matching.link_payment(found, listing.payment_by_id(payment_id), actor=current_user),
        {},
        _("The bank line confirms the payment."),
    )


@bp.route("/lines/<int:line_id>/explain", methods=["POST"])
@permission_required("reconcile.manage")
def explain(line_id: int):
    note, post_as = request.form.get("note", ""), request.form.get("post_as", "")
    return _act(
        line_id,
        lambda found: matching.explain(found, note, post_as, actor=current_user),
        {"note": note, "post_as": post_as},
        _("The bank line is explained."),
    )


@bp.route("/lines/<int:line_id>/unmatch", methods=["POST"])
@permission_required("reconcile.manage")
def unmatch(line_id: int):
    return _act(
        line_id,
        lambda found: matching.unmatch(found, actor=current_user),
        {},
        _("The match is taken back; what it posted is reversed."),
    )
