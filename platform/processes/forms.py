"""Forms of the process admin pages (all post with CSRF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, IntegerField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import HiddenInput


class ImportForm(FlaskForm):
    """A spec to import: an uploaded .json file, or its text pasted."""

    file = FileField(_l("Template file (.json)"), render_kw={"accept": ".json,application/json"})
    text = TextAreaField(_l("…or paste the JSON"), validators=[Optional()], render_kw={"rows": 12})


class ConfirmImportForm(FlaskForm):
    """Carries the checked spec to the confirming post, plus the version it was compared with."""

    spec = HiddenField(validators=[DataRequired()])
    base = HiddenField()


class PublishForm(FlaskForm):
    """Which version to publish and the sha256 the admin looked at (a changed draft is refused)."""

    number = IntegerField(widget=HiddenInput(), validators=[DataRequired()])
    sha256 = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])


class EditForm(FlaskForm):
    text = TextAreaField(
        _l("Spec (JSON)"), validators=[DataRequired()], render_kw={"rows": 30, "spellcheck": "false"}
    )
    #: the sha256 of the version the editor opened: a save on top of someone else's is refused
    base = HiddenField(validators=[Optional(), Length(min=64, max=64)])


class TryForm(FlaskForm):
    """The "try it" panel: a context typed in, or a past case to take it from."""

    context = TextAreaField(_l("Context (JSON)"), render_kw={"rows": 14, "spellcheck": "false"})
    case = IntegerField(_l("…or a past case"), validators=[Optional()])
    run = SubmitField(_l("Run the rules"))
    use_case = SubmitField(_l("Use this case"))


class DraftEditorForm(FlaskForm):
    """An editor of the draft without JSON (its fields are read from the request): the CSRF
    token and the sha256 of the version it opened, so a save on top of someone else's is refused."""

    base = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])


class GalleryImportForm(FlaskForm):
    """A template imported under a key of one's own; `base`: the version of the process that
    already has the key, as the admin reviewed its changes (empty for a new process)."""

    key = StringField(_l("Key of the new process"), validators=[DataRequired(), Length(max=80)])
    base = HiddenField(validators=[Optional(), Length(min=64, max=64)])
