"""The customer's self-service pages under /s/<token>: no login, the customer the link names
only. Every request is counted (per client address, then per link) before anything is read;
a token that opens nothing gets one plain page saying so in general words, nothing of the
customer and no way into the staff app. The forms keep their CSRF token."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, Response, make_response, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from formflow.billing import invoices as billing_invoices
from formflow.errors import DomainError, Invalid
from formflow.extensions import db
from formflow.ledger import balances, statement_pdf, statements
from formflow.ledger.models import CUSTOMER_ACCOUNTS
from formflow.ledger.services import account_label
from formflow.rules.operators import business_today
from formflow.selfservice import links, objections, reading, throttle
from formflow.selfservice.links import LinkProblem
from formflow.selfservice.throttle import TooManyRequests

bp = Blueprint("selfservice", __name__, url_prefix="/s")

DOWNLOADS = {
    "xlsx": (statements.xlsx_bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pdf": (statement_pdf.pdf_bytes, "application/pdf"),
}


def _problem(kind: str, status: int, headers: dict | None = None):
    response = make_response(render_template("selfservice/problem.html", kind=kind), status)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def with_link(view):
    """Count the request, open the link (or say why not), then show the page."""

    @wraps(view)
    def wrapped(token: str, **kwargs):
        try:
            throttle.count_address(request.remote_addr)
            link = links.resolve(token)
            throttle.count_link(link.id)
        except TooManyRequests as refused:
            db.session.commit()  # the count stands
            return _problem("busy", 429, {"Retry-After": str(refused.retry_after)})
        except LinkProblem as problem:
            db.session.commit()
            return _problem(problem.kind, problem.status)
        links.opened(link)
        db.session.commit()
        return view(link, token, **kwargs)

    return wrapped


@bp.after_request
def private(response):
    response.headers["Cache-Control"] = "no-store"  # a customer's money in no shared cache
    response.headers["Referrer-Policy"] = "no-referrer"  # the token in no other site's logs
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.errorhandler(CSRFError)
def csrf_error(_error):
    db.session.rollback()
    return _problem("form_expired", 400)


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    db.session.rollback()
    return _problem("invalid" if error.code == 404 else "unusable", error.code or 400)


@bp.errorhandler(DomainError)
def domain_error(error: DomainError):
    db.session.rollback()
    return _problem("invalid" if error.status == 404 else "unusable", error.status)


def by_pointer(errors: list[dict]) -> dict[str, list[str]]:
    """{field name: its messages}; messages for no field under ""."""
    found: dict[str, list[str]] = {}
    for error in errors:
        found.setdefault(error.get("pointer", "").lstrip("/").split("/")[0], []).append(error["message"])
    return found


def _common(link, token: str) -> dict:
    return {"link": link, "customer": link.customer, "token": token, "account_label": account_label}


@bp.route("/<token>")
@with_link
def home(link, token: str):
    customer = link.customer
    filed = reading.filed_case(customer, request.args.get("filed", type=int))
    return render_template(
        "selfservice/home.html", **_common(link, token), balances=balances.balances(customer),
        kinds=list(CUSTOMER_ACCOUNTS), months=reading.statement_months(customer),
        deductions=reading.deductions(customer), notices=reading.notices(customer),
        invoices=reading.invoices(customer), reminders=reading.reminders(customer), today=business_today(),
        invoice_status=billing_invoices.status_on, instalment_status=billing_invoices.instalment_status_on,
        status_label=billing_invoices.status_label, kind_labels=statements.kind_labels(), filed=filed,
    )  # fmt: skip


@bp.route("/<token>/entries")
@with_link
def entries(link, token: str):
    kind = request.args.get("account", "prepaid")
    if kind not in CUSTOMER_ACCOUNTS:
        kind = "prepaid"
    page = balances.entries(link.customer, kind, before=request.args.get("before", type=int), limit=25)
    return render_template(
        "selfservice/entries.html", **_common(link, token), kind=kind, kinds=list(CUSTOMER_ACCOUNTS),
        page=page, kind_labels=statements.kind_labels(),
        next_url=url_for("selfservice.entries", token=token, account=kind, before=page.next_before)
        if page.next_before
        else None,
        disputable={d.case_id for d in reading.deductions(link.customer) if d.disputable},
    )  # fmt: skip


@bp.route("/<token>/statement")
@with_link
def statement(link, token: str):
    customer = link.customer
    account = request.args.get("account", "prepaid")
    period = request.args.get("period") or statements.current_period()
    try:
        found = statements.statement(customer, account, period)
    except Invalid as invalid:
        db.session.rollback()
        found = statements.statement(customer, "prepaid", statements.current_period())
        return render_template(
            "selfservice/statement.html", **_common(link, token), statement=found,
            kinds=list(CUSTOMER_ACCOUNTS), months=reading.statement_months(customer), errors=invalid.errors,
        ), 422  # fmt: skip
    wanted = request.args.get("format")
    if wanted in DOWNLOADS:
        make, mimetype = DOWNLOADS[wanted]
        name = f"statement-{found.account}-{found.period}.{wanted}"
        return Response(
            make(found), mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'}
        )
    return render_template(
        "selfservice/statement.html", **_common(link, token), statement=found, kinds=list(CUSTOMER_ACCOUNTS),
        months=reading.statement_months(customer), errors=[],
    )  # fmt: skip


def _objection_page(template: str, link, token: str, *, start, field: str, extra: dict):
    """The dispute or appeal form: shown, or submitted (a case started; the customer told its
    number), or refused with the messages at their fields and nothing written."""
    errors, text = [], ""
    chosen = (request.form if request.method == "POST" else request.args).get(field, "")
    if request.method == "POST":
        text = request.form.get("customer_statement", "")
        try:
            case = start(link, chosen, text)
            db.session.commit()
        except Invalid as invalid:
            db.session.rollback()
            errors = invalid.errors
        else:
            target = url_for("selfservice.home", token=token, filed=case.id, _anchor="filed")
            return redirect(target, code=303)
    return render_template(
        template, **_common(link, token), **extra, chosen=str(chosen), text=text, errors=errors,
        field_errors=by_pointer(errors), max_length=objections.MAX_STATEMENT,
    ), (422 if errors else 200)  # fmt: skip


@bp.route("/<token>/dispute", methods=["GET", "POST"])
@with_link
def dispute(link, token: str):
    return _objection_page(
        "selfservice/dispute.html", link, token, start=objections.dispute, field="deduction_case",
        extra={"deductions": reading.deductions(link.customer)},
    )  # fmt: skip


@bp.route("/<token>/appeal", methods=["GET", "POST"])
@with_link
def appeal(link, token: str):
    notices = [n for n in reading.notices(link.customer) if n.objection == "appeal"]
    return _objection_page(
        "selfservice/appeal.html",
        link,
        token,
        start=objections.appeal,
        field="notice",
        extra={"notices": notices},
    )
