"""Logging in and out, and changing one's own password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from formflow import audit
from formflow.auth import services
from formflow.auth.decorators import permission_required
from formflow.auth.forms import ChangePasswordForm, LoginForm
from formflow.errors import Invalid
from formflow.extensions import db
from formflow.formerrors import attach_errors
from formflow.safe_redirect import safe_next

bp = Blueprint("auth", __name__)


@bp.route("/auth/login", methods=["GET", "POST"])
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(form.next.data, url_for("home.index")))
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.username.data, form.password.data)
        except services.LoginRefused as refused:
            db.session.commit()  # keep the failure count that the lockout relies on
            form.form_errors.append(refused.message)
        else:
            login_user(user, remember=form.remember.data)
            db.session.commit()
            return redirect(safe_next(form.next.data, url_for("home.index")))
    return render_template("auth/login.html", form=form)


@bp.route("/auth/logout", methods=["POST"])
@permission_required("home.view")
def logout():
    audit.record("auth.logout", "user", current_user.id)
    db.session.commit()
    logout_user()
    flash(_("You have been logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@permission_required("account.edit_own")
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_own_password(current_user, form.current_password.data, form.new_password.data)
        except Invalid as invalid:
            attach_errors(form, invalid)
        else:
            db.session.commit()
            login_user(current_user, remember=False)  # the old session ended with the change
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("home.index"))
    return render_template("auth/change_password.html", form=form)
