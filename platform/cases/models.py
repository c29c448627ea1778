"""The case and its attachments live in formflow.records.models (below the workflow engine,
which acts on them); the names stay importable from here."""

from formflow.records.models import Attachment, Case

__all__ = ["Attachment", "Case"]
