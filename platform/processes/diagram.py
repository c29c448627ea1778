"""A workflow as a diagram: states as boxes in columns by their distance from the start, actions
as arrows labelled with their titles, drawn server-side as SVG (no script, so it works under the
Content-Security-Policy and in every browser). States nobody can reach and states from which no
final state can be reached are marked on the diagram, with the words in its description.

    svg = workflow_svg(version.spec)     # Markup, or "" for a process without a workflow
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from formflow.forms.texts import localized
from formflow.processes.workflow_checks import reachability

BOX_W, BOX_H = 184, 54
GAP_X, GAP_Y = 100, 34
MARGIN = 16
#: the longest title a box shows (longer ones end with …; the full one is in the tooltip)
TITLE_CHARS = 18
#: what a box says under its title when nothing is marked on it
KIND_WORDS = {
    "form": _l("form"),
    "approval": _l("approval"),
    "automatic": _l("automatic"),
    "final": _l("end"),
}
COLOURS = {
    "form": "#e8f1fb",
    "approval": "#fff4e0",
    "automatic": "#eef7ee",
    "final": "#f1f1f1",
}


@dataclass(frozen=True)
class Node:
    name: str
    title: str
    kind: str
    column: int
    row: int
    unreachable: bool
    dead_end: bool
    sla: str

    @property
    def x(self) -> int:
        return MARGIN + self.column * (BOX_W + GAP_X)

    @property
    def y(self) -> int:
        return MARGIN + self.row * (BOX_H + GAP_Y)


@dataclass(frozen=True)
class Arrow:
    source: str
    target: str
    label: str
    timer: bool = False  # taken by the SLA timer when the state expires


def layout(spec: dict) -> tuple[list[Node], list[Arrow]]:
    workflow = spec.get("workflow") if isinstance(spec, dict) else None
    states = (workflow or {}).get("states")
    if not isinstance(states, dict) or not states:
        return [], []
    states = {name: state for name, state in states.items() if isinstance(state, dict)}
    _edges, reached, ending = reachability(workflow, states)
    columns = _columns(workflow.get("start"), states)
    rows: dict[int, int] = {}
    nodes = []
    for name, state in states.items():
        column = columns.get(name, max(columns.values(), default=-1) + 1)
        row = rows.get(column, 0)
        rows[column] = row + 1
        kind = str(state.get("kind") or "form")
        due = ((state.get("sla") or {}).get("due")) if isinstance(state.get("sla"), dict) else None
        nodes.append(
            Node(
                name=name,
                title=localized(state.get("title")) or name,
                kind=kind,
                column=column,
                row=row,
                unreachable=name not in reached,
                dead_end=name in reached and name not in ending,
                sla=_due_text(due),
            )
        )
    return nodes, _arrows(states)


def _columns(start, states: dict) -> dict[str, int]:
    """Each reachable state's distance (in actions) from the start."""
    if start not in states:
        return {}
    columns, frontier = {start: 0}, [start]
    while frontier:
        following = []
        for name in frontier:
            for action in (states[name].get("actions") or {}).values():
                target = action.get("to") if isinstance(action, dict) else None
                if target in states and target not in columns:
                    columns[target] = columns[name] + 1
                    following.append(target)
        frontier = following
    return columns


def _arrows(states: dict) -> list[Arrow]:
    arrows = []
    for name, state in states.items():
        actions = state.get("actions") or {}
        expire = (state.get("sla") or {}).get("on_expire") or {} if isinstance(state.get("sla"), dict) else {}
        for action_name, action in actions.items():
            if isinstance(action, dict) and action.get("to") in states:
                timer = expire.get("do") == "action" and expire.get("action") == action_name
                arrows.append(Arrow(name, action["to"], localized(action.get("title")) or action_name, timer))
    return arrows


def _due_text(due) -> str:
    if isinstance(due, str):
        return due
    if isinstance(due, dict):
        return str(due.get("default") or due.get("field") or "")
    return ""


def _short(text: str, limit: int = TITLE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def workflow_svg(spec: dict, *, caption: str = "") -> Markup:
    """The diagram as inline SVG; "" when the spec has no workflow."""
    nodes, arrows = layout(spec)
    if not nodes:
        return Markup("")
    by_name = {node.name: node for node in nodes}
    width = max(node.x for node in nodes) + BOX_W + MARGIN
    height = max(node.y for node in nodes) + BOX_H + MARGIN + 24
    title = escape(caption or _("Workflow"))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="workflow-diagram" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="diagram-title diagram-desc" data-testid="workflow-diagram">',
        f'<title id="diagram-title">{title}</title>',
        f'<desc id="diagram-desc">{escape(_describe(nodes, arrows, by_name))}</desc>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    ]
    parts += [_arrow_svg(arrow, by_name) for arrow in arrows]
    parts += [_node_svg(node) for node in nodes]
    parts.append("</svg>")
    return Markup("".join(parts))


def _node_svg(node: Node) -> str:
    stroke, dash, width = "#555", "", 1.2
    if node.unreachable:
        stroke, dash, width = "#c62828", ' stroke-dasharray="6 4"', 2
    elif node.dead_end:
        stroke, width = "#ef6c00", 2
    radius = 18 if node.kind == "final" else 6
    fill = COLOURS.get(node.kind, "#ffffff")
    note = ""
    if node.unreachable:
        note = _("unreachable")
    elif node.dead_end:
        note = _("no way to an end")
    elif node.sla:
        note = _("SLA %(due)s", due=node.sla)
    cx = node.x + BOX_W / 2
    return (
        f'<g class="state state-{escape(node.kind)}{" unreachable" if node.unreachable else ""}'
        f'{" dead-end" if node.dead_end else ""}" data-state="{escape(node.name)}">'
        f"<title>{escape(node.title)}</title>"
        f'<rect x="{node.x}" y="{node.y}" width="{BOX_W}" height="{BOX_H}" rx="{radius}" fill="{fill}" '
        f'stroke="{stroke}" stroke-width="{width}"{dash}/>'
        f'<text x="{cx}" y="{node.y + 22}" text-anchor="middle" font-size="14" fill="#222">'
        f"{escape(_short(node.title))}</text>"
        f'<text x="{cx}" y="{node.y + 41}" text-anchor="middle" font-size="11" '
        f'fill="{stroke if node.unreachable or node.dead_end else "#666"}">'
        f"{escape(note or KIND_WORDS.get(node.kind, ''))}</text></g>"
    )


def _arrow_svg(arrow: Arrow, by_name: dict[str, Node]) -> str:
    source, target = by_name[arrow.source], by_name[arrow.target]
    dash = ' stroke-dasharray="4 3"' if arrow.timer else ""
    if target.column > source.column:  # forward: from the right edge to the left edge
        x1, y1 = source.x + BOX_W, source.y + BOX_H / 2
        x2, y2 = target.x, target.y + BOX_H / 2
        path = f"M{x1},{y1} C{x1 + GAP_X / 2},{y1} {x2 - GAP_X / 2},{y2} {x2},{y2}"
        lx, ly = (x1 + x2) / 2, (y1 + y2) / 2 - 4
    elif target.column == source.column and target.name != source.name:  # one above the other
        down = target.row > source.row
        x1 = x2 = source.x + BOX_W / 2
        y1 = source.y + (BOX_H if down else 0)
        y2 = target.y + (0 if down else BOX_H)
        path = f"M{x1},{y1} L{x2},{y2}"
        lx, ly = x1 + 6, (y1 + y2) / 2 + 3
        return (
            f'<g class="action"><path d="{path}" fill="none" stroke="#555" stroke-width="1.2"{dash} '
            f'marker-end="url(#arrow)"/>'
            f'<text x="{lx}" y="{ly}" text-anchor="start" font-size="10" fill="#444">'
            f"{escape(_short(arrow.label, 10))}</text></g>"
        )
    else:  # back, or to itself: a loop below the boxes
        x1, y1 = source.x + BOX_W / 2 - 10, source.y + BOX_H
        x2, y2 = target.x + BOX_W / 2 + 10, target.y + BOX_H
        low = max(y1, y2) + GAP_Y * 0.8
        path = f"M{x1},{y1} C{x1},{low} {x2},{low} {x2},{y2}"
        lx, ly = (x1 + x2) / 2, low - 2
    return (
        f'<g class="action"><path d="{path}" fill="none" stroke="#555" stroke-width="1.2"{dash} '
        f'marker-end="url(#arrow)"/>'
        f'<text x="{lx}" y="{ly}" text-anchor="middle" font-size="10" fill="#444">'
        f"{escape(_short(arrow.label, 10))}</text></g>"
    )


def _describe(nodes: list[Node], arrows: list[Arrow], by_name: dict[str, Node]) -> str:
    """The diagram in words, for screen readers and the tests."""
    sentences = [
        _(
            "%(source)s → %(target)s: %(action)s",
            source=by_name[a.source].title,
            target=by_name[a.target].title,
            action=a.label,
        )
        for a in arrows
    ]
    sentences += [
        _("%(state)s cannot be reached from the start.", state=n.title) for n in nodes if n.unreachable
    ]
    sentences += [
        _("From %(state)s no final state can be reached.", state=n.title) for n in nodes if n.dead_end
    ]
    return "; ".join(sentences)
