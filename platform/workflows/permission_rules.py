"""Who may edit a case's data: the `cases.edit` object rule, registered in
formflow.auth.permissions (which knows no workflow) when the app factory imports this module."""

from __future__ import annotations

from formflow.auth.permissions import object_rule
from formflow.workflows.engine import may_edit


@object_rule("cases.edit")
def case_editor(user, case) -> bool:
    """A case's data changes at a form step, by whom the step is for (the workflow says)."""
    return may_edit(case, user)
