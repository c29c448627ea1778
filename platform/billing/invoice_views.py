"""Invoices, payments and payment events in the UI: the invoices list (by status as people read
it, overdue included), an invoice with its notice (HTML and PDF), voiding it, its instalment plan
(proposed, approved by a second person, withdrawn), the payments received, and the webhook's
delivery log. Routes on the billing blueprint (the app factory imports this module)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from formflow import tabular
from formflow.auth.decorators import permission_required
from formflow.billing import instalments, invoices, listing, payments, webhooks
from formflow.billing.invoice_notice import notice, pdf_bytes
from formflow.billing.models import Payment, PaymentAllocation
from formflow.billing.views import bp
from formflow.errors import Invalid
from formflow.extensions import db
from formflow.pagination import next_page_url
from formflow.rules.operators import business_today

PAGE = 50
#: empty rows the instalment form offers
PLAN_ROWS = 6


@bp.route("/invoices")
@permission_required("billing.read")
def invoice_list():
    chosen = listing.invoice_filters(request.args)
    rows, before = invoices.page(
        chosen.filters, chosen.today, before=request.args.get("before", type=int), size=PAGE
    )
    return render_template(
        "billing/invoices.html", rows=rows, filters=chosen.filters, today=chosen.today,
        status_on=invoices.status_on, status_label=invoices.status_label, statuses=listing.INVOICE_STATUSES,
        next_url=next_page_url("billing.invoice_list", "before", before),
        exports=tabular.export_urls("billing.invoice_export", listing.INVOICE_ARGS),
    )  # fmt: skip


@bp.route("/invoices/export.<format>")
@permission_required("billing.read")
def invoice_export(format: str):
    """What the invoices list shows for the same filters, as CSV or XLSX (streamed)."""
    return tabular.export_response("invoices", format, request.args, current_user)


@bp.route("/invoices/<number>")
@permission_required("billing.read")
def invoice(number: str):
    found = invoices.by_number(number)
    return _invoice_page(found)


def _invoice_page(found, errors=(), values=None, status: int = 200):
    allocations = db.session.execute(
        sa.select(Payment, sa.func.sum(PaymentAllocation.amount))
        .join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
        .where(PaymentAllocation.invoice_id == found.id)
        .group_by(Payment.id)
        .order_by(Payment.paid_on, Payment.id)
    ).all()
    page = render_template(
        "billing/invoice.html", notice=notice(found, business_today()), allocations=allocations,
        method_label=payments.method_label, errors=list(errors), values=values or {}, plan_rows=PLAN_ROWS,
        pending=instalments.pending(found),
        has_plan=bool(instalments.active(found) or instalments.pending(found)),
        threshold=instalments.approval_threshold(found.customer),
    )  # fmt: skip
    return page, status


@bp.route("/invoices/<number>/notice.pdf")
@permission_required("billing.read")
def invoice_pdf(number: str):
    found = invoices.by_number(number)
    return Response(
        pdf_bytes(notice(found, business_today())),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="notice-{found.number}.pdf"'},
    )


@bp.route("/invoices/<number>/void", methods=["POST"])
@permission_required("billing.manage")
def invoice_void(number: str):
    found = invoices.by_number(number)
    try:
        invoices.void(found, request.form.get("reason", ""), actor=current_user)
    except Invalid as invalid:
        db.session.rollback()
        return _invoice_page(
            invoices.by_number(number), invalid.errors, {"reason": request.form.get("reason", "")}, 422
        )
    db.session.commit()
    flash(_("Invoice %(number)s is void.", number=number), "success")
    return redirect(url_for("billing.invoice", number=number))


@bp.route("/invoices/<number>/instalments", methods=["POST"])
@permission_required("billing.manage")
def instalments_propose(number: str):
    found = invoices.by_number(number)
    parts, values = [], {}
    for index in range(instalments.MAX_PARTS):
        day = request.form.get(f"instalments-{index}-due_date", "").strip()
        amount = request.form.get(f"instalments-{index}-amount", "").strip()
        values[index] = {"due_date": day, "amount": amount}
        if day or amount:
            parts.append((day, amount))
    try:
        created = instalments.propose(found, parts, actor=current_user)
    except Invalid as invalid:
        db.session.rollback()
        return _invoice_page(invoices.by_number(number), invalid.errors, {"instalments": values}, 422)
    db.session.commit()
    if created[0].status == "proposed":
        flash(_("The instalment plan waits for a second person's approval."), "success")
    else:
        flash(_("The instalment plan holds."), "success")
    return redirect(url_for("billing.invoice", number=number))


@bp.route("/invoices/<number>/instalments/approve", methods=["POST"])
@permission_required("billing.manage")
def instalments_approve(number: str):
    instalments.approve(invoices.by_number(number), actor=current_user)
    db.session.commit()
    flash(_("The instalment plan is approved."), "success")
    return redirect(url_for("billing.invoice", number=number))


@bp.route("/invoices/<number>/instalments/withdraw", methods=["POST"])
@permission_required("billing.manage")
def instalments_withdraw(number: str):
    instalments.withdraw(invoices.by_number(number), actor=current_user)
    db.session.commit()
    flash(_("The instalment plan is withdrawn."), "success")
    return redirect(url_for("billing.invoice", number=number))


@bp.route("/payments")
@permission_required("billing.read")
def payment_list():
    filters = listing.payment_filters(request.args)
    rows, cursor = listing.payment_page(filters, before=request.args.get("before", type=int), size=PAGE)
    return render_template(
        "billing/payments.html", rows=rows, method=filters.method, customer=filters.customer,
        method_label=payments.method_label, methods=payments.METHOD_LABELS,
        next_url=next_page_url("billing.payment_list", "before", cursor),
        exports=tabular.export_urls("billing.payment_export", listing.PAYMENT_ARGS),
    )  # fmt: skip


@bp.route("/payments/export.<format>")
@permission_required("billing.read")
def payment_export(format: str):
    """What the payments list shows for the same filters, as CSV or XLSX (streamed)."""
    return tabular.export_response("payments", format, request.args, current_user)


@bp.route("/webhooks")
@permission_required("billing.read")
def webhook_log():
    return render_template("billing/webhooks.html", deliveries=webhooks.deliveries(limit=200))
