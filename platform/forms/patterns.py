"""Regular expressions from specs (`pattern`, `patternProperties`), matched in linear time.

A backtracking engine (Python's `re`, the browser's) takes time exponential in the input for
patterns such as `^(a+)+$`: one submit of 30 characters held a worker for seconds, doubling
with each character. Schema patterns therefore run on RE2 (google-re2), whose matching time is
linear in the text whatever the pattern, and `check` refuses:

* what RE2 cannot run (look-arounds, back-references), since nothing else would run it safely;
* nested unbounded quantifiers (`(a+)+`, `(a*)*`, `(a|b+)*`), which RE2 runs well but which
  hang any backtracking validator the spec is exported to, and are never what was meant.

RE2 follows ECMA 262 where JSON Schema expects it: `\\d` is [0-9], not every Unicode digit.
"""

from __future__ import annotations

import re
import re._parser as sre_parse  # the standard library's own regex parser (shapes only)
from functools import lru_cache

import re2
from flask_babel import gettext as _

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refused pattern is reported to the user, not to stderr
_OPTIONS.max_mem = 8 << 20  # a pattern needing more than 8 MB of automaton is refused

_REPEATS = (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT, getattr(sre_parse, "POSSESSIVE_REPEAT", None))


class PatternError(ValueError):
    """A pattern that cannot be used; the message says why, in the user's language."""


@lru_cache(maxsize=1024)
def compiled(pattern: str):
    """The RE2 program for `pattern` (cached: specs repeat a handful of patterns)."""
    try:
        return re2.compile(pattern, options=_OPTIONS)
    except re2.error as error:
        raise PatternError(_("The pattern cannot be used: %(reason)s.", reason=_reason(error))) from None


def search(pattern: str, text: str) -> bool:
    """Whether `pattern` matches somewhere in `text` (JSON Schema patterns are not anchored).
    A pattern that cannot be compiled matches nothing (`check` refuses it before publishing)."""
    try:
        return compiled(pattern).search(text) is not None
    except PatternError:
        return False


def pattern_problem(pattern: str) -> str | None:
    """Why `pattern` may not be used in a spec, or None when it may."""
    try:
        compiled(pattern)
    except PatternError as error:
        return str(error)
    try:
        tree = sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return None  # RE2 accepts it; Python's parser does not: only the nesting test is lost
    if _nested_repeat(tree):
        return _(
            "The pattern repeats a repetition (such as (a+)+), which takes exponential time in "
            "other validators and browsers; repeat once, e.g. a+."
        )
    return None


def _reason(error: re2.error) -> str:
    reason = error.args[0] if error.args else ""
    text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
    if "invalid perl operator" in text:
        return _("look-ahead and look-behind are not supported")
    if "invalid escape sequence: \\" in text and text[-1:].isdigit():
        return _("back-references are not supported")
    if "pattern too large" in text:
        return _("it is too large")
    return text


def _nested_repeat(items) -> bool:
    """Whether an unbounded repeat's body matches through unbounded repeats alone, so that
    one stretch of text splits between iterations in exponentially many ways: `(a+)+`,
    `(a*b*)*`, `(a|b+)*`. `([a-z]+\\.)+` is fine: each iteration must end at a dot."""
    for op, argument in items:
        if op in _REPEATS and _unbounded(argument[1]) and _loose(argument[2]):
            return True
        if any(_nested_repeat(inner) for inner in _inner_sequences(op, argument)):
            return True
    return False


def _inner_sequences(op, argument) -> list:
    if op in _REPEATS:
        return [argument[2]]
    if op is sre_parse.SUBPATTERN:
        return [argument[-1]]
    if op is sre_parse.BRANCH:
        return list(argument[1])
    if op in (sre_parse.ASSERT, sre_parse.ASSERT_NOT):
        return [argument[1]]
    return []


def _loose(items) -> bool:
    """Whether the sequence is made of repetitions only, at least one of them unbounded."""
    unbounded = False
    for op, argument in items:
        if op in _REPEATS:
            low, high, _body = argument
            if _unbounded(high):
                unbounded = True
            elif low > 0:
                return False
        elif op is sre_parse.SUBPATTERN:
            if not _loose(argument[-1]):
                return False
            unbounded = True
        elif op is sre_parse.BRANCH:
            if not any(_loose(branch) for branch in argument[1]):
                return False
            unbounded = True
        else:
            return False
    return unbounded


def _unbounded(high) -> bool:
    return high is sre_parse.MAXREPEAT or high > 1000
