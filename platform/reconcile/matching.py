"""Matching bank lines (money received) to what they pay, each match with its reason.

Automatic, in this order, for every unmatched incoming line:
1. an invoice number in the memo (INV-2026-000042): that open invoice;
2. the reference of a registered payment not yet confirmed by the bank, with its amount: that
   payment (already posted: the match confirms it, posting nothing);
3. a customer code in the memo: that customer's one open invoice of exactly the amount, else
   their open invoices oldest first (the rest to prepaid);
4. the amount and date: the one open invoice of exactly the amount issued before the line and
   due at most INVOICE_WINDOW days before it, else the one registered payment of the amount
   received within PAYMENT_WINDOW days. Two candidates: no match (a person chooses).

A match registers the line as a payment through billing.payments (key `bank-line:{id}:{n}`,
n counting earlier matches of the line taken back): matching twice posts once. A shortfall on
an invoice up to the customer's tier's write-off limit (global table `reconcile_write_off`,
column `write_off_up_to`) is written off as its own journal. Unmatching reverses what the match
posted. By hand: a line split over several invoices by amount (the parts add up to the line),
several lines to one invoice (one match each), a line to a registered payment or a customer."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from formflow import audit
from formflow.billing import payments
from formflow.billing.models import Invoice, Payment
from formflow.customers.models import Customer
from formflow.errors import Conflict, Invalid, NotFound
from formflow.extensions import db, utcnow
from formflow.ledger import periods
from formflow.ledger.models import Journal
from formflow.ledger.services import Line, customer_account, post, reverse, system_account
from formflow.money import CENT
from formflow.reconcile.models import BankLine, BankMatch
from formflow.tables.lookups import tier_value

ZERO = Decimal("0.00")
WRITE_OFF_TABLE = "reconcile_write_off"
WRITE_OFF_COLUMN = "write_off_up_to"
INVOICE_WINDOW = 60
PAYMENT_WINDOW = 5
OPEN = ("issued", "partially_paid")
_INVOICE_NUMBER = re.compile(r"INV-\d{4}-\d{6}", re.IGNORECASE)
_TOKEN = re.compile(r"[0-9A-Za-z][0-9A-Za-z_\-]*")
#: a bank transfer registered before (by a case, by hand), not reversed, that no bank line
#: confirms yet (those a bank line posted itself are keyed `bank-line:…`)
UNCONFIRMED = (
    Payment.method == "bank_transfer",
    Payment.reversal_journal_id.is_(None),
    ~Payment.key.startswith("bank-line:"),
    Payment.id.not_in(sa.select(BankMatch.payment_id).where(BankMatch.undone_at.is_(None))),
)


@dataclass(frozen=True)
class Part:
    invoice: str
    amount: Any


def reason_text(reason: dict) -> str:
    """A match's reason in the reader's language."""
    code, value = reason.get("code"), reason.get("value", "")
    texts = {
        "invoice_reference": lambda: _("reference %(v)s in memo", v=value),
        "payment_reference": lambda: _("payment reference %(v)s in memo", v=value),
        "customer_code": lambda: _("customer code %(v)s in memo", v=value),
        "invoice_amount": lambda: _(
            "amount %(a)s equals what invoice %(v)s has left to pay, and the date fits it",
            a=reason.get("amount"),
            v=value,
        ),
        "payment_amount": lambda: _(
            "amount %(a)s and date match payment %(v)s registered earlier", a=reason.get("amount"), v=value
        ),
        "manual": lambda: _("matched by hand"),
    }
    return texts[code]() if code in texts else str(code)


def write_off_limit(customer: Customer) -> Decimal:
    """The most written off on one invoice for this customer's tier (0.00: none)."""
    value = tier_value(WRITE_OFF_TABLE, WRITE_OFF_COLUMN, customer.tier)
    if value is None or isinstance(value, bool):
        return ZERO
    return Decimal(str(value)).quantize(CENT)


# --- automatic matching -----------------------------------------------------------------------------


@dataclass(eq=False)
class _Open:
    id: int
    number: str
    customer_id: int
    outstanding: Decimal
    issue_date: date
    due_date: date
    #: what it had left when read: its bucket in Matcher.by_amount
    read_outstanding: Decimal = ZERO


@dataclass(eq=False)
class _Registered:
    id: int
    customer_id: int
    amount: Decimal
    reference: str
    paid_on: date


@dataclass
class Matcher:
    """What automatic matching looks at, read once (open invoices, customers' codes, registered
    payments not yet confirmed) and kept current as it matches: every line costs lookups in
    dictionaries, never a scan, so 10,000 lines against 10,000 invoices take linear time."""

    invoices: dict[str, _Open] = field(default_factory=dict)
    by_amount: dict[Decimal, list[_Open]] = field(default_factory=lambda: defaultdict(list))
    by_customer: dict[int, list[_Open]] = field(default_factory=lambda: defaultdict(list))
    customers: dict[str, int] = field(default_factory=dict)
    registered: dict[str, list[_Registered]] = field(default_factory=lambda: defaultdict(list))
    registered_by_amount: dict[Decimal, list[_Registered]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def load(cls) -> Matcher:
        matcher = cls()
        for row in db.session.execute(
            sa.select(
                Invoice.id,
                Invoice.number,
                Invoice.customer_id,
                Invoice.total,
                Invoice.paid,
                Invoice.issue_date,
                Invoice.due_date,
            )
            .where(Invoice.status.in_(OPEN))
            .order_by(Invoice.due_date, Invoice.id)
        ):
            left = row.total - row.paid
            item = _Open(row.id, row.number, row.customer_id, left, row.issue_date, row.due_date, left)
            matcher.invoices[item.number.upper()] = item
            matcher.by_amount[item.outstanding].append(item)
            matcher.by_customer[item.customer_id].append(item)
        for code, customer_id in db.session.execute(sa.select(Customer.code, Customer.id)):
            matcher.customers[code.upper()] = customer_id
        for row in db.session.execute(
            sa.select(
                Payment.id, Payment.customer_id, Payment.amount, Payment.reference, Payment.paid_on
            ).where(*UNCONFIRMED)
        ):
            item = _Registered(row.id, row.customer_id, row.amount, row.reference or "", row.paid_on)
            if len(item.reference) >= 4:
                matcher.registered[item.reference.upper()].append(item)
            matcher.registered_by_amount[item.amount].append(item)
        return matcher

    def run(
        self, lines: Iterable[BankLine], *, actor=None, progress: Callable[[int], None] | None = None
    ) -> int:
        """Match what can be matched among `lines`; how many were. A line whose match is refused
        (its period closed…) stays unmatched."""
        matched = 0
        for line in lines:
            if line.status == "unmatched" and line.amount > 0:
                found = self._find(line)
                if found is not None and self._apply(line, *found, actor=actor):
                    matched += 1
            if progress is not None:
                progress(1)
        return matched

    def _find(self, line: BankLine) -> tuple[str, Any, dict] | None:
        text = f"{line.memo} {line.serial}".upper()
        for number in _INVOICE_NUMBER.findall(text):
            invoice = self.invoices.get(number.upper())
            if invoice is not None and invoice.outstanding > 0:
                return "invoice", invoice, {"code": "invoice_reference", "value": invoice.number}
        tokens = _TOKEN.findall(text)
        for token in tokens:
            for payment in self.registered.get(token, ()):
                if payment.amount == line.amount:
                    return "payment", payment, {"code": "payment_reference", "value": payment.reference}
        for token in tokens:
            customer_id = self.customers.get(token)
            if customer_id is not None:
                exact = [i for i in self.by_customer.get(customer_id, ()) if i.outstanding == line.amount]
                reason = {"code": "customer_code", "value": token}
                return ("invoice", exact[0], reason) if exact else ("customer", customer_id, reason)
        day = line.booked_on
        fits = [
            invoice
            for invoice in self.by_amount.get(line.amount, ())
            if invoice.outstanding == line.amount
            and invoice.issue_date <= day
            and day <= invoice.due_date + timedelta(days=INVOICE_WINDOW)
        ]
        if len(fits) == 1:
            reason = {"code": "invoice_amount", "value": fits[0].number, "amount": f"{line.amount:,.2f}"}
            return "invoice", fits[0], reason
        near = [
            payment
            for payment in self.registered_by_amount.get(line.amount, ())
            if abs((payment.paid_on - day).days) <= PAYMENT_WINDOW
        ]
        if len(fits) == 0 and len(near) == 1:
            reason = {"code": "payment_amount", "value": str(near[0].id), "amount": f"{line.amount:,.2f}"}
            return "payment", near[0], reason
        return None

    def _apply(self, line: BankLine, kind: str, target: Any, reason: dict, *, actor) -> bool:
        try:
            with db.session.begin_nested():
                if kind == "invoice":
                    customer = _customer(target.customer_id)
                    part = min(line.amount, target.outstanding)
                    short = part < target.outstanding  # else nothing is left to write off
                    parts = [Part(target.number, part)]
                    written = _match(line, customer, parts, reason, actor=actor, write_off=short)
                    target.outstanding -= part + written.write_off
                    if target.outstanding <= 0:
                        self._forget(target)
                elif kind == "payment":
                    link_payment(line, db.session.get(Payment, target.id), reason=reason, actor=actor)
                    self._forget_payment(target)
                else:
                    match_customer(line, _customer(target), reason=reason, actor=actor)
                    for invoice in self.by_customer.get(target, ()):
                        db_invoice = db.session.get(Invoice, invoice.id)
                        invoice.outstanding = db_invoice.outstanding
                        if invoice.outstanding <= 0:
                            self._forget(invoice)
        except (Invalid, Conflict):
            return False
        return True

    def _forget(self, invoice: _Open) -> None:
        self.invoices.pop(invoice.number.upper(), None)
        for bucket in (self.by_amount[invoice.read_outstanding], self.by_customer[invoice.customer_id]):
            if invoice in bucket:
                bucket.remove(invoice)

    def _forget_payment(self, payment: _Registered) -> None:
        for bucket in (self.registered[payment.reference.upper()], self.registered_by_amount[payment.amount]):
            if payment in bucket:
                bucket.remove(payment)


def _customer(customer_id: int) -> Customer:
    """A customer as matching needs it: its relationships (contacts, status history) left to
    load if ever read."""
    return db.session.get(Customer, customer_id, options=[sa.orm.lazyload("*")])


def auto_match(*, actor=None, account_id: int | None = None, lines: Sequence[BankLine] | None = None) -> int:
    """Match every unmatched incoming line (of one bank account), in the order booked."""
    if lines is None:
        lines = unmatched_lines(account_id=account_id, incoming_only=True)
    return Matcher.load().run(lines, actor=actor)


# --- by hand ------------------------------------------------------------------------------------------


def match_invoices(line: BankLine, parts: Sequence[Part], *, actor, write_off: bool = False) -> BankMatch:
    """The line paying the named invoices by amount (one invoice, or a split over several). The
    parts add up to the line's amount; one customer's invoices only."""
    _matchable(line)
    problems: list[dict] = []
    if not parts:
        problems.append({"pointer": "/parts", "message": _("Name at least one invoice.")})
    amounts, customer_ids = [], set()
    for index, part in enumerate(parts):
        amount = payments.amount_of(part.amount, f"/parts/{index}/amount", problems)
        invoice = _open_invoice(part.invoice)
        if invoice is None:
            message = _("%(number)s is not an open invoice.", number=part.invoice or "—")
            problems.append({"pointer": f"/parts/{index}/invoice", "message": message})
        else:
            customer_ids.add(invoice.customer_id)
        if amount is not None:
            amounts.append(amount)
    if len(customer_ids) > 1:
        problems.append({"pointer": "/parts", "message": _("A bank line pays one customer's invoices only.")})
    if not problems and sum(amounts, ZERO) != line.amount:
        message = _(
            "The parts add up to %(sum)s; the bank line is %(amount)s.",
            sum=f"{sum(amounts, ZERO):,.2f}",
            amount=f"{line.amount:,.2f}",
        )
        problems.append({"pointer": "/parts", "message": message})
    if problems:
        raise Invalid(problems)
    customer = db.session.get(Customer, customer_ids.pop())
    return _match(line, customer, parts, {"code": "manual"}, actor=actor, write_off=write_off, checked=True)


def match_customer(line: BankLine, customer: Customer, *, actor, reason: dict | None = None) -> BankMatch:
    """The line as a payment of `customer`: their open invoices oldest first, the rest to prepaid."""
    _matchable(line)
    return _register(line, customer, None, reason or {"code": "manual"}, actor=actor, checked=True)


def link_payment(line: BankLine, payment: Payment | None, *, actor, reason: dict | None = None) -> BankMatch:
    """The line proving a payment registered before (posted already: nothing is posted again)."""
    _matchable(line)
    if payment is None or payment.reversal_journal_id is not None:
        raise Invalid([{"pointer": "/payment", "message": _("No such payment.")}])
    if payment.amount != line.amount:
        message = _(
            "The payment is %(p)s; the bank line is %(l)s.",
            p=f"{payment.amount:,.2f}",
            l=f"{line.amount:,.2f}",
        )
        raise Invalid([{"pointer": "/payment", "message": message}])
    taken = db.session.execute(
        sa.select(BankMatch.id).where(BankMatch.payment_id == payment.id, BankMatch.undone_at.is_(None))
    ).first()
    if taken is not None:
        raise Invalid(
            [{"pointer": "/payment", "message": _("Another bank line confirms this payment already.")}]
        )
    match = BankMatch(
        line_id=line.id,
        kind="payment",
        customer_id=payment.customer_id,
        payment_id=payment.id,
        posted=False,
        amount=line.amount,
        reason=reason or {"code": "manual"},
        created_by_id=getattr(actor, "id", None),
    )
    return _record(line, match, actor)


def _match(line, customer, parts, reason, *, actor, write_off, checked=False) -> BankMatch:
    chosen = [payments.Chosen(part.invoice, part.amount) for part in parts]
    match = _register(line, customer, chosen, reason, actor=actor, checked=checked)
    if write_off and len(parts) == 1:
        invoice = _open_invoice(parts[0].invoice)
        if invoice is not None and 0 < invoice.outstanding <= write_off_limit(customer):
            _write_off(match, invoice, customer, actor)
    return match


def _register(line, customer, chosen, reason, *, actor, checked: bool = False) -> BankMatch:
    if not checked:  # the automatic path's lines; by hand, the caller checked already
        _matchable(line)
    rounds = db.session.execute(sa.select(sa.func.count()).where(BankMatch.line_id == line.id)).scalar_one()
    payment = payments.register(
        customer,
        line.amount,
        method="bank_transfer",
        paid_on=line.booked_on,
        key=f"bank-line:{line.id}:{rounds}",
        reference=(line.serial or line.memo)[:200],
        chosen=chosen,
        actor=actor,
    )
    match = BankMatch(
        line_id=line.id,
        kind="invoices" if chosen else "customer",
        customer_id=customer.id,
        payment_id=payment.id,
        posted=True,
        amount=line.amount,
        reason=reason,
        created_by_id=getattr(actor, "id", None),
    )
    return _record(line, match, actor)


def _record(line: BankLine, match: BankMatch, actor) -> BankMatch:
    db.session.add(match)
    line.status = "matched"
    db.session.flush()
    audit.record(
        "reconcile.match",
        "bank_line",
        line.id,
        after={
            "match": match.id,
            "kind": match.kind,
            "payment": match.payment_id,
            "reason": match.reason,
            "amount": str(match.amount),
        },
        actor=actor,
    )
    return match


def _write_off(match: BankMatch, invoice: Invoice, customer: Customer, actor) -> None:
    amount = invoice.outstanding
    journal = post(
        "write_off",
        [Line(system_account("write_offs"), amount), Line(customer_account(customer, "receivable"), -amount)],
        key=f"bank-match:{match.id}:write-off",
        memo=_("Written off on %(number)s", number=invoice.number),
        reference=invoice.number,
        actor=actor,
    )
    invoice.paid += amount
    invoice.status, invoice.paid_on = "paid", match.line.booked_on
    match.write_off, match.write_off_journal_id, match.write_off_invoice_id = amount, journal.id, invoice.id
    db.session.flush()


def unmatch(line: BankLine, *, actor) -> BankLine:
    """Take the line's match back: what it posted reversed (dated today), the line unmatched."""
    _lock(line)
    match = active_match(line)
    if match is None:
        raise Conflict(_("This bank line is not matched."))
    _period_open(line)
    if match.write_off_journal_id is not None:
        reverse(
            db.session.get(Journal, match.write_off_journal_id),
            key=f"bank-match:{match.id}:write-off:undo",
            actor=actor,
        )
        invoice = db.session.get(Invoice, match.write_off_invoice_id)
        invoice.paid -= match.write_off
        invoice.status, invoice.paid_on = ("issued" if invoice.paid == 0 else "partially_paid"), None
    if match.posted:
        payments.reverse(
            match.payment, key=f"bank-match:{match.id}:undo", memo=_("Bank match taken back"), actor=actor
        )
    match.undone_at, match.undone_by_id = utcnow(), getattr(actor, "id", None)
    line.status = "unmatched"
    db.session.flush()
    audit.record("reconcile.unmatch", "bank_line", line.id, after={"match": match.id}, actor=actor)
    return line


# --- explaining -------------------------------------------------------------------------------------

#: what an explained line may post: money out as a bank charge, or as a refund paid out
EXPLAIN_POSTINGS = {"bank_charges": "bank_charges", "refund_paid": "refunds"}


def explain(line: BankLine, note: str, post_as: str = "", *, actor) -> BankLine:
    """A line that pays no invoice (a bank charge, a refund paid out, interest): a note, and for
    money out, optionally its posting (bank credited, the charge or the refunds owed debited)."""
    _lock(line)
    if line.status != "unmatched":
        raise Conflict(_("Only an unmatched line can be explained."))
    _period_open(line)
    note = (note or "").strip()
    problems = []
    if not note:
        problems.append({"pointer": "/note", "message": _("Say what the line is.")})
    elif len(note) > 500:
        problems.append({"pointer": "/note", "message": _("The note is too long (500 characters at most).")})
    if post_as and post_as not in EXPLAIN_POSTINGS:
        problems.append({"pointer": "/post_as", "message": _("Unknown posting “%(p)s”.", p=post_as)})
    elif post_as and line.amount > 0:
        problems.append(
            {"pointer": "/post_as", "message": _("Only money out is posted as a charge or a refund.")}
        )
    if problems:
        raise Invalid(problems)
    if post_as:
        amount = -line.amount
        journal = post(
            "adjustment",
            [Line(system_account(EXPLAIN_POSTINGS[post_as]), amount), Line(system_account("bank"), -amount)],
            key=f"bank-line:{line.id}:explained:{line.explanation_journal_id or 0}",
            memo=note[:500],
            reference=line.serial[:200],
            actor=actor,
            value_date=line.booked_on,
        )
        line.explanation_journal_id = journal.id
    line.status, line.explanation = "explained", note
    db.session.flush()
    audit.record(
        "reconcile.explain", "bank_line", line.id, after={"note": note, "post_as": post_as}, actor=actor
    )
    return line


# --- reading --------------------------------------------------------------------------------------


def active_match(line: BankLine) -> BankMatch | None:
    return db.session.execute(
        sa.select(BankMatch).where(BankMatch.line_id == line.id, BankMatch.undone_at.is_(None))
    ).scalar_one_or_none()


def lines_by_ids(ids: Sequence[int]) -> list[BankLine]:
    """The lines of `ids`, in that order."""
    found = {
        line.id: line
        for line in db.session.execute(sa.select(BankLine).where(BankLine.id.in_(ids))).scalars()
    }
    return [found[line_id] for line_id in ids if line_id in found]


def line_by_id(line_id) -> BankLine:
    line = db.session.get(BankLine, line_id) if str(line_id).isdigit() else None
    if line is None:
        raise NotFound(_("No such bank line."))
    return line


def unmatched_lines(*, account_id: int | None = None, incoming_only: bool = False, limit: int | None = None):
    query = (
        sa.select(BankLine).where(BankLine.status == "unmatched").order_by(BankLine.booked_on, BankLine.id)
    )
    if account_id is not None:
        query = query.where(BankLine.bank_account_id == account_id)
    if incoming_only:
        query = query.where(BankLine.amount > 0)
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.execute(query).scalars())


def suggestions(line: BankLine, *, limit: int = 8) -> list[Invoice]:
    """Open invoices a person may pick for the line: of the amount first, then of customers named
    in its memo."""
    found: list[Invoice] = list(
        db.session.execute(
            sa.select(Invoice)
            .where(Invoice.status.in_(OPEN), (Invoice.total - Invoice.paid) == line.amount)
            .order_by(Invoice.due_date)
            .limit(limit)
        ).scalars()
    )
    codes = [token.upper() for token in _TOKEN.findall(line.memo)]
    if codes:
        found += [
            invoice
            for invoice in db.session.execute(
                sa.select(Invoice)
                .join(Customer, Customer.id == Invoice.customer_id)
                .where(Invoice.status.in_(OPEN), sa.func.upper(Customer.code).in_(codes))
                .order_by(Invoice.due_date)
                .limit(limit)
            ).scalars()
            if invoice not in found
        ]
    return found[:limit]


def _period_open(line: BankLine) -> None:
    """A line of a closed month keeps its match: the close asserted it."""
    month = periods.closed_month_of(line.booked_on)
    if month is not None:
        raise Conflict(_("%(month)s is closed: reopen it to change its bank lines.", month=month))


def _lock(line: BankLine) -> None:
    """Hold the line's row (PostgreSQL: FOR UPDATE; SQLite's write lock serialises anyway) and
    read it again: of two people matching it at once, the second sees the first's match."""
    db.session.execute(
        sa.select(BankLine)
        .where(BankLine.id == line.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()  # fetched: the row read is what refreshes `line`


def _matchable(line: BankLine) -> None:
    _lock(line)
    _period_open(line)
    if line.status != "unmatched":
        raise Conflict(_("This bank line is matched or explained already."))
    if line.amount <= 0:
        raise Invalid([{"pointer": "/line", "message": _("Only money received is matched to invoices.")}])


def _open_invoice(number: Any) -> Invoice | None:
    text = str(number or "").strip().upper()
    return db.session.execute(
        sa.select(Invoice).where(Invoice.number == text, Invoice.status.in_(OPEN))
    ).scalar_one_or_none()
