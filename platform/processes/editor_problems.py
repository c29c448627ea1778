"""Where an editor without JSON shows the problems of a save: each one below `base` on the
field of the form it names, the others above the form."""

from __future__ import annotations

from collections.abc import Iterable


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
