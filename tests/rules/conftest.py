"""Fixtures for the rules tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def en(app):
    """A request from a user who chose English (messages asserted in English)."""
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        yield
