"""The one way the editors without JSON save: the edited spec becomes (or replaces) the draft,
as a revision from its editor, on top of the version the page opened — or the editor's page
comes back with the problems (422) or with who saved meanwhile (409), the input kept.

    return save_edit(key, lambda: editor.with_state_changed(...), source="workflow", base=base,
                     page=lambda problems, status: _page(..., problems, status),
                     saved=lambda number: redirect(...))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_login import current_user

from formflow.errors import Conflict, Invalid
from formflow.extensions import db
from formflow.processes import services


def save_edit(
    key: str,
    build: Callable[[], dict],
    *,
    source: str,
    base: str,
    page: Callable[[list[dict], int], Any],
    saved: Callable[[int], Any],
) -> Any:
    """`build()` gives the edited spec (Invalid for what is wrong); `page(problems, status)` is
    the editor again; `saved(draft number)` the answer after the commit."""
    try:
        result = services.new_draft_from_edit(
            key, build(), actor=current_user, source=source, expected_sha256=base
        )
    except Invalid as invalid:
        return page(invalid.errors, 422)
    except Conflict as conflict:
        return page([{"pointer": "", "message": conflict.message}], 409)
    db.session.commit()
    return saved(result.version.number)
