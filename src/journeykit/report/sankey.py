"""Sankey diagrams as inline SVG: a small layered layout, drawn without script or network.

Vega-Lite has no Sankey mark and no maintained Python library lays one out to static SVG without a
browser, so this module does, in plain Python. The rules:

* **Columns** at evenly spaced x, from the left edge to the right edge. ``columns[c]`` lists column
  c's labels top to bottom in the caller's order; ``(c, label)`` is a node, so a label may appear in
  several columns. Flows go from column c to c + 1 only.
* **Nodes**: rects NODE_WIDTH wide, stacked from the top with NODE_PAD between them, value × one
  scale shared by all columns (the largest at which every column fits), where a node's value is
  max(inflow, outflow). A node no flow touches is still drawn, MIN_NODE (1px) high, labelled 0.
* **Links**: filled cubic Bézier bands from the source's right edge to the target's left edge,
  value × scale thick, stacked from each node's top in the order of their other end's position
  (so they do not cross needlessly); they fill the node on the side that gives it its value.
* **Colours**: PALETTE (cycled) by label in order of first appearance, so a label has one colour
  in every column; SPECIAL labels grey. A link is its source's colour at LINK_OPACITY.
* **Text**: ``label value`` right of each node (left of it in the last column), headings above
  the columns. Text is measured with Liberation Sans's widths (Arial's metrics) and cut with "…"
  to fit between the columns, so it stays inside the SVG; each node and link has a ``<title>``
  tooltip (no script) with the full text. All text is XML-escaped.
* **Deterministic**: no ids or timestamps, coordinates to 2 decimals, links painted by position.
* **No flows** give a small SVG saying "no flows", not an error: a section always has a figure.
"""

import difflib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from journeykit.report.style import FONT

Node = tuple[int, str]
"""(column index, label)."""

FONT_SIZE, HEADING_SIZE = 11, 12
NODE_WIDTH, NODE_PAD, MIN_NODE = 10, 12, 1
EDGE, MARGIN, HEADING_SPACE, LABEL_GAP = 1, 8, 22, 5
"""Left/right edge, top/bottom margin, room for headings above the plot, gap text–node."""
LINK_OPACITY = 0.45
INK, MUTED, GREY = "#334155", "#64748b", "#94a3b8"
PALETTE = ("#2563eb", "#ea580c", "#16a34a", "#9333ea", "#db2777", "#0d9488", "#d97706", "#4f46e5")
SPECIAL = ("(start)", "(end)", "(other)")

_ASCII_WIDTHS = (
    "278 278 355 556 556 889 667 191 333 333 389 584 278 333 278 278 556 556 556 556 556 556 556 "
    "556 556 556 278 278 584 584 584 556 1015 667 667 722 722 667 611 778 722 278 500 667 556 833 "
    "722 778 667 778 722 667 611 722 667 944 667 667 611 278 278 278 469 556 333 556 556 500 556 "
    "556 278 556 556 222 222 500 222 833 556 556 556 556 333 500 278 556 500 722 500 500 500 334 "
    "260 334 584"
)
_EM = dict(zip(map(chr, range(32, 127)), map(int, _ASCII_WIDTHS.split()), strict=True))
"""Advance widths in 1/1000 em of Liberation Sans Regular for printable ASCII."""
_ELLIPSIS = "…"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Flow:
    """``value`` units went from node ``source`` to node ``target`` in the next column."""

    source: Node
    target: Node
    value: int

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, int) or self.value <= 0:
            raise ValueError(f"flow {self.source} → {self.target}: value must be an int > 0")
        if self.target[0] != self.source[0] + 1:
            raise ValueError(f"flow {self.source} → {self.target}: not from column c to c + 1")


@dataclass(frozen=True)
class _Box:
    """A placed node: its rect, colour and the figures its label and tooltip show."""

    node: Node
    x: float
    y: float
    height: float
    inflow: int
    outflow: int
    colour: str

    @property
    def value(self) -> int:
        return max(self.inflow, self.outflow)


@dataclass(frozen=True)
class _Band:
    """A placed link: the top of the band at its source and at its target, and its thickness."""

    flow: Flow
    y_source: float
    y_target: float
    thickness: float


def sankey_svg(
    columns: list[list[str]],
    flows: list[Flow],
    *,
    title: str,
    headings: list[str] | None = None,
    width: int = 680,
    height: int = 360,
) -> str:
    """The flows as a layered Sankey diagram, as SVG text to inline in a page (rules: module doc).

    Raises ``ValueError`` for a node listed twice, a flow whose node is not in ``columns``, two
    flows between the same nodes, headings not one per column, or a size too small for the nodes.

    >>> svg = sankey_svg(
    ...     [["cart"], ["checkout", "(end)"]],
    ...     [Flow((0, "cart"), (1, "checkout"), 30), Flow((0, "cart"), (1, "(end)"), 10)],
    ...     title="From cart",
    ... )
    >>> svg.count("<rect"), svg.count("<path"), "<title>cart → checkout: 30</title>" in svg
    (3, 2, True)
    """
    _check_columns(columns, headings)
    _check_flows(columns, flows)
    if not flows:
        return _no_flows_svg(title, width)
    top = MARGIN + (HEADING_SPACE if headings else 0)
    xs = _column_xs(len(columns), width)
    boxes, scale = _place_nodes(columns, flows, xs, top, height - top - MARGIN)
    bands = _place_bands(columns, flows, boxes, scale)
    budgets = _label_budgets(xs)
    last = len(columns) - 1
    parts = [_svg_open(title, width, height)]
    parts += [_link(band, boxes) for band in bands]
    parts += [_node(box, budgets[box.node[0]], box.node[0] == last) for box in boxes.values()]
    parts += _headings(headings or [], xs)
    parts.append("</svg>")
    return "\n".join(parts)


def _check_columns(columns: list[list[str]], headings: list[str] | None) -> None:
    for c, labels in enumerate(columns):
        twice = [label for label in dict.fromkeys(labels) if labels.count(label) > 1]
        if twice:
            raise ValueError(f"column {c} lists {twice[0]!r} twice")
    if headings is not None and len(headings) != len(columns):
        raise ValueError(f"{len(headings)} headings for {len(columns)} columns")


def _check_flows(columns: list[list[str]], flows: list[Flow]) -> None:
    seen: set[tuple[Node, Node]] = set()
    for flow in flows:
        for c, label in (flow.source, flow.target):
            if c < 0 or c >= len(columns) or label not in columns[c]:
                raise ValueError(_unknown(columns, flow, c, label))
        if (flow.source, flow.target) in seen:
            raise ValueError(f"two flows {flow.source} → {flow.target}: give one with their sum")
        seen.add((flow.source, flow.target))


def _unknown(columns: list[list[str]], flow: Flow, c: int, label: str) -> str:
    """Why the flow's end (c, label) is not a node, with column c's closest label if any."""
    where = f"flow {flow.source} → {flow.target}: "
    if c < 0 or c >= len(columns):
        return where + f"there is no column {c} (there are {len(columns)})"
    close = difflib.get_close_matches(label, columns[c], n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return where + f"column {c} has no node {label!r}{hint}"


def _column_xs(count: int, width: int) -> list[float]:
    """The left edge of each column's nodes, evenly spaced (flows make two columns at least)."""
    gap = (width - 2 * EDGE - NODE_WIDTH) / (count - 1)
    if gap <= NODE_WIDTH + 4 * LABEL_GAP:
        raise ValueError(f"width {width} is too narrow for {count} columns")
    return [EDGE + c * gap for c in range(count)]


def _place_nodes(
    columns: list[list[str]], flows: list[Flow], xs: list[float], top: float, room: float
) -> tuple[dict[Node, _Box], float]:
    """Each node's rect (stacked from ``top``, NODE_PAD apart, value × scale) and the scale."""
    inflow, outflow = _sums(flows, lambda f: f.target), _sums(flows, lambda f: f.source)
    scale = _scale(columns, inflow, outflow, room)
    colours = _colours(columns)
    boxes: dict[Node, _Box] = {}
    for c, labels in enumerate(columns):
        y = top
        for label in labels:
            node = (c, label)
            into, out = inflow.get(node, 0), outflow.get(node, 0)
            height = max(into, out) * scale or MIN_NODE
            boxes[node] = _Box(node, xs[c], y, height, into, out, colours[label])
            y += height + NODE_PAD
    return boxes, scale


def _sums(flows: list[Flow], end: Callable[[Flow], Node]) -> dict[Node, int]:
    """The total value of the flows at each node, at the flows' ``end``."""
    totals: dict[Node, int] = {}
    for flow in flows:
        totals[end(flow)] = totals.get(end(flow), 0) + flow.value
    return totals


def _scale(
    columns: list[list[str]], inflow: dict[Node, int], outflow: dict[Node, int], room: float
) -> float:
    """Pixels per unit: the largest at which every column, with NODE_PAD between its nodes and
    MIN_NODE for each node without flows, fits ``room``."""
    scales = []
    for c, labels in enumerate(columns):
        values = [max(inflow.get((c, x), 0), outflow.get((c, x), 0)) for x in labels]
        free = room - NODE_PAD * (len(labels) - 1) - MIN_NODE * values.count(0)
        if free <= 0:
            raise ValueError(f"height too small for the {len(labels)} nodes of column {c}")
        if sum(values):
            scales.append(free / sum(values))
    return min(scales)


def _colours(columns: list[list[str]]) -> dict[str, str]:
    """Label → fill: PALETTE in order of first appearance, the SPECIAL labels grey."""
    labels = dict.fromkeys(label for column in columns for label in column)
    ordinary = [label for label in labels if label not in SPECIAL]
    colours = {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(ordinary)}
    return colours | dict.fromkeys(SPECIAL, GREY)


def _place_bands(
    columns: list[list[str]], flows: list[Flow], boxes: dict[Node, _Box], scale: float
) -> list[_Band]:
    """Each link's band, in painting order (by source position, then target position)."""
    position = {(c, label): i for c, labels in enumerate(columns) for i, label in enumerate(labels)}
    at_source = _stack(flows, boxes, position, scale, lambda f: (f.source, f.target))
    at_target = _stack(flows, boxes, position, scale, lambda f: (f.target, f.source))
    ordered = sorted(flows, key=lambda f: (f.source[0], position[f.source], position[f.target]))
    return [_Band(f, at_source[f], at_target[f], f.value * scale) for f in ordered]


def _stack(
    flows: list[Flow],
    boxes: dict[Node, _Box],
    position: dict[Node, int],
    scale: float,
    ends: Callable[[Flow], tuple[Node, Node]],
) -> dict[Flow, float]:
    """Where each band's top meets its node ``ends(flow)[0]``: stacked from the node's top in
    the order of the band's other end's position."""
    filled = {node: box.y for node, box in boxes.items()}
    tops: dict[Flow, float] = {}
    for flow in sorted(flows, key=lambda f: position[ends(f)[1]]):
        here = ends(flow)[0]
        tops[flow] = filled[here]
        filled[here] += flow.value * scale
    return tops


def _label_budgets(xs: list[float]) -> list[float]:
    """The room for each column's node labels. A label runs from LABEL_GAP right of its node to
    LABEL_GAP before the next column, except in the last gap, which the labels of the last two
    columns (the last one's run leftwards) share half and half."""
    inner = xs[1] - xs[0] - NODE_WIDTH
    shared = inner / 2 - 2 * LABEL_GAP
    return [inner - 2 * LABEL_GAP] * (len(xs) - 2) + [shared, shared]


def _svg_open(title: str, width: int, height: int) -> str:
    """The root element, with the accessible name ``title`` and the font."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{_esc(title)}" '
        f'font-family="{_esc(FONT)}" font-size="{FONT_SIZE}">'
    )


def _no_flows_svg(title: str, width: int) -> str:
    """A 40px-high figure that says so, when there is nothing to draw."""
    text = f'<text x="{_n(width / 2)}" y="24" text-anchor="middle" fill="{MUTED}">no flows</text>'
    return "\n".join([_svg_open(title, width, 40), text, "</svg>"])


def _link(band: _Band, boxes: dict[Node, _Box]) -> str:
    """A filled band: a Bézier along its top edge, down, and one back along its bottom edge."""
    source, target = boxes[band.flow.source], boxes[band.flow.target]
    x0, x1 = source.x + NODE_WIDTH, target.x
    middle = (x0 + x1) / 2
    y0, y1, thick = band.y_source, band.y_target, band.thickness
    path = (
        f"M{_xy(x0, y0)}C{_xy(middle, y0)} {_xy(middle, y1)} {_xy(x1, y1)}"
        f"L{_xy(x1, y1 + thick)}C{_xy(middle, y1 + thick)} {_xy(middle, y0 + thick)} "
        f"{_xy(x0, y0 + thick)}Z"
    )
    tip = f"{band.flow.source[1]} → {band.flow.target[1]}: {band.flow.value:,}"
    return (
        f'<path d="{path}" fill="{source.colour}" fill-opacity="{LINK_OPACITY}">'
        f"<title>{_esc(tip)}</title></path>"
    )


def _node(box: _Box, budget: float, last: bool) -> str:
    """The node's rect and label in one group, whose tooltip gives its inflow and outflow."""
    tip = f"{box.node[1]}: {box.value:,}"
    if box.inflow and box.outflow:
        tip += f" ({box.inflow:,} in · {box.outflow:,} out)"
    rect = (
        f'<rect x="{_n(box.x)}" y="{_n(box.y)}" width="{NODE_WIDTH}" '
        f'height="{_n(box.height)}" fill="{box.colour}"/>'
    )
    return f"<g><title>{_esc(tip)}</title>{rect}{_label(box, budget, last)}</g>"


def _label(box: _Box, budget: float, last: bool) -> str:
    """``label value`` beside the node: the value whole or nothing, the label cut to the rest."""
    value = f"{box.value:,}"
    if text_width(value, FONT_SIZE) > budget:
        return ""
    label = fit_text(box.node[1], budget - text_width(" " + value, FONT_SIZE), FONT_SIZE)
    x = box.x - LABEL_GAP if last else box.x + NODE_WIDTH + LABEL_GAP
    text = f"{_esc(label)} " if label else ""
    return (
        f'<text x="{_n(x)}" y="{_n(box.y + box.height / 2)}" dy="0.35em" '
        f'text-anchor="{"end" if last else "start"}" fill="{INK}">'
        f'{text}<tspan fill="{MUTED}">{value}</tspan></text>'
    )


def _headings(headings: list[str], xs: list[float]) -> list[str]:
    """A heading above each column, from its left edge rightwards, the last one leftwards from
    its right edge; the last two columns' headings share the last gap half and half."""
    last, gap = len(xs) - 1, xs[1] - xs[0]
    texts = []
    for c, heading in enumerate(headings):
        budget = (gap + NODE_WIDTH) / 2 - LABEL_GAP if c >= last - 1 else gap - 2 * LABEL_GAP
        shown = fit_text(heading, budget, HEADING_SIZE)
        tip = f"<title>{_esc(heading)}</title>" if shown != heading else ""
        x, anchor = (xs[c] + NODE_WIDTH, "end") if c == last else (xs[c], "start")
        texts.append(
            f'<text x="{_n(x)}" y="{MARGIN + HEADING_SIZE}" text-anchor="{anchor}" '
            f'font-size="{HEADING_SIZE}" fill="{MUTED}">{tip}{_esc(shown)}</text>'
        )
    return texts


def text_width(text: str, size: float) -> float:
    """The width in px of ``text`` in FONT at ``size`` px (Liberation Sans advance widths;
    other characters are counted generously: 0.778 em, or 1 em for wide East Asian ones).

    >>> text_width("checkout 1,234", 11)
    74.602
    """
    return size * sum(_em_width(ch) for ch in text) / 1000


def _em_width(ch: str) -> int:
    if ch in _EM:
        return _EM[ch]
    if unicodedata.combining(ch):
        return 0
    return 1000 if unicodedata.east_asian_width(ch) in "WF" else 778


def fit_text(text: str, room: float, size: float) -> str:
    """``text`` if it fits ``room`` px, else its longest prefix that fits with "…" after it
    (``""`` if not even "…" fits).

    >>> fit_text("add_to_cart", 40, 11)
    'add_t…'
    """
    if text_width(text, size) <= room:
        return text
    left = room - text_width(_ELLIPSIS, size)
    if left < 0:
        return ""
    kept = 0
    for ch in text:
        left -= size * _em_width(ch) / 1000
        if left < 0:
            break
        kept += 1
    return text[:kept].rstrip() + _ELLIPSIS


def _esc(text: str) -> str:
    """``text`` for XML content or a quoted attribute: characters XML forbids become U+FFFD."""
    return escape(_NOT_XML.sub("\ufffd", text), quote=True)


def _xy(x: float, y: float) -> str:
    return f"{_n(x)},{_n(y)}"


def _n(value: float) -> str:
    """A coordinate rounded to 2 decimals, without trailing zeros: ``12.5``, ``3``."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
