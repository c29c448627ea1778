"""Importing, versioning, publishing and exporting processes through the service layer."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import sqlalchemy as sa

from formflow.audit.models import AuditEntry
from formflow.errors import Conflict, Invalid, NotFound
from formflow.extensions import db
from formflow.processes import services
from formflow.processes.models import Process, ProcessVersion


def _actions() -> list[str]:
    return list(db.session.execute(sa.select(AuditEntry.action).order_by(AuditEntry.seq)).scalars())


def _statuses(key: str) -> list[tuple[int, str]]:
    rows = db.session.execute(
        sa.select(ProcessVersion.number, ProcessVersion.status)
        .join(Process)
        .where(Process.key == key)
        .order_by(ProcessVersion.number)
    )
    return [tuple(row) for row in rows]


def _count(model) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def test_import_of_a_new_key_creates_the_process_and_draft_version_1(app_ctx, make_spec):
    spec = make_spec()
    result = services.import_spec(spec)
    assert (result.created_process, result.changed, result.action) == (True, True, "create")
    assert result.version.number == 1 and result.version.status == "draft"
    assert result.version.sha256 == services.spec_sha256(spec)
    assert (result.process.key, result.process.name_zh, result.process.name_en) == (
        "deduction",
        "客户扣款",
        "Customer deduction",
    )
    assert result.process.category == "deduction"
    assert _actions()[-2:] == ["process.create", "process_version.create"]


def test_import_keeps_the_property_order_as_given(app_ctx, make_spec):
    spec = make_spec()
    spec["form"]["schema"]["properties"] = {"zeta": {"type": "string"}, "alpha": {"type": "string"}}
    spec["form"]["uiSchema"] = {}
    services.import_spec(spec)
    db.session.expire_all()
    stored = services.latest_version("deduction").spec
    assert list(stored["form"]["schema"]["properties"]) == ["zeta", "alpha"]
    assert list(stored) == list(spec)


def test_importing_the_same_spec_again_changes_nothing(app_ctx, make_spec):
    services.import_spec(make_spec())
    audit_before = _count(AuditEntry)
    again = services.import_spec(json.loads(json.dumps(make_spec())))
    assert (again.created_process, again.changed, again.action) == (False, False, "unchanged")
    assert again.changes == []
    assert _statuses("deduction") == [(1, "draft")]
    assert _count(AuditEntry) == audit_before


def test_a_changed_spec_replaces_the_draft_in_place(app_ctx, make_spec):
    services.import_spec(make_spec())
    changed = make_spec(name={"zh-CN": "客户扣款（新）", "en": "Customer deduction"})
    result = services.import_spec(changed)
    assert (result.action, result.version.number, result.changed) == ("update_draft", 1, True)
    assert _statuses("deduction") == [(1, "draft")]
    assert services.latest_version("deduction").spec["name"]["zh-CN"] == "客户扣款（新）"
    # nothing published yet: the process shows the draft's names
    assert services.get_process("deduction").name_zh == "客户扣款（新）"
    assert any("客户扣款（新）" in change for change in result.changes)
    assert _actions()[-1] == "process_version.update"


def test_reordering_fields_is_a_change_even_though_the_hash_is_the_same(app_ctx, make_spec):
    services.import_spec(make_spec())
    spec = make_spec()
    properties = spec["form"]["schema"]["properties"]
    spec["form"]["schema"]["properties"] = dict(reversed(list(properties.items())))
    result = services.import_spec(spec)
    assert result.changed and result.action == "update_draft"
    assert result.version.sha256 == services.spec_sha256(make_spec())
    db.session.expire_all()
    stored = services.latest_version("deduction").spec
    assert list(stored["form"]["schema"]["properties"]) == ["reason", "amount"]


def test_after_publishing_a_change_becomes_a_new_draft(app_ctx, make_spec):
    services.import_spec(make_spec())
    services.publish("deduction")
    result = services.import_spec(make_spec(category="other"))
    assert (result.action, result.version.number) == ("new_version", 2)
    assert _statuses("deduction") == [(1, "published"), (2, "draft")]
    # the process keeps showing what is published until the draft is
    assert services.get_process("deduction").category == "deduction"
    services.publish("deduction")
    assert _statuses("deduction") == [(1, "retired"), (2, "published")]
    assert services.get_process("deduction").category == "other"


def test_publish_flips_exactly_one_version(app_ctx, make_spec):
    services.import_spec(make_spec())
    first = services.publish("deduction")
    assert first.status == "published" and first.published_at is not None
    for category in ("other", "payment"):
        services.import_spec(make_spec(category=category))
        services.publish("deduction")
    assert _statuses("deduction") == [(1, "retired"), (2, "retired"), (3, "published")]
    assert services.published_version("deduction").number == 3
    assert _actions()[-2:] == ["process_version.retire", "process_version.publish"]


def test_publish_conflicts(app_ctx, make_spec):
    with pytest.raises(NotFound):
        services.publish("nothing_here")
    services.import_spec(make_spec())
    with pytest.raises(Conflict):
        services.publish("deduction", expected_sha256="0" * 64)
    services.publish("deduction")
    with pytest.raises(Conflict):  # no draft left
        services.publish("deduction")
    with pytest.raises(Conflict):  # already published
        services.publish("deduction", number=1)
    with pytest.raises(NotFound):
        services.publish("deduction", number=7)


def test_publishing_a_retired_version_again_rolls_back(app_ctx, make_spec):
    services.import_spec(make_spec())
    services.publish("deduction")
    services.import_spec(make_spec(category="other"))
    services.publish("deduction")
    services.publish("deduction", number=1)
    assert _statuses("deduction") == [(1, "published"), (2, "retired")]
    assert services.get_process("deduction").category == "deduction"


def test_the_database_refuses_a_second_published_version(app_ctx, make_spec):
    services.import_spec(make_spec())
    services.publish("deduction")
    services.import_spec(make_spec(category="other"))
    draft = services.latest_version("deduction")
    draft.status = "published"
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.flush()


def test_publish_checks_the_spec_again(app_ctx, make_spec):
    services.import_spec(make_spec())
    draft = services.latest_version("deduction")
    broken = make_spec()
    broken["form"]["schema"] = {"type": 5}
    draft.spec = broken  # e.g. stored before the checks grew stricter
    db.session.flush()
    with pytest.raises(Invalid) as raised:
        services.publish("deduction")
    assert "/form/schema/type" in [error["pointer"] for error in raised.value.errors]
    assert _statuses("deduction") == [(1, "draft")]


def test_invalid_spec_writes_nothing(app_ctx, make_spec):
    processes, audit_entries = _count(Process), _count(AuditEntry)
    bad = make_spec(key="Bad Key")
    del bad["name"]
    with pytest.raises(Invalid) as raised:
        services.import_spec(bad)
    assert sorted(error["pointer"] for error in raised.value.errors) == ["", "/key"]
    assert (_count(Process), _count(AuditEntry)) == (processes, audit_entries)


def test_decimal_numbers_from_the_api_are_stored_as_plain_json(app_ctx, make_spec):
    spec = make_spec()
    spec["form"]["schema"]["properties"]["amount"]["multipleOf"] = Decimal("0.01")
    result = services.import_spec(spec)
    assert result.version.sha256 == services.spec_sha256(make_spec())
    assert services.import_spec(make_spec()).changed is False


def test_export_then_import_gives_the_same_sha256(app_ctx, make_spec):
    spec = make_spec(description={"zh-CN": "说明 “引号” \\ 反斜杠", "en": "Tabs\tand\nnewlines"})
    created = services.import_spec(spec).version
    exported = services.spec_text(services.export_spec("deduction"))
    reparsed = services.parse_spec_text(exported.encode("utf-8"))
    assert services.spec_sha256(reparsed) == created.sha256
    assert "说明" in exported  # ensure_ascii=False
    assert services.import_spec(reparsed).changed is False


def test_export_prefers_the_published_version(app_ctx, make_spec):
    services.import_spec(make_spec())
    services.publish("deduction")
    services.import_spec(make_spec(category="other"))
    assert services.export_spec("deduction")["category"] == "deduction"
    assert services.export_spec("deduction", 2)["category"] == "other"
    with pytest.raises(NotFound):
        services.export_spec("deduction", 3)
    with pytest.raises(NotFound):
        services.export_spec("missing")


def test_readers(app_ctx, make_spec):
    services.import_spec(make_spec())
    services.import_spec(make_spec(key="payment", category="payment"))
    with pytest.raises(NotFound):
        services.published_version("deduction")
    services.publish("payment")
    assert [(p.key, v.number) for p, v in services.published_processes()] == [("payment", 1)]
    assert services.version("deduction", 1).status == "draft"
    with pytest.raises(NotFound):
        services.get_process("nope")
    rows, next_key = services.page(size=1)
    assert [row.process.key for row in rows] == ["deduction"] and next_key == "deduction"
    assert (rows[0].published_number, rows[0].draft_number, rows[0].latest_number) == (None, 1, 1)
    rows, next_key = services.page(after_key="deduction", size=1)
    assert [(row.process.key, row.published_number, row.draft_number) for row in rows] == [
        ("payment", 1, None)
    ]
    assert next_key is None


def test_editing_a_published_process_makes_a_new_draft(app_ctx, make_spec):
    services.import_spec(make_spec())
    services.publish("deduction")
    result = services.new_draft_from_edit("deduction", make_spec(category="other"), actor=None)
    assert result.version.number == 2 and result.version.status == "draft"
    again = services.new_draft_from_edit("deduction", make_spec(category="payment"), actor=None)
    assert again.version.number == 2 and again.action == "update_draft"
    assert _statuses("deduction") == [(1, "published"), (2, "draft")]


def test_editing_cannot_change_the_key(english, make_spec):
    services.import_spec(make_spec())
    with pytest.raises(Invalid) as raised:
        services.new_draft_from_edit("deduction", make_spec(key="other_key"), actor=None)
    assert raised.value.errors[0]["pointer"] == "/key"
    with pytest.raises(NotFound):
        services.new_draft_from_edit("missing", make_spec(key="missing"), actor=None)


def test_the_actor_is_recorded(app, app_ctx, make_user, make_spec):
    from formflow.auth.services import get_user

    admin = get_user(make_user("process-admin", roles=["admin"]))
    result = services.import_spec(make_spec(), actor=admin)
    published = services.publish("deduction", actor=admin)
    assert result.process.created_by_id == admin.id
    assert result.version.created_by_id == admin.id and published.published_by_id == admin.id
    entries = db.session.execute(
        sa.select(AuditEntry).where(AuditEntry.action.like("process%")).order_by(AuditEntry.seq)
    ).scalars()
    assert {entry.actor_name for entry in entries} == {"process-admin"}
    [row] = services.history("deduction")
    assert row.created_by == row.published_by == "process-admin"


# --- preview: what an import would do -----------------------------------------------------


def test_preview_of_a_new_process(english, make_spec):
    summary = services.preview_import(make_spec())
    assert (summary.action, summary.version_number, summary.created_process) == ("create", 1, True)
    assert _count(Process) == 0


def test_preview_lists_field_changes_by_pointer(english, make_spec):
    services.import_spec(make_spec())
    services.publish("deduction")
    spec = make_spec(
        name={"zh-CN": "客户扣款", "en": "Deduction"},
        rules=[{"id": "r1", "kind": "visible", "field": "/amount", "when": True}],
    )
    spec["form"]["uiSchema"] = {}
    properties = spec["form"]["schema"]["properties"]
    del properties["reason"]
    properties["amount"]["maximum"] = 100
    properties["items"] = {
        "type": "array",
        "items": {"type": "object", "properties": {"due": {"type": "string", "title": "到期日"}}},
    }
    summary = services.preview_import(spec)
    assert (summary.action, summary.version_number, summary.base_number) == ("new_version", 2, 1)
    assert summary.changes == [
        "Name (en): Customer deduction → Deduction",
        "Field added: /items",
        "Field added: “到期日” (/items/-/due)",
        "Field removed: “原因” (/reason)",
        "Field “金额” (/amount): maximum — → 100",
        "Layout of field “原因” (/reason): widget textarea → —",
        "Rules: added r1",
    ]
    assert _statuses("deduction") == [(1, "published")]


def test_preview_of_an_identical_spec(english, make_spec):
    services.import_spec(make_spec())
    summary = services.preview_import(make_spec())
    assert summary.action == "unchanged" and not summary.changed and summary.changes == []


def test_preview_reports_required_and_order_changes(english, make_spec):
    services.import_spec(make_spec())
    spec = make_spec()
    schema = spec["form"]["schema"]
    schema["required"] = ["amount", "reason"]
    schema["properties"] = dict(reversed(list(schema["properties"].items())))
    changes = services.preview_import(spec).changes
    assert changes == ["Order of fields changed in /", "Field “原因” (/reason): now required"]


def test_preview_refuses_a_bad_spec(english, make_spec):
    with pytest.raises(Invalid):
        services.preview_import(make_spec(formflow=3))
