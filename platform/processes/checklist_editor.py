"""The checklist editor: a workflow state's checklist as rows an admin edits without JSON (id,
labels zh-CN/en, required yes / no / a condition, evidence required), added, removed and moved
with buttons (keys too), saved into the draft through the same checks as every save.

    rows = rows_of(spec, "execution")
    rows = moved(rows, "up", 2)
    spec = with_rows(spec, "execution", rows)   # Invalid: each problem at its row and column
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from formflow.errors import Invalid
from formflow.forms.pointers import join
from formflow.forms.texts import localized
from formflow.processes.editor_problems import whole_number

REQUIRED_CHOICES = ("yes", "no", "condition")
#: a row's columns, as pointers below the item name them
COLUMNS = ("id", "label_zh", "label_en", "required", "evidence")
#: most rows one checklist may have (the form's size stays bounded)
MAX_ROWS = 100


@dataclass(frozen=True)
class Row:
    id: str = ""
    label_zh: str = ""
    label_en: str = ""
    required: str = "yes"  # one of REQUIRED_CHOICES
    condition: str = ""  # JSONLogic text when required == "condition"
    evidence: bool = False


def states_with_checklists(spec: dict) -> list[tuple[str, str, int]]:
    """(state name, its title in the user's language, how many items) of every state that is
    not final."""
    states = (spec.get("workflow") or {}).get("states") or {}
    return [
        (name, localized(state.get("title")) or name, len(state.get("checklist") or []))
        for name, state in states.items()
        if isinstance(state, dict) and state.get("kind") != "final"
    ]


def state_of(spec: dict, name: str) -> dict | None:
    states = (spec.get("workflow") or {}).get("states") or {}
    state = states.get(name)
    return state if isinstance(state, dict) and state.get("kind") != "final" else None


def rows_of(spec: dict, state: str) -> list[Row]:
    items = (state_of(spec, state) or {}).get("checklist") or []
    return [_row(item) for item in items if isinstance(item, dict)]


def _row(item: dict) -> Row:
    label = item.get("label")
    zh, en = (
        (label.get("zh-CN", ""), label.get("en", "")) if isinstance(label, dict) else (str(label or ""), "")
    )
    required = item.get("required", False)
    if isinstance(required, bool):
        choice, condition = ("yes" if required else "no"), ""
    else:
        choice, condition = "condition", json.dumps(required, ensure_ascii=False)
    return Row(str(item.get("id", "")), zh, en, choice, condition, item.get("evidence") is True)


def rows_from_form(form) -> list[Row]:
    """The rows posted (items-N-…, N from 0 to count-1); missing fields are empty."""
    try:
        count = min(max(int(form.get("count", "0")), 0), MAX_ROWS)
    except ValueError:
        count = 0
    return [_posted_row(form, index) for index in range(count)]


def _posted_row(form, index: int) -> Row:
    def field(name: str) -> str:
        return (form.get(f"items-{index}-{name}") or "").strip()

    required = field("required")
    return Row(
        id=field("id"),
        label_zh=field("label_zh"),
        label_en=field("label_en"),
        required=required if required in REQUIRED_CHOICES else "yes",
        condition=field("condition"),
        evidence=bool(form.get(f"items-{index}-evidence")),
    )


def changed(rows: list[Row], command: str) -> list[Row]:
    """The rows after a button: "add", "remove:N", "up:N", "down:N" (anything else: unchanged)."""
    verb, _sep, where = command.partition(":")
    if verb == "add":
        return [*rows, Row()] if len(rows) < MAX_ROWS else rows
    try:
        index = int(where)
    except ValueError:
        return rows
    if not 0 <= index < len(rows):
        return rows
    if verb == "remove":
        return rows[:index] + rows[index + 1 :]
    target = index - 1 if verb == "up" else index + 1 if verb == "down" else None
    if target is None or not 0 <= target < len(rows):
        return rows
    moved = list(rows)
    moved[index], moved[target] = moved[target], moved[index]
    return moved


def with_rows(spec: dict, state: str, rows: list[Row], check) -> dict:
    """A copy of `spec` whose `state` has these rows as its checklist (none: no checklist).
    Invalid, with pointers below the state's checklist, for what the rows get wrong: a missing
    label or a condition that is no JSON, and what `check` (the spec's checks) finds, all at
    once so each row shows all its problems."""
    errors: list[dict] = []
    items = [_item(row, join(checklist_pointer(state), index), errors) for index, row in enumerate(rows)]
    edited = _with_items(spec, state, items)
    if errors:  # the spec's checks too, but not a second word on a cell already marked
        marked = tuple(error["pointer"].removesuffix("_zh") for error in errors)
        errors += [error for error in check(edited) if not error["pointer"].startswith(marked)]
        raise Invalid(errors)
    return edited


def _with_items(spec: dict, state: str, items: list[dict]) -> dict:
    edited = copy.deepcopy(spec)
    target = edited["workflow"]["states"][state]
    if items:
        target["checklist"] = items
    else:
        target.pop("checklist", None)
    return edited


def checklist_pointer(state: str) -> str:
    return join("/workflow/states", state, "checklist")


def _item(row: Row, at: str, errors: list[dict]) -> dict:
    item: dict[str, Any] = {"id": row.id}
    if not row.label_zh:
        errors.append({"pointer": join(at, "label_zh"), "message": _("Give the item a Chinese label.")})
    item["label"] = {"zh-CN": row.label_zh, **({"en": row.label_en} if row.label_en else {})}
    if row.required == "condition":
        try:
            item["required"] = json.loads(row.condition)
        except ValueError:
            message = _('The condition must be a JSONLogic rule, e.g. {"==": [{"var": "data.x"}, 1]}.')
            errors.append({"pointer": join(at, "required"), "message": message})
            item["required"] = True  # what the spec's checks see meanwhile
    else:
        item["required"] = row.required == "yes"
    if row.evidence:
        item["evidence"] = True
    return item


def errors_by_row(
    errors: list[dict], state: str, count: int
) -> tuple[dict[tuple[int, str], list[str]], list[dict]]:
    """The save's problems put where the admin sees them: {(row, column): [messages]} for those
    of one item (its id, label, required condition, evidence), the rest as they are."""
    at_rows: dict[tuple[int, str], list[str]] = {}
    rest = []
    base = checklist_pointer(state) + "/"
    for error in errors:
        pointer = error.get("pointer") or ""
        if pointer.startswith(base):
            index_text, _sep, below = pointer[len(base) :].partition("/")
            index = whole_number(index_text)
            if index is not None and index < count:
                column = {"label": "label_zh"}.get(below.split("/", 1)[0], below.split("/", 1)[0])
                key = (index, column if column in COLUMNS else "id")
                at_rows.setdefault(key, []).append(error["message"])
                continue
        rest.append(error)
    return at_rows, rest
