"""Processes described as data: versioned specs, templates, import/export/check/publish."""
