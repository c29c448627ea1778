"""Importing a bank statement: a preview (every row read, every bad row named, the lines seen
before counted) kept until it is confirmed; the import then adds only lines not there yet — the
same file or an overlapping period twice adds nothing twice (parsing.dedupe_keys)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite

from formflow import audit
from formflow.errors import Conflict, Invalid, NotFound
from formflow.extensions import db, utcnow
from formflow.reconcile import mapping as mappings
from formflow.reconcile import parsing
from formflow.reconcile.models import BankAccount, BankImport, BankLine

MAX_NAME = 120
CHUNK = 1000


@dataclass
class Preview:
    upload: BankImport
    rows: list[parsing.StatementRow]
    problems: list[dict]
    #: how many of the rows are there already (imported before)
    known: int

    @property
    def new(self) -> int:
        return len(self.rows) - self.known


# --- bank accounts --------------------------------------------------------------------------------


def save_account(account: BankAccount | None, name: str, bank: str, number: str, raw_mapping: dict, *, actor):
    """Create or change a bank account and its mapping; Invalid with pointers otherwise."""
    problems: list[dict] = []
    name, bank, number = (name or "").strip(), (bank or "").strip(), (number or "").strip()
    if not name:
        problems.append({"pointer": "/name", "message": _("Give the account a name.")})
    elif len(name) > MAX_NAME:
        problems.append({"pointer": "/name", "message": _("The name is too long.")})
    elif db.session.execute(
        sa.select(BankAccount.id).where(
            BankAccount.name == name, BankAccount.id != getattr(account, "id", None)
        )
    ).first():
        problems.append({"pointer": "/name", "message": _("Another bank account has this name.")})
    if len(bank) > 120:
        problems.append({"pointer": "/bank", "message": _("The bank's name is too long.")})
    if len(number) > 60:
        problems.append({"pointer": "/account_number", "message": _("The account number is too long.")})
    try:
        mapping = mappings.clean(raw_mapping)
    except Invalid as invalid:
        problems.extend(invalid.errors)
    if problems:
        raise Invalid(problems)
    before = None if account is None else {"name": account.name, "mapping": account.mapping}
    if account is None:
        account = BankAccount(name=name, bank=bank, account_number=number, mapping=mapping)
        db.session.add(account)
    else:
        account.name, account.bank, account.account_number, account.mapping = name, bank, number, mapping
    db.session.flush()
    audit.record(
        "reconcile.account.save",
        "bank_account",
        account.id,
        before=before,
        after={"name": name, "bank": bank, "account_number": number, "mapping": mapping},
        actor=actor,
    )
    return account


def accounts() -> list[BankAccount]:
    return list(db.session.execute(sa.select(BankAccount).order_by(BankAccount.name)).scalars())


def account_by_id(account_id) -> BankAccount:
    account = db.session.get(BankAccount, account_id) if str(account_id).isdigit() else None
    if account is None:
        raise NotFound(_("No such bank account."))
    return account


# --- importing ------------------------------------------------------------------------------------


def preview(account: BankAccount, filename: str, content: bytes, *, actor, today=None) -> Preview:
    """Read the file; keep it as a previewed import (nothing imported yet). Invalid when the file
    cannot be read at all (unknown layout, a mapped column missing)."""
    parsed = parsing.read(content, account.mapping, filename=filename, today=today)
    upload = BankImport(
        bank_account_id=account.id,
        filename=(filename or "statement")[:255],
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        rows=len(parsed.rows) + len(parsed.problems),
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(upload)
    db.session.flush()
    return Preview(upload, parsed.rows, parsed.problems, _known(account.id, parsed.rows))


def reread(upload: BankImport, *, today=None) -> Preview:
    """A kept import's preview again (its page after a reload)."""
    parsed = parsing.read(upload.content or b"", upload.bank_account.mapping, today=today)
    return Preview(upload, parsed.rows, parsed.problems, _known(upload.bank_account_id, parsed.rows))


def confirm(upload: BankImport, *, actor, today=None) -> BankImport:
    """Add the previewed file's new lines; refused (nothing written) while it has bad rows."""
    if upload.status != "previewed":
        raise Conflict(_("This file has been imported already."))
    found = reread(upload, today=today)
    if found.problems:
        message = _(
            "%(n)d rows of the file cannot be read; correct the file and import it again.",
            n=len(found.problems),
        )
        raise Invalid([{"pointer": "/file", "message": message}, *found.problems])
    added = 0
    keys = list(parsing.dedupe_keys(found.rows))
    for start in range(0, len(found.rows), CHUNK):
        values = [
            {
                "bank_account_id": upload.bank_account_id,
                "import_id": upload.id,
                "dedupe_key": key,
                "booked_on": row.booked_on,
                "amount": row.amount,
                "counterparty": row.counterparty,
                "counter_account": row.counter_account,
                "serial": row.serial,
                "memo": _memo(row),
                "balance": row.balance,
                "row_number": row.row_number,
                "status": "unmatched",
                "explanation": "",
                "created_at": utcnow(),
            }
            for row, key in zip(found.rows[start : start + CHUNK], keys[start : start + CHUNK], strict=True)
        ]
        added += _insert_new(values)
    upload.status, upload.added, upload.imported_at = "imported", added, utcnow()
    upload.skipped = len(found.rows) - added
    upload.content = None  # the lines hold what it said
    db.session.flush()
    audit.record(
        "reconcile.import",
        "bank_import",
        upload.id,
        after={
            "account": upload.bank_account_id,
            "file": upload.filename,
            "sha256": upload.sha256,
            "added": added,
            "skipped": upload.skipped,
        },
        actor=actor,
    )
    return upload


def _memo(row: parsing.StatementRow) -> str:
    text = " ".join(part for part in (row.reference, row.memo) if part)
    return text[:500]


def _insert_new(values: list[dict]) -> int:
    """INSERT … ON CONFLICT DO NOTHING: how many rows were new."""
    if not values:
        return 0
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(BankLine.__table__)
    statement = insert.on_conflict_do_nothing(index_elements=["bank_account_id", "dedupe_key"]).returning(
        BankLine.__table__.c.id
    )
    return len(db.session.execute(statement, values).all())


def _known(account_id: int, rows: list[parsing.StatementRow]) -> int:
    keys = list(parsing.dedupe_keys(rows))
    known = 0
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        known += db.session.execute(
            sa.select(sa.func.count()).where(
                BankLine.bank_account_id == account_id, BankLine.dedupe_key.in_(chunk)
            )
        ).scalar_one()
    return known


def upload_by_id(upload_id) -> BankImport:
    upload = db.session.get(BankImport, upload_id) if str(upload_id).isdigit() else None
    if upload is None:
        raise NotFound(_("No such import."))
    return upload
