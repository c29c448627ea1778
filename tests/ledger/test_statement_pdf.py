"""The statement as a PDF: a valid, small document (the CJK font embedded as a subset), read
back with PDFium's text layer: the customer's Chinese name, every amount with two decimals and
thousand separators, the closing balance; a long Chinese memo wraps inside its column; many
entries make several pages, each with the header row; in Chinese and English over HTTP."""

from __future__ import annotations

from decimal import Decimal

import flask_babel
import pypdfium2 as pdfium
import pytest

from formflow.customers import services as customers
from formflow.extensions import db
from formflow.ledger import services as ledger
from formflow.ledger import statement_pdf, statements

LONG_MEMO = "根据补充协议第三条约定按月扣收的平台技术服务费及短信通道使用费合计"


@pytest.fixture
def customer(app_ctx):
    found = customers.create("PDF01", "华东对账测试有限公司", "B")
    ledger.post_for_customer(found, "top_up", Decimal("123456.78"), key="p-t1", memo="银行转账充值")
    ledger.post_for_customer(found, "deduction", Decimal("1200.50"), key="p-d1", memo=LONG_MEMO)
    ledger.post_for_customer(found, "usage", Decimal("0.25"), key="p-u1", memo="短信用量")
    db.session.commit()
    return found


def pages(document: bytes) -> list[str]:
    """Each page's text as PDFium (Chrome's PDF engine) reads it."""
    pdf = pdfium.PdfDocument(document)
    return [pdf[index].get_textpage().get_text_range() for index in range(len(pdf))]


def boxes_of(document: bytes, text: str) -> list[tuple[float, float, float, float]]:
    """The boxes (left, bottom, right, top) of the characters of `text` on page 1 (where it
    is whole, else from where its first four characters are), line breaks skipped."""
    page = pdfium.PdfDocument(document)[0].get_textpage()
    every = page.get_text_range()
    found, start = [], every.index(text) if text in every else every.index(text[:4])
    for char in text:
        start = every.index(char, start)
        found.append(page.get_charbox(start))
        start += 1
    return found


def test_a_statement_pdf_is_a_small_pdf_with_the_name_amounts_and_closing_balance(customer, zh):
    found = statements.statement(customer, "prepaid", statements.current_period())
    document = statement_pdf.pdf_bytes(found)
    assert document.startswith(b"%PDF-")
    assert len(document) < 200_000  # the font is a subset: the whole Noto Sans SC is 8 MB
    assert b"/FontFile3" in document or b"/FontFile2" in document  # embedded, not referenced
    [text] = pages(document)
    for expected in ("华东对账测试有限公司", "PDF01", "预存", found.period, "期初余额", "期末余额"):
        assert expected in text
    for amount in ("123,456.78", "1,200.50", "0.25", "122,256.03"):
        assert amount in text
    closing = text[text.rindex("期末余额") :]
    assert "122,256.03" in closing and found.closing == Decimal("122256.03")
    assert "第 1 页，共 1 页" in text


def test_a_long_chinese_memo_wraps_inside_its_column(customer, zh):
    document = statement_pdf.pdf_bytes(statements.statement(customer, "prepaid", statements.current_period()))
    text = pages(document)[0]
    assert LONG_MEMO not in text  # broken into lines …
    assert LONG_MEMO in "".join(text.split())  # … every character kept, in order
    memo = boxes_of(document, LONG_MEMO)
    lines = {round(bottom) for _left, bottom, _right, _top in memo}
    assert len(lines) >= 2
    debit = boxes_of(document, "1,200.50")
    assert max(right for _left, _bottom, right, _top in memo) < debit[0][0]  # no overflow into the amounts
    assert min(left for left, *_ in memo) > 0


def test_many_entries_make_several_pages_each_with_the_header_row(app_ctx, zh):
    found = customers.create("PDF02", "多页客户", "A")
    ledger.post_for_customer(found, "top_up", Decimal("100000.00"), key="m-top", memo="充值")
    for number in range(70):
        ledger.post_for_customer(found, "usage", Decimal("12.34"), key=f"m-{number}", memo=f"用量 {number}")
    db.session.commit()
    statement = statements.statement(found, "prepaid", statements.current_period())
    document = statement_pdf.pdf_bytes(statement)
    texts = pages(document)
    assert len(texts) >= 3
    for number, text in enumerate(texts, start=1):
        assert "日期 类型 摘要 业务单或参考号 借方 贷方 余额" in text  # the header row on every page
        assert f"第 {number} 页，共 {len(texts)} 页" in text
    assert "期末余额" in texts[-1] and "99,136.20" in texts[-1]
    assert len(document) < 200_000


def test_the_pdf_in_english(customer, en):
    flask_babel.refresh()  # the customer was made in this app context, in Chinese
    document = statement_pdf.pdf_bytes(statements.statement(customer, "prepaid", statements.current_period()))
    [text] = pages(document)
    assert "Opening balance" in text and "Closing balance" in text and "Page 1 of 1" in text
    assert "Date Kind Memo Case or reference Debit Credit Balance" in text
    assert "华东对账测试有限公司" in text and "122,256.03" in text


def test_the_pdf_through_the_statement_page_in_both_languages(customer, login_as):
    finance = login_as("finance")
    period = statements.current_period()
    page = finance.get(f"/customers/PDF01/statement?account=prepaid&period={period}")
    assert "format=pdf" in page.get_data(as_text=True) and "下载 PDF" in page.get_data(as_text=True)
    chinese = finance.get(f"/customers/PDF01/statement?account=prepaid&period={period}&format=pdf")
    assert chinese.status_code == 200 and chinese.mimetype == "application/pdf"
    assert f'filename="statement-PDF01-prepaid-{period}.pdf"' in chinese.headers["Content-Disposition"]
    assert "期末余额" in pages(chinese.data)[0]
    finance.raw.set_cookie("lang", "en")
    flask_babel.refresh()  # the fixture's app context (and its cached locale) serves every request
    english = finance.get(f"/customers/PDF01/statement?period={period}&format=pdf")
    assert english.status_code == 200 and "Closing balance" in pages(english.data)[0]


@pytest.mark.parametrize(
    ("query", "named"),
    [("account=savings", "savings"), ("period=2026-13", "2026-11")],
)
def test_a_bad_account_or_period_is_refused_with_its_message_not_a_500(customer, login_as, query, named):
    finance = login_as("finance")
    finance.raw.set_cookie("lang", "en")
    flask_babel.refresh()
    refused = finance.get(f"/customers/PDF01/statement?{query}&format=pdf")
    assert refused.status_code == 422
    assert refused.mimetype != "application/pdf" and named in refused.get_data(as_text=True)


def test_a_missing_font_file_is_named(customer, zh, app, tmp_path):
    app.config["PDF_FONT"] = str(tmp_path / "nowhere.ttf")
    try:
        with pytest.raises(statement_pdf.FontMissing, match=r"nowhere\.ttf"):
            statement_pdf.pdf_bytes(statements.statement(customer, "prepaid", statements.current_period()))
    finally:
        app.config["PDF_FONT"] = None
