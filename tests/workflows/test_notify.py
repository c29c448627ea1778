"""The notify effect: recipients, zh-CN/en rendering in the sandbox, customer notice
documents with their sections, and e-mail through a local SMTP sink."""

from __future__ import annotations

import email
from datetime import timedelta
from email import policy

import pytest
import sqlalchemy as sa
from workflows.effects_support import new_case, publish_with, smtp_sink, walk, world

from formflow import notices
from formflow.audit.models import AuditEntry
from formflow.errors import Invalid
from formflow.extensions import db, utcnow
from formflow.workflows import notify
from formflow.workflows.models import NoticeDocument, Notification


@pytest.fixture
def people(app_ctx):
    return world()


def _notifications(case) -> list[Notification]:
    return list(
        db.session.execute(
            sa.select(Notification).where(Notification.case_id == case.id).order_by(Notification.id)
        ).scalars()
    )


def _run(people, to, template="review_needed", data=None, **extra):
    publish_with({"executed": {"on_enter": [{"effect": "notify", "to": to, "template": template, **extra}]}})
    case = new_case(people["staff"], data)
    walk(case, "executed", people["staff"])
    return case


# --- recipients -----------------------------------------------------------------------------------


def test_a_role_notifies_each_active_holder(people):
    case = _run(people, {"role": "finance"})
    rows = _notifications(case)
    holders = sorted([people["fin1"].id, people["fin2"].id])  # the inactive holder gets nothing
    assert sorted(r.user_id for r in rows) == holders
    assert {r.role for r in rows} == {"finance"}
    assert rows[0].subject == f"案件 {case.id} 待审核"
    assert rows[0].body == "客户 华东测试有限公司（FX100）扣款 3,000.00 元。"
    assert all(r.read_at is None and r.emailed_at is None for r in rows)


def test_a_role_nobody_holds_gets_one_row_for_the_role(people):
    case = _run(people, {"role": "risk"})
    [row] = _notifications(case)
    assert (row.user_id, row.role) == (None, "risk")


@pytest.mark.parametrize(
    ("to", "who"),
    [({"user": "fx-manager"}, "manager"), ("initiator", "staff"), ({"field": "/reviewer"}, "fin1")],
)
def test_a_user_the_initiator_or_a_user_named_in_the_data(people, to, who):
    case = _run(people, to, data={"amount": 10, "reviewer": "fx-fin1"})
    [row] = _notifications(case)
    assert row.user_id == people[who].id and row.role is None


@pytest.mark.parametrize(
    ("to", "pointer"), [({"user": "fx-ghost"}, "/to/user"), ({"field": "/reviewer"}, "/to/field")]
)
def test_nobody_to_notify_fails_the_action(people, to, pointer):
    with pytest.raises(Invalid) as refused:
        _run(people, to, data={"amount": 10})
    assert refused.value.errors[0]["pointer"].endswith(pointer)
    db.session.rollback()


# --- languages and the sandbox --------------------------------------------------------------------


def test_english_when_configured(people):
    case = _run(people, "initiator", language="en")
    [row] = _notifications(case)
    assert row.subject == f"Case {case.id} needs review"
    assert row.body == "华东测试有限公司 (FX100): deduction of 3,000.00."


def test_the_language_may_come_from_a_rule(people):
    language = {"if": [{"==": [{"var": "data.language"}, "en"]}, "en", "zh-CN"]}
    english = _run(people, "initiator", data={"amount": 1, "language": "en"}, language=language)
    assert _notifications(english)[0].subject.startswith("Case ")
    chinese = new_case(people["staff"], {"amount": 1})
    walk(chinese, "executed", people["staff"])
    assert _notifications(chinese)[0].subject.startswith("案件 ")


VALUES = {
    "case": {"id": 7},
    "data": {"amount": "12.5", "items": [1, 2]},
    "customer": {"name": "甲"},
    "process": {},
}


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ data.__class__.__init__.__globals__ }}",
        "{{ case.id.__class__.__bases__ }}",
        "{{ data.items.__func__ }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ lipsum.__globals__['os'].popen('id').read() }}",
        "{{ self._TemplateReference__context }}",
        "{{ config }}{{ request }}",
        "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    ],
)
def test_the_sandbox_blocks_attribute_tricks(app_ctx, source):
    try:
        rendered = notices.render_text(source, VALUES)
    except Invalid:
        return
    for leak in ("class", "module", "function", "built-in", "uid=", "Config", "Request", "method"):
        assert leak not in rendered


@pytest.mark.parametrize(
    "source",
    [
        "{{ data.clear() }}",  # no changing the case through a template
        "{{ data['items'].append(3) }}",
        "{{ range(10 ** 9) }}",
        "{% for i in range(100000) %}xxxxxxxx{% endfor %}",  # bounded output
        "{{ case.id() }}",
        "{{ 1 / 0 }}",
        "{% macro again() %}{{ again() }}{% endmacro %}{{ again() }}",
    ],
)
def test_the_sandbox_refuses_mutation_and_runaways(app_ctx, source):
    values = {**VALUES, "data": {"amount": "1", "items": [1, 2]}}
    with pytest.raises(Invalid):
        notices.render_text(source, values)
    assert values["data"] == {"amount": "1", "items": [1, 2]}


def test_missing_placeholders_render_empty_and_money_formats(app_ctx):
    assert notices.render_text("[{{ data.nothing.deeper }}]{{ data.amount|money }}", VALUES) == "[]12.50"


def test_broken_templates_are_reported_with_pointers(app_ctx):
    problems = notices.check_notices(
        {
            "notices": {
                "ok": {"subject": "s {{ case.id }}", "body": {"zh-CN": "b", "en": "b"}},
                "broken": {"subject": {"zh-CN": "{{ case.id ", "fr": "x"}, "sections": {"moral": "x"}},
            }
        }
    )
    pointers = sorted(p["pointer"] for p in problems)
    assert pointers == [
        "/workflow/notices/broken/body",
        "/workflow/notices/broken/sections/moral",
        "/workflow/notices/broken/subject/fr",
        "/workflow/notices/broken/subject/zh-CN",
    ]


# --- customer notices -----------------------------------------------------------------------------


def test_a_customer_notice_is_a_document_with_headed_sections(people):
    case = _run(people, "customer", template="deduction_notice")
    assert _notifications(case) == []
    [document] = db.session.execute(
        sa.select(NoticeDocument).where(NoticeDocument.case_id == case.id)
    ).scalars()
    assert document.language == "zh-CN" and document.template == "deduction_notice"
    assert document.title == f"扣款通知（案件 {case.id}）"
    assert document.body == (
        "尊敬的华东测试有限公司：\n\n理由\n原因：quality\n\n金额\n扣款金额：3,000.00 元\n\n"
        "您的权利\n您有权查阅证据。\n\n如何申诉\n请在 7 日内提出异议。\n\n联系方式\n客服：400-000-0000"
    )
    [entry] = [
        e
        for e in db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "case.effect")).scalars()
        if e.object_id == str(case.id)
    ]
    assert entry.after["outcome"]["document"] == document.id


def test_a_customer_notice_in_english(people):
    case = _run(people, "customer", template="deduction_notice", language="en")
    document = db.session.execute(
        sa.select(NoticeDocument).where(NoticeDocument.case_id == case.id)
    ).scalar_one()
    assert document.language == "en" and document.title == f"Deduction notice (case {case.id})"
    headed = ("Reasons\nReason: quality", "Amounts\nAmount: CNY 3,000.00", "Your rights", "How to appeal")
    for heading in (*headed, "Contact\nService desk"):
        assert heading in document.body


# --- e-mail ----------------------------------------------------------------------------------------


@pytest.fixture
def smtp(app, monkeypatch):
    with smtp_sink() as sink:
        monkeypatch.setitem(app.config, "SMTP_HOST", sink.host)
        monkeypatch.setitem(app.config, "SMTP_PORT", sink.port)
        monkeypatch.setitem(app.config, "SMTP_FROM", "formflow@example.test")
        yield sink


def _parsed(message: dict):
    return email.message_from_bytes(message["data"], policy=policy.default)


def test_notifications_are_emailed_by_tick_once(people, smtp):
    case = _run(people, {"role": "finance"})
    report = notify.send_pending_emails(utcnow())
    assert (report.sent, report.failed) == (1, 0)  # fin2 has no address, the inactive holder got nothing
    [message] = smtp.messages
    assert message["to"] == ["fin1@example.test"]
    parsed = _parsed(message)
    assert parsed["Subject"] == f"案件 {case.id} 待审核" and parsed["From"] == "formflow@example.test"
    assert (
        parsed.get_body(("plain",)).get_content().strip()
        == "客户 华东测试有限公司（FX100）扣款 3,000.00 元。"
    )
    assert (
        "<p>客户 华东测试有限公司（FX100）扣款 3,000.00 元。</p>" in parsed.get_body(("html",)).get_content()
    )
    mine = next(r for r in _notifications(case) if r.user_id == people["fin1"].id)
    assert mine.emailed_at is not None
    assert notify.send_pending_emails(utcnow()).sent == 0
    assert len(smtp.messages) == 1


def test_html_part_escapes_what_the_data_says(app_ctx):
    html = notify.html_body("<script>alert(1)</script>\nline two\n\nnext")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "line two" in html and "<br>" in html and html.count("<p>") == 2


def test_a_refused_recipient_is_retried_on_the_next_tick(people, smtp):
    _run(people, {"role": "finance"})
    smtp.refuse.add("fin1@example.test")
    assert notify.send_pending_emails(utcnow()).failed == 1
    smtp.refuse.clear()
    assert notify.send_pending_emails(utcnow()).sent == 1


def test_an_unreachable_server_leaves_everything_pending(people, app, monkeypatch):
    from workflows.effects_support import free_port

    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", free_port())
    case = _run(people, {"role": "finance"})
    report = notify.send_pending_emails(utcnow())
    assert (report.sent, report.failed) == (0, 1)
    assert all(r.emailed_at is None for r in _notifications(case))


def test_without_smtp_nothing_is_sent_and_old_notifications_never_are(people, app, smtp, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_HOST", None)
    _run(people, "initiator")
    assert notify.send_pending_emails().skipped
    monkeypatch.setitem(app.config, "SMTP_HOST", smtp.host)
    later = utcnow() + notify.EMAIL_MAX_AGE + timedelta(minutes=1)
    assert notify.send_pending_emails(later).sent == 0 and smtp.messages == []
    assert notify.send_pending_emails(utcnow()).sent == 1
