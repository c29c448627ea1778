"""Fixtures for processes: spec factories and an English request context for messages."""

from __future__ import annotations

import copy

import pytest

BASE_SPEC = {
    "formflow": 1,
    "key": "deduction",
    "category": "deduction",
    "name": {"zh-CN": "客户扣款", "en": "Customer deduction"},
    "form": {
        "schema": {
            "type": "object",
            "required": ["amount"],
            "properties": {
                "amount": {"type": "number", "title": "金额", "multipleOf": 0.01, "exclusiveMinimum": 0},
                "reason": {"type": "string", "title": "原因"},
            },
        },
        "uiSchema": {"reason": {"ui:widget": "textarea"}},
    },
    "tests": [],
}


@pytest.fixture
def make_spec():
    """make_spec(key="x", **overrides) -> a fresh valid spec (deep copy) with members replaced."""

    def factory(**overrides) -> dict:
        spec = copy.deepcopy(BASE_SPEC)
        spec.update(copy.deepcopy(overrides))
        return spec

    return factory


@pytest.fixture
def english(app):
    """An app + request context whose messages are in English (the lang cookie)."""
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        yield


@pytest.fixture
def publish_config(app):
    """publish_config("offboarding") -> imports configs/offboarding.json and publishes it."""
    import json
    from pathlib import Path

    from formflow.extensions import db
    from formflow.processes import services

    configs = Path(__file__).resolve().parents[2] / "configs"

    def publish(name: str) -> None:
        with app.app_context():
            services.import_spec(json.loads((configs / f"{name}.json").read_text(encoding="utf-8")))
            services.publish(name)
            db.session.commit()

    return publish
