"""Every list exports what its filters show, as CSV and XLSX: customers, cases, a customer's
ledger entries, invoices, payments, notices (case notices and payment reminders) and the audit
log. Each export holds the rows the page lists under a filter (CSV read back with csv, XLSX with
openpyxl), its headers are in the reader's language, formula-like cells are neutralised, the
list's permission guards it, and `formflow export-list` writes the same file with a progress
bar (an unknown list or filter: exit 2)."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from cases.cases_support import publish_process
from openpyxl import load_workbook

from formflow.auth.models import User
from formflow.billing import invoices, payments
from formflow.billing.models import Reminder
from formflow.cases import services as cases
from formflow.customers import services as customers
from formflow.extensions import db
from formflow.ledger import services as ledger
from formflow.workflows.models import NoticeDocument

FORMULA = '=HYPERLINK("http://x")'


def _owe(customer, amount: str, key: str) -> None:
    ledger.post(
        "management_fee",
        [
            ledger.Line(ledger.customer_account(customer, "receivable"), Decimal(amount)),
            ledger.Line(ledger.system_account("revenue_management_fee"), Decimal("-" + amount)),
        ],
        key=key,
    )


@pytest.fixture
def world(app, make_user):
    """Customers EX01 (named like a formula, tier A) and EX02 (tier B): EX01 has three prepaid
    entries, an invoice, a payment, a case with a notice and a reminder; EX02 one of each but
    the case."""
    with app.app_context():
        staff = db.session.get(User, make_user("ex-staff", roles=("staff",)))
        one = customers.create("EX01", FORMULA, "A")
        two = customers.create("EX02", "乙公司", "B")
        for index, amount in enumerate(("100.00", "20.50", "1234.56")):
            ledger.post_for_customer(
                one, "top_up", Decimal(amount), key=f"ex-top-{index}", memo=f"memo-{index}"
            )
        ledger.post_for_customer(two, "top_up", Decimal("5.00"), key="ex-top-two", memo="memo-two")
        _owe(one, "900.00", "ex-owe-1")
        _owe(two, "80.00", "ex-owe-2")
        first = invoices.issue(
            one, [invoices.Item("季度管理费", Decimal("900.00"))], issue_date=date(2026, 1, 1)
        )
        second = invoices.issue(two, [invoices.Item("开户费", Decimal("80.00"))], issue_date=date(2026, 1, 2))
        payments.register(one, "150", method="bank_transfer", paid_on="2026-01-05", key="ex-pay-1",
                          reference="@REF-ONE", chosen=[payments.Chosen(first.number, "150")])  # fmt: skip
        payments.register(
            two, "30", method="online", paid_on="2026-01-06", key="ex-pay-2", reference="REF-TWO"
        )
        publish_process("t_payment")
        case = cases.start("t_payment", "EX01", {"amount": 3, "method": "bank"}, submit=True, actor=staff)
        db.session.add(
            NoticeDocument(case_id=case.id, customer_id=one.id, template="t", language="zh-CN",
                           title="+扣款通知", body="理由……", created_at=datetime(2026, 2, 1, 4))
        )  # fmt: skip
        for invoice, customer, title, at in (
            (first, one, "催缴一", datetime(2026, 2, 3, 4)),
            (second, two, "催缴二", datetime(2026, 2, 10, 4)),
        ):
            db.session.add(
                Reminder(target=f"invoice:{invoice.id}", offset_days=3, invoice_id=invoice.id,
                         customer_id=customer.id, title=title, body="请缴费", created_at=at)
            )  # fmt: skip
        db.session.commit()
        return {"invoices": (first.number, second.number), "case": case.id}


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/csv"
    body = response.get_data()
    assert body.startswith("\ufeff".encode()) and body.count("\ufeff".encode()) == 1
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _xlsx(response) -> list[tuple]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return list(load_workbook(io.BytesIO(response.get_data())).active.iter_rows(values_only=True))


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


#: kind -> (role, list page URL with a filter, its export URL (without .format), the candidates
#: the filter keeps or drops, the export column holding them)
LISTS = {
    "customers": ("staff", "/customers/?tier=A", "/customers/export", ("EX01", "EX02"), 0),
    "cases": ("admin", "/cases/?customer=EX01", "/cases/export", None, 0),
    "entries": ("staff", "/customers/EX01/account", "/customers/EX01/account/export", None, 2),
    "invoices": ("finance", "/billing/invoices?customer=EX01", "/billing/invoices/export", None, 0),
    "payments": ("finance", "/billing/payments?method=bank_transfer", "/billing/payments/export", None, 4),
    "notices": ("admin", "/notices/?since=2026-02-01&until=2026-02-05", "/notices/export", None, 4),
    "audit": ("auditor", "/audit/?object_type=payment", "/audit/export", None, 6),
}


def _candidates(kind: str, world) -> tuple[set, set]:
    """(what the filter keeps, what it drops) for list `kind` in `world`."""
    first, second = world["invoices"]
    return {
        "customers": ({"EX01"}, {"EX02"}),
        "cases": ({str(world["case"])}, set()),
        "entries": ({"memo-0", "memo-1", "memo-2"}, {"memo-two"}),
        "invoices": ({first}, {second}),
        "payments": ({"'@REF-ONE"}, {"REF-TWO"}),
        "notices": ({"'+扣款通知", "催缴一"}, {"催缴二"}),
        "audit": (set(), set()),
    }[kind]


@pytest.mark.parametrize("kind", sorted(LISTS))
def test_the_export_holds_exactly_the_rows_the_list_shows_under_a_filter(app, world, login_as, kind):
    role, page_url, export_url, _unused, column = LISTS[kind]
    client = login_as(role)
    page = _page(client, page_url)
    query = page_url.partition("?")[2]
    for format in ("csv", "xlsx"):
        suffix = f".{format}" + (f"?{query}" if query else "")
        assert f'href="{export_url}{suffix}"' in html.unescape(page) or f"{export_url}{suffix}" in page
    _header, *rows = _csv(client.get(f"{export_url}.csv" + (f"?{query}" if query else "")))
    _xheader, *xrows = _xlsx(client.get(f"{export_url}.xlsx" + (f"?{query}" if query else "")))
    assert len(rows) == len(xrows) > 0
    exported = {row[column] for row in rows}
    assert exported == {"" if cell is None else str(cell) for cell in (row[column] for row in xrows)}
    kept, dropped = _candidates(kind, world)
    if kind == "audit":  # every payment entry the page lists, none of another type
        assert {row[5] for row in rows} == {"payment"}
        assert len(rows) == len(re.findall(r'<td class="audit-time">', page))
        return
    assert exported == kept
    for shown in kept:
        assert shown.lstrip("'") in page
    for hidden in dropped:
        assert hidden not in page


def test_headers_are_in_the_readers_language(app, world, login_as):
    finance = login_as("finance")
    zh = _csv(finance.get("/billing/invoices/export.csv"))[0]
    assert zh == ["通知单编号", "客户编号", "客户名称", "开具日期", "到期日", "合计", "待缴", "状态"]
    finance.get("/lang/en")
    en = _xlsx(finance.get("/billing/invoices/export.xlsx"))[0]
    assert en == ("Invoice number", "Customer code", "Customer name", "Issue date", "Due date", "Total",
                  "Left to pay", "Status")  # fmt: skip
    staff = login_as("staff")
    assert _csv(staff.get("/customers/EX01/account/export.csv"))[0][:3] == ["日期", "类型", "摘要"]
    staff.get("/lang/en")
    assert _csv(staff.get("/notices/export.csv"))[0][:2] == ["Sent", "Kind"]


def test_money_is_a_number_and_dates_are_dates_in_xlsx(app, world, login_as):
    staff = login_as("staff")
    response = staff.get("/customers/EX01/account/export.xlsx")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    _header, newest, *_rest = list(sheet.iter_rows())
    assert isinstance(newest[0].value, datetime) and newest[0].number_format == "yyyy-mm-dd hh:mm:ss"
    assert Decimal(str(newest[5].value)) == Decimal("1234.56") and newest[5].number_format == "#,##0.00"
    assert Decimal(str(newest[6].value)) == Decimal("1355.06")
    csv_rows = _csv(staff.get("/customers/EX01/account/export.csv"))
    assert csv_rows[1][5] == "1,234.56" and csv_rows[1][6] == "1,355.06"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", csv_rows[1][0])
    invoice = _xlsx(login_as("finance").get("/billing/invoices/export.xlsx?customer=EX01"))[1]
    assert invoice[3] == datetime(2026, 1, 1) and Decimal(str(invoice[6])) == Decimal("750.00")


def test_formula_cells_are_neutralised_in_csv_and_xlsx(app, world, login_as):
    staff = login_as("staff")
    rows = _csv(staff.get("/customers/export.csv?q=EX01"))
    assert rows[1][1] == "'" + FORMULA
    sheet = load_workbook(io.BytesIO(staff.get("/customers/export.xlsx?q=EX01").get_data())).active
    cell = sheet["B2"]
    assert cell.value == "'" + FORMULA and cell.data_type == "s"  # text, not a formula
    finance = login_as("finance")
    payment = _xlsx(finance.get("/billing/payments/export.xlsx?customer=EX01"))[1]
    assert payment[2] == "'" + FORMULA and payment[4] == "'@REF-ONE"


def test_a_bad_filter_is_a_clear_422_never_a_file(app, world, login_as):
    admin = login_as("admin")
    response = admin.get("/notices/export.csv?since=yesterday")
    assert response.status_code == 422 and response.mimetype == "text/html"
    assert "yesterday" in response.get_data(as_text=True)
    assert admin.get("/notices/?kind=letter").status_code == 422
    assert admin.get("/billing/payments/export.pdf").status_code == 422
    assert admin.get("/customers/NOPE/account/export.csv").status_code == 404


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("staff", "/billing/invoices/export.csv"),
        ("risk", "/billing/payments/export.xlsx"),
        ("staff", "/audit/export.xlsx"),
        ("finance", "/audit/export.csv"),
    ],
)
def test_a_role_without_the_lists_permission_gets_403(app, world, login_as, role, url):
    assert login_as(role).get(url).status_code == 403


@pytest.mark.parametrize("url", ["/customers/export.csv", "/cases/export.xlsx", "/notices/export.csv",
                                 "/customers/EX01/account/export.csv"])  # fmt: skip
def test_nobody_logged_in_gets_no_export(app, world, client, url):
    response = client.get(url)
    assert response.status_code in (302, 401) and not response.get_data().startswith(b"\xef\xbb\xbf")


def test_a_viewer_without_billing_sees_no_reminders_among_the_notices(app, world, login_as):
    staff_rows = _csv(login_as("staff").get("/notices/export.csv"))[1:]
    assert staff_rows == []  # not the author of the case, no billing: nothing of either
    admin_rows = _csv(login_as("admin").get("/notices/export.csv"))[1:]
    assert [row[4] for row in admin_rows] == ["催缴二", "催缴一", "'+扣款通知"]  # newest first
    reminders = _csv(login_as("finance").get("/notices/export.csv?kind=reminder&customer=EX02"))[1:]
    assert [row[4] for row in reminders] == ["催缴二"]


def test_the_notices_page_pages_by_keyset(app, world, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    admin = login_as("admin")
    first = _page(admin, "/notices/")
    assert "催缴二" in first and "催缴一" in first and "扣款通知" not in first
    after = re.search(r'href="(/notices/\?after=[^"]+)"', first).group(1)
    second = _page(admin, html.unescape(after))
    assert "扣款通知" in second and "催缴二" not in second
    assert admin.get("/notices/?after=garbage").status_code == 422
    assert 'href="/notices/"' in _page(admin, "/")  # the navigation bar links to it


def test_the_cli_writes_the_list_with_a_progress_bar(app, world, cli, tmp_path):
    target = tmp_path / "entries.xlsx"
    result = cli("export-list", "entries", "--format", "xlsx", "--filter", "customer=EX01", "--lang", "en",
                 "-o", str(target))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Exporting entries" in result.output and f"Wrote 3 rows of entries to {target}." in result.output
    rows = list(load_workbook(target).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("Date", "Kind", "Memo") and [row[2] for row in rows[1:]] == [
        "memo-2",
        "memo-1",
        "memo-0",
    ]
    plain = tmp_path / "customers.csv"
    assert cli("export-list", "customers", "--filter", "tier=B", "-o", str(plain)).exit_code == 0
    header, *customers_rows = list(csv.reader(io.StringIO(plain.read_text(encoding="utf-8-sig"))))
    assert header[:3] == ["编号", "名称", "等级"]  # zh-CN unless told
    assert [row[0] for row in customers_rows] == ["EX02"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("export-list", "bank_statements", "-o", "x.csv"), "no list 'bank_statements' exports"),
        (
            ("export-list", "customers", "--filter", "colour=red", "-o", "x.csv"),
            "customers has no filter 'colour'",
        ),
        (("export-list", "customers", "--filter", "tier", "-o", "x.csv"), "customers has no filter 'tier'"),
        (("export-list", "notices", "--filter", "since=soon", "-o", "x.csv"), "/since: "),
    ],
)
def test_the_cli_refuses_an_unknown_list_or_filter_with_exit_2(
    app, world, tmp_path, monkeypatch, args, message
):
    monkeypatch.chdir(tmp_path)
    result = app.test_cli_runner().invoke(args=["formflow", *args])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.output
    assert not (tmp_path / "x.csv").exists()


def test_export_key_still_exports_a_process_spec(app, world, cli):
    result = cli("export", "t_payment")
    assert result.exit_code == 0 and '"key": "t_payment"' in result.output


def test_the_lists_read_their_rows_in_chunks(app, world):
    """No list reads its whole filter at once: each export's query streams (yield_per)."""
    from formflow import tabular

    seen = []

    def remember(_conn, _cursor, _statement, _parameters, context, _many):
        seen.append(context.execution_options.get("yield_per"))

    with app.test_request_context():
        sa.event.listen(db.engine, "before_cursor_execute", remember)
        try:
            for kind in ("customers", "invoices", "payments", "audit", "notices"):
                entry = tabular.get(kind)
                seen.clear()
                assert list(entry.rows(entry.filters({}, None))), kind
                assert tabular.CHUNK in seen, kind
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", remember)
