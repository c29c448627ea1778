"""`formflow demo` imports and publishes every template in configs/, once."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from formflow.extensions import db
from formflow.processes import services
from formflow.processes.models import ProcessVersion

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _versions(app) -> list[tuple[str, int, str]]:
    with app.app_context():
        return [
            (version.process.key, version.number, version.status)
            for version in db.session.execute(sa.select(ProcessVersion).order_by(ProcessVersion.id)).scalars()
        ]


def test_demo_publishes_every_template_and_is_idempotent(app, cli):
    first = cli("demo")
    assert first.exit_code == 0, first.output
    keys = sorted(path.stem for path in CONFIGS.glob("*.json"))
    assert keys and "payment_registration" in keys
    after_first = _versions(app)
    assert sorted((key, 1, "published") for key in keys) == sorted(after_first)
    second = cli("demo")
    assert second.exit_code == 0 and "0 new records" in second.output
    assert _versions(app) == after_first


def test_demo_publishes_a_changed_template_as_a_new_version(app, cli, tmp_path):
    from formflow.demo import load_templates

    cli("demo")
    with app.app_context():
        spec = services.export_spec("payment_registration")
        spec["name"]["en"] = "Payments received"
        (tmp_path / "payment_registration.json").write_text(services.spec_text(spec), encoding="utf-8")
        assert load_templates(tmp_path, echo=lambda _line: None) == 1
        assert services.published_version("payment_registration").number == 2
        assert load_templates(tmp_path, echo=lambda _line: None) == 0


def test_payment_registration_template(app_ctx):
    spec = services.parse_spec_text((CONFIGS / "payment_registration.json").read_bytes())
    schema, ui = spec["form"]["schema"], spec["form"]["uiSchema"]
    assert spec["category"] == "payment"
    assert spec["name"] == {"zh-CN": "缴费登记", "en": "Payment registration"}
    assert schema["properties"]["amount"]["multipleOf"] == 0.01
    assert [option["const"] for option in schema["properties"]["method"]["oneOf"]] == [
        "bank_transfer",
        "online",
        "auto_debit",
    ]
    assert schema["then"] == {"required": ["bank_reference"]}
    assert ui["receipt"]["ui:widget"] == "file"
    assert ui["receipt"]["ui:options"] == {"accept": [".pdf", "image/*"], "maxSize": 5242880}
    assert {rule["kind"] for rule in spec["rules"]} == {"visible", "required", "validate", "compute"}
    assert len(spec["tests"]) >= 3 and services.run_spec_tests(spec) == []
    assert ui["ui:order"][0] == "amount"
    for name, field_ui in ui.items():
        if not name.startswith("ui:"):
            assert set(field_ui["ui:title"]) == {"zh-CN", "en"}, name
    states = spec["workflow"]["states"]
    assert states["confirm"]["not_initiator"] is True
    assert states["confirmed"]["on_enter"][0]["effect"] == "billing.register_payment"
