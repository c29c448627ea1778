"""Customer self-service: staff make and revoke links (audited); a token that is expired,
tampered, revoked or unknown opens a plain page with nothing of the customer; requests are
rate-limited; each section shows the link's customer's own data and never another's; the
statement downloads as PDF and XLSX; zh-CN and en; a dispute or an appeal starts a case staff
can open, and bad input writes nothing."""

from __future__ import annotations

import io
import re
import time
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from werkzeug.datastructures import FileStorage

from formflow.audit.models import AuditEntry
from formflow.auth import services as auth
from formflow.cases import services as cases
from formflow.cases import uploads
from formflow.customers import services as customers
from formflow.demo import load_demo
from formflow.extensions import db, utcnow
from formflow.ledger import services as ledger
from formflow.processes.models import Process
from formflow.records.models import Case
from formflow.selfservice import links
from formflow.selfservice.models import SelfServiceLink
from formflow.workflows import engine

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _deduction(code: str, amount: str):
    staff = auth.find_user("staff")
    upload = FileStorage(
        io.BytesIO(b"%PDF-1.4\n1 0 obj<<>>endobj\n"), "单据.pdf", content_type="application/pdf"
    )
    data = {
        "reason": "quality",
        "amount": Decimal(amount),
        "incident_date": "2026-11-20",
        "evidence": uploads.store_upload("/evidence", upload, {}, actor=staff),
    }
    case = cases.start("deduction", code, data, submit=True, actor=staff)
    engine.perform(case, "approve", auth.find_user("finance"))
    assert case.state == "executed"
    return case


def _offboarding(code: str):
    data = {
        "criteria": ["late_payments"],
        "late_payment_count": 3,
        "details": "连续三个月逾期未缴",
        "contact": "张经理",
    }
    case = cases.start("offboarding", code, data, submit=True, actor=auth.find_user("staff"))
    assert case.state == "preliminary_notice"
    return case


@pytest.fixture
def world(app):
    """C001 with a top-up, a deduction (its notice) and an offboarding notice; C002 with a
    deduction of its own; a link for C001."""
    with app.app_context():
        load_demo(echo=lambda _line: None)
        mine, other = customers.get_by_code("C001"), customers.get_by_code("C002")
        ledger.post_for_customer(mine, "top_up", Decimal("500.00"), key="ss-seed-1")
        ledger.post_for_customer(other, "top_up", Decimal("900.00"), key="ss-seed-2")
        deduction = _deduction("C001", "80.00")
        foreign = _deduction("C002", "66.00")
        offboarding = _offboarding("C001")
        link = links.create(mine, 30, actor=auth.find_user("staff"), note="微信发给王经理")
        token = links.token_for(link)
        db.session.commit()
        return {
            "token": token,
            "link": link.id,
            "deduction": deduction.id,
            "foreign": foreign.id,
            "offboarding": offboarding.id,
            "mine": (mine.code, mine.name),
            "other": (other.code, other.name),
        }


def _csrf(client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return _CSRF.search(page.get_data(as_text=True)).group(1)


def _count(app, process_key: str) -> int:
    with app.app_context():
        return db.session.execute(
            sa.select(sa.func.count()).select_from(Case).join(Process).where(Process.key == process_key)
        ).scalar_one()


# --- links: made, revoked, audited --------------------------------------------------------------


def test_staff_make_a_link_see_it_and_revoke_it_and_both_are_audited(app, login_as):
    with app.app_context():
        customers.create("S001", "自助测试公司", "B")
        db.session.commit()
    staff = login_as("staff")
    token = _csrf(staff, "/customers/S001")
    made = staff.post(
        "/customers/S001/self-service-links", data={"days": "7", "note": "短信", "csrf_token": token}
    )
    assert made.status_code == 302
    with app.app_context():
        link = db.session.execute(sa.select(SelfServiceLink)).scalars().all()[-1]
        assert link.customer.code == "S001" and link.note == "短信"
        assert timedelta(days=6, hours=23) < link.expires_at - link.created_at <= timedelta(days=7)
        url_token = links.token_for(link)
        link_id = link.id
    page = staff.get("/customers/S001").get_data(as_text=True)
    assert f'data-testid="link-url-{link_id}"' in page and "短信" in page
    assert staff.get(f"/s/{url_token}").status_code == 200

    revoked = staff.post(f"/customers/S001/self-service-links/{link_id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 302
    assert staff.get(f"/s/{url_token}").status_code == 410
    page = staff.get("/customers/S001").get_data(as_text=True)
    assert f'data-testid="link-url-{link_id}"' not in page  # a revoked link's URL is not offered
    with app.app_context():
        actions = (
            db.session.execute(
                sa.select(AuditEntry.action).where(
                    AuditEntry.object_type == "self_service_link", AuditEntry.object_id == str(link_id)
                )
            )
            .scalars()
            .all()
        )
        assert actions == ["selfservice.link_create", "selfservice.link_revoke"]


def test_a_wrong_expiry_or_another_customers_link_is_refused_and_nothing_is_written(app, login_as):
    with app.app_context():
        customers.create("S001", "自助测试公司", "B")
        other = customers.create("S002", "另一家", "B")
        foreign = links.create(other, 30, actor=None)
        db.session.commit()
        before = db.session.execute(sa.select(sa.func.count()).select_from(SelfServiceLink)).scalar_one()
        foreign_id = foreign.id
    staff = login_as("staff")
    token = _csrf(staff, "/customers/S001")
    staff.post("/customers/S001/self-service-links", data={"days": "1000", "csrf_token": token})
    page = staff.get("/customers/S001").get_data(as_text=True)
    assert "Choose how long the link works" in page or "选择链接的有效期" in page
    staff.post(f"/customers/S001/self-service-links/{foreign_id}/revoke", data={"csrf_token": token})
    with app.app_context():
        assert (
            db.session.execute(sa.select(sa.func.count()).select_from(SelfServiceLink)).scalar_one() == before
        )
        assert db.session.get(SelfServiceLink, foreign_id).revoked_at is None


def test_who_may_not_manage_links_neither_sees_nor_makes_them(app, login_as):
    with app.app_context():
        customers.create("S001", "自助测试公司", "B")
        db.session.commit()
    risk = login_as("risk")
    assert 'data-testid="self-service-links"' not in risk.get("/customers/S001").get_data(as_text=True)
    token = _csrf(risk, "/customers/S001")
    assert risk.post("/customers/S001/self-service-links", data={"csrf_token": token}).status_code == 403


# --- tokens that open nothing -------------------------------------------------------------------


def _assert_plain(response, world, status: int, words: tuple[str, ...]):
    html = response.get_data(as_text=True)
    assert response.status_code == status
    code, name = world["mine"]
    assert code not in html and name not in html
    assert "/customers" not in html and "/cases" not in html and "/auth/login" not in html
    assert any(word in html for word in words), html


def test_expired_tampered_revoked_and_unknown_tokens_get_a_plain_page(app, client, world):
    good = world["token"]
    tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    _assert_plain(client.get(f"/s/{tampered}"), world, 404, ("链接无效", "not valid"))
    _assert_plain(client.get("/s/not-a-token"), world, 404, ("链接无效", "not valid"))
    with app.app_context():
        ghost = SelfServiceLink(id=987654, nonce="gone", customer_id=1, expires_at=utcnow())
        ghost_token = links.token_for(ghost)  # signed, but names no row
        link = db.session.get(SelfServiceLink, world["link"])
        wrong_nonce = links.token_for(
            SelfServiceLink(id=link.id, nonce="guessed", customer_id=1, expires_at=utcnow())
        )
    _assert_plain(client.get(f"/s/{ghost_token}"), world, 404, ("链接无效", "not valid"))
    _assert_plain(client.get(f"/s/{wrong_nonce}"), world, 404, ("链接无效", "not valid"))

    with app.app_context():
        link = db.session.get(SelfServiceLink, world["link"])
        link.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    _assert_plain(client.get(f"/s/{good}"), world, 410, ("链接已过期", "has expired"))
    _assert_plain(client.get(f"/s/{good}/statement?format=pdf"), world, 410, ("链接已过期", "has expired"))

    with app.app_context():
        link = db.session.get(SelfServiceLink, world["link"])
        link.expires_at = utcnow() + timedelta(days=1)
        links.revoke(link, actor=None)
        db.session.commit()
    _assert_plain(client.get(f"/s/{good}"), world, 410, ("链接已失效", "no longer valid"))


def test_a_token_older_than_the_longest_expiry_is_expired_whatever_its_row_says(app, client, world):
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    class SignedLongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - links.MAX_AGE.total_seconds() - 86400)

    with app.app_context():
        link = db.session.get(SelfServiceLink, world["link"])
        link.expires_at = utcnow() + timedelta(days=3650)
        db.session.commit()
        old = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="self-service", signer=SignedLongAgo)
        token = old.dumps([link.id, link.nonce])
    _assert_plain(client.get(f"/s/{token}"), world, 410, ("链接已过期", "has expired"))


def test_opening_notes_when_and_how_often(app, client, world):
    assert client.get(f"/s/{world['token']}").status_code == 200
    assert client.get(f"/s/{world['token']}/entries").status_code == 200
    with app.app_context():
        link = db.session.get(SelfServiceLink, world["link"])
        assert link.opened_count == 2 and link.last_opened_at is not None


# --- rate limits ---------------------------------------------------------------------------------


def test_a_link_opened_too_often_gets_a_plain_429_and_the_address_too(app, client, world):
    app.config["SELF_SERVICE_MAX_PER_LINK"] = 3
    try:
        codes = [client.get(f"/s/{world['token']}").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        busy = client.get(f"/s/{world['token']}/statement?format=xlsx")
        assert busy.status_code == 429 and busy.headers["Retry-After"].isdigit()
        assert world["mine"][1] not in busy.get_data(as_text=True)
    finally:
        app.config["SELF_SERVICE_MAX_PER_LINK"] = 60
    app.config["SELF_SERVICE_MAX_PER_ADDRESS"] = 2
    try:  # guessing tokens from one address counts too
        codes = [
            client.get(f"/s/guess-{n}", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code
            for n in range(3)
        ]
        assert codes == [404, 404, 429]
        elsewhere = client.get(f"/s/{world['token']}", environ_base={"REMOTE_ADDR": "198.51.100.1"})
        assert elsewhere.status_code == 200
    finally:
        app.config["SELF_SERVICE_MAX_PER_ADDRESS"] = 120


# --- what the pages show: the customer's own, never another's ---------------------------------


def test_every_section_shows_the_customers_own_data_and_none_of_another(app, client, world):
    home = client.get(f"/s/{world['token']}")
    html = home.get_data(as_text=True)
    assert home.status_code == 200 and home.headers["Cache-Control"] == "no-store"
    assert '<meta name="viewport"' in html and "<script" not in html and "style=" not in html
    code, name = world["mine"]
    other_code, other_name = world["other"]
    assert name in html and code in html
    assert other_name not in html and other_code not in html
    assert "420.00" in html  # 500.00 topped up, 80.00 deducted
    assert "900.00" not in html and "66.00" not in html  # C002's top-up and deduction
    assert f'data-testid="dispute-{world["deduction"]}"' in html
    assert f'dispute-{world["foreign"]}"' not in html
    assert (
        "连续三个月逾期未缴" in html and "联系人：张经理" in html
    )  # the offboarding notice's reasons, contact
    assert "扣款通知" in html  # the deduction notice
    assert 'data-testid="appeal-' in html
    assert "/customers/" not in html and "/cases/" not in html  # nothing links into the staff app

    entries = client.get(f"/s/{world['token']}/entries").get_data(as_text=True)
    assert "+500.00" in entries and "-80.00" in entries and "900.00" not in entries
    # another customer's deduction cannot be picked for a dispute through this link
    page = client.get(f"/s/{world['token']}/dispute?deduction_case={world['foreign']}").get_data(as_text=True)
    assert f'value="{world["foreign"]}"' not in page and f'value="{world["deduction"]}"' in page


def test_invoices_and_instalments_and_reminders_of_the_customer(app, client, world):
    from datetime import date

    from formflow.billing import instalments, invoices
    from formflow.billing.models import Reminder

    with app.app_context():
        mine, other = customers.get_by_code("C001"), customers.get_by_code("C002")
        invoice = invoices.issue(
            mine, [invoices.Item("管理费 2026-11", Decimal("300.00"))], issue_date=date(2026, 11, 1)
        )
        theirs = invoices.issue(
            other, [invoices.Item("管理费", Decimal("777.00"))], issue_date=date(2026, 11, 1)
        )
        instalments.propose(
            invoice, [(date(2026, 11, 15), Decimal("100.00")), (date(2026, 12, 15), Decimal("200.00"))],
            actor=auth.find_user("finance"),
        )  # fmt: skip
        db.session.add(
            Reminder(target=f"invoice:{invoice.id}", offset_days=3, invoice_id=invoice.id,
                     customer_id=mine.id, title="缴费提醒 " + invoice.number, body="请于到期日前缴费。")
        )  # fmt: skip
        db.session.commit()
        number, other_number = invoice.number, theirs.number
    html = client.get(f"/s/{world['token']}").get_data(as_text=True)
    assert number in html and other_number not in html and "777.00" not in html
    assert f'data-testid="instalments-{number}"' in html and "2026-12-15" in html and "200.00" in html
    assert "缴费提醒 " + number in html and "请于到期日前缴费。" in html


def test_the_statement_downloads_as_pdf_and_xlsx_with_the_customers_entries(app, client, world):
    from formflow.ledger.statements import current_period

    with app.app_context():
        period = current_period()
    base = f"/s/{world['token']}/statement?account=prepaid&period={period}"
    page = client.get(base)
    assert page.status_code == 200 and 'data-testid="download-pdf"' in page.get_data(as_text=True)
    pdf = client.get(base + "&format=pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert (
        "attachment" in pdf.headers["Content-Disposition"]
        and "C001" not in pdf.headers["Content-Disposition"]
    )
    xlsx = client.get(base + "&format=xlsx")
    assert xlsx.status_code == 200
    cells = [
        str(c) for row in load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True) for c in row
    ]
    text = " ".join(cells)
    assert "500" in text and "80" in text and "900" not in text

    bad = client.get(f"/s/{world['token']}/statement?period=2026-13")
    assert bad.status_code == 422 and ("2026-11" in bad.get_data(as_text=True))


@pytest.mark.parametrize(
    ("cookie", "words", "absent"),
    [(None, ("余额", "对账单", "对此扣款提出申诉"), "Balances"),
     ("en", ("Balances", "Statements", "Dispute this deduction"), "余额")],
)  # fmt: skip
def test_both_languages(app, client, world, cookie, words, absent):
    if cookie:
        client.set_cookie("lang", cookie)
    html = client.get(f"/s/{world['token']}").get_data(as_text=True)
    for word in words:
        assert word in html
    assert f">{absent}<" not in html


def test_the_language_switch_works_without_a_login_and_comes_back(app, client, world):
    html = client.get(f"/s/{world['token']}").get_data(as_text=True)
    switch = re.search(r'href="([^"]+)"[^>]*data-testid="language-en"', html).group(1).replace("&amp;", "&")
    back = client.get(switch)
    assert back.status_code == 302 and back.headers["Location"].startswith(f"/s/{world['token']}")
    assert "Balances" in client.get(back.headers["Location"]).get_data(as_text=True)


# --- disputes and appeals ------------------------------------------------------------------------


def test_a_dispute_starts_a_case_staff_see_and_a_second_is_refused(app, client, world, login_as):
    url = f"/s/{world['token']}/dispute?deduction_case={world['deduction']}"
    token = _csrf(client, url)
    said = "货物验收合格，扣款无依据。"
    sent = client.post(
        url, data={"deduction_case": str(world["deduction"]), "customer_statement": said, "csrf_token": token}
    )
    assert sent.status_code == 303
    with app.app_context():
        dispute = (
            db.session.execute(sa.select(Case).join(Process).where(Process.key == "deduction_dispute"))
            .scalars()
            .all()[-1]
        )
        assert dispute.customer.code == "C001" and dispute.created_by_id is None
        assert dispute.data["deduction_case"] == world["deduction"]
        assert Decimal(str(dispute.data["amount"])) == Decimal("80.00")
        assert dispute.data["customer_statement"] == said
        created = db.session.execute(
            sa.select(AuditEntry).where(
                AuditEntry.action == "case.create", AuditEntry.object_id == str(dispute.id)
            )
        ).scalar_one()
        assert created.after["self_service_link"] == world["link"]
        dispute_id = dispute.id
    filed = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert f"#{dispute_id}" in filed and 'data-testid="filed"' in filed

    staff = login_as("staff")
    assert staff.get(f"/cases/{dispute_id}").status_code == 200
    assert f"/cases/{dispute_id}" in staff.get("/cases/").get_data(as_text=True)

    before = _count(app, "deduction_dispute")
    again = client.post(
        url,
        data={"deduction_case": str(world["deduction"]), "customer_statement": "再次", "csrf_token": token},
    )
    assert again.status_code == 422
    assert f"#{dispute_id}" in again.get_data(as_text=True)
    assert _count(app, "deduction_dispute") == before


@pytest.mark.parametrize(
    ("deduction", "statement", "field"),
    [
        ("mine", "", "customer_statement"),
        ("mine", "   \n ", "customer_statement"),
        ("mine", "长" * 4001, "customer_statement"),
        ("foreign", "这笔扣款不对", "deduction_case"),
        ("", "这笔扣款不对", "deduction_case"),
        ("abc", "这笔扣款不对", "deduction_case"),
    ],
)
def test_bad_dispute_input_is_shown_at_its_field_and_nothing_is_written(
    app, client, world, deduction, statement, field
):
    chosen = {"mine": str(world["deduction"]), "foreign": str(world["foreign"])}.get(deduction, deduction)
    url = f"/s/{world['token']}/dispute"
    token = _csrf(client, url)
    before = _count(app, "deduction_dispute")
    sent = client.post(
        url, data={"deduction_case": chosen, "customer_statement": statement, "csrf_token": token}
    )
    html = sent.get_data(as_text=True)
    assert sent.status_code == 422
    assert f'data-testid="error-{field}"' in html
    assert _count(app, "deduction_dispute") == before
    assert world["other"][1] not in html


def test_a_dispute_without_its_csrf_token_is_refused(app, client, world):
    before = _count(app, "deduction_dispute")
    data = {"deduction_case": str(world["deduction"]), "customer_statement": "无令牌"}
    sent = client.post(f"/s/{world['token']}/dispute", data=data)
    assert sent.status_code == 400 and world["mine"][1] not in sent.get_data(as_text=True)
    assert _count(app, "deduction_dispute") == before


def test_an_appeal_starts_a_case_in_the_staff_inbox_and_bad_input_writes_nothing(
    app, client, world, login_as
):
    with app.app_context():
        from formflow.workflows.models import NoticeDocument

        notice = (
            db.session.execute(
                sa.select(NoticeDocument).where(NoticeDocument.case_id == world["offboarding"])
            )
            .scalars()
            .first()
        )
        foreign_notice = (
            db.session.execute(
                sa.select(NoticeDocument).join(Case).where(Case.customer_id != notice.customer_id)
            )
            .scalars()
            .first()
        )
        notice_id, notice_title, foreign_id = notice.id, notice.title, foreign_notice.id
    url = f"/s/{world['token']}/appeal?notice={notice_id}"
    token = _csrf(client, url)
    before = _count(app, "offboarding_appeal")
    for chosen, statement, field in (
        (str(notice_id), "", "customer_statement"),
        (str(foreign_id), "不服", "notice"),
    ):
        bad = client.post(url, data={"notice": chosen, "customer_statement": statement, "csrf_token": token})
        assert bad.status_code == 422 and f'data-testid="error-{field}"' in bad.get_data(as_text=True)
    assert _count(app, "offboarding_appeal") == before

    sent = client.post(url, data={"notice": str(notice_id), "customer_statement": "逾期款项已结清，请撤回。",
                                  "csrf_token": token})  # fmt: skip
    assert sent.status_code == 303
    with app.app_context():
        appeal = (
            db.session.execute(sa.select(Case).join(Process).where(Process.key == "offboarding_appeal"))
            .scalars()
            .all()[-1]
        )
        assert appeal.customer.code == "C001" and appeal.state == "recorded"
        assert (
            appeal.data["offboarding_case"] == world["offboarding"] and appeal.data["notice"] == notice_title
        )
        appeal_id = appeal.id
    staff = login_as("staff")
    assert f"/cases/{appeal_id}" in staff.get("/inbox").get_data(as_text=True)
    assert staff.get(f"/cases/{appeal_id}").status_code == 200
    again = client.post(
        url, data={"notice": str(notice_id), "customer_statement": "再次", "csrf_token": token}
    )
    assert again.status_code == 422 and f"#{appeal_id}" in again.get_data(as_text=True)
