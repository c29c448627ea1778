"""Which language a request is served in: the `lang` cookie, else zh-CN."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app, request

LANG_COOKIE = "lang"


def select_locale() -> str:
    wanted = request.cookies.get(LANG_COOKIE) if request else None
    languages = current_app.config["LANGUAGES"]
    return wanted if wanted in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def html_lang(locale: str) -> str:
    """Babel's zh_CN as the BCP 47 tag HTML wants (zh-CN)."""
    return locale.replace("_", "-")


def join_list(items) -> str:
    """A list as the user's language writes one: 甲、乙和丙 / A, B, and C."""
    from babel.lists import format_list
    from flask_babel import get_locale

    items = [str(item) for item in items]
    try:
        return format_list(items, locale=get_locale() or "zh_Hans_CN")
    except (RuntimeError, ValueError):  # outside a request or with no usable locale
        return ", ".join(items)


def business_zone() -> ZoneInfo:
    """The time zone business dates are counted in (Babel's default timezone, Asia/Shanghai)."""
    try:
        return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"))
    except RuntimeError:  # outside an app context
        return ZoneInfo("Asia/Shanghai")
