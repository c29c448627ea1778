"""The template gallery: the process templates shipped in configs/ (FORMFLOW_CONFIGS_DIR) as
cards — name, category, description and what each contains — a preview, and an import under a
key of one's own (the semantic diff first when the key is taken)."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from formflow.errors import DomainError, Invalid, NotFound
from formflow.forms.texts import localized
from formflow.processes import services
from formflow.processes.models import CATEGORY_LABELS

#: a template's name in the URL: its file name without .json
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,79}")
KEY = re.compile(r"[a-z][a-z0-9_]{1,79}")


@dataclass(frozen=True)
class Contents:
    fields: list[str]  # field labels, in form order
    rules: int
    tables: list[str]
    states: list[str]
    checklist_items: int
    approvals: int  # approval states
    tests: int


@dataclass(frozen=True)
class Template:
    slug: str
    spec: dict
    contents: Contents
    problem: str = ""  # why the file cannot be offered (a broken template)
    name: str = field(default="")
    description: str = field(default="")

    @property
    def key(self) -> str:
        return str(self.spec.get("key", ""))

    @property
    def category_label(self) -> str:
        category = self.spec.get("category")
        return str(CATEGORY_LABELS.get(category, category or ""))


def _folder() -> Path:
    return Path(current_app.config["CONFIGS_DIR"])


def templates() -> list[Template]:
    """Every template, by file name; one that cannot be read is listed with its problem."""
    return [_read(path) for path in sorted(_folder().glob("*.json")) if _SLUG.fullmatch(path.stem)]


def template(slug: str) -> Template:
    path = _folder() / f"{slug}.json"
    if not _SLUG.fullmatch(slug) or not path.is_file():
        raise NotFound(_("The gallery has no template “%(name)s”.", name=slug))
    return _read(path)


def _read(path: Path) -> Template:
    try:
        spec = services.parse_spec_text(path.read_bytes(), filename=path.name)
        spec = services.ensure_valid(spec)
    except DomainError as error:
        first = (error.errors or [{"message": error.message}])[0]
        return Template(path.stem, {}, contents_of({}), problem=str(first.get("message", "")))
    name, description = localized(spec.get("name")), localized(spec.get("description"))
    return Template(path.stem, spec, contents_of(spec), name=name, description=description)


def contents_of(spec: dict) -> Contents:
    schema = (spec.get("form") or {}).get("schema") or {}
    properties = schema.get("properties") or {}
    states = ((spec.get("workflow") or {}).get("states")) or {}
    return Contents(
        fields=[localized(definition.get("title")) or name for name, definition in properties.items()],
        rules=len(spec.get("rules") or []),
        tables=[localized(table.get("name")) or table.get("key", "") for table in spec.get("tables") or []],
        states=[localized(state.get("title")) or name for name, state in states.items()],
        checklist_items=sum(len(state.get("checklist") or []) for state in states.values()),
        approvals=sum(1 for state in states.values() if state.get("kind") == "approval"),
        tests=len(spec.get("tests") or []),
    )


def under_key(found: Template, key: str) -> dict:
    """The template's spec with `key`; Invalid at /key when it is no valid key."""
    key = (key or "").strip()
    if not KEY.fullmatch(key):
        message = _("Use 2 to 80 characters: a lowercase letter, then lowercase letters, digits or _.")
        raise Invalid([{"pointer": "/key", "message": message}])
    spec = copy.deepcopy(found.spec)
    spec["key"] = key
    return spec


def preview(found: Template, key: str) -> services.ImportSummary:
    """What importing the template as `key` would do (create, or the changes to that process)."""
    return services.preview_import(under_key(found, key))


def import_template(found: Template, key: str, *, actor=None, expected_sha256: str | None = None):
    """Import the template as `key`: a new process (draft version 1), or a new draft of the
    process that has the key — only when `expected_sha256` is the version the admin reviewed."""
    spec = under_key(found, key)
    existing = services.find_process(key)
    if existing is not None and expected_sha256 is None:
        raise Invalid(
            [{"pointer": "/key", "message": _("A process has this key: review the changes first.")}]
        )
    return services.import_spec(spec, actor=actor, source="gallery", expected_sha256=expected_sha256)
