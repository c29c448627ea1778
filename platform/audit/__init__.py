"""Append-only, hash-chained audit log. Every write in Formflow calls `record`."""

from formflow.audit.services import Anchor, current_anchor, parse_anchor, record, verify

__all__ = ["Anchor", "current_anchor", "parse_anchor", "record", "verify"]
