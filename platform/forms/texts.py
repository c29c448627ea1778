"""Texts written by admins: a plain string, or one per language {"zh-CN": …, "en": …}."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from formflow.i18n import select_locale

SPEC_LANGUAGES = ("zh-CN", "en")


#: the language a part of a page is shown in, when not the user's (a preview in English)
_FORCED: ContextVar[str | None] = ContextVar("formflow_spec_language", default=None)


def spec_language() -> str:
    """The spec's language code for the current request ("zh-CN" or "en"): the user's, or the
    one `in_language` forces for a part of the page."""
    forced = _FORCED.get()
    if forced is not None:
        return forced
    try:
        return "en" if select_locale() == "en" else "zh-CN"
    except RuntimeError:  # outside a request
        return "zh-CN"


@contextmanager
def in_language(language: str) -> Iterator[None]:
    """Admins' texts in `language` ("zh-CN" or "en") within the block (with flask_babel's
    `force_locale` for the engine's own words)."""
    token = _FORCED.set(language if language in SPEC_LANGUAGES else "zh-CN")
    try:
        yield
    finally:
        _FORCED.reset(token)


def localized(text: Any, language: str | None = None) -> str:
    """The text in `language` (default: the user's), falling back to zh-CN, then any."""
    if text is None:
        return ""
    if isinstance(text, dict):
        language = language or spec_language()
        for candidate in (language, "zh-CN", *text):
            value = text.get(candidate)
            if isinstance(value, str) and value:
                return value
        return ""
    return str(text)


def exact_text(text: Any, language: str) -> str:
    """The text in `language` exactly, no fallback to the other ("" when it has none): what an
    editor shows in that language's input. A plain string counts as zh-CN."""
    if isinstance(text, dict):
        value = text.get(language)
        return value if isinstance(value, str) else ""
    return text if isinstance(text, str) and language == "zh-CN" else ""


def is_text(value: Any) -> bool:
    """A string or a {language: string} map: what ui:title, ui:help … accept."""
    if isinstance(value, str):
        return True
    return (
        isinstance(value, dict)
        and bool(value)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    )
