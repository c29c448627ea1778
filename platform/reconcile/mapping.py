"""A bank's statement layout: which column holds what (names as in the file's header row).

{"date": "交易日期", "amount": "交易金额"}             one signed amount column, or
{"date": "交易日期", "credit": "贷方发生额", "debit": "借方发生额"}   money in / money out,
and optional "counterparty", "counter_account", "serial" (the bank's unique serial number),
"reference", "memo", "balance"; "encoding" is "auto" (UTF-8, else GBK), "utf-8" or "gbk"."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from formflow.errors import Invalid

#: every column a mapping may name, with its label
FIELDS = {
    "date": _l("Date"),
    "amount": _l("Amount (signed)"),
    "credit": _l("Money in (credit)"),
    "debit": _l("Money out (debit)"),
    "counterparty": _l("Counterparty"),
    "counter_account": _l("Counterparty's account"),
    "serial": _l("Serial number"),
    "reference": _l("Reference"),
    "memo": _l("Memo"),
    "balance": _l("Balance"),
}
ENCODINGS = ("auto", "utf-8", "gbk")
MAX_NAME = 100


def field_label(field: str) -> str:
    return str(FIELDS.get(field, field))


def clean(raw: dict[str, Any]) -> dict[str, str]:
    """The mapping checked: Invalid (pointer /mapping/<field>) when it cannot read a statement."""
    problems: list[dict] = []
    mapping: dict[str, str] = {}
    for field in FIELDS:
        value = str(raw.get(field) or "").strip()
        if len(value) > MAX_NAME:
            problems.append({"pointer": f"/mapping/{field}", "message": _("The column name is too long.")})
        elif value:
            mapping[field] = value
    encoding = str(raw.get("encoding") or "auto").strip().lower()
    if encoding not in ENCODINGS:
        problems.append(
            {"pointer": "/mapping/encoding", "message": _("Unknown encoding “%(e)s”.", e=encoding)}
        )
    mapping["encoding"] = encoding
    if "date" not in mapping:
        problems.append({"pointer": "/mapping/date", "message": _("Name the column holding the date.")})
    has_amount, has_sides = "amount" in mapping, "credit" in mapping or "debit" in mapping
    if has_amount and has_sides:
        message = _("Name either one signed amount column or the money in / money out columns, not both.")
        problems.append({"pointer": "/mapping/amount", "message": message})
    elif not has_amount and not ("credit" in mapping and "debit" in mapping):
        message = _("Name the amount column, or both the money in and the money out columns.")
        problems.append({"pointer": "/mapping/amount", "message": message})
    names = [value for field, value in mapping.items() if field != "encoding"]
    for field, value in mapping.items():
        if field != "encoding" and names.count(value) > 1:
            message = _("The column “%(c)s” is named for two fields.", c=value)
            problems.append({"pointer": f"/mapping/{field}", "message": message})
    if problems:
        raise Invalid(problems)
    return mapping


def columns(mapping: dict[str, str]) -> dict[str, str]:
    """{field: column name} of the columns the mapping names (its encoding left out)."""
    return {field: name for field, name in mapping.items() if field in FIELDS}
