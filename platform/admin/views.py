"""Managing users: create, edit, roles, (de)activate, reset password, API tokens, login locks."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from formflow.admin.forms import (
    ConfirmForm,
    PasswordResetForm,
    TokenForm,
    UserCreateForm,
    UserEditForm,
)
from formflow.auth import services, sessions, throttle
from formflow.auth.decorators import permission_required
from formflow.errors import Invalid, NotFound
from formflow.extensions import db
from formflow.formerrors import attach_errors

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@permission_required("users.manage")
def users():
    return render_template("admin/users.html", users=services.list_users(), locks=throttle.locks())


@bp.route("/users/new", methods=["GET", "POST"])
@permission_required("users.manage")
def user_new():
    form = UserCreateForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(
                form.username.data,
                form.password.data,
                form.roles.data,
                display_name=form.display_name.data or "",
                email=form.email.data,
            )
        except Invalid as invalid:
            attach_errors(form, invalid)
        else:
            db.session.commit()
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
    return render_template("admin/user_new.html", form=form)


def _edit_form(user, *, bound: bool = True) -> UserEditForm:
    """The profile form; `bound=False` ignores the request (a POST of another form on the page
    would otherwise fill it from that form's fields: no roles, no name)."""
    # Not obj=user: its `roles` are UserRole rows, the form wants role names.
    data = {"display_name": user.display_name, "email": user.email, "roles": user.role_names}
    return UserEditForm(data=data) if bound else UserEditForm(formdata=None, data=data)


def _edit_page(user, form=None, password_form=None, token_form=None, new_token=None, status=200):
    page = render_template(
        "admin/user_edit.html",
        user=user,
        form=form or _edit_form(user, bound=False),
        password_form=password_form or PasswordResetForm(formdata=None),
        token_form=token_form or TokenForm(formdata=None),
        confirm_form=ConfirmForm(),
        new_token=new_token,
        locks=throttle.locks(username=user.username),
        live_sessions=sessions.live(user),
    )
    return page, status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@permission_required("users.manage")
def user_edit(user_id: int):
    user = services.get_user(user_id)
    form = _edit_form(user)
    if form.validate_on_submit():
        try:
            services.update_user(
                user,
                display_name=form.display_name.data or "",
                email=form.email.data,
                roles=form.roles.data,
            )
        except Invalid as invalid:
            attach_errors(form, invalid)
        else:
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
    return _edit_page(user, form=form)


@bp.route("/users/<int:user_id>/activate", methods=["POST"])
@permission_required("users.manage")
def user_activate(user_id: int):
    return _set_active(user_id, True)


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@permission_required("users.manage")
def user_deactivate(user_id: int):
    return _set_active(user_id, False)


def _set_active(user_id: int, active: bool):
    user = services.get_user(user_id)
    services.set_active(user, active)
    db.session.commit()
    flash(_("User activated.") if active else _("User deactivated."), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@permission_required("users.manage")
def user_password(user_id: int):
    user = services.get_user(user_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            services.reset_password(user, form.password.data)
        except Invalid as invalid:
            attach_errors(form, invalid)
        else:
            db.session.commit()
            flash(_("Password reset; the user's sessions have ended."), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
    return _edit_page(user, password_form=form, status=422)


@bp.route("/users/<int:user_id>/tokens", methods=["POST"])
@permission_required("users.manage")
def token_create(user_id: int):
    user = services.get_user(user_id)
    form = TokenForm()
    if not form.validate_on_submit():
        return _edit_page(user, token_form=form, status=422)
    plain, _token = services.create_token(user, form.name.data or "")
    db.session.commit()
    # Shown once, on this response only; never stored in plain.
    return _edit_page(user, new_token=plain)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@permission_required("users.manage")
def token_revoke(token_id: int):
    token = services.get_token(token_id)
    services.revoke_token(token)
    db.session.commit()
    flash(_("Token revoked."), "success")
    return redirect(url_for("admin.user_edit", user_id=token.user_id))


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@permission_required("users.manage")
def user_unlock(user_id: int):
    """Lift the user's login locks and counts from every address."""
    user = services.get_user(user_id)
    throttle.unlock_username(user.username)
    db.session.commit()
    flash(_("Login locks of %(name)s lifted.", name=user.username), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.route("/login-locks/<int:lock_id>/unlock", methods=["POST"])
@permission_required("users.manage")
def lock_release(lock_id: int):
    """Lift one lock: a username from one address, or an address for every username."""
    lock = throttle.get_lock(lock_id)
    if lock is None:
        raise NotFound(_("This lock has already been lifted."))
    throttle.unlock([lock])
    db.session.commit()
    flash(_("Lock lifted."), "success")
    return redirect(url_for("admin.users"))
