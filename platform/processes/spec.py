"""A process spec as data: parsing its text, checking it, hashing it.

`check_spec` answers "what is wrong with this spec, and where?" as a list of
`{"pointer", "message"}` with JSON Pointers into the spec, so the CLI, the admin page
and the API all point at the same place.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from flask_babel import gettext as _
from jsonschema import Draft202012Validator, ValidationError

from formflow.canonical import canonical_sha256
from formflow.errors import Invalid
from formflow.jsonerrors import problem
from formflow.tables import check_tables

KEY_PATTERN = "^[a-z][a-z0-9_]{1,79}$"
NOT_BLANK_PATTERN = "\\S"
RULE_ID_PATTERN = "^[a-z0-9][a-z0-9_-]{0,79}$"
POINTER_PATTERN = "^(/([^~/]|~[01])*)+$"
#: a validate rule's param name (form_rules.PLACEHOLDER)
PARAM_PATTERN = "^[A-Za-z_][A-Za-z0-9_]{0,39}$"

_TYPE_NAMES = {
    "object": lambda: _("an object"),
    "array": lambda: _("an array"),
    "string": lambda: _("a string"),
    "integer": lambda: _("an integer"),
    "number": lambda: _("a number"),
    "boolean": lambda: _("true or false"),
    "null": lambda: _("null"),
}


@cache
def meta_schema() -> dict:
    """The JSON Schema every spec must satisfy (packaged as spec.schema.json)."""
    text = resources.files("formflow.processes").joinpath("spec.schema.json").read_text("utf-8")
    return json.loads(text)


@cache
def _meta_validator() -> Draft202012Validator:
    return Draft202012Validator(meta_schema())


# --- pointers and hashing ------------------------------------------------------------------


def pointer(parts) -> str:
    """A JSON Pointer (RFC 6901) for a path of keys and indexes; "" is the whole document."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def prefixed(prefix: str, errors: list[dict]) -> list[dict]:
    return [{"pointer": prefix + error.get("pointer", ""), "message": error["message"]} for error in errors]


def spec_sha256(spec: Any) -> str:
    """Key order and whitespace do not matter to the hash; content does (formflow.canonical)."""
    return canonical_sha256(spec)


def spec_text(spec: dict) -> str:
    """The spec as people read and edit it: UTF-8 JSON, indent 2, key order kept."""
    return json.dumps(spec, indent=2, ensure_ascii=False) + "\n"


def plain_spec(value: Any) -> Any:
    """The spec with the numbers stdlib `json` would give: the API parses bodies with exact
    Decimals, while specs are stored as plain JSON (and hashed in one canonical form)."""
    if isinstance(value, dict):
        return {name: plain_spec(item) for name, item in value.items()}
    if isinstance(value, list):
        return [plain_spec(item) for item in value]
    if isinstance(value, Decimal | float):
        number = float(value)
        if not math.isfinite(number):
            raise Invalid([{"pointer": "", "message": _("Numbers must be finite (no NaN or Infinity).")}])
        return number
    return value


# --- parsing -------------------------------------------------------------------------------


class _DuplicateMember(ValueError):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    seen: dict[str, Any] = {}
    for name, value in pairs:
        if name in seen:
            # json.loads would silently keep the last one and lose the first.
            raise _DuplicateMember(name)
        seen[name] = value
    return seen


def _reject_constant(name: str):
    raise ValueError(name)


def parse_spec_text(text: str | bytes, filename: str = "") -> dict:
    """Parse a spec file's text; Invalid (pointer "") names line and column of a syntax error."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            where = filename or _("The file")
            raise Invalid(
                [{"pointer": "", "message": _("%(file)s is not UTF-8 text.", file=where)}]
            ) from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise Invalid([{"pointer": "", "message": _("The file is empty.")}])
    try:
        spec = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        message = _(
            "Invalid JSON at line %(line)d, column %(column)d: %(problem)s",
            line=error.lineno,
            column=error.colno,
            problem=problem(error.msg),
        )
        raise Invalid([{"pointer": "", "message": message}]) from None
    except _DuplicateMember as duplicate:
        message = _("Invalid JSON: the member %(name)s appears twice in one object.", name=duplicate.name)
        raise Invalid([{"pointer": "", "message": message}]) from None
    except ValueError as constant:
        message = _("Invalid JSON: %(value)s is not a JSON number.", value=str(constant))
        raise Invalid([{"pointer": "", "message": message}]) from None
    if not isinstance(spec, dict):
        raise Invalid([{"pointer": "", "message": _("A spec must be a JSON object.")}])
    return spec


# --- checking ------------------------------------------------------------------------------


def _meta_errors(error: ValidationError) -> list[dict]:
    """One validation error of the meta-schema as pointer/message pairs people can act on."""
    here = pointer(error.absolute_path)
    kind, expected, instance = error.validator, error.validator_value, error.instance
    if "propertyNames" in error.schema_path:
        # the name of a member is wrong: point at that member (jsonschema points at the object)
        here = pointer([*error.absolute_path, instance])
    if kind == "not" and isinstance(expected, dict) and list(expected) == ["required"]:
        rule_kind = instance.get("kind") if isinstance(instance, dict) else None
        return [
            {
                "pointer": pointer([*error.absolute_path, name]),
                "message": _("%(name)s does not belong in a %(kind)s rule.", name=name, kind=rule_kind)
                if isinstance(rule_kind, str)
                else _("%(name)s is not allowed here.", name=name),
            }
            for name in expected["required"]
        ]
    if kind == "required":
        missing = [name for name in expected if isinstance(instance, dict) and name not in instance]
        return [{"pointer": here, "message": _("%(name)s is required.", name=name)} for name in missing]
    if kind == "additionalProperties":
        known = error.schema.get("properties", {})
        unknown = [name for name in instance if name not in known]
        return [
            {
                "pointer": pointer([*error.absolute_path, name]),
                "message": _(
                    "Unknown member %(name)s; allowed: %(allowed)s.", name=name, allowed=", ".join(known)
                ),
            }
            for name in unknown
        ]
    if kind == "const":
        message = _("Must be %(value)s.", value=json.dumps(expected, ensure_ascii=False))
    elif kind == "enum":
        message = _("Must be one of: %(values)s.", values=", ".join(str(value) for value in expected))
    elif kind == "type":
        names = expected if isinstance(expected, list) else [expected]
        message = _("Must be %(type)s.", type=" / ".join(_TYPE_NAMES[name]() for name in names))
    elif kind == "pattern" and expected == KEY_PATTERN:
        message = _("Use 2 to 80 characters: a lowercase letter first, then lowercase letters, digits or _.")
    elif (kind == "pattern" and expected == NOT_BLANK_PATTERN) or (kind == "minLength" and expected == 1):
        message = _("Must not be empty.")
    elif kind == "pattern" and expected == RULE_ID_PATTERN:
        message = _(
            "Use 1 to 80 characters: lowercase letters, digits, _ or -, starting with a letter or digit."
        )
    elif kind == "pattern" and expected == POINTER_PATTERN:
        message = _("Must be a JSON Pointer such as /amount (rows: /instalments/*/amount).")
    elif kind == "pattern" and expected == PARAM_PATTERN:
        message = _(
            "Use up to 40 letters, digits or _, not starting with a digit (the message writes it as {name})."
        )
    elif kind == "maxProperties":
        message = _("At most %(n)d members.", n=expected)
    elif kind == "maxItems":
        message = _("At most %(n)d items.", n=expected)
    elif kind == "minItems":
        message = _("At least %(n)d items.", n=expected)
    elif kind == "uniqueItems":
        message = _("Each item may appear only once.")
    elif kind == "minLength":
        message = _("At least %(n)d characters.", n=expected)
    elif kind == "maxLength":
        message = _("At most %(n)d characters.", n=expected)
    else:
        message = error.message
    return [{"pointer": here, "message": message}]


def _form_errors(form: dict) -> list[dict]:
    """The form's JSON Schema and uiSchema, checked by the forms engine."""
    from formflow import forms

    schema = form["schema"]
    schema_errors = forms.check_schema(schema)
    errors = prefixed("/form/schema", schema_errors)
    if schema.get("type") != "object" and not any(error["pointer"] == "/type" for error in schema_errors):
        where = "/form/schema/type" if "type" in schema else "/form/schema"
        errors.append({"pointer": where, "message": _('The form schema\'s root must be "type": "object".')})
    if errors:
        return errors  # a uiSchema cannot be checked against a broken schema
    ui_schema = form.get("uiSchema") or {}
    return prefixed("/form/uiSchema", forms.check_ui_schema(schema, ui_schema))


def check_spec(spec: Any) -> list[dict]:
    """Everything wrong with `spec`: meta-schema, the form's schema and uiSchema, then the
    rules (each one's JSONLogic, the fields and tables they name, compute cycles).

    Returns `[{"pointer", "message"}]`, empty when the spec is fine. A missing required
    member points at the object that lacks it and names the member.
    """
    spec = plain_spec(spec)
    errors: list[dict] = []
    for error in sorted(_meta_validator().iter_errors(spec), key=lambda e: list(map(str, e.absolute_path))):
        for found in _meta_errors(error):
            if found not in errors:
                errors.append(found)
    form = spec.get("form") if isinstance(spec, dict) else None
    form_is_sound = not any(error["pointer"].startswith("/form") for error in errors)
    if form_is_sound and isinstance(form, dict) and isinstance(form.get("schema"), dict):
        errors.extend(_form_errors(form))
        # rules name the form's fields: a broken form would only make noise about them
        if not any(error["pointer"].startswith("/form") for error in errors):
            errors.extend(_rule_errors(spec, errors))
    errors.extend(check_tables(spec, already=errors))  # parameter tables: formflow/rules/tables.py
    errors.extend(_workflow_errors(spec, errors))
    if isinstance(spec, dict) and not any(
        error["pointer"].startswith(("/form", "/screening")) for error in errors
    ):
        from formflow.processes.screening_checks import check_screening

        errors.extend(check_screening(spec))
    return errors


def _workflow_errors(spec: Any, errors: list[dict]) -> list[dict]:
    """States, actions, roles, reachability, guards and effects (processes/workflow_checks.py)."""
    from formflow.processes.workflow_checks import check_workflow

    if not isinstance(spec, dict) or any(error["pointer"].startswith("/form") for error in errors):
        return []
    return check_workflow(spec, already=errors)


def _rule_errors(spec: dict, errors: list[dict]) -> list[dict]:
    """`check()` on every rule and the references rules and tests make (rule_checks.py);
    rules the meta-schema refused are not looked at again."""
    from formflow.processes.rule_checks import check_rules

    if not isinstance(spec.get("rules", []), list) or not isinstance(spec.get("tests", []), list):
        return []
    refused = {error["pointer"].split("/")[2] for error in errors if error["pointer"].startswith("/rules/")}
    skip = [index for index in range(len(spec.get("rules") or [])) if str(index) in refused]
    tests_refused = any(error["pointer"].startswith("/tests") for error in errors)
    found = check_rules(
        spec if not tests_refused else {**spec, "tests": []},
        tables_sound=not any(error["pointer"].startswith("/tables") for error in errors),
        skip=skip,
    )
    return [error for error in found if error not in errors]


def check_test_context(context: Any) -> list[dict]:
    """Problems in a rule context ({data, customer, account, case, user, now}) as a spec's
    tests and the "try it" panel take it; pointers relative to the context."""
    schema = meta_schema()["$defs"]["test"]["properties"]["context"]
    validator = Draft202012Validator(schema)
    errors: list[dict] = []
    for error in sorted(validator.iter_errors(context), key=lambda e: list(map(str, e.absolute_path))):
        errors.extend(found for found in _meta_errors(error) if found not in errors)
    return errors


def ensure_valid(spec: Any) -> dict:
    """`spec` in plain form when it passes `check_spec`; Invalid with every problem otherwise."""
    spec = plain_spec(spec)
    errors = check_spec(spec)
    if errors:
        raise Invalid(errors)
    return spec
