"""Helpers for the forms tests: the corpus, exact number comparison, walking instances."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from formflow.forms.pointers import join, split

CORPUS = Path(__file__).parent / "corpus"
_ABSENT = object()

#: Every tag the form templates write; anything else in rendered HTML was injected.
FORM_TAGS = frozenset(
    {"div", "label", "input", "select", "option", "textarea", "fieldset", "legend", "small", "span", "p"}
    | {"button", "strong", "ul", "li", "a", "dl", "dt", "dd"}
)


def load_json(text: str) -> Any:
    """JSON with every non-integer number as the Decimal it was written as."""
    return json.loads(text, parse_float=Decimal)


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.json"))


def load_case(path: Path) -> dict:
    return load_json(path.read_text(encoding="utf-8"))


def decimals(value: Any) -> Any:
    """The value with every number as Decimal(str(n)), so 5, 5.0 and Decimal('5.00') compare
    equal and a float never sneaks through as a different type of the same thing."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {key: decimals(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decimals(item) for item in value]
    raise TypeError(f"not JSON: {value!r}")


def same_json(left: Any, right: Any) -> bool:
    """Equal as JSON documents, numbers compared exactly (Decimal), bools never equal to 0/1."""
    left, right = decimals(left), decimals(right)
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same_json(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(same_json(a, b) for a, b in zip(left, right, strict=True))
    return type(left) is type(right) and left == right


def leaf_groups(instance: Any, pointer: str = "") -> list[set[str]]:
    """For each leaf value of the instance, the input names that may carry it.

    A scalar is carried by an input named by its own pointer; a list of scalars may also be
    one input named by the list's pointer (checkboxes, multi-select)."""
    if isinstance(instance, dict):
        return [group for key, value in instance.items() for group in leaf_groups(value, join(pointer, key))]
    if isinstance(instance, list):
        if instance and all(not isinstance(item, dict | list) for item in instance):
            return [{pointer, join(pointer, index)} for index in range(len(instance))]
        return [
            group for index, item in enumerate(instance) for group in leaf_groups(item, join(pointer, index))
        ]
    return [{pointer}]


def resolves(document: Any, pointer: str) -> bool:
    current = document
    for token in split(pointer):
        if isinstance(current, dict) and token in current:
            current = current[token]
        elif (
            isinstance(current, list) and re.fullmatch(r"0|[1-9][0-9]*", token) and int(token) < len(current)
        ):
            current = current[int(token)]
        else:
            return False
    return True


def tags_in(html: str) -> set[str]:
    found: set[str] = set()

    class _Tags(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.add(tag)

    parser = _Tags()
    parser.feed(str(html))
    parser.close()
    return found


def texts_with_markup(document: Any) -> list[str]:
    """Every string in a schema / uiSchema / instance that contains a character HTML escapes."""
    if isinstance(document, str):
        return [document] if any(char in document for char in "<>&") else []
    if isinstance(document, dict):
        return [
            text
            for key, value in document.items()
            for text in texts_with_markup(key) + texts_with_markup(value)
        ]
    if isinstance(document, list):
        return [text for item in document for text in texts_with_markup(item)]
    return []


def elements(html: str, tag: str | None = None, **wanted: str) -> list[dict]:
    """The start tags of `html` as attribute dicts (plus "tag"), filtered by tag and attributes
    (attribute names with "_" for "-": aria_describedby=...)."""
    found: list[dict] = []

    class _Elements(HTMLParser):
        def handle_starttag(self, name, attrs):
            attributes = {key: ("" if value is None else value) for key, value in attrs}
            attributes["tag"] = name
            found.append(attributes)

    parser = _Elements()
    parser.feed(str(html))
    parser.close()
    wanted = {key.replace("_", "-"): value for key, value in wanted.items()}
    return [
        element
        for element in found
        if (tag is None or element["tag"] == tag) and all(element.get(k) == v for k, v in wanted.items())
    ]


def element(html: str, tag: str | None = None, **wanted: str) -> dict:
    """The one element matching (fails when there are none or several)."""
    matches = elements(html, tag, **wanted)
    assert len(matches) == 1, f"{len(matches)} <{tag} {wanted}> in {html}"
    return matches[0]
