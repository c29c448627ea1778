"""Why a text is not JSON, in the user's language: the parsers (json, simplejson) explain in
English ("Expecting ',' delimiter"), which would reach a zh-CN page as it is.

    describe(error) -> "第 3 行第 14 列：缺少逗号 (,)" / "Line 3, column 14: a comma (,) is missing"
"""

from __future__ import annotations

from flask_babel import gettext as _

#: the start of a parser's message -> what it means (json and simplejson word them alike)
_PROBLEMS = (
    (
        "Expecting value",
        lambda: _("a value is missing (a string, number, object, array, true, false or null)"),
    ),
    ("Expecting ',' delimiter", lambda: _("a comma (,) is missing")),
    ("Expecting ':' delimiter", lambda: _("a colon (:) is missing after the member name")),
    ("Expecting property name", lambda: _("a member name in double quotes is missing")),
    ("Illegal trailing comma", lambda: _("a comma stands before the closing bracket")),
    ("Unterminated string", lambda: _("a string is not closed with a double quote")),
    ("Invalid control character", lambda: _("a string holds a control character (e.g. a line break)")),
    ("Invalid \\uXXXX escape", lambda: _("a \\u escape needs four hexadecimal digits")),
    ("Invalid \\", lambda: _("a backslash escape is not valid")),
    ("Extra data", lambda: _("there is more after the end of the JSON value")),
)


def problem(message: str) -> str:
    """The parser's message in the user's language (an unknown one as it is)."""
    for start, meaning in _PROBLEMS:
        if message.startswith(start):
            return meaning()
    return message


def describe(error: ValueError) -> str:
    """A JSONDecodeError (json or simplejson) as "Line 3, column 14: …"."""
    message = getattr(error, "msg", None)
    if not isinstance(message, str):
        return str(error)
    line, column = getattr(error, "lineno", None), getattr(error, "colno", None)
    if isinstance(line, int) and isinstance(column, int):
        return _(
            "Line %(line)d, column %(column)d: %(problem)s",
            line=line,
            column=column,
            problem=problem(message),
        )
    return problem(message)
