"""The monthly statement run in `formflow tick`: in December, November's statement of every
customer account that moved in November or held a balance at its end, once (a rerun, or a
node that lost the race for the unique key, issues none); the numbers stored are the
statement's; the staff are told once per customer; the statement page lists what was issued."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from support import nodes_together

from formflow.customers import services as customers
from formflow.extensions import db
from formflow.ledger import services as ledger
from formflow.ledger import statement_run, statements
from formflow.ledger.balances import month_bounds
from formflow.ledger.models import StatementIssue
from formflow.workflows.models import Notification

DECEMBER_TICK = "2026-12-02T09:00"  # business time


@pytest.fixture
def posting_at(monkeypatch):
    """posting_at(datetime(2026, 11, 10)): postings from now on are dated then (naive UTC)."""

    def at(moment: datetime) -> None:
        monkeypatch.setattr(ledger, "utcnow", lambda: moment)

    return at


@pytest.fixture
def book(app_ctx, posting_at):
    """Four customers: one moving in November, one holding a balance from October, one whose
    money came and went in October, one that moves only in December."""
    moving = customers.create("SR01", "十一月有往来客户", "A")
    holding = customers.create("SR02", "十月余额客户", "B")
    emptied = customers.create("SR03", "余额为零客户", "C")
    later = customers.create("SR04", "十二月才开户客户", "C")
    posting_at(datetime(2026, 10, 20, 3, 0))
    ledger.post_for_customer(holding, "top_up", Decimal("500.00"), key="sr-h1", memo="十月充值")
    ledger.post_for_customer(emptied, "top_up", Decimal("80.00"), key="sr-e1", memo="充值")
    ledger.post_for_customer(emptied, "refund", Decimal("80.00"), key="sr-e2", memo="全额退款")
    ledger.post_for_customer(moving, "top_up", Decimal("2000.00"), key="sr-m0", memo="十月充值")
    posting_at(datetime(2026, 11, 10, 2, 0))
    ledger.post_for_customer(moving, "deduction", Decimal("1234.56"), key="sr-m1", memo="扣款")
    ledger.post_for_customer(moving, "usage", Decimal("0.44"), key="sr-m2", memo="短信用量")
    posting_at(datetime(2026, 11, 30, 16, 30))  # 2026-12-01 00:30 in Shanghai: December's
    ledger.post_for_customer(later, "top_up", Decimal("99.00"), key="sr-l1", memo="十二月充值")
    db.session.commit()
    return {"moving": moving, "holding": holding, "emptied": emptied, "later": later}


def issued() -> list[StatementIssue]:
    return list(db.session.execute(sa.select(StatementIssue).order_by(StatementIssue.customer_id)).scalars())


def staff_notices() -> list[Notification]:
    about_november = sa.and_(Notification.role == "staff", Notification.subject.contains("2026-11"))
    return list(db.session.execute(sa.select(Notification).where(about_november)).scalars())


def test_a_december_tick_issues_novembers_statements_once(book, cli):
    result = cli("tick", "--now", DECEMBER_TICK)
    assert result.exit_code == 0, result.output
    assert "issue_monthly_statements: issued 2 already 0 customers 2 failed 0" in result.output
    rows = issued()
    assert [(row.customer_id, row.account, row.period) for row in rows] == [
        (book["moving"].id, "prepaid", "2026-11"),
        (book["holding"].id, "prepaid", "2026-11"),
    ]
    again = cli("tick", "--now", DECEMBER_TICK)
    assert "issue_monthly_statements: issued 0 already 2 customers 2 failed 0" in again.output
    assert len(issued()) == 2


def test_the_numbers_stored_are_the_statements(book):
    report = statement_run.issue_monthly_statements(datetime(2026, 12, 2, 1, 0))
    assert (report.period, report.issued, report.customers) == ("2026-11", 2, 2)
    moving, holding = issued()
    built = statements.statement(book["moving"], "prepaid", "2026-11")
    assert (moving.opening, moving.debits, moving.credits, moving.closing, moving.entry_count) == (
        built.opening, built.debits, built.credits, built.closing, len(built.lines)
    )  # fmt: skip
    assert (moving.opening, moving.closing) == (Decimal("2000.00"), Decimal("765.00"))
    assert holding.entry_count == 0 and holding.opening == holding.closing == Decimal("500.00")
    assert moving.title == "十一月有往来客户（SR01）预存账户对账单，2026-11"
    assert moving.body == (
        "期初余额 2,000.00，借方合计 1,235.00，贷方合计 0.00，期末余额 765.00；共 2 笔明细。"
    )


def test_the_staff_hear_once_per_customer(book):
    statement_run.issue_monthly_statements(datetime(2026, 12, 2, 1, 0))
    statement_run.issue_monthly_statements(datetime(2026, 12, 20, 1, 0))  # later in December: nothing new
    notices = staff_notices()
    assert sorted(notice.subject for notice in notices) == [
        "2026-11 对账单已出具：十一月有往来客户（SR01）",
        "2026-11 对账单已出具：十月余额客户（SR02）",
    ]
    moving = next(notice for notice in notices if "SR01" in notice.subject)
    assert "期末余额 765.00" in moving.body


def test_a_statement_another_node_issued_meanwhile_is_not_issued_again(book, monkeypatch):
    found_due = statement_run._due("2026-11")
    statement_run.issue_monthly_statements(datetime(2026, 12, 2, 1, 0))
    # the second node read what was due before the first one's statements were committed
    monkeypatch.setattr(statement_run, "_due", lambda period: found_due)
    report = statement_run.issue_monthly_statements(datetime(2026, 12, 2, 1, 0))
    assert (report.issued, report.already, report.failed) == (0, 2, 0)
    assert len(issued()) == 2 and len(staff_notices()) == 2


def test_one_customer_failing_holds_up_no_other(book, monkeypatch):
    real = statement_run.statement

    def statement(customer, kind, period):
        if customer.code == "SR01":
            raise RuntimeError("the ledger does not add up")
        return real(customer, kind, period)

    monkeypatch.setattr(statement_run, "statement", statement)
    report = statement_run.issue_monthly_statements(datetime(2026, 12, 2, 1, 0))
    assert (report.issued, report.failed) == (1, 1)
    assert [row.customer_id for row in issued()] == [book["holding"].id]
    monkeypatch.setattr(statement_run, "statement", real)
    assert statement_run.issue_monthly_statements(datetime(2026, 12, 2, 1, 0)).issued == 1  # next run: done


@pytest.mark.parametrize(
    ("now", "period"),
    [
        (datetime(2026, 12, 2, 1, 0), "2026-11"),
        (datetime(2026, 11, 30, 17, 0), "2026-11"),  # already 1 December in Shanghai
        (datetime(2026, 11, 30, 15, 0, tzinfo=UTC), "2026-10"),  # still 30 November there
        (datetime(2027, 1, 1, 0, 0), "2026-12"),
    ],
)
def test_last_month_is_counted_in_business_time(app_ctx, now, period):
    assert statement_run.previous_period(now) == period


def test_the_statement_page_lists_the_issued_statements(book, login_as):
    statement_run.issue_monthly_statements(datetime(2026, 12, 2, 1, 0))
    db.session.commit()
    staff = login_as("staff")
    body = staff.get("/customers/SR01/statement?period=2026-11").get_data(as_text=True)
    issued_part = body[body.index('data-testid="issued-statements"') :]
    assert "已出具的对账单" in issued_part and "2026-11" in issued_part and "765.00" in issued_part
    queries = [link.split("?")[-1].split("&amp;") for link in re.findall(r'href="([^"]+)"', issued_part)]
    assert {"format=xlsx", "format=pdf"} <= {part for query in queries for part in query}
    assert all({"account=prepaid", "period=2026-11"} <= set(query) for query in queries)
    empty = staff.get("/customers/SR04/statement").get_data(as_text=True)
    assert "尚未向该客户出具对账单" in empty


@pytest.mark.live_db
def test_nodes_issuing_together_issue_each_statement_once(live_app):
    customers_count, nodes = 8, 3
    with live_app.app_context():
        for number in range(customers_count):
            found = customers.create(f"SRN{number}", f"并发客户{number}", "B")
            ledger.post_for_customer(found, "top_up", Decimal("100.00"), key=f"srn-{number}", memo="充值")
        db.session.commit()
        now = month_bounds()[1] + timedelta(days=1)  # next month: this month's statements are due

    reports, failures = nodes_together(live_app, lambda: statement_run.issue_monthly_statements(now), nodes)
    assert failures == [] and len(reports) == nodes
    assert sum(report.failed for report in reports) == 0
    assert sum(report.issued for report in reports) == customers_count
    assert sum(report.issued + report.already for report in reports) == customers_count * nodes
    with live_app.app_context():
        assert len(issued()) == customers_count
        subjects = db.session.execute(sa.select(Notification.subject).where(Notification.role == "staff"))
        assert len([subject for subject in subjects.scalars() if "SRN" in subject]) == customers_count
