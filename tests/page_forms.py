"""What a browser would post for a form of a page: its inputs, checked boxes, chosen options and
text areas, as (name, value) pairs — so a test can post an editor's form back as the admin left it
and change only what the admin would change."""

from __future__ import annotations

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self, action: str):
        super().__init__(convert_charrefs=True)
        self.action, self.inside, self.pairs = action, False, []
        self._select: str | None = None
        self._first_option: str | None = None
        self._chosen = False
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.inside = attributes.get("action") == self.action
        if not self.inside:
            return
        name = attributes.get("name")
        if tag == "input" and name and attributes.get("type") not in ("submit", "button", "file"):
            if attributes.get("type") in ("checkbox", "radio") and "checked" not in attributes:
                return
            self.pairs.append((name, attributes.get("value", "on")))
        elif tag == "select":
            self._select, self._first_option, self._chosen = name, None, False
        elif tag == "option" and self._select:
            value = attributes.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in attributes and not self._chosen:
                self.pairs.append((self._select, value))
                self._chosen = True
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select:
            if not self._chosen and self._first_option is not None:
                self.pairs.append((self._select, self._first_option))
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.pairs.append((self._textarea, "".join(self._text).removeprefix("\n")))
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)


def form_pairs(page: str, action: str) -> list[tuple[str, str]]:
    reader = _FormReader(action)
    reader.feed(page)
    return reader.pairs


def changed(pairs: list[tuple[str, str]], **values: str | list[str] | None) -> list[tuple[str, str]]:
    """`pairs` with each named input replaced by its new value (a list for several, None: none)."""
    kept = [(name, value) for name, value in pairs if name not in values]
    for name, value in values.items():
        if value is None:
            continue
        kept += [(name, item) for item in (value if isinstance(value, list) else [value])]
    return kept
