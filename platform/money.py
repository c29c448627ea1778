"""Money: exact amounts with two decimals, in Python (Decimal) and in the database.

PostgreSQL stores NUMERIC(18,2) exactly. SQLite has no exact decimal: a NUMERIC column keeps
a value as a float, and `balance + :amount` in SQL is float arithmetic. So on SQLite the
`Money` column type stores whole cents as an INTEGER (exact to 9.2e16 units, beyond the
10^15 an amount may be), and the conditional balance UPDATE and the SUMs stay exact."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import BigInteger, Numeric
from sqlalchemy.types import TypeDecorator

from formflow.errors import Invalid

CENT = Decimal("0.01")
#: the largest amount one posting may move (and below NUMERIC(18,2)'s 10^16)
MAX_AMOUNT = Decimal(10) ** 15


class Money(TypeDecorator):
    """NUMERIC(18,2) as Decimal; whole cents in an INTEGER on SQLite."""

    impl = Numeric(18, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(18, 2, asdecimal=True))

    def process_bind_param(self, value: Any, dialect) -> Any:
        if value is None:
            return None
        amount = Decimal(value) if not isinstance(value, Decimal) else value
        if dialect.name == "sqlite":
            return int(amount.scaleb(2).to_integral_value())
        return amount

    def process_result_value(self, value: Any, dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-2)
        return Decimal(value).quantize(CENT)


def amount(value: Any, *, pointer: str = "/amount", positive: bool = True) -> Decimal:
    """`value` (a number or its text) as an exact amount, or Invalid at `pointer`: not a
    number, NaN or infinite, more than two decimals, zero or negative (when `positive`), or
    above 10^15."""
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()):
        raise Invalid([{"pointer": pointer, "message": _("The amount must be a number.")}])
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise Invalid([{"pointer": pointer, "message": _("The amount must be a number.")}]) from None
    if not number.is_finite():
        raise Invalid([{"pointer": pointer, "message": _("The amount must be a finite number.")}])
    if abs(number) > MAX_AMOUNT:
        raise Invalid([{"pointer": pointer, "message": _("The amount must not be above 10^15.")}])
    if number != number.quantize(CENT, rounding=ROUND_HALF_UP):
        raise Invalid([{"pointer": pointer, "message": _("The amount has at most two decimals.")}])
    if positive and number <= 0:
        raise Invalid([{"pointer": pointer, "message": _("The amount must be above zero.")}])
    return number.quantize(CENT)
