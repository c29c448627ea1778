"""The password policy: one check used wherever a password is set (admin, CLI, own change, reset).

A password is judged as the person will type it again: NFKC-normalised (full-width and
compatibility forms fold to their plain letters) with format characters (Unicode category
Cf: zero-width spaces and joiners, direction marks) removed, so eight invisible characters
are not a password and "ｐａｓｓｗｏｒｄ" is "password". The hash is still taken of what was typed.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

from flask_babel import gettext as _

MIN_LENGTH = 8
#: Lower-cased, NFKC, at least MIN_LENGTH characters; where it comes from: common-passwords.SOURCE.
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common-passwords.txt")


def normalized(password: str) -> str:
    """What the policy looks at: NFKC without format (Cf) characters."""
    folded = unicodedata.normalize("NFKC", password)
    return "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")


@cache
def common_passwords() -> frozenset[str]:
    with COMMON_PASSWORDS_FILE.open(encoding="utf-8") as handle:
        return frozenset(line.rstrip("\n") for line in handle if line.strip())


def problems(password: str, *, username: str = "", pointer: str = "/password") -> list[dict]:
    """The policy's objections to `password` for `username`, as Invalid errors at `pointer`."""
    plain = normalized(password)
    if len(plain) < MIN_LENGTH:
        message = _("The password needs at least %(n)d characters.", n=MIN_LENGTH)
    elif len(set(plain)) == 1:
        message = _("The password must not be one character repeated.")
    elif username and plain.casefold() == normalized(username).strip().casefold():
        message = _("The password must not be the username.")
    elif plain.strip().casefold() in common_passwords():
        message = _("This password is on a list of commonly used passwords; choose another.")
    else:
        return []
    return [{"pointer": pointer, "message": message}]
