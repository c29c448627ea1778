"""The message of a failed validate rule: its `{name}` placeholders filled with its params' values."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from formflow.forms.pointers import join, split
from formflow.forms.texts import localized
from formflow.i18n import join_list
from formflow.processes.field_schemas import field_schema
from formflow.rules.engine import compile
from formflow.rules.errors import RuleError
from formflow.rules.operators import OperatorFailure, to_money

#: `{name}` in a validate rule's message: the value of its param `name`
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]{0,39})\}")


def placeholders(text: Any) -> list[str]:
    """The param names a message text (or each language of one) uses, in order."""
    texts = text.values() if isinstance(text, dict) else [text]
    found: list[str] = []
    for value in texts:
        for name in PLACEHOLDER.findall(value) if isinstance(value, str) else []:
            if name not in found:
                found.append(name)
    return found


def validate_message(rule: dict, context: Any, *, spec: dict, tables: dict, today: date | None = None) -> str:
    """A failed validate rule's message in the user's language, its `{name}`s filled with
    the values of its `params` (JSONLogic over the same context): a money value with two
    places and grouping ("超过 C 级客户单笔扣款上限 5,000.00 元")."""
    text = localized(rule.get("message"))
    if not text:
        return _("Rule “%(rule)s” is not met.", rule=rule.get("id"))
    params = rule.get("params") if isinstance(rule.get("params"), dict) else {}
    if not params or not PLACEHOLDER.search(text):
        return text
    values = {}
    for name, expression in params.items():
        try:
            value = compile(expression).evaluate(context, today=today, rule_id=rule.get("id"))
        except RuleError:
            value = None  # a param that fails shows as "—"; the rule's verdict stands
        values[name] = param_text(value, money=is_money(expression, spec, tables, rule.get("field", "")))
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), text)


def param_text(value: Any, *, money: bool = False) -> str:
    """A param's value in a message (the browser's rules.js writes them the same way)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        if money or isinstance(value, Decimal):
            try:
                return f"{to_money(value):,}"
            except OperatorFailure:
                return str(value)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    if isinstance(value, list):
        return join_list(param_text(item) for item in value)
    return str(value)


def is_money(expression: Any, spec: dict, tables: dict, field: str = "") -> bool:
    """Whether a param reads an amount: a money column of a table, a money field of the
    form, or the `money` operator."""
    if not isinstance(expression, dict) or len(expression) != 1:
        return False
    ((operator, arguments),) = expression.items()
    if operator == "money":
        return True
    if operator == "lookup" and isinstance(arguments, list) and len(arguments) == 3:
        table = tables.get(arguments[0]) if isinstance(arguments[0], str) else None
        return isinstance(table, dict) and (table.get("types") or {}).get(arguments[2]) == "money"
    if operator == "var":
        path = arguments[0] if isinstance(arguments, list) and arguments else arguments
        if not isinstance(path, str) or not path.startswith(("data.", "row.")):
            return False
        tokens = path.split(".")[1:]
        if path.startswith("row."):  # a field of the row the rule's field is in
            rule_tokens = split(field) if field else []
            if "*" not in rule_tokens:
                return False
            tokens = rule_tokens[: len(rule_tokens) - rule_tokens[::-1].index("*")] + tokens
        schema = (spec.get("form") or {}).get("schema") or {}
        target = field_schema(schema, join("", *tokens))
        return "multipleOf" in target and Decimal(str(target["multipleOf"])) == Decimal("0.01")
    return False
