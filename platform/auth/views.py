"""Logging in and out, and changing one's own password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

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
            attempt = services.count_login_attempt(form.username.data, request.remote_addr)
            db.session.commit()  # counted before the password is checked; no row lock held meanwhile
            user = services.authenticate(attempt, form.username.data, form.password.data)
        except services.LoginRefused as refused:
            db.session.commit()  # keep the failure count and the lock
            form.form_errors.append(refused.message)
        else:
            _log_in(user, remember=form.remember.data)
            db.session.commit()
            return redirect(safe_next(form.next.data, url_for("home.index")))
    return render_template("auth/login.html", form=form)


def _log_in(user, *, remember: bool) -> None:
    user_agent = request.user_agent.string
    services.start_session(user, remember=remember, address=request.remote_addr, user_agent=user_agent)
    login_user(user, remember=remember)


@bp.route("/auth/logout", methods=["POST"])
@permission_required("home.view")
def logout():
    services.end_session(current_user._get_current_object())
    db.session.commit()
    logout_user()
    flash(_("You have been logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@permission_required("account.edit_own")
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_own_password(user, form.current_password.data, form.new_password.data)
        except Invalid as invalid:
            attach_errors(form, invalid)
        else:
            _log_in(user, remember=False)  # every session ended with the change; this one goes on anew
            db.session.commit()
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("home.index"))
    return render_template("auth/change_password.html", form=form)
