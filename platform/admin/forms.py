"""Forms for managing users."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Length, Optional

from formflow.auth.permissions import ROLES


class RolesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _role_choices():
    return [(key, label) for key, label in ROLES.items()]


class UserEditForm(FlaskForm):
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    roles = RolesField(_l("Roles"), choices=_role_choices, validate_choice=True)


class UserCreateForm(UserEditForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(max=500)])


class PasswordResetForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=500)])


class TokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[Optional(), Length(max=100)])


class ConfirmForm(FlaskForm):
    """A bare POST form: just the CSRF token."""
