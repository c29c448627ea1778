"""The nodes of a form tree: what one field, group, row list or choice shows right now."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING", "__bool__": lambda self: False})()


@dataclass
class Option:
    token: str  # what the HTML <option value> / checkbox value carries
    label: str
    value: Any


@dataclass
class Node:
    pointer: str
    kind: str  # "object" | "array" | "field" | "choice"
    schema: dict
    ui: dict
    value: Any = MISSING
    title: str = ""
    help: str = ""
    description: str = ""
    required: bool = False
    children: list[Node] = field(default_factory=list)
    # fields
    type: str = "string"
    nullable: bool = False
    widget: str = "text"
    options: list[Option] = field(default_factory=list)
    multiple: bool = False  # an array of options edited as checkboxes / multi-select
    readonly: bool = False
    disabled: bool = False
    constant: Any = MISSING
    # arrays of rows
    min_items: int = 0
    max_items: int | None = None
    fixed_rows: int = 0  # prefixItems: rows that cannot be removed
    # choices between alternatives (anyOf / oneOf of objects)
    alternatives: list[str] = field(default_factory=list)
    selected: int = 0
    #: the form must be rebuilt when this field changes (it drives if/then, a dependency…)
    drives_layout: bool = False
    #: set from rule outcomes: hidden by a `visible` rule; its value computed by a rule
    hidden: bool = False
    computed: bool = False

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    @property
    def can_add(self) -> bool:
        return (
            self.kind == "array"
            and self.ui_option("addable", True)
            and (self.max_items is None or len(self.children) < self.max_items)
        )

    @property
    def can_remove(self) -> bool:
        return (
            self.kind == "array"
            and self.ui_option("removable", True)
            and len(self.children) > max(self.min_items, self.fixed_rows)
        )

    def ui_option(self, name: str, default: Any = None) -> Any:
        options = self.ui.get("ui:options")
        if isinstance(options, dict) and name in options:
            return options[name]
        return self.ui.get(f"ui:{name}", default)
