"""`validate(schema, data)`: jsonschema Draft 2020-12 with format checking, errors as
JSON Pointers with messages in the user's language.

Numbers are compared exactly: floats in the schema or the data are read as the decimal
they were written as (0.29 is a multiple of 0.01 here, as a person means it; plain floats
would say 0.29 / 0.01 = 28.999999999999996)."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import lru_cache
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from jsonschema import Draft202012Validator, ValidationError, validators

from formflow import exactjson
from formflow.forms import patterns
from formflow.forms.pointers import from_path, join


def exact(value: Any) -> Any:
    """The document with every float replaced by the Decimal of its shortest repr."""
    if isinstance(value, float):
        return (
            Decimal(repr(value)) if value == value and value not in (float("inf"), float("-inf")) else value
        )
    if isinstance(value, dict):
        return {key: exact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [exact(item) for item in value]
    return value


def _is_integer(checker, instance: Any) -> bool:
    # JSON has one number type: 5.0 (or Decimal("5.00")) is an integer, as in 2020-12.
    if isinstance(instance, Decimal):
        return instance.is_finite() and instance == instance.to_integral_value()
    return Draft202012Validator.TYPE_CHECKER.is_type(instance, "integer")


def is_multiple(value: Decimal, divisor: Decimal) -> bool:
    """Whether `value` is a whole multiple of `divisor`, exactly and in time bounded by their
    digits, not by their exponents: 1E+999999999 is answered at once (a Fraction would build
    a 10^999999999 integer first)."""
    if not (value.is_finite() and divisor.is_finite()) or divisor == 0:
        return False
    _sign, digits, exponent = value.as_tuple()
    _dsign, divisor_digits, divisor_exponent = divisor.as_tuple()
    # more digits than Python turns into an int (4,300 by default): not a number we accept
    mantissa = int("".join(map(str, digits)) or "0")
    divisor_mantissa = int("".join(map(str, divisor_digits)) or "0")
    if mantissa == 0:
        return True
    if exponent >= divisor_exponent:  # m1·10^k divisible by m2, k possibly huge: modular power
        return mantissa * pow(10, exponent - divisor_exponent, divisor_mantissa) % divisor_mantissa == 0
    shift = divisor_exponent - exponent
    if shift > len(digits):  # m2·10^shift exceeds m1: no whole multiple
        return False
    return mantissa % (divisor_mantissa * 10**shift) == 0


def _multiple_of(validator, divisor, instance, schema):
    if not validator.is_type(instance, "number"):
        return
    try:
        failed = not is_multiple(Decimal(str(instance)), Decimal(str(divisor)))
    except (ArithmeticError, ValueError):
        failed = True
    if failed:
        yield ValidationError(f"{instance!r} is not a multiple of {divisor}")


def _number_key(value) -> tuple:
    """Equal numbers, equal keys (1 == 1.0 == Decimal('1.00')), without arithmetic."""
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        return ("d", str(number))
    sign, digits, exponent = number.as_tuple()
    digits = list(digits)
    while len(digits) > 1 and digits[-1] == 0:
        digits.pop()
        exponent += 1
    if digits == [0]:
        return ("d", 0)
    return ("d", sign, tuple(digits), exponent)


def _canonical(value) -> Any:
    """A hashable key per JSON value, equal exactly when JSON Schema calls the values equal
    (true is not 1; object key order does not count)."""
    if isinstance(value, bool) or value is None:
        return ("v", value)
    if isinstance(value, int | float | Decimal):
        return _number_key(value)
    if isinstance(value, str):
        return ("s", value)
    if isinstance(value, list):
        return ("l", tuple(_canonical(item) for item in value))
    if isinstance(value, dict):
        return ("o", frozenset((key, _canonical(item)) for key, item in value.items()))
    return ("x", repr(value))


def _unique_items(validator, unique, instance, schema):
    """uniqueItems in one pass over hashed canonical values (jsonschema compares pairs when
    items cannot be sorted: 5,000 objects took 33 s)."""
    if not unique or not validator.is_type(instance, "array"):
        return
    seen = set()
    for item in instance:
        key = _canonical(item)
        if key in seen:
            yield ValidationError(f"{instance!r} has non-unique elements")
            return
        seen.add(key)


def _required(validator, required, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    for name in required:
        if name not in instance:
            error = ValidationError(f"{name!r} is a required property")
            error.missing = name  # which one: the message is for people, this for placing it
            yield error


def _dependent_required(validator, dependent, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    for trigger, needed in dependent.items():
        if trigger not in instance:
            continue
        for name in needed:
            if name not in instance:
                error = ValidationError(f"{name!r} is a dependency of {trigger!r}")
                error.missing = name
                yield error


# Patterns run on RE2 (linear time, forms/patterns.py), not on Python's backtracking `re`.


def _pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not patterns.search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator, pattern_properties, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in pattern_properties.items():
        for name, value in instance.items():
            if patterns.search(pattern, name):
                yield from validator.descend(value, subschema, path=name, schema_path=pattern)


def _undeclared(instance: dict, schema: dict) -> list[str]:
    """The names in `instance` neither `properties` nor `patternProperties` of `schema` cover."""
    declared = schema.get("properties", {})
    named = schema.get("patternProperties", {})
    return [
        name
        for name in instance
        if name not in declared and not any(patterns.search(pattern, name) for pattern in named)
    ]


def _additional_properties(validator, additional, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    extras = _undeclared(instance, schema)
    if validator.is_type(additional, "object"):
        for name in extras:
            yield from validator.descend(instance[name], additional, path=name)
    elif not additional and extras:
        listed = ", ".join(repr(name) for name in sorted(extras, key=str))
        yield ValidationError(f"Additional properties are not allowed ({listed} unexpected)")


ExactValidator = validators.extend(
    Draft202012Validator,
    validators={
        "multipleOf": _multiple_of,
        "uniqueItems": _unique_items,
        "required": _required,
        "dependentRequired": _dependent_required,
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
    },
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer),
)


@lru_cache(maxsize=256)
def _validator_for(schema_json: str) -> Draft202012Validator:
    schema = exact(json.loads(schema_json, parse_float=Decimal))
    return ExactValidator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def validator(schema: dict) -> Draft202012Validator:
    """A compiled validator, cached per schema (a process version's schema never changes)."""
    # exactjson writes a Decimal as the number it is (json's default=str made it a string)
    return _validator_for(exactjson.dumps(schema, sort_keys=True))


def validate(schema: dict, data: Any) -> list[dict]:
    """Every error of `data` against `schema`; [] when valid."""
    errors = []
    for error in sorted(validator(schema).iter_errors(exact(data)), key=_order):
        errors.extend(_describe(error))
    return errors


def is_valid(schema: dict, data: Any) -> bool:
    return validator(schema).is_valid(exact(data))


def _order(error: ValidationError) -> tuple:
    return (list(map(str, error.absolute_path)), error.validator or "")


def _describe(error: ValidationError) -> list[dict]:
    """One error as {"pointer", "message"} (+ "field" for a missing property).

    An anyOf/oneOf failure reports what the closest alternative says, at its pointer,
    so the user sees "amount: must be at least 1" rather than "matches no alternative"."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        from jsonschema.exceptions import best_match

        closest = best_match(_closest_alternative(error))
        if closest is not None and closest.validator not in ("anyOf", "oneOf", "const", "type"):
            return _describe(closest)
    pointer = from_path(error.absolute_path)
    if error.validator in ("additionalProperties", "unevaluatedProperties") and isinstance(
        error.instance, dict
    ):
        extra = _undeclared(error.instance, error.schema)
        if extra:
            return [
                {"pointer": join(pointer, name), "message": _("Unknown field: %(names)s.", names=name)}
                for name in extra
            ]
    described = {"pointer": pointer, "message": message(error)}
    missing = getattr(error, "missing", None)
    if missing is not None:
        described["field"] = join(pointer, missing)
    return [described]


def _closest_alternative(error: ValidationError) -> list[ValidationError]:
    """The errors of the alternative the data is closest to: not refused by a const, enum or
    type (a discriminator such as "kind"), then not by its closed set of properties, then the
    one declaring most of the data's keys, then the one with fewest errors. best_match over all branches
    would prefer the shallowest error, often "required" from a branch the user did not pick."""
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        index = sub.relative_schema_path[0] if sub.relative_schema_path else None  # a `false` branch
        branches.setdefault(index, []).append(sub)
    alternatives = error.validator_value if isinstance(error.validator_value, list) else []

    def distance(item: tuple[Any, list[ValidationError]]) -> tuple:
        index, errors = item
        discriminated = sum(e.validator in ("const", "enum", "type") for e in errors)
        closed = sum(e.validator == "additionalProperties" for e in errors)
        branch = alternatives[index] if isinstance(index, int) and index < len(alternatives) else {}
        declared = branch.get("properties", {}) if isinstance(branch, dict) else {}
        known = len(set(error.instance) & set(declared)) if isinstance(error.instance, dict) else 0
        return (discriminated, closed, -known, len(errors), str(index))

    return min(branches.items(), key=distance)[1]


_TYPE_NAMES = {
    "string": lambda: _("text"),
    "number": lambda: _("a number"),
    "integer": lambda: _("a whole number"),
    "boolean": lambda: _("yes or no"),
    "object": lambda: _("a group of fields"),
    "array": lambda: _("a list"),
    "null": lambda: _("empty"),
}

_FORMAT_NAMES = {
    "date": lambda: _("a date (YYYY-MM-DD)"),
    "date-time": lambda: _("a date and time"),
    "time": lambda: _("a time"),
    "email": lambda: _("an e-mail address"),
    "idn-email": lambda: _("an e-mail address"),
    "uri": lambda: _("a full web address (URI)"),
    "uri-reference": lambda: _("a web address"),
    "uuid": lambda: _("a UUID"),
    "ipv4": lambda: _("an IPv4 address"),
    "ipv6": lambda: _("an IPv6 address"),
    "hostname": lambda: _("a host name"),
    "duration": lambda: _("a duration (ISO 8601)"),
}


def _value_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return exactjson.dumps(value)  # a Decimal as the number it is, not a quoted string


def _property_title(schema: Any, name: str) -> str:
    properties = schema.get("properties", {}) if isinstance(schema, dict) else {}
    title = properties.get(name, {}).get("title") if isinstance(properties.get(name), dict) else None
    return title if isinstance(title, str) and title else name


def message(error: ValidationError) -> str:
    """The user-facing message for one jsonschema error, in the current language."""
    keyword, value = error.validator, error.validator_value
    if keyword == "required":
        missing = getattr(error, "missing", "")
        return _("“%(name)s” is required.", name=_property_title(error.schema, missing))
    if keyword == "dependentRequired":
        missing = getattr(error, "missing", "")
        return _("“%(name)s” is required here.", name=_property_title(error.schema, missing))
    if keyword == "type":
        kinds = value if isinstance(value, list) else [value]
        names = [(_TYPE_NAMES.get(kind) or (lambda k=kind: k))() for kind in kinds]
        return _("Must be %(kind)s.", kind=_(" or ").join(names))
    if keyword == "minimum":
        return _("Must be at least %(limit)s.", limit=value)
    if keyword == "maximum":
        return _("Must be at most %(limit)s.", limit=value)
    if keyword == "exclusiveMinimum":
        return _("Must be greater than %(limit)s.", limit=value)
    if keyword == "exclusiveMaximum":
        return _("Must be less than %(limit)s.", limit=value)
    if keyword == "minLength":
        return ngettext("Enter at least %(num)d character.", "Enter at least %(num)d characters.", int(value))
    if keyword == "maxLength":
        return ngettext("Enter at most %(num)d character.", "Enter at most %(num)d characters.", int(value))
    if keyword == "pattern":
        return _("Does not have the expected form (pattern %(pattern)s).", pattern=value)
    if keyword == "format":
        name = _FORMAT_NAMES.get(value)
        return _("Must be %(what)s.", what=name()) if name else _("Not a valid %(format)s.", format=value)
    if keyword == "enum":
        return _("Choose one of: %(options)s.", options=", ".join(_value_text(v) for v in value))
    if keyword == "const":
        return _("Must be %(value)s.", value=_value_text(value))
    if keyword == "multipleOf":
        if Decimal(str(value)) == Decimal("0.01"):
            return _("Use at most two decimal places.")
        return _("Must be a multiple of %(n)s.", n=value)
    if keyword == "minItems":
        return ngettext("Add at least %(num)d item.", "Add at least %(num)d items.", int(value))
    if keyword == "maxItems":
        return ngettext("Add at most %(num)d item.", "Add at most %(num)d items.", int(value))
    if keyword == "uniqueItems":
        return _("Each item must be different.")
    if keyword in ("additionalProperties", "unevaluatedProperties"):
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return _("Unknown field: %(names)s.", names=", ".join(extra) or "?")
    if keyword == "minProperties":
        return ngettext("Fill in at least %(num)d field.", "Fill in at least %(num)d fields.", int(value))
    if keyword == "maxProperties":
        return ngettext("Fill in at most %(num)d field.", "Fill in at most %(num)d fields.", int(value))
    if keyword in ("anyOf", "oneOf"):
        if keyword == "oneOf" and not error.context:
            return _("Matches more than one of the alternatives; it must match exactly one.")
        return _("Does not match any of the allowed alternatives.")
    if keyword == "not":
        return _("This value is not allowed.")
    if keyword == "contains" or keyword in ("minContains", "maxContains"):
        return _("The list does not contain the expected items.")
    if keyword == "false" or value is False:
        return _("This value is not allowed.")
    return _("Not valid: %(detail)s", detail=error.message)
