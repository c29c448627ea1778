"""Where an editor without JSON shows the problems of a save: each one below `base` on the
field of the form it names, the others above the form; and the editors' whole numbers read safely."""

from __future__ import annotations

import re
from collections.abc import Iterable

_WHOLE = re.compile(r"[0-9]{1,6}")


def whole_number(text: object) -> int | None:
    """A form's whole number (ASCII digits, at most six), else None: `"²".isdigit()` is true, and
    `int("9" * 5000)` raises, so neither reaches `int` from here."""
    return int(text) if isinstance(text, str) and _WHOLE.fullmatch(text) else None


def by_field(
    problems: Iterable[dict], base: str, fields: Iterable[str]
) -> tuple[dict[str, list[str]], list[dict]]:
    """({field: [messages]} for pointers `base` + field, [the other problems])."""
    known, at_fields, rest = set(fields), {}, []
    for problem in problems:
        pointer = problem.get("pointer") or ""
        field = pointer[len(base) :] if pointer.startswith(base) else ""
        if field in known:
            at_fields.setdefault(field, []).append(problem["message"])
        else:
            rest.append(problem)
    return at_fields, rest
