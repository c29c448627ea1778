"""Keyset pagination links: the current filters plus the next cursor."""

from __future__ import annotations

from flask import request, url_for


def next_page_url(endpoint: str, cursor_name: str, cursor) -> str | None:
    if cursor is None:
        return None
    args = request.args.to_dict()
    args[cursor_name] = cursor
    return url_for(endpoint, **args)
