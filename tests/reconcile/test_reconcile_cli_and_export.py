"""`formflow reconcile import / match / close` as an operator runs them, and the bank lines list
exported as CSV and XLSX with what its filters show."""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa
from openpyxl import load_workbook
from reconcile_support import bank_account, csv_bytes, owing, row

from formflow.extensions import db
from formflow.ledger import periods
from formflow.reconcile import importing
from formflow.reconcile.models import BankLine


def test_the_cli_imports_matches_and_closes(app_ctx, cli, tmp_path, make_user):
    _customer, (invoice,) = owing("K101", "命令行公司", "640.00")
    bank_account()
    make_user("closer", roles=["finance"])
    db.session.commit()
    statement = tmp_path / "nov.csv"
    statement.write_bytes(
        csv_bytes(
            [
                row("2026-11-05", "S1", amount_in="640.00", balance="640.00", memo=invoice.number),
            ],
            encoding="gbk",
        )
    )
    first = cli("reconcile", "import", "--account", "工商银行 基本户", str(statement))
    assert first.exit_code == 0 and "1 new lines, 0 there already." in first.output, first.output
    again = cli("reconcile", "import", "--account", "工商银行 基本户", str(statement))
    assert "0 new lines, 1 there already." in again.output
    matched = cli("reconcile", "match")
    assert matched.exit_code == 0 and "1 of 1 unmatched lines matched." in matched.output
    wrong = cli("reconcile", "close", "2026-11", "--by", "closer", "--balance", "工商银行 基本户=600")
    assert wrong.exit_code == 1 and "/balance" in wrong.output
    closed = cli("reconcile", "close", "2026-11", "--by", "closer")
    assert closed.exit_code == 0, closed.output
    assert periods.period("2026-11").status == "closed"


def test_the_cli_names_a_bad_row_and_imports_nothing(app_ctx, cli, tmp_path):
    bank_account()
    db.session.commit()
    statement = tmp_path / "bad.csv"
    statement.write_bytes(csv_bytes([row("2026-11-05", "S1", amount_in="六百")]))
    result = cli("reconcile", "import", "--account", "工商银行 基本户", str(statement))
    assert result.exit_code == 1 and "/rows/1/credit" in result.output
    assert db.session.execute(sa.select(sa.func.count(BankLine.id))).scalar_one() == 0
    unknown = cli("reconcile", "import", "--account", "没有的账户", str(statement))
    assert unknown.exit_code == 2


def test_the_bank_lines_export_holds_what_the_filters_show(app, login_as):
    with app.app_context():
        account = bank_account()
        content = csv_bytes(
            [
                row("2026-11-05", "S1", amount_in="1,640.00", memo="=HYPERLINK(1)"),
                row("2026-11-06", "S2", amount_out="15.00", memo="手续费"),
            ]
        )
        importing.confirm(importing.preview(account, "e.csv", content, actor=None).upload, actor=None)
        db.session.commit()
    finance = login_as("finance")
    finance.get("/lang/en")
    page = finance.get("/reconcile/lines?status=unmatched&q=HYPER").get_data(as_text=True)
    assert "/reconcile/lines/export.csv?status=unmatched&amp;q=HYPER" in page
    response = finance.get("/reconcile/lines/export.csv?status=unmatched&q=HYPER")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["Date", "Bank account", "Amount"] and len(rows) == 2
    assert rows[1][2] == "1,640.00" and rows[1][6] == "'=HYPERLINK(1)"
    book = load_workbook(io.BytesIO(finance.get("/reconcile/lines/export.xlsx").data))
    sheet = book.active
    assert sheet.max_row == 3 and sorted(sheet.cell(r, 3).value for r in (2, 3)) == [-15, 1640]
    assert finance.get("/reconcile/lines/export.csv?from=soon").status_code == 422
    assert login_as("staff").get("/reconcile/lines/export.csv").status_code == 403
