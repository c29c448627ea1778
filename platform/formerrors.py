"""Put a service's Invalid errors next to the WTForms fields they point at."""

from __future__ import annotations

from flask_wtf import FlaskForm

from formflow.errors import Invalid


def attach_errors(form: FlaskForm, invalid: Invalid) -> None:
    """`/field` pointers land on that field; anything else shows above the form."""
    for error in invalid.errors:
        name = error.get("pointer", "").lstrip("/").split("/")[0]
        field = form._fields.get(name) if name else None
        if field is not None:
            field.errors = [*field.errors, error["message"]]
        else:
            form.form_errors.append(error["message"])
