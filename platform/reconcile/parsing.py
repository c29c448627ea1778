"""Reading a bank's statement file (CSV in UTF-8 or GBK, or XLSX) through its mapping: each row
a `StatementRow`, or a problem naming the row and the column.

The header row is found among the first rows (banks put the account and the period above it):
the first row holding every column the mapping names. Amounts may carry thousands separators
and currency signs, and a negative may be written -12.50, (12.50) or 12.50-."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _

from formflow.errors import Invalid
from formflow.money import CENT, MAX_AMOUNT
from formflow.reconcile.mapping import columns, field_label

#: how far down the header row may be
HEADER_SEARCH = 30
MAX_ROWS = 200_000
#: the oldest statement date accepted, and how far ahead of today
EARLIEST = date(2000, 1, 1)
AHEAD = timedelta(days=31)
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日", "%d/%m/%Y")
_CURRENCY = re.compile(r"[¥￥$,\s]|CNY|RMB|元", re.IGNORECASE)
_TEXT_LIMITS = {"counterparty": 200, "counter_account": 60, "serial": 100, "reference": 200, "memo": 500}


@dataclass(frozen=True)
class StatementRow:
    row_number: int
    booked_on: date
    amount: Decimal
    counterparty: str = ""
    counter_account: str = ""
    serial: str = ""
    reference: str = ""
    memo: str = ""
    balance: Decimal | None = None


@dataclass
class Parsed:
    rows: list[StatementRow]
    problems: list[dict]
    header: list[str]


def read(content: bytes, mapping: dict[str, str], *, filename: str = "", today: date | None = None) -> Parsed:
    """Every row of the file through `mapping`; Invalid (nothing read) when the file itself
    cannot be read or its header lacks a mapped column."""
    table = _table(content, mapping.get("encoding", "auto"), filename)
    wanted = columns(mapping)
    header_at, header = _header(table, wanted)
    index = {name: header.index(name) for name in set(wanted.values())}
    limit = (today or date.today()) + AHEAD
    rows, problems = [], []
    for offset, cells in enumerate(table[header_at + 1 :], start=1):
        if not any(_text(cell) for cell in cells):
            continue
        if len(rows) + len(problems) >= MAX_ROWS:
            raise Invalid(
                [{"pointer": "/file", "message": _("A statement holds at most %(n)d rows.", n=MAX_ROWS)}]
            )
        found = _row(offset, cells, wanted, index, limit)
        (problems.extend if isinstance(found, list) else rows.append)(found)
    return Parsed(rows, problems, header)


def _table(content: bytes, encoding: str, filename: str) -> list[list[Any]]:
    if content.startswith(b"PK\x03\x04"):
        return _xlsx(content)
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        message = _("This is an old Excel file (.xls): save it as XLSX or CSV and import that.")
        raise Invalid([{"pointer": "/file", "message": message}])
    if not content.strip():
        raise Invalid([{"pointer": "/file", "message": _("The file is empty.")}])
    text = _decoded(content, encoding)
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;|")
    except csv.Error:
        dialect = csv.excel
    return [list(row) for row in csv.reader(io.StringIO(text, newline=""), dialect)]


def _decoded(content: bytes, encoding: str) -> str:
    tried = (
        ("utf-8-sig", "gb18030")
        if encoding == "auto"
        else ("utf-8-sig" if encoding == "utf-8" else "gb18030",)
    )
    for name in tried:
        try:
            return content.decode(name)
        except UnicodeDecodeError:
            continue
    message = _("The file is not text in %(enc)s: choose its encoding in the bank's mapping.", enc=encoding)
    raise Invalid([{"pointer": "/mapping/encoding", "message": message}])


def _xlsx(content: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged file
        raise Invalid([{"pointer": "/file", "message": _("The XLSX file cannot be read.")}]) from None
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _header(table: list[list[Any]], wanted: dict[str, str]) -> tuple[int, list[str]]:
    names = set(wanted.values())
    best: tuple[int, list[str]] | None = None
    for at, cells in enumerate(table[:HEADER_SEARCH]):
        header = [_text(cell) for cell in cells]
        if names <= set(header):
            return at, header
        if best is None or len(names & set(header)) > len(names & set(best[1])):
            best = (at, header)
    seen = [name for name in (best[1] if best else []) if name]
    problems = [
        {
            "pointer": f"/mapping/{field}",
            "message": _(
                "The file has no column “%(c)s” (%(f)s). Its header: %(h)s",
                c=name,
                f=field_label(field),
                h=", ".join(seen[:20]) or _("none found"),
            ),
        }
        for field, name in wanted.items()
        if not best or name not in best[1]
    ]
    raise Invalid(problems)


def _row(offset, cells, wanted, index, limit) -> StatementRow | list[dict]:
    problems: list[dict] = []

    def cell(field: str) -> Any:
        name = wanted.get(field)
        if name is None:
            return None
        at = index[name]
        return cells[at] if at < len(cells) else None

    def problem(field: str, message: str) -> None:
        problems.append({"pointer": f"/rows/{offset}/{field}", "row": offset, "message": message})

    day = _date(cell("date"))
    if day is None:
        problem("date", _("Row %(n)d: “%(v)s” is not a date.", n=offset, v=_text(cell("date"))))
    elif not EARLIEST <= day <= limit:
        problem("date", _("Row %(n)d: the date %(d)s is out of range.", n=offset, d=day.isoformat()))
    if "amount" in wanted:
        amount = _amount(cell("amount"))
        if amount is None:
            problem("amount", _("Row %(n)d: “%(v)s” is not an amount.", n=offset, v=_text(cell("amount"))))
    else:
        credit, debit = _amount(cell("credit"), blank=True), _amount(cell("debit"), blank=True)
        amount = None
        if credit is None:
            problem("credit", _("Row %(n)d: “%(v)s” is not an amount.", n=offset, v=_text(cell("credit"))))
        if debit is None:
            problem("debit", _("Row %(n)d: “%(v)s” is not an amount.", n=offset, v=_text(cell("debit"))))
        if credit is not None and debit is not None:
            amount = credit - abs(debit)
    if amount is not None and amount == 0:
        problem("amount", _("Row %(n)d: the amount is zero.", n=offset))
    balance = None
    if "balance" in wanted and _text(cell("balance")):
        balance = _amount(cell("balance"))
        if balance is None:
            problem("balance", _("Row %(n)d: “%(v)s” is not an amount.", n=offset, v=_text(cell("balance"))))
    texts = {}
    for field, limit_chars in _TEXT_LIMITS.items():
        value = _text(cell(field))
        if len(value) > limit_chars:
            problem(
                field,
                _("Row %(n)d: the text is too long (%(m)d characters at most).", n=offset, m=limit_chars),
            )
        texts[field] = value
    if problems:
        return problems
    return StatementRow(offset, day, amount, balance=balance, **texts)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if not text:
        return None
    text = text.split(" ")[0].split("T")[0]
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _amount(value: Any, *, blank: bool = False) -> Decimal | None:
    """A money value as written by banks; `blank`: an empty cell is 0.00 (debit/credit columns)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        text = repr(value) if isinstance(value, float) else str(value)
    else:
        text = _text(value)
    if not text or text in ("-", "--"):
        return Decimal("0.00") if blank else None
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    elif text.endswith("-"):
        negative, text = True, text[:-1]
    text = _CURRENCY.sub("", text)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    if not amount.is_finite() or abs(amount) > MAX_AMOUNT or amount != amount.quantize(CENT):
        return None
    amount = amount.quantize(CENT)
    return -amount if negative else amount


def dedupe_keys(rows: list[StatementRow]) -> Iterator[str]:
    """Each row's key: the bank's serial number, else date+amount+reference and the how-manyth
    such row of the file it is (two identical payments on one day are two lines)."""
    seen: dict[tuple, int] = {}
    for row in rows:
        if row.serial:
            yield f"serial:{row.serial}"
            continue
        identity = (row.booked_on.isoformat(), str(row.amount), row.reference or row.memo)
        seen[identity] = seen.get(identity, 0) + 1
        yield "|".join((*identity, str(seen[identity])))[:300]
