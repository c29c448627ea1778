"""Words a person reads: no raw keys and no English engine texts in the UI.

Each demo role logs in after a deduction and an offboarding case have moved a few steps;
every page reachable from the navigation (and the case pages) is read in both languages.
A page fails on a raw key of the shipped templates shown as text (state, action, category,
customer status, checklist item, table and column keys) and, in the zh-CN UI, on English
engine texts: known phrases, and text holding ASCII words of 3+ letters that are not codes,
usernames, numbers, ids, e-mails or a short allow-list. <code>, <pre>, form values and
attributes do not count (they show keys on purpose), nor text marked lang="en"."""

from __future__ import annotations

import io
import json
import re
from collections import deque
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from formflow.auth import services as auth
from formflow.auth.models import User
from formflow.auth.permissions import ROLES
from formflow.cases import services as cases
from formflow.cases import uploads
from formflow.cases.models import Case
from formflow.customers.models import CUSTOMER_STATUSES
from formflow.extensions import db, utcnow
from formflow.processes.models import Process
from formflow.workflows import checklists, engine, timers

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
LANGUAGES = ("zh_Hans_CN", "en")
#: pages one role reads in one language at most (far above what the demo has)
MAX_PAGES = 200
#: never followed: static files, switching language, the API, downloads
SKIP = re.compile(r"^/(static/|lang/|api/|healthz)|/export|\.csv$|\.json$|/attachments/")
#: pages no link leads to in the demo data, read as well
EXTRA_PAGES = (
    "/cases/new?process=deduction&customer=C005",
    "/cases/new?process=offboarding&customer=C004",
    "/cases/new?process=payment_registration&customer=C001",
    "/admin/processes/deduction/whatif",
)
#: raw texts on pages other people are changing right now (reported to them): the page
#: (a pattern of its path) and the texts tolerated there, until the entry is removed
NOT_YET: tuple = ()

#: English engine texts that must not reach the zh-CN UI (matched inside any text)
ENGLISH_PHRASES = (
    "nobody to remind",
    "now at",
    "reminded",
    "skipped:",
    "escalated to",
    "published",
    "Bytes",
    "Expecting",
    "delimiter",
    "document:",
    "language:",
    "status:",
)
#: ASCII words a zh-CN page may show: formats, standards and product names
ALLOWED_WORDS = {
    "formflow",
    "json",
    "jsonlogic",
    "csv",
    "pdf",
    "excel",
    "xlsx",
    "api",
    "url",
    "utc",
    "webhook",
    "sha",
    "true",
    "false",
    "null",
}
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*")


def _template_keys() -> dict[str, set[str]]:
    """The keys of the shipped templates a person should never read, by what they name."""
    keys: dict[str, set[str]] = {
        "state": set(),
        "action": set(),
        "category": set(),
        "status": set(CUSTOMER_STATUSES),
        "checklist": set(),
        "table": set(),
        "column": set(),
    }
    for path in sorted(CONFIGS.glob("*.json")):
        spec = json.loads(path.read_text(encoding="utf-8"))
        keys["category"].add(spec["category"])
        for table in spec.get("tables") or []:
            keys["table"].add(table["key"])
            keys["column"].update(c["name"] if isinstance(c, dict) else c for c in table["columns"])
        for name, state in ((spec.get("workflow") or {}).get("states") or {}).items():
            keys["state"].add(name)
            keys["action"].update((state.get("actions") or {}).keys())
            checklist = state.get("checklist")
            items = checklist.get("items") if isinstance(checklist, dict) else checklist
            keys["checklist"].update(item["id"] for item in items or [] if isinstance(item, dict))
    return keys


KEYS = {key: kind for kind, names in _template_keys().items() for key in names}


class _Page(HTMLParser):
    """A page's text nodes (without <code>, <pre>, scripts, styles, text areas and text
    in another language than the page's) and its links."""

    HIDDEN = frozenset({"code", "pre", "script", "style", "textarea", "kbd", "samp", "template"})

    def __init__(self, language: str):
        super().__init__(convert_charrefs=True)
        self.language = "en" if language == "en" else "zh"
        self.texts: list[str] = []
        self.links: list[str] = []
        self._hidden: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        lang = (attributes.get("lang") or "").lower()
        if tag in self.HIDDEN or (tag != "html" and lang and not lang.startswith(self.language)):
            self._hidden.append(tag)
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])

    def handle_endtag(self, tag):
        if self._hidden and self._hidden[-1] == tag:
            self._hidden.pop()

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.texts.append(" ".join(data.split()))


def read(html: str, language: str) -> _Page:
    page = _Page(language)
    page.feed(html)
    return page


def _is_code_like(word: str, usernames: set[str]) -> bool:
    """A customer code, an id, a username, a number, an e-mail, an abbreviation …"""
    bare = word.strip(".-_")
    return (
        not bare
        or bare.lower() in usernames
        or any(ch.isdigit() for ch in bare)
        or "@" in bare
        or bare.isupper()  # codes and abbreviations: C005, PDF, ID
        or bare.lower() in ALLOWED_WORDS
    )


def problems_in(text: str, language: str, usernames: set[str]) -> list[str]:
    """What is wrong with one text node of a page in `language`."""
    found = []
    for word in WORD.findall(text):
        kind = KEYS.get(word.strip(".-"))
        # in English a key that is also a word ("review") gives itself away only alone
        if kind and (language != "en" or "_" in word or text.strip(" “”\"'()（）:：.。") == word):
            found.append(f"{kind} key “{word.strip('.-')}”")
    if language == "en":
        return sorted(set(found))
    lowered = text.lower()
    found += [f"English “{phrase}”" for phrase in ENGLISH_PHRASES if phrase.lower() in lowered]
    for word in WORD.findall(re.sub(r"\S+@\S+", " ", text)):  # an e-mail address is no English
        if len(re.sub(r"[^A-Za-z]", "", word)) >= 3 and not _is_code_like(word, usernames):
            found.append(f"English word “{word}”")
    return sorted(set(found))


def _tolerated(path: str, text: str) -> bool:
    return any(page.search(path) and texts.fullmatch(text) for page, texts in NOT_YET)


def _evidence(name: str, actor) -> str:
    upload = FileStorage(io.BytesIO(b"%PDF-1.4 evidence"), name, content_type="application/pdf")
    return uploads.store_upload("/evidence", upload, {}, actor=actor)


@pytest.fixture
def moved_cases(app, cli):
    """The demo data, a deduction past its two approvals and disputed, an offboarding case
    through its timer at its checklist (one item ticked), and a draft."""
    assert cli("demo").exit_code == 0
    with app.app_context():
        user = auth.find_user
        deduction = cases.start(
            "deduction",
            "C005",
            {
                "reason": "quality",
                "amount": Decimal("3000.00"),
                "incident_date": "2026-11-20",
                "description": "货物破损",
                "evidence": _evidence("收货单.pdf", user("staff")),
            },
            submit=True,
            actor=user("staff"),
        )
        engine.perform(deduction, "approve", user("finance"), comment="属实")
        engine.perform(deduction, "approve", user("manager"))
        engine.perform(deduction, "dispute", user("staff"), comment="客户来电申诉")
        offboarding = cases.start(
            "offboarding",
            "C006",
            {
                "criteria": ["late_payments"],
                "late_payment_count": 3,
                "details": "连续三个月逾期",
                "contact": "张经理",
            },
            submit=True,
            actor=user("staff"),
        )
        engine.perform(offboarding, "start_rectification", user("risk"))
        db.session.commit()
        timers.tick(now=utcnow() + timedelta(days=31))
        engine.perform(offboarding, "proceed", user("risk"))
        engine.perform(offboarding, "proceed", user("manager"))
        engine.perform(offboarding, "execute", user("risk"))
        first = next(item for item in checklists.items(offboarding) if item.required)
        checklists.tick(offboarding, first.id, user("staff"), note="已结清")
        draft = cases.start("deduction", "C001", {"reason": "service"}, submit=False, actor=user("staff"))
        db.session.commit()
        assert (deduction.state, offboarding.state) == ("dispute_review", "execution")
        return [deduction.id, offboarding.id, draft.id]


def crawl(client, language: str, usernames: set[str], extra: list[str]) -> dict[str, list[str]]:
    """{path: problems} of every page reachable from home, plus `extra`."""
    client.set_cookie("lang", language)
    queue = deque(["/", *extra])
    seen = set(queue)
    problems: dict[str, list[str]] = {}
    while queue and len(seen) - len(queue) < MAX_PAGES:
        path = queue.popleft()
        response = client.get(path)
        assert response.status_code < 500, path
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        page = read(response.get_data(as_text=True), language)
        found = {
            problem
            for text in page.texts
            if not _tolerated(urlsplit(path).path, text)
            for problem in problems_in(text, language, usernames)
        }
        if found:
            problems[path] = sorted(found)
        for href in page.links:
            target = urlsplit(urljoin(path, href))
            if target.netloc or target.scheme not in ("", "http") or SKIP.search(target.path):
                continue
            linked = target.path + (f"?{target.query}" if target.query else "")
            if linked not in seen:
                seen.add(linked)
                queue.append(linked)
    return problems


@pytest.mark.parametrize("role", list(ROLES))
def test_no_raw_keys_or_english_engine_texts(app, moved_cases, client, role):
    with app.app_context():
        usernames = {name.lower() for name in db.session.execute(sa.select(User.username)).scalars()}
    assert client.login(role, "demo").status_code == 302
    case_pages = [f"/cases/{case_id}" for case_id in moved_cases]
    report = {}
    for language in LANGUAGES:
        found = crawl(client, language, usernames, [*case_pages, *EXTRA_PAGES])
        report.update({f"{language} {path}": problems for path, problems in found.items()})
    assert not report, json.dumps(report, ensure_ascii=False, indent=1)


def test_the_checker_sees_raw_keys_and_english():
    users = {"staff"}
    assert problems_in("review", "zh_Hans_CN", users) == ["English word “review”", "state key “review”"]
    assert problems_in("review", "en", users) == ["state key “review”"]
    assert problems_in("Submit for review", "en", users) == []
    assert "checklist key “settle_account”" in problems_in("Ticked “settle_account”.", "en", users)
    assert problems_in("C005 · staff · 2026-11-20 · PDF", "zh_Hans_CN", users) == []
    assert "English “nobody to remind”" in problems_in("审核：nobody to remind", "zh_Hans_CN", users)
    page = read(
        '<p>审核 <code>review</code> <span lang="en">Review</span> <input value="x"></p>', "zh_Hans_CN"
    )
    assert page.texts == ["审核"]


def _history(client, case_id: int, language: str) -> list[str]:
    client.set_cookie("lang", language)
    html = client.get(f"/cases/{case_id}").get_data(as_text=True)
    items = re.findall(r'<li class="timeline-entry.*?</li>', html, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]


@pytest.mark.parametrize(
    ("language", "deduction", "offboarding"),
    [
        (
            "zh_Hans_CN",
            [
                "填写申请 → 审核 （通过“提交审核”）",
                "已向客户发送告知书《扣款通知（业务单 {case}）》",
                "已通知 发起人：扣款已执行（业务单 {case}）",
                "已发起业务单 {dispute}（扣款申诉）",
            ],
            [
                "客户 C006 的状态：正常 → 整改中",
                "已向客户发送告知书《整改通知》",
                "整改期 环节到期时间已到：已执行“进入评估”，现处于 评估",
                "已勾选检查清单事项“结清账户（退还预存款或登记应收）”。 已结清",
                "· 系统",
            ],
        ),
        (
            "en",
            [
                "Application → Review (by “Submit for review”)",
                "Sent the customer the notice “扣款通知（业务单 {case}）”.",  # sent in Chinese
                "Notified whoever started the case: 扣款已执行（业务单 {case}）",
                "Started case {dispute} (Deduction dispute).",
            ],
            [
                "Customer C006: status Active → In rectification.",
                "“Evaluate” taken; now at Evaluation",
                "Checklist item “Settle the account (refund the prepaid balance or record a receivable)”",
                "· System",
            ],
        ),
    ],
)
def test_the_history_reads_as_sentences(app, moved_cases, client, language, deduction, offboarding):
    assert client.login("auditor", "demo").status_code == 302
    with app.app_context():  # the case the deduction's dispute started
        dispute = db.session.execute(
            sa.select(Case.id).join(Case.process).where(Process.key == "deduction_dispute")
        ).scalar_one()
    ids = {"case": moved_cases[0], "dispute": dispute}
    for case_id, sentences in zip(moved_cases, (deduction, offboarding), strict=False):
        joined = " | ".join(_history(client, case_id, language))
        for sentence in sentences:
            assert sentence.format(**ids) in joined, (sentence, joined)
        assert "(document:" not in joined and "template:" not in joined


def test_every_category_and_customer_status_has_a_label(app):
    from formflow.customers.models import status_labels
    from formflow.processes.models import CATEGORY_LABELS
    from formflow.processes.spec import meta_schema

    assert set(CATEGORY_LABELS) == set(meta_schema()["properties"]["category"]["enum"])
    with app.test_request_context(headers={"Cookie": "lang=zh_Hans_CN"}):
        assert set(status_labels()) == set(CUSTOMER_STATUSES)
        assert status_labels()["blacklisted"] == "已列入黑名单"
        assert str(CATEGORY_LABELS["deduction"]) == "扣款"


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh_Hans_CN", ["扣款限额", "单笔上限（元）", "双人审批阈值（元）"]),
        ("en", ["Deduction limits", "Single-deduction limit (CNY)", "Second approver above (CNY)"]),
    ],
)
def test_parameter_tables_and_columns_show_their_titles(app, cli, client, language, words):
    assert cli("demo").exit_code == 0
    assert client.login("admin", "demo").status_code == 302
    client.set_cookie("lang", language)
    for path in (
        "/admin/processes/deduction",
        "/admin/processes/deduction/tables/deduction_limits",
        "/admin/processes/deduction/rules/",
        "/admin/processes/deduction/rules/within-tier-limit/edit",
    ):
        text = " ".join(read(client.get(path).get_data(as_text=True), language).texts)
        assert words[0] in text, path
    builder = client.get("/admin/processes/deduction/rules/within-tier-limit/edit").get_data(as_text=True)
    assert f"{words[0]} · {words[1]}" in builder  # the table value a condition compares with
    grid = client.get("/admin/processes/deduction/tables/deduction_limits").get_data(as_text=True)
    assert all(word in grid for word in words[1:]) and '<code class="small">max_single</code>' in grid
