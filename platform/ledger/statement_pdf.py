"""The statement (对账单) as a PDF: a title (customer, account, period), the opening balance, a
table of the entries whose header row repeats on every page, totals, the closing balance and a
footer with the page number, in the reader's language.

Chinese needs a CJK font: Noto Sans SC, which the `pylopdf-fonts-zh-cn` package ships (a pip
dependency, so every install has it), or the file FORMFLOW_PDF_FONT names (TTF, OTF or the first
face of a TTC). fpdf2 embeds only the glyphs a statement uses, so a page stays a few dozen KB.
Cells wrap by character in Chinese (it has no spaces to break at; a cell never overflows), by
word in English (where fpdf2 still breaks a run of Chinese without spaces by character)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from fpdf import FPDF, FontFace
from fpdf.enums import TableBordersLayout, WrapMode

from formflow.i18n import business_zone
from formflow.ledger.statements import Statement

FONT = "statement-cjk"
#: A4 portrait in mm, 12 mm margins: the table is 186 mm wide
MARGIN = 12
#: date, kind, memo, case or reference, debit, credit, balance (fractions of the table width)
COLUMNS = (19, 17, 49, 29, 24, 24, 24)
ALIGN = ("LEFT", "LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT")
HEADING = FontFace(emphasis="", fill_color=(228, 232, 238))
SUBTOTAL = FontFace(emphasis="", fill_color=(244, 246, 248))


class FontMissing(RuntimeError):
    """No CJK font to set the statement in (a deployment problem, not the user's)."""


def font_path() -> Path:
    """FORMFLOW_PDF_FONT when set, else the Noto Sans SC that pylopdf-fonts-zh-cn installs."""
    configured = current_app.config.get("PDF_FONT")
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise FontMissing(f"FORMFLOW_PDF_FONT names {configured}, which is not a file")
        return path
    try:
        import pylopdf_fonts_zh_cn
    except ImportError:
        raise FontMissing(
            "no CJK font for PDF statements: `pip install -e .` installs pylopdf-fonts-zh-cn, "
            "or set FORMFLOW_PDF_FONT to a TTF/OTF file"
        ) from None
    return Path(pylopdf_fonts_zh_cn.sans_path())


def money(amount: Decimal | None) -> str:
    """1234.5 as "1,234.50"; no amount as an empty cell."""
    return "" if amount is None else f"{amount:,.2f}"


class StatementDocument(FPDF):
    """An A4 page set with the statement's running head (from page 2) and page footer."""

    def __init__(self, found: Statement, printed: datetime):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.statement = found
        self.printed = printed
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=MARGIN + 6)
        self.add_font(FONT, "", str(font_path()))
        self.set_font(FONT, size=9)
        customer, word = found.customer, _("Statement")
        self.set_title(f"{word} {customer.code} {found.account} {found.period}")
        self.set_author("Formflow")
        self.english = str(get_locale() or "").startswith("en")
        self.set_lang("en" if self.english else "zh-CN")
        self.wrapmode = WrapMode.WORD if self.english else WrapMode.CHAR

    def header(self) -> None:
        if self.page_no() == 1:
            return
        customer = self.statement.customer
        self.set_font(FONT, size=8)
        self.set_text_color(110)
        word = _("Statement")
        head = f"{word} · {customer.name} ({customer.code}) · {self.statement.period}"
        self.cell(0, 5, head, align="L", new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0)
        self.ln(2)
        self.set_font(FONT, size=9)

    def footer(self) -> None:
        printed_footer(self, self.printed)


def pdf_bytes(found: Statement, *, printed: datetime | None = None) -> bytes:
    """The statement as a PDF document (A4, the reader's language, a CJK font subset embedded)."""
    document = StatementDocument(found, printed or datetime.now(UTC))
    document.add_page()
    _title(document, found)
    _table(document, found)
    return bytes(document.output())


def _title(document: StatementDocument, found: Statement) -> None:
    customer, word = found.customer, _("Statement")
    document.set_font(FONT, size=15)
    document.multi_cell(
        0, 8, f"{word} · {customer.name}", wrapmode=document.wrapmode, new_x="LMARGIN", new_y="NEXT"
    )
    document.set_font(FONT, size=9)
    title = _(
        "Statement of %(name)s (%(code)s), %(account)s account, %(period)s",
        name=customer.name, code=customer.code, account=found.account_label, period=found.period,
    )  # fmt: skip
    document.multi_cell(0, 5, title, wrapmode=document.wrapmode, new_x="LMARGIN", new_y="NEXT")
    document.ln(1)
    summary = (
        (_("Opening balance"), found.opening),
        (_("Debit"), found.debits),
        (_("Credit"), found.credits),
        (_("Closing balance"), found.closing),
    )
    width = (document.w - 2 * MARGIN) / len(summary)
    document.set_fill_color(244, 246, 248)
    for label, _amount in summary:
        document.cell(width, 5, label, align="C", fill=True)
    document.ln()
    document.set_font(FONT, size=11)
    for _label, amount in summary:
        document.cell(width, 7, money(amount), align="C", fill=True)
    document.ln(10)
    document.set_font(FONT, size=9)


def _table(document: StatementDocument, found: Statement) -> None:
    header = (_("Date"), _("Kind"), _("Memo"), _("Case or reference"), _("Debit"), _("Credit"), _("Balance"))
    with document.table(
        col_widths=COLUMNS,
        text_align=ALIGN,
        wrapmode=document.wrapmode,
        headings_style=HEADING,
        repeat_headings=1,
        borders_layout=TableBordersLayout.HORIZONTAL_LINES,
        line_height=5,
        padding=1,
    ) as table:
        heading = table.row()
        for text in header:
            heading.cell(text)
        opening = table.row(style=SUBTOTAL)
        opening.cell(_("Opening balance"), colspan=6, align="LEFT")
        opening.cell(money(found.opening))
        for line in found.lines:
            row = table.row()
            row.cell(line.on.isoformat())
            row.cell(line.kind_label)
            row.cell(line.memo)
            row.cell(f"#{line.case_id}" if line.case_id else line.reference)
            row.cell(money(line.debit))
            row.cell(money(line.credit))
            row.cell(money(line.balance))
        totals = table.row(style=SUBTOTAL)
        totals.cell(_("Totals"), colspan=4, align="LEFT")
        totals.cell(money(found.debits))
        totals.cell(money(found.credits))
        totals.cell("")
        closing = table.row(style=SUBTOTAL)
        closing.cell(_("Closing balance"), colspan=6, align="LEFT")
        closing.cell(money(found.closing))


def printed_footer(pdf: FPDF, printed: datetime) -> None:
    """The footer of every document Formflow prints: when it was printed, and page N of M."""
    pdf.set_y(-(MARGIN + 2))
    pdf.set_font(FONT, size=8)
    pdf.set_text_color(110)
    pdf.cell(0, 5, _("Printed %(when)s", when=printed.astimezone(business_zone()).strftime("%Y-%m-%d %H:%M")),
             align="L")  # fmt: skip
    pdf.set_x(MARGIN)
    # {nb} is replaced by the page count when the document is closed
    pdf.cell(0, 5, _("Page %(page)s of %(pages)s", page=pdf.page_no(), pages="{nb}"), align="R")
    pdf.set_text_color(0)
