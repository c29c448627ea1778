"""What a browser posts for a form's HTML: the successful controls of HTML's form submission
algorithm, in document order, as a werkzeug MultiDict ready for `formflow.forms.parse`.

Kept: named inputs (hidden included) that are not disabled, checkboxes and radios only when
checked (value "on" when they carry none), the selected options of each select (a single
select with none marked selected posts its first option, as browsers do), the text of each
textarea (the one newline right after <textarea> dropped, as the HTML parser does).
Left out: buttons of every kind (no button was pressed), file inputs (a test passes files
separately) and controls inside a disabled fieldset (outside its first legend)."""

from __future__ import annotations

from html.parser import HTMLParser

from werkzeug.datastructures import MultiDict

_BUTTON_TYPES = frozenset({"submit", "button", "reset", "image"})


class _Scraper(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pairs: list[tuple[str, str]] = []
        self._select: dict | None = None
        self._option: dict | None = None
        self._textarea: dict | None = None
        # each open fieldset: [disabled?, legends seen, inside its first legend?]
        self._fieldsets: list[list] = []

    def _disabled_by_fieldset(self) -> bool:
        return any(disabled and not in_first_legend for disabled, _, in_first_legend in self._fieldsets)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "fieldset":
            self._fieldsets.append(["disabled" in attributes, 0, False])
        elif tag == "legend" and self._fieldsets:
            current = self._fieldsets[-1]
            current[1] += 1
            current[2] = current[1] == 1
        elif tag == "input":
            self._input(attributes)
        elif tag == "select":
            self._select = {
                "name": attributes.get("name"),
                "multiple": "multiple" in attributes,
                "usable": "disabled" not in attributes and not self._disabled_by_fieldset(),
                "options": [],
            }
        elif tag == "option" and self._select is not None:
            self._option = {
                "value": attributes.get("value"),
                "selected": "selected" in attributes,
                "disabled": "disabled" in attributes,
                "text": "",
            }
            self._select["options"].append(self._option)
        elif tag == "textarea":
            self._textarea = {
                "name": attributes.get("name"),
                "usable": "disabled" not in attributes and not self._disabled_by_fieldset(),
                "text": "",
            }

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "fieldset" and self._fieldsets:
            self._fieldsets.pop()
        elif tag == "legend" and self._fieldsets:
            self._fieldsets[-1][2] = False
        elif tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None:
            self._finish_select(self._select)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            area = self._textarea
            text = area["text"][1:] if area["text"].startswith("\n") else area["text"]
            if area["name"] and area["usable"]:
                self.pairs.append((area["name"], text.replace("\r\n", "\n")))
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["text"] += data
        elif self._option is not None:
            self._option["text"] += data

    def _input(self, attributes: dict) -> None:
        name = attributes.get("name")
        kind = (attributes.get("type") or "text").lower()
        if not name or kind in _BUTTON_TYPES or kind == "file":
            return
        if "disabled" in attributes or self._disabled_by_fieldset():
            return
        if kind in ("checkbox", "radio"):
            if "checked" in attributes:
                self.pairs.append((name, attributes.get("value") if "value" in attributes else "on"))
            return
        self.pairs.append((name, attributes.get("value") or ""))

    def _finish_select(self, select: dict) -> None:
        if not select["name"] or not select["usable"]:
            return
        options = [o for o in select["options"] if not o["disabled"]]
        chosen = [o for o in options if o["selected"]]
        if not chosen and not select["multiple"] and options:
            chosen = options[:1]
        if not select["multiple"]:
            chosen = chosen[-1:]
        for option in chosen:
            value = option["value"] if option["value"] is not None else option["text"].strip()
            self.pairs.append((select["name"], value))


def browser_post(html: str) -> MultiDict:
    """The fields a browser would submit for `html` (a form's inside) with no button pressed."""
    scraper = _Scraper()
    scraper.feed(str(html))
    scraper.close()
    return MultiDict(scraper.pairs)


def field_names(html: str) -> set[str]:
    """Every name an input, select or textarea in `html` carries (file inputs included)."""
    names: set[str] = set()

    class _Names(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attributes = dict(attrs)
            if tag in ("input", "select", "textarea") and attributes.get("name"):
                names.add(attributes["name"])

    parser = _Names()
    parser.feed(str(html))
    parser.close()
    return names
