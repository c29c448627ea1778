"""Notice templates (`workflow.notices`): the sandbox they render in and the check of their
text at save time. Below the process checks (which call `check_notices` once per spec) and
the `notify` effect (workflows/notify.py, which renders them when a case enters a state).

Templates are written by admins: `{{ … }}` placeholders over `{case, data, customer,
process}`, rendered in an immutable Jinja sandbox (no attribute tricks, no mutation of the
case, bounded output). Everything is rendered as plain text; HTML exists only where the text
is shown, so a template can never inject markup."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from flask_babel import gettext as _
from jinja2 import ChainableUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from formflow.errors import Invalid
from formflow.forms.pointers import escape as escape_token
from formflow.forms.texts import SPEC_LANGUAGES, localized

#: What a notice to a customer must say, in this order, each under its heading.
CUSTOMER_SECTIONS = ("reasons", "amounts", "rights", "appeal", "contact")
#: The headings are part of the document, in the notice's language (not the reader's UI).
SECTION_HEADINGS = {
    "reasons": {"zh-CN": "理由", "en": "Reasons"},
    "amounts": {"zh-CN": "金额", "en": "Amounts"},
    "rights": {"zh-CN": "您的权利", "en": "Your rights"},
    "appeal": {"zh-CN": "如何申诉", "en": "How to appeal"},
    "contact": {"zh-CN": "联系方式", "en": "Contact"},
}
#: Longest rendered text of one template part (a runaway loop stops here).
MAX_RENDERED = 20_000
SUBJECT_LENGTH = 300

# --- rendering --------------------------------------------------------------------------------


def _money(value: Any) -> str:
    """`{{ data.amount|money }}` → 3,000.00"""
    try:
        return f"{Decimal(str(value)):,.2f}"
    except ArithmeticError:
        return str(value)


def _shown(value: Any) -> Any:
    """How a bare `{{ value }}` prints: an amount (a Decimal with two places, as money is
    stored) with grouping — 4,999.99 — whether or not the template says `|money`."""
    if isinstance(value, Decimal) and value.is_finite() and value.as_tuple().exponent == -2:
        return f"{value:,.2f}"
    return value


def _environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        autoescape=False, undefined=ChainableUndefined, trim_blocks=True, lstrip_blocks=True, finalize=_shown
    )
    env.globals = {"range": env.globals["range"]}  # no cycler/joiner/namespace/lipsum
    env.filters["money"] = _money
    return env


_SANDBOX = _environment()


@lru_cache(maxsize=512)
def _compiled(source: str):
    return _SANDBOX.from_string(source)


def render_text(source: str, values: dict) -> str:
    """One template part as plain text; Invalid when the template is broken or forbidden."""
    try:
        pieces, size = [], 0
        for piece in _compiled(source).generate(values):
            size += len(piece)
            if size > MAX_RENDERED:
                message = _("The notice is longer than %(n)d characters.", n=MAX_RENDERED)
                raise Invalid([{"pointer": "/template", "message": message}])
            pieces.append(piece)
    except SecurityError as error:
        message = _("The notice template does something not allowed: %(error)s", error=error)
        raise Invalid([{"pointer": "/template", "message": message}]) from None
    except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError, RecursionError) as error:
        # what an admin's template can provoke at render time: {{ 1 / 0 }}, {{ range(10**9) }}…
        message = _("The notice template cannot be rendered: %(error)s", error=error)
        raise Invalid([{"pointer": "/template", "message": message}]) from None
    return "".join(pieces).strip()


def template_problem(source: Any) -> str | None:
    """Why a template part cannot be compiled, or None."""
    if not isinstance(source, str):
        return _("A text or one text per language is expected.")
    try:
        _compiled(source)
    except TemplateError as error:
        line = getattr(error, "lineno", None)
        return _("Line %(line)s: %(error)s", line=line or 1, error=getattr(error, "message", None) or error)
    return None


@dataclass
class RenderedNotice:
    language: str
    subject: str
    body: str
    #: (heading, text) of each customer section present, in CUSTOMER_SECTIONS order
    sections: list[tuple[str, str]]

    @property
    def document(self) -> str:
        """The body followed by the headed sections: what a customer receives."""
        parts = [self.body] if self.body else []
        parts += [f"{heading}\n{text}" for heading, text in self.sections]
        return "\n\n".join(parts)


def render_notice(notice: dict, values: dict, language: str) -> RenderedNotice:
    subject = render_text(localized(notice.get("subject"), language), values)
    body = render_text(localized(notice.get("body"), language), values)
    sections = []
    for name in CUSTOMER_SECTIONS:
        source = localized((notice.get("sections") or {}).get(name), language)
        if source:
            sections.append((SECTION_HEADINGS[name][language], render_text(source, values)))
    return RenderedNotice(language, " ".join(subject.split())[:SUBJECT_LENGTH], body, sections)


# --- checking ---------------------------------------------------------------------------------


def check_notices(workflow: Any) -> list[dict]:
    """Problems in `workflow.notices`, pointers from the spec's root: every template part
    compiles; sections are the known ones. (The lead's spec check calls this once.)"""
    notices = workflow.get("notices") if isinstance(workflow, dict) else None
    if notices is None:
        return []
    if not isinstance(notices, dict):
        return [{"pointer": "/workflow/notices", "message": _("Notices are an object of named templates.")}]
    problems = []
    for key, notice in notices.items():
        where = "/workflow/notices/" + escape_token(key)
        if not isinstance(notice, dict):
            problems.append({"pointer": where, "message": _("A notice has a subject and a body.")})
            continue
        for part in ("subject", "body"):
            if part not in notice:
                problems.append({"pointer": f"{where}/{part}", "message": _("Required.")})
        parts = [(part, notice.get(part)) for part in ("subject", "body") if part in notice]
        sections = notice.get("sections") or {}
        if not isinstance(sections, dict):
            problems.append({"pointer": where + "/sections", "message": _("Sections are an object.")})
            sections = {}
        for name, text in sections.items():
            if name not in CUSTOMER_SECTIONS:
                message = _(
                    "Unknown section; the sections are: %(names)s.", names=", ".join(CUSTOMER_SECTIONS)
                )
                problems.append({"pointer": f"{where}/sections/{escape_token(name)}", "message": message})
            else:
                parts.append((f"sections/{name}", text))
        for part, text in parts:
            problems += _text_problems(f"{where}/{part}", text)
    return problems


def _text_problems(pointer: str, text: Any) -> list[dict]:
    if isinstance(text, dict):
        problems = []
        for language, source in text.items():
            where = f"{pointer}/{escape_token(language)}"
            if language not in SPEC_LANGUAGES:
                message = _("Unknown language; use %(languages)s.", languages=", ".join(SPEC_LANGUAGES))
                problems.append({"pointer": where, "message": message})
            problem = template_problem(source)
            if problem:
                problems.append({"pointer": where, "message": problem})
        return problems
    problem = template_problem(text)
    return [{"pointer": pointer, "message": problem}] if problem else []
