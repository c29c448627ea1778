"""Demo users, customers and templates for a first look (`formflow demo`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from formflow import tables
from formflow.auth import services as auth
from formflow.auth.permissions import ROLES
from formflow.billing import plans
from formflow.billing.models import FeePlan
from formflow.customers import services as customers
from formflow.errors import NotFound
from formflow.extensions import db
from formflow.ledger.alerts import THRESHOLD_TABLE, create_threshold_table
from formflow.processes import services as processes

DEMO_PASSWORD = "demo"

DEMO_CUSTOMERS = [
    ("C001", "华东建材有限公司", "A"),
    ("C002", "星河物流股份有限公司", "A"),
    ("C003", "青松餐饮管理有限公司", "B"),
    ("C004", "蓝海电子科技有限公司", "B"),
    ("C005", "小桥便利店", "C"),
    ("C006", "晨光文具工作室", "C"),
]

#: the main contact of each demo customer (person, phone, e-mail, address)
DEMO_CONTACTS = {
    "C001": ("王建国", "021-61234567", "wang.jg@example.cn", "上海市浦东新区张江路 100 号"),
    "C002": ("李晓梅", "+86 512 6888-1234", "li.xm@example.cn", "江苏省苏州市工业园区星湖街 8 号"),
    "C003": ("陈青松", "13800138003", "chen.qs@example.cn", "浙江省杭州市西湖区文三路 25 号"),
    "C004": ("赵海", "0755-26001234", "zhao.hai@example.cn", "广东省深圳市南山区科技园"),
    "C005": ("孙小桥", "13900139005", "", "上海市徐汇区漕溪北路 18 号"),
    "C006": ("周晨", "13700137006", "zhou.chen@example.cn", ""),
}

DEMO_USER_NAMES = {
    "admin": "管理员 Admin",
    "staff": "业务员 Staff",
    "finance": "财务 Finance",
    "manager": "经理 Manager",
    "risk": "风控 Risk",
    "auditor": "审计 Auditor",
}


def load_demo(echo: Callable[[str], None] = print) -> int:
    """Create what is missing; existing records are left as they are. Returns the count."""
    created = 0
    for role in ROLES:
        if auth.find_user(role) is None:
            auth.create_user(
                role,
                DEMO_PASSWORD,
                [role],
                display_name=DEMO_USER_NAMES[role],
                enforce_password_policy=False,
            )
            echo(f"  user {role}")
            created += 1
    for code, name, tier in DEMO_CUSTOMERS:
        try:
            customers.get_by_code(code)
        except NotFound:
            person, phone, email, address = DEMO_CONTACTS[code]
            contact = {"person": person, "phone": phone, "email": email, "address": address}
            customers.create(code, name, tier, contacts=[contact])
            echo(f"  customer {code} {name} (tier {tier})")
            created += 1
    created += load_low_balance_thresholds(echo)
    created += load_fee_plan(echo)
    created += load_reconciliation(echo)
    created += load_templates(Path(current_app.config["CONFIGS_DIR"]), echo)
    db.session.flush()
    return created


#: prepaid balance below which a demo customer's staff are alerted, per tier
DEMO_THRESHOLDS = [["A", 10000], ["B", 5000], ["C", 1000]]


def load_low_balance_thresholds(echo: Callable[[str], None] = print) -> int:
    """The global table the low-balance alerts read (ledger.alerts), with a row per demo tier."""
    try:
        tables.get_global_table(THRESHOLD_TABLE)
        return 0
    except NotFound:
        pass
    create_threshold_table(DEMO_THRESHOLDS)
    echo(f"  global table {THRESHOLD_TABLE}")
    return 1


#: the demo's bank account: an export with money in and money out in two columns, as mainland
#: banks write them, and the write-off limit per tier (global table `reconcile_write_off`)
DEMO_BANK = "工商银行 基本户"
DEMO_BANK_MAPPING = {
    "date": "交易日期", "credit": "贷方发生额", "debit": "借方发生额", "counterparty": "对方户名",
    "counter_account": "对方账号", "serial": "流水号", "memo": "摘要", "balance": "余额", "encoding": "auto",
}  # fmt: skip
DEMO_WRITE_OFF = [["A", 10], ["B", 5], ["C", 1]]


def load_reconciliation(echo: Callable[[str], None] = print) -> int:
    """The demo bank account with its column mapping, and the write-off limits."""
    from formflow.reconcile import importing, matching
    from formflow.reconcile.models import BankAccount

    created = 0
    try:
        tables.get_global_table(matching.WRITE_OFF_TABLE)
    except NotFound:
        columns = [
            {"name": "tier", "type": "text", "title": {"zh-CN": "客户等级", "en": "Tier"}},
            {"name": matching.WRITE_OFF_COLUMN, "type": "money",
             "title": {"zh-CN": "核销上限（元）", "en": "Write off up to (CNY)"}},
        ]  # fmt: skip
        first = tables.create_global_table(
            matching.WRITE_OFF_TABLE,
            {"zh-CN": "对账核销限额", "en": "Reconciliation write-off limits"},
            columns,
            "tier",
        )
        tables.save_global_table(matching.WRITE_OFF_TABLE, DEMO_WRITE_OFF, expected_number=first.number)
        echo(f"  global table {matching.WRITE_OFF_TABLE}")
        created += 1
    if db.session.execute(sa.select(BankAccount.id).where(BankAccount.name == DEMO_BANK)).first() is None:
        importing.save_account(
            None, DEMO_BANK, "中国工商银行", "6222 0210 0012 3456", DEMO_BANK_MAPPING, actor=None
        )
        echo(f"  bank account {DEMO_BANK}")
        created += 1
    return created


#: the demo's monthly management fee per tier (global table `management_fees`)
DEMO_FEES = [["A", 1500], ["B", 800], ["C", 300]]
FEE_TABLE = "management_fees"
FEE_PLAN = "standard_management_fee"  # the plan configs/management_fee.json subscribes to


def load_fee_plan(echo: Callable[[str], None] = print) -> int:
    """The demo fee plan: monthly, the tier's row of `management_fees`, the rest of a short
    balance to the receivable."""
    if db.session.execute(sa.select(FeePlan.id).where(FeePlan.key == FEE_PLAN)).first() is not None:
        return 0
    try:
        tables.get_global_table(FEE_TABLE)
    except NotFound:
        columns = [
            {"name": "tier", "type": "text", "title": {"zh-CN": "客户等级", "en": "Tier"}},
            {
                "name": "monthly",
                "type": "money",
                "title": {"zh-CN": "月度管理费（元）", "en": "Monthly fee (CNY)"},
            },
        ]
        first = tables.create_global_table(
            FEE_TABLE, {"zh-CN": "管理费标准", "en": "Management fees"}, columns, "tier"
        )
        tables.save_global_table(FEE_TABLE, DEMO_FEES, expected_number=first.number)
    item = {
        "id": "monthly", "title": {"zh-CN": "月度管理费", "en": "Monthly management fee"}, "when": "period",
        "frequency": "monthly", "amount": {"table": FEE_TABLE, "column": "monthly"},
    }  # fmt: skip
    plans.save_plan(
        FEE_PLAN,
        {"zh-CN": "标准管理费", "en": "Standard management fee"},
        {"items": [item], "short": "partial"},
    )
    echo(f"  fee plan {FEE_PLAN} (global table {FEE_TABLE})")
    return 1


def load_templates(configs_dir: Path, echo: Callable[[str], None] = print) -> int:
    """Import every configs/*.json and publish the result when it is a draft.

    Idempotent: an unchanged template whose version is published (or was retired by an
    admin rolling back) is left alone. A template failing its checks raises Invalid:
    shipped templates must be sound.
    """
    created = 0
    for path in sorted(configs_dir.glob("*.json")):
        result = processes.import_spec(processes.parse_spec_text(path.read_bytes(), filename=path.name))
        if result.changed:
            echo(f"  process {result.process.key} version {result.version.number} ({path.name})")
            created += 1
        if result.version.status == "draft":
            processes.publish(result.process.key, number=result.version.number)
            echo(f"  published {result.process.key} version {result.version.number}")
    return created
