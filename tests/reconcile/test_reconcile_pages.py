"""The reconciliation pages as finance uses them: a bank account's mapping (a bad one back with its
messages), a statement imported through the preview (bad rows named, nothing imported), matched
automatically with the reasons shown, a line matched by hand and one split (parts that do not add
up come back at their inputs), a bank charge explained, the month closed; an auditor reads but
cannot act; both languages."""

from __future__ import annotations

import html
import io

import sqlalchemy as sa
from reconcile_support import MAPPING, csv_bytes, owing, row

from formflow.extensions import db
from formflow.reconcile.models import BankAccount, BankLine


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _mapping_form(name="招商银行 一般户", **changes):
    form = {"name": name, "bank": "CMB", "account_number": "7555"}
    form |= {f"mapping-{field}": column for field, column in MAPPING.items()} | {"mapping-encoding": "auto"}
    return form | changes


def _upload(client, account_id, content, filename="nov.csv"):
    return client.post_form(
        "/reconcile/import",
        {"account": str(account_id), "file": (io.BytesIO(content), filename)},
        token_page="/reconcile/import",
        content_type="multipart/form-data",
    )


def test_finance_imports_matches_splits_explains_and_closes_the_month(app, login_as):
    with app.app_context():
        _c1, (one,) = owing("P101", "自动公司", "1200.00")
        _c2, (two, three) = owing("P102", "拆分公司", "300.00", "200.00")
        _c3, (four,) = owing("P103", "手工公司", "450.00")
        numbers = one.number, two.number, three.number, four.number
        db.session.commit()
    finance = login_as("finance")
    finance.get("/lang/en")
    bad = finance.post_form(
        "/reconcile/accounts/new", _mapping_form(**{"mapping-date": ""}), token_page="/reconcile/accounts/new"
    )
    assert bad.status_code == 422 and 'id="error-mapping-date"' in _text(bad)
    saved = finance.post_form(
        "/reconcile/accounts/new", _mapping_form(), token_page="/reconcile/accounts/new"
    )
    assert saved.status_code == 302
    with app.app_context():
        account_id = db.session.execute(sa.select(BankAccount.id)).scalar_one()
    wrong = _upload(finance, account_id, csv_bytes([row("2026-11-31", "S9", amount_in="1")]))
    preview = _text(finance.get(wrong.headers["Location"]))
    assert "Row 1" in preview and "2026-11-31" in preview and "nothing is imported" in preview
    content = csv_bytes(
        [
            row("2026-11-03", "S1", amount_in="1,200.00", balance="1,200.00", memo=f"管理费 {numbers[0]}"),
            row("2026-11-04", "S2", amount_in="500.00", balance="1,700.00", memo="两张发票"),
            row("2026-11-05", "S3", amount_in="450.00", balance="2,150.00", memo="汇款"),
            row("2026-11-06", "S4", amount_out="12.00", balance="2,138.00", memo="手续费"),
        ]
    )
    uploaded = _upload(finance, account_id, content)
    assert uploaded.status_code == 302
    preview = _text(finance.get(uploaded.headers["Location"]))
    assert "4 lines read: 4 new, 0 imported before." in preview
    confirmed = finance.post_form(
        uploaded.headers["Location"] + "/confirm",
        {},
        token_page=uploaded.headers["Location"],
        follow_redirects=True,
    )
    assert "4 new bank lines imported; 0 were there already." in _text(confirmed)
    again = _upload(finance, account_id, content)
    assert "4 imported before" in _text(finance.get(again.headers["Location"]))
    matched = finance.post_form("/reconcile/match", {}, token_page="/reconcile/", follow_redirects=True)
    page = _text(matched)
    assert "2 bank lines matched." in page
    assert f"reference {numbers[0]} in memo" in page and "450.00 equals what invoice" in page
    with app.app_context():
        lines = {line.serial: line.id for line in db.session.execute(sa.select(BankLine)).scalars()}
    split = f"/reconcile/lines/{lines['S2']}"
    short = finance.post_form(
        f"{split}/match-invoices",
        {
            "parts-0-invoice": numbers[1],
            "parts-0-amount": "300",
            "parts-1-invoice": numbers[2],
            "parts-1-amount": "100",
        },
        token_page=split,
    )
    assert short.status_code == 422 and "The parts add up to 400.00; the bank line is 500.00." in _text(short)
    assert f'value="{numbers[2]}"' in _text(short)
    done = finance.post_form(
        f"{split}/match-invoices",
        {
            "parts-0-invoice": numbers[1],
            "parts-0-amount": "300",
            "parts-1-invoice": numbers[2],
            "parts-1-amount": "200",
        },
        token_page=split,
        follow_redirects=True,
    )
    assert "matched by hand" in _text(done) and numbers[1] in _text(done) and numbers[2] in _text(done)
    charge = f"/reconcile/lines/{lines['S4']}"
    finance.post_form(f"{charge}/explain", {"note": "手续费", "post_as": "bank_charges"}, token_page=charge)
    check = _text(finance.get("/reconcile/periods/2026-11"))
    assert "Every check passes." in check
    closed = finance.post_form(
        "/reconcile/periods/2026-11/close", {}, token_page="/reconcile/periods/2026-11", follow_redirects=True
    )
    assert "2026-11 is closed." in _text(closed) and "2,138.00" in _text(closed)
    undo = f"/reconcile/lines/{lines['S1']}"
    refused = finance.post_form(f"{undo}/unmatch", {}, token_page=undo, follow_redirects=True)
    assert "2026-11 is closed: reopen it to change its bank lines." in _text(refused)
    auditor = login_as("auditor")
    assert auditor.get("/reconcile/lines").status_code == 200
    assert auditor.get("/reconcile/import").status_code == 403
    chinese = _text(login_as("finance").get("/reconcile/lines?status=matched"))
    assert "银行流水" in chinese and "备注中有" in chinese


def test_a_file_of_another_layout_comes_back_with_the_missing_columns(app, login_as):
    finance = login_as("finance")
    finance.get("/lang/en")
    finance.post_form("/reconcile/accounts/new", _mapping_form(), token_page="/reconcile/accounts/new")
    with app.app_context():
        account_id = db.session.execute(sa.select(BankAccount.id)).scalar_one()
    response = _upload(finance, account_id, b"Datum,Betrag\n2026-11-03,5\n")
    assert response.status_code == 422, _text(response).split("<main")[-1]
    assert "The file has no column “交易日期” (Date)" in _text(
        response
    ) and "Change the column mapping" in _text(response)
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count(BankLine.id))).scalar_one() == 0


def test_reopening_a_closed_month_takes_a_second_person(app, login_as):
    from reconcile_support import bank_account

    from formflow.auth.models import User
    from formflow.ledger import periods

    first, second = login_as("finance"), login_as("manager")
    with app.app_context():
        bank_account()
        closer = db.session.execute(sa.select(User).where(User.username == first.username)).scalar_one()
        periods.close("2026-10", facts={"bank_balance": "0.00", "ledger_balance": "0.00"}, actor=closer)
        db.session.commit()
    for client in (first, second):
        client.get("/lang/en")
    page = "/reconcile/periods/2026-10"
    empty = first.post_form(f"{page}/reopen-request", {"reason": ""}, token_page=page)
    assert empty.status_code == 422 and 'id="error-reason"' in _text(empty)
    asked = first.post_form(
        f"{page}/reopen-request", {"reason": "银行补记了一笔"}, token_page=page, follow_redirects=True
    )
    assert "waits for a second person's approval" in _text(asked) and "Approve reopening" not in _text(asked)
    own = first.post_form(f"{page}/reopen-approve", {}, token_page=page, follow_redirects=True)
    assert "not the one who asked" in _text(own)
    approved = second.post_form(f"{page}/reopen-approve", {}, token_page=page, follow_redirects=True)
    assert "2026-10 is open again." in _text(approved) and "Reopened on" in _text(approved)
