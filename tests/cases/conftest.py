"""Fixtures for the case tests: a published process, a customer, logged-in staff."""

from __future__ import annotations

import pytest
from cases.cases_support import new_customer, publish_process

from formflow.extensions import db


@pytest.fixture
def payment(app):
    """The key of a small published process with a number, a choice, an array and a file."""
    with app.app_context():
        publish_process("t_payment")
    return "t_payment"


@pytest.fixture
def customer(app):
    with app.app_context():
        new_customer("C100", "上海测试有限公司", "B")
    return "C100"


@pytest.fixture
def staff(login_as):
    return login_as("staff")


@pytest.fixture
def in_app(app):
    """Run a function inside a fresh app context and commit: in_app(lambda: ...)."""

    def run(function):
        with app.app_context():
            result = function()
            db.session.commit()
            return result

    return run
