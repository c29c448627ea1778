"""`parse(...)`: a posted form back into typed JSON.

Which fields exist depends on the answers (an if/then branch, the chosen alternative), so
the tree is rebuilt from what was read until it stops changing (two passes, in practice)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage, MultiDict

from formflow.errors import Invalid
from formflow.forms.binding import bind
from formflow.forms.filetypes import UNKNOWN, accepted_by_type, accepts, content_type, read_head
from formflow.forms.nodes import MISSING, Node
from formflow.forms.pointers import assign, parent, resolve, split
from formflow.forms.schema_tree import Tree
from formflow.forms.validation import exact
from formflow.forms.values import Unreadable, read

MAX_ROWS = 500  # a posted row count is input like any other
MAX_PASSES = 5


@dataclass
class Command:
    """A button that changes the form rather than submitting it."""

    action: str  # "add" (a row), "remove" (a row), "refresh" (re-show after an answer changed)
    pointer: str = ""


@dataclass
class Parsed:
    data: Any
    errors: list[dict] = field(default_factory=list)
    command: Command | None = None
    #: the alternative picked for each anyOf/oneOf choice (pointer -> index): pass it to
    #: `render(selections=...)` so a re-shown form keeps the user's pick even before the
    #: data matches that alternative
    selections: dict[str, int] = field(default_factory=dict)


def parse(
    schema: dict, ui_schema: dict | None, formdata, files=None, *, store_upload=None, previous=None
) -> Parsed:
    """Typed JSON from the posted fields; see forms/__init__.py for the contract.

    `previous` (the stored data, or {} for a new record) makes read-only and disabled fields
    server-controlled: their value comes from it (or the schema default), whatever is posted."""
    formdata = formdata if formdata is not None else MultiDict()
    files = files if files is not None else MultiDict()
    rows = _numbers(formdata, "__rows:", MAX_ROWS)
    selections = _numbers(formdata, "__alt:", 1000)
    data: Any = {}
    shape = None
    for _pass in range(MAX_PASSES):
        tree = Tree(schema, ui_schema, rows=rows, selections=selections)
        root = tree.build(data)
        new_shape = [(node.pointer, node.kind, node.widget) for node in root.walk()]
        if new_shape == shape:
            break
        shape = new_shape
        reader = _Reader(bind(root, formdata), files, previous)
        data = reader.value(root)
        data = {} if data is MISSING else data
        if not tree.data_dependent:
            break  # the fields do not depend on the answers: one reading is the answer
    errors = reader.errors
    # last first, so that dropping a refused file from a list does not move the ones before it
    for pointer, (node, upload, kept) in reversed(list(reader.uploads.items())):
        token = _store(node, upload, store_upload, errors)
        if token is None:
            token = kept  # a refused file leaves the field as it was (the attached file, or none)
        if token is MISSING:
            _drop(data, pointer)
        else:
            assign(data, pointer, token)
    command = _command(formdata)
    if command is not None:
        _apply(command, data, root)
    return Parsed(data=data, errors=errors, command=command, selections=selections)


def _numbers(formdata, prefix: str, limit: int) -> dict[str, int]:
    found = {}
    for key in formdata:
        if key.startswith(prefix):
            text = formdata.get(key, "")
            # "²".isdigit() is True and int("²") fails; past `limit` the digits need no reading
            if text.isascii() and text.isdigit():
                found[key[len(prefix) :]] = min(int(text), limit) if len(text) <= len(str(limit)) else limit
    return found


class _Reader:
    def __init__(self, form, files, previous):
        self.form = form
        self.files = files
        self.previous = previous
        self.errors: list[dict] = []
        self.uploads: dict[str, tuple[Node, FileStorage, Any]] = {}

    def value(self, node: Node) -> Any:
        if node.kind == "object":
            found = {}
            for child in node.children:
                value = self.value(child)
                if value is not MISSING:
                    found[split(child.pointer)[-1]] = value
            return found if found or node.required or not node.pointer else MISSING
        if node.kind == "array":
            items = [self.value(child) for child in node.children]
            items = [
                ({} if item is MISSING and child.kind == "object" else item)
                for item, child in zip(items, node.children, strict=True)
            ]
            items = [item for item in items if item is not MISSING]
            return items if items or node.required else MISSING
        if node.kind == "choice":
            return self.value(node.children[0])
        return self._field(node)

    def _field(self, node: Node) -> Any:
        if node.constant is not MISSING:
            return exact(node.constant)
        if self.previous is not None and (node.readonly or node.disabled):
            return exact(resolve(self.previous, node.pointer, node.schema.get("default", MISSING)))
        if node.widget == "file":
            upload = self.files.get(node.pointer)
            if isinstance(upload, FileStorage) and upload.filename:
                kept = self.form[node.pointer].data  # the token of the file attached before
                kept = kept.strip() if isinstance(kept, str) and kept.strip() else MISSING
                self.uploads[node.pointer] = (node, upload, kept)
                return ""  # replaced by the stored attachment's token
        raw = self.form[node.pointer].data
        try:
            return read(node, raw)
        except Unreadable as error:
            text = raw if isinstance(raw, str) else ""
            self.errors.append({"pointer": node.pointer, "message": str(error), "input": text})
            return MISSING


def _store(node: Node, upload: FileStorage, store_upload, errors: list[dict]) -> str | None:
    problem = upload_problem(node, upload)
    if problem is None and store_upload is None:
        problem = _("Files cannot be uploaded here.")
    if problem is not None:
        errors.append({"pointer": node.pointer, "message": problem})
        return None
    options = node.ui.get("ui:options") if isinstance(node.ui.get("ui:options"), dict) else {}
    try:
        return store_upload(node.pointer, upload, options)
    except Invalid as refused:  # the store's own limits (e.g. the uploader's quota), at the field
        errors.append({"pointer": node.pointer, "message": refused.errors[0]["message"]})
        return None


def upload_problem(node: Node, upload: FileStorage) -> str | None:
    """Why this file may not go into this field (size, type of its content), or None."""
    filename = upload.filename or ""
    found = content_type(read_head(upload.stream), filename)
    return file_problem(node, filename, found, stream_size(upload.stream))


def file_problem(node: Node, filename: str, found_type: str, size: int) -> str | None:
    """Why a file of this name, content type (`content_type` of its first bytes, never what
    the browser claimed) and size may not go into this field, or None (the form's upload,
    an API upload and a token put into a field are checked alike)."""
    limit = node.ui_option("maxSize") or current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and size > int(limit):
        return _("The file is too large (at most %(size)s).", size=human_size(int(limit)))
    accept = node.ui_option("accept")
    if not accept:
        return None
    patterns = [str(p).strip() for p in (accept if isinstance(accept, list) else str(accept).split(","))]
    patterns = [pattern for pattern in patterns if pattern]
    if not patterns or any(accepts(pattern, filename, found_type) for pattern in patterns):
        return None
    field, types = node.title or node.pointer, ", ".join(patterns)
    if accepted_by_type(patterns, found_type):
        return _(
            "%(field)s accepts only %(types)s: name the file with its extension.", field=field, types=types
        )
    if found_type == UNKNOWN:
        return _(
            "%(field)s accepts only %(types)s; the content of this file is none of these.",
            field=field,
            types=types,
        )
    return _(
        "%(field)s accepts only %(types)s; the content of this file is %(found)s.",
        field=field,
        types=types,
        found=found_type,
    )


def stream_size(stream) -> int:
    """The bytes in a seekable stream, its position kept."""
    position = stream.tell()
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(position)
    return size


def human_size(size: int) -> str:
    """5242880 -> '5 MB' (1024-based, one decimal when needed)."""
    amount = Decimal(size)
    for unit in ("B", "KB", "MB"):
        if amount < 1024:
            return f"{amount.quantize(Decimal('0.1')).normalize():f} {unit}"
        amount /= 1024
    return f"{amount.quantize(Decimal('0.1')).normalize():f} GB"


def _command(formdata) -> Command | None:
    for name, action in (("__add", "add"), ("__remove", "remove"), ("__refresh", "refresh")):
        if name in formdata:
            return Command(action, formdata.get(name, "") if action != "refresh" else "")
    return None


def _apply(command: Command, data: dict, root: Node) -> None:
    if command.pointer and not command.pointer.startswith("/"):
        return  # not a field's pointer (the buttons only send those): the form is shown again
    nodes = {node.pointer: node for node in root.walk()}
    if command.action == "add":
        array = nodes.get(command.pointer)
        if array is None or array.kind != "array" or not array.can_add:
            return
        rows = resolve(data, command.pointer)
        if not isinstance(rows, list):
            rows = []
            assign(data, command.pointer, rows)
        while len(rows) < len(array.children):  # empty rows that were read as nothing
            rows.append(None)
        rows.append(_new_row(array))
    elif command.action == "remove":
        array = nodes.get(parent(command.pointer))
        rows = resolve(data, parent(command.pointer))
        index = split(command.pointer)[-1] if command.pointer else ""
        removable = array is not None and array.can_remove and isinstance(rows, list)
        if removable and index.isascii() and index.isdigit() and int(index) < len(rows):
            rows.pop(int(index))


def _new_row(array: Node) -> Any:
    """A new row's starting value: the item schema's default, {} for objects, else empty."""
    items = array.schema.get("items")
    schema = items if isinstance(items, dict) else {}
    if "default" in schema:
        return schema["default"]
    return {} if "properties" in schema or schema.get("type") == "object" or "$ref" in schema else None


def _drop(data: dict, pointer: str) -> None:
    tokens = split(pointer)
    holder = resolve(data, parent(pointer))
    if isinstance(holder, dict):
        holder.pop(tokens[-1], None)
    elif (
        isinstance(holder, list)
        and tokens[-1].isascii()
        and tokens[-1].isdigit()
        and int(tokens[-1]) < len(holder)
    ):
        holder.pop(int(tokens[-1]))
