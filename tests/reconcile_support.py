"""Shared set-up of the reconciliation tests: a bank account with a Chinese bank's layout, customers
owing invoices, and statement files written as banks write them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from formflow.billing import invoices
from formflow.customers import services as customers
from formflow.ledger import services as ledger
from formflow.reconcile import importing

#: a mainland bank's export: money in and money out in two columns, a running balance
MAPPING = {
    "date": "交易日期", "credit": "贷方金额", "debit": "借方金额", "counterparty": "对方户名",
    "counter_account": "对方账号", "serial": "流水号", "memo": "摘要", "balance": "余额",
}  # fmt: skip
HEADER = ["交易日期", "流水号", "借方金额", "贷方金额", "余额", "对方户名", "对方账号", "摘要"]


def bank_account(actor=None, name="工商银行 基本户", mapping=None):
    return importing.save_account(None, name, "ICBC", "6222 0000 1234", mapping or MAPPING, actor=actor)


def owing(code: str, name: str, *amounts: str, issued: date = date(2026, 11, 1)):
    """A customer owing one invoice per amount (posted to their receivable first)."""
    customer = customers.create(code, name, "B")
    total = sum((Decimal(a) for a in amounts), Decimal("0"))
    ledger.post(
        "management_fee",
        [
            ledger.Line(ledger.customer_account(customer, "receivable"), total),
            ledger.Line(ledger.system_account("revenue_management_fee"), -total),
        ],
        key=f"owed:{code}",
    )
    issued_ones = [
        invoices.issue(customer, [invoices.Item("管理费", Decimal(a))], issue_date=issued) for a in amounts
    ]
    return customer, issued_ones


def csv_bytes(rows: list[list[str]], *, encoding="utf-8", preamble=True) -> bytes:
    lines = []
    if preamble:
        lines += ["账号:6222 0000 1234,,,,,,,", "起止日期:2026-11-01 至 2026-11-30,,,,,,,"]
    lines.append(",".join(HEADER))
    for row in rows:
        lines.append(",".join(f'"{cell}"' if "," in cell else cell for cell in row))
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def row(day, serial, amount_in="", amount_out="", balance="", who="", account="", memo=""):
    return [day, serial, amount_out, amount_in, balance, who, account, memo]
