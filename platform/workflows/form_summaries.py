"""What the inbox shows of a version's form: the amount (its first top-level money field) and
the fields marked as deciding."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from formflow.forms import columns
from formflow.processes.models import ProcessVersion


def form_schemas(version: ProcessVersion) -> tuple[dict, dict]:
    form = (version.spec or {}).get("form") or {}
    return form.get("schema") or {}, form.get("uiSchema") or {}


@dataclass(frozen=True)
class FormSummary:
    """What the inbox shows of a version's form: its first top-level money field (the
    amount) and the fields it marks as deciding (`"ui:options": {"summary": true}`)."""

    money: str | None = None  # the money field's top-level name
    money_title: str = ""
    marked: frozenset[str] = frozenset()  # pointers

    def amount_of(self, data) -> Decimal | None:
        value = data.get(self.money) if self.money and isinstance(data, dict) else None
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            return None
        return Decimal(value)


def form_summary(version: ProcessVersion) -> FormSummary:
    fields = columns(*form_schemas(version))
    money = next((column for column in fields if column.money), None)
    return FormSummary(
        money=money.name if money else None,
        money_title=money.title if money else "",
        marked=frozenset(column.pointer for column in fields if column.summary),
    )
