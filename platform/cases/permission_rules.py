"""Who may read a case or one of its attachments: the `cases.read` object rule, registered in
formflow.auth.permissions (which knows no case) when the app factory imports this module."""

from __future__ import annotations

from formflow.auth.permissions import object_rule
from formflow.cases.models import Attachment
from formflow.cases.visibility import can_read


@object_rule("cases.read")
def case_reader(user, obj) -> bool:
    """Who reads a case: formflow.cases.visibility; an attachment follows its case, and one
    not yet on a case is its uploader's alone."""
    if isinstance(obj, Attachment):
        return obj.uploaded_by_id == user.id if obj.case_id is None else can_read(user, obj.case)
    return can_read(user, obj)
