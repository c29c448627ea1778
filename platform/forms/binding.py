"""WTForms classes built at run time from the tree's fields, cached by their shape.

A process version's form always yields the same shapes (one per number of rows), so
after the first request each shape's class comes from the cache."""

from __future__ import annotations

from functools import lru_cache

from wtforms import Form

from formflow.forms.nodes import MISSING, Node
from formflow.forms.pointers import html_id
from formflow.forms.values import input_value
from formflow.forms.widgets import FieldSpec, lookup


def fields_of(root: Node) -> list[Node]:
    return [node for node in root.walk() if node.kind == "field"]


def spec_of(node: Node) -> FieldSpec:
    return FieldSpec(
        pointer=node.pointer,
        widget=node.widget,
        multiple=node.multiple,
        choices=tuple((option.token, option.label) for option in node.options),
        blank=not (node.required and node.value is not MISSING and node.value is not None),
    )


@lru_cache(maxsize=1024)
def form_class(specs: tuple[FieldSpec, ...]) -> type[Form]:
    """A Form subclass with one field per spec, named by its JSON Pointer."""
    attributes = {}
    for spec in specs:
        unbound = lookup(spec.widget).make(spec)
        unbound.kwargs["id"] = html_id(spec.pointer)
        attributes[spec.pointer] = unbound
    return type("GeneratedForm", (Form,), attributes)


def bind(root: Node, formdata=None) -> Form:
    """The form for this tree: filled from the tree's values, or from a posted form."""
    fields = fields_of(root)
    cls = form_class(tuple(spec_of(node) for node in fields))
    if formdata is not None:
        return cls(formdata=formdata)
    return cls(data={node.pointer: input_value(node) for node in fields})
