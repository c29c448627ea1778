"""A customer's money in the UI: its balances, an account's entries newest first, low-balance
notices, and the monthly statement as a page, an XLSX workbook or a PDF."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, render_template, request
from flask_login import current_user

from formflow import tabular
from formflow.auth.decorators import permission_required
from formflow.customers import services as customers
from formflow.extensions import db
from formflow.ledger import balances, statement_pdf, statement_run, statements
from formflow.ledger.models import CUSTOMER_ACCOUNTS, LowBalanceAlert
from formflow.ledger.services import account_label
from formflow.pagination import next_page_url

bp = Blueprint("ledger", __name__, url_prefix="/customers")

#: ?format= of the statement: how the file is made and its media type
DOWNLOADS = {
    "xlsx": (statements.xlsx_bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pdf": (statement_pdf.pdf_bytes, "application/pdf"),
}


@bp.route("/<code>/account")
@permission_required("customers.read")
def account(code: str):
    customer = customers.get_by_code(code)
    kind = request.args.get("account", "prepaid")
    page = balances.entries(customer, kind, before=request.args.get("before", type=int))
    alerts = db.session.execute(
        sa.select(LowBalanceAlert)
        .where(LowBalanceAlert.customer_id == customer.id)
        .order_by(LowBalanceAlert.id.desc())
        .limit(5)
    ).scalars()
    return render_template(
        "ledger/account.html", customer=customer, kind=kind, kinds=list(CUSTOMER_ACCOUNTS),
        balances=balances.balances(customer), page=page, alerts=list(alerts), account_label=account_label,
        kind_labels=statements.kind_labels(), period=statements.current_period(),
        next_url=next_page_url("ledger.account", "before", page.next_before),
        exports=tabular.export_urls("ledger.account_export", ("account",), code=customer.code),
    )  # fmt: skip


@bp.route("/<code>/account/export.<format>")
@permission_required("customers.read")
def account_export(code: str, format: str):
    """Every entry of the account the page shows (newest first), as CSV or XLSX (streamed)."""
    args = {"account": request.args.get("account", "prepaid"), "customer": code}
    return tabular.export_response("entries", format, args, current_user)


@bp.route("/<code>/statement")
@permission_required("customers.read")
def statement(code: str):
    customer = customers.get_by_code(code)
    found = statements.statement(
        customer,
        request.args.get("account", "prepaid"),
        request.args.get("period") or statements.current_period(),
    )
    wanted = request.args.get("format")
    if wanted in DOWNLOADS:
        make, mimetype = DOWNLOADS[wanted]
        name = f"statement-{customer.code}-{found.account}-{found.period}.{wanted}"
        return Response(
            make(found), mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'}
        )
    return render_template(
        "ledger/statement.html", statement=found, kinds=list(CUSTOMER_ACCOUNTS), account_label=account_label,
        issued=statement_run.issued_for(customer),
    )  # fmt: skip
