"""Fixtures for the peer suites: a request context (validation messages are translated)."""

from __future__ import annotations

import pytest


@pytest.fixture
def zh(app):
    with app.test_request_context():
        yield
