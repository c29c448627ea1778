"""What a file really is, decided from its first bytes, and whether a file field's `accept`
takes it. The browser's Content-Type and the file's name are the sender's claims: `run.exe`
sent as `image/png` is a Windows program, and is refused by a field that accepts images.

Binary formats are recognised by their magic bytes (the `filetype` library: a table of
signatures, pure Python, no libmagic). Text has no magic: a file is text when its first bytes
decode (UTF-8, GB18030, or UTF-16 with a byte order mark) without NUL or other control
characters; its name then says which kind of text (.csv, .txt, .json)."""

from __future__ import annotations

import codecs
import mimetypes

import filetype

#: How much of a file is read to decide its type (what the signature table looks at).
HEAD_BYTES = 8192
UNKNOWN = "application/octet-stream"
TEXT = "text/plain"

#: The built-in extension table only (/etc/mime.types differs from machine to machine),
#: with the types of a few names it lacks in some Python versions.
_BY_NAME = mimetypes.MimeTypes()
for _type, _extension_name in (
    ("application/xhtml+xml", ".xhtml"),
    ("application/xhtml+xml", ".xht"),
    ("text/javascript", ".mjs"),
    ("text/markdown", ".md"),
    ("image/webp", ".webp"),
    ("application/ofd", ".ofd"),  # China's e-invoice format: a ZIP container
):
    _BY_NAME.add_type(_type, _extension_name)
#: Containers whose name may say which format inside them it is (an .ofd is a ZIP).
_CONTAINERS = {"application/zip"}
#: Types the signature table recognises: a file named for one of them must show its magic.
_RECOGNISED = {kind.mime for kind in filetype.types} - {UNKNOWN}
#: Text types that are not text/*.
_TEXT_TYPES = {"application/json", "application/xml", "application/javascript", "application/x-sh"}
#: Control characters text may hold (tab, line breaks, form feed, DOS end of file, escape).
_TEXT_CONTROLS = set("\t\n\v\f\r\x1a\x1b")


def read_head(stream) -> bytes:
    """The first bytes of a seekable stream, its position kept."""
    position = stream.tell()
    stream.seek(0)
    head = stream.read(HEAD_BYTES)
    stream.seek(position)
    return head


def content_type(head: bytes, filename: str) -> str:
    """The media type of a file that starts with `head`: from its signature; for text, the
    kind of text its name says (text/plain if the name names no text type); for another
    binary, or a ZIP, the name's type only if that is a type without a signature (a name
    never makes bytes a PDF or an image); else application/octet-stream."""
    kind = filetype.guess(head) if head else None
    named = by_name(filename)
    if kind is not None and kind.mime != UNKNOWN:
        if kind.mime in _CONTAINERS and named and named not in _RECOGNISED and not is_text_type(named):
            return named  # a ZIP named .ofd is an OFD; a program named .ofd stays a program
        return kind.mime
    if is_text(head):
        return named if named and is_text_type(named) else TEXT
    if named and named not in _RECOGNISED and not is_text_type(named):
        return named
    return UNKNOWN


def by_name(filename: str) -> str | None:
    """The media type a file name's extension stands for (None: an unknown extension)."""
    guessed = _BY_NAME.guess_type("x" + _extension(filename), strict=False)[0]
    if guessed:
        return guessed
    kind = filetype.get_type(ext=_extension(filename)[1:]) if _extension(filename) else None
    return kind.mime if kind is not None else None


def _extension(filename: str) -> str:
    name = (filename or "").rsplit("/", 1)[-1].lower()
    return "." + name.rsplit(".", 1)[1] if "." in name.strip(".") else ""


def is_text_type(media_type: str) -> bool:
    return (
        media_type.startswith("text/") or media_type in _TEXT_TYPES or media_type.endswith(("+xml", "+json"))
    )


def is_text(head: bytes) -> bool:
    """Whether a file starting with `head` is text (an empty file is)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)  # the one text encoding that holds NUL bytes
    elif b"\0" in head:
        return False
    else:
        encodings = ("utf-8-sig", "gb18030")  # GB18030: what Excel saves a Chinese CSV in
    for encoding in encodings:
        try:
            # not final: `head` may end in the middle of a character
            text = codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return not any((char < " " or char == "\x7f") and char not in _TEXT_CONTROLS for char in text)
    return False


def accepts(pattern: str, filename: str, found: str) -> bool:
    """Whether one `accept` entry takes a file named `filename` whose content is `found`:
    `image/*` and `application/pdf` by the content's type; `.pdf` by the name's extension
    and a content of that kind (for an extension of no known type: content of no
    recognised kind)."""
    pattern = pattern.strip().lower()
    if not pattern:
        return False
    if pattern.startswith("."):
        if _extension(filename) != pattern:
            return False
        expected = {
            _BY_NAME.guess_type("x" + pattern, strict=False)[0],
            getattr(filetype.get_type(ext=pattern[1:]), "mime", None),
        } - {None}
        return found in expected if expected else found in (UNKNOWN, TEXT)
    if pattern.endswith("/*"):
        return found.startswith(pattern[:-1])
    return found == pattern


def accepted_by_type(patterns: list[str], found: str) -> bool:
    """Whether some entry would take content of type `found` under the right name (the
    refusal then asks for the name rather than another file)."""
    for pattern in patterns:
        pattern = pattern.strip().lower()
        if pattern.startswith(".") and accepts(pattern, "x" + pattern, found):
            return True
    return False
