"""JSON Pointers (RFC 6901): the names of form inputs and the addresses of errors."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache


def escape(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def join(pointer: str, *tokens: str | int) -> str:
    return pointer + "".join("/" + escape(token) for token in tokens)


def split(pointer: str) -> list[str]:
    if not pointer:
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"not a JSON Pointer: {pointer!r}")
    return [unescape(token) for token in pointer[1:].split("/")]


def from_path(path: Iterable[str | int]) -> str:
    """A jsonschema error path (deque of keys and indexes) as a pointer."""
    return join("", *path)


def parent(pointer: str) -> str:
    return pointer.rsplit("/", 1)[0] if pointer else ""


@lru_cache(maxsize=8192)
def html_id(pointer: str) -> str:
    """An element id for a pointer: letters, digits, '-' and '_' only, never colliding."""
    out = ["ff"]
    for char in pointer:
        if char.isascii() and char.isalnum():
            out.append(char)
        elif char == "/":
            out.append("-")
        else:
            out.append(f"_{ord(char):x}_")
    return "".join(out)


def resolve(document, pointer: str, default=None):
    """The value at `pointer`, or `default` when any step is missing."""
    current = document
    for token in split(pointer):
        if isinstance(current, dict) and token in current:
            current = current[token]
        elif isinstance(current, list) and token.isascii() and token.isdigit() and int(token) < len(current):
            current = current[int(token)]
        else:
            return default
    return current


def assign(document, pointer: str, value) -> None:
    """Set the value at `pointer`, creating objects on the way (list items must exist)."""
    tokens = split(pointer)
    current = document
    for token in tokens[:-1]:
        current = current[int(token)] if isinstance(current, list) else current.setdefault(token, {})
    if isinstance(current, list):
        current[int(tokens[-1])] = value
    elif isinstance(current, dict):
        current[tokens[-1]] = value
