"""Fixtures for the forms tests: a request context in each language."""

from __future__ import annotations

import pytest


@pytest.fixture
def zh(app):
    """A request in the default language (zh-CN, no cookie)."""
    with app.test_request_context():
        yield


@pytest.fixture
def en(app):
    """A request from a user who chose English."""
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        yield
