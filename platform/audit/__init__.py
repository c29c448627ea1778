"""Append-only, hash-chained audit log. Every write in Formflow calls `record`."""

from formflow.audit.services import record, verify

__all__ = ["record", "verify"]
