"""The payment notice (缴费通知单) of an invoice, as the page shows it and as a PDF: who owes what
for which items, the dates, what is paid and left, the instalments, the customer's balances, and
how to pay. The PDF is set like the statement (ledger.statement_pdf: A4, the reader's language, a
CJK font subset embedded)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from flask_babel import get_locale
from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.enums import TableBordersLayout, WrapMode

from formflow.billing import invoices
from formflow.billing.models import Invoice
from formflow.ledger.balances import balances
from formflow.ledger.statement_pdf import FONT, HEADING, MARGIN, SUBTOTAL, font_path, money, printed_footer


@dataclass(frozen=True)
class Notice:
    invoice: Invoice
    status: str
    status_label: str
    balances: dict[str, Decimal]
    instalments: list[tuple[object, str]]  # (instalment, status label)

    @property
    def how_to_pay(self) -> str:
        return _(
            "Pay by bank transfer quoting %(number)s in the memo, or online. What you pay beyond this "
            "notice goes to your prepaid balance.",
            number=self.invoice.number,
        )


def notice(invoice: Invoice, today: date) -> Notice:
    shown = [
        (part, invoices.status_label(invoices.instalment_status_on(part, today)))
        for part in invoice.instalments
        if part.status != "cancelled"
    ]
    status = invoices.status_on(invoice, today)
    return Notice(invoice, status, invoices.status_label(status), balances(invoice.customer), shown)


class NoticeDocument(FPDF):
    def __init__(self, found: Notice, printed: datetime):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.found, self.printed = found, printed
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=MARGIN + 6)
        self.add_font(FONT, "", str(font_path()))
        self.set_font(FONT, size=9)
        title = _("Payment notice")
        self.set_title(f"{title} {found.invoice.number}")
        self.set_author("Formflow")
        english = str(get_locale() or "").startswith("en")
        self.set_lang("en" if english else "zh-CN")
        self.wrapmode = WrapMode.WORD if english else WrapMode.CHAR

    def footer(self) -> None:
        printed_footer(self, self.printed)

    def line(self, text: str, size: int = 9, height: float = 5) -> None:  # type: ignore[override]
        self.set_font(FONT, size=size)
        self.multi_cell(0, height, text, wrapmode=self.wrapmode, new_x="LMARGIN", new_y="NEXT")


def pdf_bytes(found: Notice, *, printed: datetime | None = None) -> bytes:
    invoice, customer = found.invoice, found.invoice.customer
    document = NoticeDocument(found, printed or datetime.now(UTC))
    document.add_page()
    title = _("Payment notice")
    document.line(f"{title} {invoice.number}", size=15, height=8)
    document.line(f"{customer.name} ({customer.code})")
    document.line(
        " · ".join(
            (
                _("Issued %(day)s", day=invoice.issue_date.isoformat()),
                _("Due %(day)s", day=invoice.due_date.isoformat()),
                found.status_label,
            )
        )
    )
    document.ln(2)
    width = document.w - 2 * MARGIN
    with document.table(
        col_widths=(60, 20, 20), text_align=("LEFT", "LEFT", "RIGHT"), wrapmode=document.wrapmode,
        headings_style=HEADING, borders_layout=TableBordersLayout.HORIZONTAL_LINES, line_height=5, padding=1,
        width=width,
    ) as table:  # fmt: skip
        heading = table.row()
        for text in (_("Item"), _("Period"), _("Amount")):
            heading.cell(text)
        for item in invoice.items:
            row = table.row()
            row.cell(item.title)
            row.cell("" if item.period == "signing" else item.period)
            row.cell(money(item.amount))
        for label, amount in (
            (_("Total"), invoice.total),
            (_("Paid"), invoice.paid),
            (_("Left to pay"), invoice.outstanding),
        ):
            row = table.row(style=SUBTOTAL)
            row.cell(label, colspan=2)
            row.cell(money(amount))
    if found.instalments:
        document.ln(3)
        document.line(_("Instalments"), size=11, height=6)
        with document.table(
            col_widths=(10, 25, 25, 25, 25), text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "LEFT"),
            wrapmode=document.wrapmode, headings_style=HEADING,
            borders_layout=TableBordersLayout.HORIZONTAL_LINES, line_height=5, padding=1, width=width,
        ) as table:  # fmt: skip
            heading = table.row()
            for text in ("#", _("Due date"), _("Amount"), _("Paid"), _("Status")):
                heading.cell(text)
            for part, label in found.instalments:
                row = table.row()
                for text in (
                    str(part.seq),
                    part.due_date.isoformat(),
                    money(part.amount),
                    money(part.paid),
                    label,
                ):
                    row.cell(text)
    document.ln(3)
    document.line(
        _("Your balances today: prepaid %(prepaid)s, receivable %(receivable)s.",
          prepaid=money(found.balances.get("prepaid")), receivable=money(found.balances.get("receivable")))
    )  # fmt: skip
    document.ln(1)
    document.line(found.how_to_pay)
    return bytes(document.output())
