"""The fee plan editor's form: a plan's names, policy and items as form fields
(`items-0-amount`), read back into a plan definition for plans.save_plan, whose problems
(`/items/0/amount`) then stand next to their inputs."""

from __future__ import annotations

from collections.abc import Mapping

#: item rows the editor offers (a plan has at most 20; these cover what plans hold)
ROWS = 6
ITEM_FIELDS = (
    "id",
    "title_zh",
    "title_en",
    "when",
    "frequency",
    "prorate",
    "amount_kind",
    "amount",
    "table",
    "column",
)


def rows_of(definition: dict | None) -> list[dict]:
    """The editor's rows for a plan definition (its items, then empty rows)."""
    rows = []
    for item in (definition or {}).get("items", []):
        amount = item.get("amount")
        by_table = isinstance(amount, dict)
        rows.append(
            {
                "id": item.get("id", ""),
                "title_zh": (item.get("title") or {}).get("zh-CN", ""),
                "title_en": (item.get("title") or {}).get("en", ""),
                "when": item.get("when", "period"),
                "frequency": item.get("frequency", ""),
                "prorate": bool(item.get("prorate")),
                "amount_kind": "table" if by_table else "fixed",
                "amount": "" if by_table else str(amount or ""),
                "table": amount.get("table", "") if by_table else "",
                "column": amount.get("column", "") if by_table else "",
            }
        )
    wanted = min(max(ROWS, len(rows) + 1), 20)
    while len(rows) < wanted:
        rows.append({"when": "period", "amount_kind": "fixed"})
    return rows


def definition_from(form: Mapping[str, str]) -> tuple[dict, list[int]]:
    """The plan definition the form says (rows left empty are not items), and the row each
    item came from."""
    items, rows = [], []
    for index in range(20):
        get = lambda name, index=index: (form.get(f"items-{index}-{name}") or "").strip()  # noqa: E731
        if not get("id") and not get("title_zh") and not get("amount") and not get("table"):
            continue
        item: dict = {
            "id": get("id"),
            "title": {"zh-CN": get("title_zh"), "en": get("title_en")},
            "when": get("when") or "period",
        }
        if item["when"] == "period":
            if get("frequency"):
                item["frequency"] = get("frequency")
            if form.get(f"items-{index}-prorate"):
                item["prorate"] = True
        if get("amount_kind") == "table":
            item["amount"] = {"table": get("table"), "column": get("column")}
        else:
            item["amount"] = get("amount")
        items.append(item)
        rows.append(index)
    definition: dict = {"items": items, "short": form.get("short") or "partial"}
    due = (form.get("due_days") or "").strip()
    if due:
        definition["due_days"] = int(due) if due.isascii() and due.isdigit() and len(due) < 4 else due
    return definition, rows


def on_rows(problems: list[dict], rows: list[int]) -> dict[str, str]:
    """{pointer: message}, an item's pointer (/items/2/amount) turned into its row's
    (/items/4/amount) so each message stands at the input it is about."""
    found = {}
    for problem in problems:
        pointer = problem["pointer"]
        parts = pointer.split("/")
        if len(parts) > 2 and parts[1] == "items" and parts[2].isdigit() and int(parts[2]) < len(rows):
            parts[2] = str(rows[int(parts[2])])
            field = parts[3] if len(parts) > 3 else ""
            pointer = "/".join(parts[:3] + ([{"title": "title"}.get(field, field)] if field else []))
        found.setdefault(pointer, problem["message"])
    return found


def form_rows(form: Mapping[str, str]) -> list[dict]:
    """The rows as they were posted (what was typed stays, in its place)."""
    rows = []
    for index in range(max(ROWS, _posted_rows(form))):
        row = {name: (form.get(f"items-{index}-{name}") or "") for name in ITEM_FIELDS}
        row["prorate"] = bool(form.get(f"items-{index}-prorate"))
        row["when"] = row["when"] or "period"
        row["amount_kind"] = row["amount_kind"] or "fixed"
        rows.append(row)
    return rows


def _posted_rows(form: Mapping[str, str]) -> int:
    numbers = [
        int(key.split("-")[1]) for key in form if key.startswith("items-") and key.split("-")[1].isdigit()
    ]
    return min(max(numbers, default=-1) + 1, 20)
