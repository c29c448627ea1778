"""Bank accounts with their statement mapping, and importing a statement: the file read into a
preview (its bad rows named, the lines already there counted), then imported on confirmation.
Routes on the reconcile blueprint (the app factory imports this module)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from formflow.auth.decorators import permission_required
from formflow.errors import Conflict, Invalid
from formflow.extensions import db
from formflow.reconcile import importing
from formflow.reconcile.mapping import ENCODINGS, FIELDS
from formflow.reconcile.views import bp
from formflow.rules.operators import business_today

#: rows of a preview shown on its page (the rest are counted)
PREVIEW_ROWS = 200


@bp.route("/accounts/new", methods=["GET", "POST"])
@permission_required("reconcile.manage")
def account_new():
    return _account_form(None)


@bp.route("/accounts/<int:account_id>/edit", methods=["GET", "POST"])
@permission_required("reconcile.manage")
def account_edit(account_id: int):
    return _account_form(importing.account_by_id(account_id))


def _account_form(account):
    values = {"name": "", "bank": "", "account_number": "", "mapping": {"encoding": "auto"}}
    if account is not None:
        values = {
            "name": account.name,
            "bank": account.bank,
            "account_number": account.account_number,
            "mapping": dict(account.mapping),
        }
    errors: list[dict] = []
    if request.method == "POST":
        mapping = {field: request.form.get(f"mapping-{field}", "") for field in (*FIELDS, "encoding")}
        values = {key: request.form.get(key, "") for key in ("name", "bank", "account_number")} | {
            "mapping": mapping
        }
        try:
            importing.save_account(
                account, values["name"], values["bank"], values["account_number"], mapping, actor=current_user
            )
        except Invalid as invalid:
            db.session.rollback()
            errors = invalid.errors
        else:
            db.session.commit()
            flash(_("The bank account is saved."), "success")
            return redirect(url_for("reconcile.index"))
    page = render_template(
        "reconcile/account_form.html",
        account=account,
        values=values,
        errors=errors,
        fields=FIELDS,
        encodings=ENCODINGS,
    )
    return page, 422 if errors else 200


@bp.route("/import", methods=["GET", "POST"])
@permission_required("reconcile.manage")
def import_statement():
    errors: list[dict] = []
    chosen = request.values.get("account", type=int)
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            account = importing.account_by_id(chosen) if chosen else None
            if account is None:
                raise Invalid([{"pointer": "/account", "message": _("Choose the bank account.")}])
            if upload is None or not upload.filename:
                raise Invalid([{"pointer": "/file", "message": _("Choose the statement file.")}])
            found = importing.preview(
                account, upload.filename, upload.read(), actor=current_user, today=business_today()
            )
        except Invalid as invalid:
            db.session.rollback()
            errors = invalid.errors
        else:
            db.session.commit()
            return redirect(url_for("reconcile.import_preview", upload_id=found.upload.id))
    page = render_template(
        "reconcile/import.html",
        accounts=importing.accounts(),
        chosen=chosen,
        errors=errors,
        mapping_errors=[error for error in errors if error["pointer"].startswith("/mapping/")],
    )
    return page, 422 if errors else 200


@bp.route("/imports/<int:upload_id>")
@permission_required("reconcile.manage")
def import_preview(upload_id: int):
    return _preview_page(importing.upload_by_id(upload_id))


def _preview_page(upload, errors=(), status=200):
    found = importing.reread(upload, today=business_today()) if upload.status == "previewed" else None
    page = render_template(
        "reconcile/preview.html",
        upload=upload,
        found=found,
        errors=list(errors),
        shown=PREVIEW_ROWS,
    )
    return page, status


@bp.route("/imports/<int:upload_id>/confirm", methods=["POST"])
@permission_required("reconcile.manage")
def import_confirm(upload_id: int):
    upload = importing.upload_by_id(upload_id)
    try:
        importing.confirm(upload, actor=current_user, today=business_today())
    except Invalid as invalid:
        db.session.rollback()
        return _preview_page(importing.upload_by_id(upload_id), invalid.errors[:1], 422)
    except Conflict as conflict:
        db.session.rollback()
        flash(conflict.message, "error")
        return redirect(url_for("reconcile.index"))
    db.session.commit()
    flash(
        _(
            "%(added)d new bank lines imported; %(skipped)d were there already.",
            added=upload.added,
            skipped=upload.skipped,
        ),
        "success",
    )
    return redirect(url_for("reconcile.lines", account=upload.bank_account_id, status="unmatched"))
