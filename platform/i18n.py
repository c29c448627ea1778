"""Which language a request is served in: the `lang` cookie, else zh-CN."""

from __future__ import annotations

from flask import current_app, request

LANG_COOKIE = "lang"


def select_locale() -> str:
    wanted = request.cookies.get(LANG_COOKIE) if request else None
    languages = current_app.config["LANGUAGES"]
    return wanted if wanted in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def html_lang(locale: str) -> str:
    """Babel's zh_CN as the BCP 47 tag HTML wants (zh-CN)."""
    return locale.replace("_", "-")
