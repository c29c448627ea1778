"""JSON Schema (Draft 2020-12) + uiSchema forms: render to HTML, parse a post, validate.

Public interface (other packages use only these):

- `render(schema, ui_schema=None, data=None, errors=None, *, readonly=False, selections=None)`
  the form's fields as HTML (inside an app/request context); each input is named by its
  field's JSON Pointer (`/items/0/amount`). The caller wraps it in `<form>` with CSRF and
  `enctype="multipart/form-data"`.
- `parse(schema, ui_schema, formdata, files=None, *, store_upload=None, previous=None) -> Parsed`
  posted fields -> typed JSON (`Parsed.data`), coercion errors (`Parsed.errors`, each with
  the raw `input` so a re-render shows what was typed) and a command (`Parsed.command`:
  add/remove a row, or refresh after an answer that changes the fields; then re-render,
  do not save; re-render with `selections=Parsed.selections`). Pass `previous` (stored
  data, or {} when new) so read-only fields keep their stored or default value whatever
  the browser posts. `store_upload(pointer, file, options)` stores a file that met the
  field's limits (size, `accept` by its content) and returns its token; an `Invalid` it
  raises (the store's own limits, e.g. a quota) is an error at the field.
- `validate(schema, data) -> list[{"pointer", "message"}]` the verdict of jsonschema
  Draft 2020-12 with format checking, messages in the user's language.
- `check_schema(schema)` / `check_ui_schema(schema, ui_schema)` -> `[{"pointer", "message"}]`
  problems in a form definition (pointers relative to the schema / uiSchema root).
- `display(schema, ui_schema, data) -> list[DisplayRow]` titled values for read-only pages;
  `columns(schema, ui_schema) -> list[Column]` the top-level fields (lists, exports, inbox),
  `top_level_values(rows, filenames)` display rows folded to one text per top-level field,
  `money_text(value)` an amount as shown (`1,234.50`).
"""

from formflow.forms.checks import check_schema, check_ui_schema
from formflow.forms.display import Column, DisplayRow, columns, display, money_text, top_level_values
from formflow.forms.parsing import Command, Parsed, parse
from formflow.forms.rendering import render
from formflow.forms.validation import validate

__all__ = [
    "Column",
    "Command",
    "DisplayRow",
    "Parsed",
    "check_schema",
    "check_ui_schema",
    "columns",
    "display",
    "money_text",
    "parse",
    "render",
    "top_level_values",
    "validate",
]
