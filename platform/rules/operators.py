"""Formflow's own JSONLogic operators, in a registry. Each declares its arity and argument
types, so `check` can refuse a wrong call with a pointer before a rule ever runs.

They run inside datalogic-py as callbacks (JSON text in, JSON text out) and read the
evaluation's parameter tables and clock from context variables set by `engine.evaluating`."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from formflow.i18n import business_zone
from formflow.rules import jsontext as exactjson

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Operator:
    name: str
    function: Callable[..., Any]
    min_args: int
    max_args: int
    #: per position: "string", "number", "date", "duration" or "any" (checked on literals)
    arg_types: tuple[str, ...] = ()
    description: str = ""


OPERATORS: dict[str, Operator] = {}

#: The parameter tables a rule may `lookup` (name -> {"keyColumn", "columns", "rows"}).
current_tables: ContextVar[dict[str, dict] | None] = ContextVar("formflow_rule_tables", default=None)
#: "Today" for date operators (the business date; tests and what-if replays set it).
current_today: ContextVar[date | None] = ContextVar("formflow_rule_today", default=None)


class OperatorFailure(Exception):
    """An operator refused its arguments; the message says why (becomes a RuleError)."""


def operator(name: str, *, min_args: int, max_args: int, arg_types: tuple[str, ...] = (), description=""):
    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        OPERATORS[name] = Operator(name, function, min_args, max_args, arg_types, description)
        return function

    return register


@contextlib.contextmanager
def bound(tables: dict[str, dict] | None = None, today: date | None = None) -> Iterator[None]:
    """The clock (and tables, for direct calls of `lookup`) for the operators of the
    evaluations inside this block."""
    tables_token = current_tables.set(tables or {})
    today_token = current_today.set(today)
    try:
        yield
    finally:
        current_tables.reset(tables_token)
        current_today.reset(today_token)


def callback(entry: Operator) -> Callable[[str], str]:
    """The function datalogic-py calls: evaluated arguments as a JSON array, result as JSON."""

    def call(arguments_json: str) -> str:
        arguments = exactjson.loads(arguments_json)
        if not isinstance(arguments, list):
            arguments = [arguments]
        if not entry.min_args <= len(arguments) <= entry.max_args:
            raise OperatorFailure(f"{entry.name} takes {entry.min_args}..{entry.max_args} arguments")
        return exactjson.dumps(entry.function(*arguments))

    return call


# --- parameter tables ----------------------------------------------------------------


@operator(
    "lookup",
    min_args=3,
    max_args=3,
    arg_types=("string", "any", "string"),
    description="lookup(table, key, column): the cell of the row whose key column equals key",
)
def lookup(table: str, key: Any, column: str) -> Any:
    found = (current_tables.get() or {}).get(table)
    if found is None:
        raise OperatorFailure(f"no parameter table {table!r}")
    columns = list(found.get("columns") or [])
    if column not in columns:
        raise OperatorFailure(f"table {table!r} has no column {column!r}")
    key_index = columns.index(found.get("keyColumn") or columns[0])
    index = columns.index(column)
    for row in found.get("rows") or []:
        if _same_key(row[key_index], key):
            return row[index]
    return None


def _same_key(cell: Any, key: Any) -> bool:
    if isinstance(cell, int | float | Decimal) and isinstance(key, int | float | Decimal):
        return Decimal(str(cell)) == Decimal(str(key))
    return cell == key


# --- dates ---------------------------------------------------------------------------


def business_today() -> date:
    fixed = current_today.get()
    if fixed is not None:
        return fixed
    return datetime.now(business_zone()).date()


def as_date(value: Any) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise OperatorFailure(f"not a date (YYYY-MM-DD): {value!r}")


_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


def date_duration(text: Any) -> tuple[int, int] | None:
    """An ISO 8601 duration of years/months/weeks/days as (calendar months, days), or None
    when `text` is not one. `add_duration` runs on it and `check` refuses literals with it."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match or text == "P":
        return None
    years, months, weeks, days = (int(part or 0) for part in match.groups())
    return years * 12 + months, weeks * 7 + days


def add_months(day: date, months: int) -> date:
    """Calendar months; the 31st plus one month is the last day of a shorter month."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, candidate))
        except ValueError:
            continue
    raise OperatorFailure("date out of range")  # pragma: no cover


@operator("today", min_args=0, max_args=0, description="today(): the business date, YYYY-MM-DD")
def today() -> str:
    return business_today().isoformat()


@operator(
    "days_between",
    min_args=2,
    max_args=2,
    arg_types=("date", "date"),
    description="days_between(a, b): whole days from a to b (negative when b is earlier)",
)
def days_between(start: Any, end: Any) -> int:
    return (as_date(end) - as_date(start)).days


@operator(
    "add_duration",
    min_args=2,
    max_args=2,
    arg_types=("date", "duration"),
    description="add_duration(date, 'P1M15D'): the date after an ISO 8601 duration",
)
def add_duration(start: Any, duration: Any) -> str:
    parsed = date_duration(duration)
    if parsed is None:
        raise OperatorFailure(f"not an ISO 8601 duration of days/weeks/months/years: {duration!r}")
    months, days = parsed
    return (add_months(as_date(start), months) + timedelta(days=days)).isoformat()


@operator(
    "date_before",
    min_args=2,
    max_args=2,
    arg_types=("date", "date"),
    description="date_before(a, b): a is earlier than b",
)
def date_before(first: Any, second: Any) -> bool:
    return as_date(first) < as_date(second)


@operator(
    "date_after",
    min_args=2,
    max_args=2,
    arg_types=("date", "date"),
    description="date_after(a, b): a is later than b",
)
def date_after(first: Any, second: Any) -> bool:
    return as_date(first) > as_date(second)


# --- money ---------------------------------------------------------------------------


def to_money(value: Any) -> Decimal:
    """A number as an amount: the decimal it was written as, rounded half-up to 0.01."""
    if isinstance(value, bool) or value is None:
        raise OperatorFailure(f"not an amount: {value!r}")
    try:
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except InvalidOperation as error:
        raise OperatorFailure(f"not an amount: {value!r}") from error
    if not amount.is_finite():
        raise OperatorFailure(f"not an amount: {value!r}")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@operator(
    "money", min_args=1, max_args=1, arg_types=("number",), description="money(x): x rounded half-up to 0.01"
)
def money(value: Any) -> Decimal:
    return to_money(value)


@operator(
    "money_text",
    min_args=1,
    max_args=1,
    arg_types=("number",),
    description="money_text(x): x rounded half-up to 0.01, as text with both decimals (800 → 800.00)",
)
def money_text(value: Any) -> str:
    amount = to_money(value)
    return f"{amount.copy_abs() if amount.is_zero() else amount:.2f}"  # never "-0.00"
