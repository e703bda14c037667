"""The Sankey layout (``journeykit.report.sankey``): geometry read back from the SVG it writes."""

import doctest
import itertools
import os
import random
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeykit.report import sankey
from journeykit.report.sankey import Flow, fit_text, sankey_svg, text_width

ROOT = Path(__file__).parent.parent
SVG = "{http://www.w3.org/2000/svg}"
TITLE, RECT, PATH, TEXT, TSPAN = (SVG + tag for tag in ("title", "rect", "path", "text", "tspan"))

EXAMPLE_COLUMNS = [["a", "b"], ["x", "y"]]
EXAMPLE_FLOWS = [
    Flow((0, "a"), (1, "x"), 30),
    Flow((0, "a"), (1, "y"), 10),
    Flow((0, "b"), (1, "x"), 20),
]


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    fill: str
    tooltip: str

    @property
    def bottom(self) -> float:
        return self.y + self.height


@dataclass(frozen=True)
class Band:
    """A link read back from its path: its top and bottom at the source and at the target."""

    at_source: tuple[float, float]
    at_target: tuple[float, float]
    fill: str
    opacity: str
    tooltip: str


def example() -> str:
    """Two columns, flows a→x 30, a→y 10, b→x 20, in a 680 × 148 figure."""
    return sankey_svg(EXAMPLE_COLUMNS, EXAMPLE_FLOWS, title="example", height=148)


def nodes(svg: str) -> list[Rect]:
    """The node rects, in drawing order (column by column, top to bottom)."""
    groups = ET.fromstring(svg).findall(SVG + "g")
    return [_rect(group.find(RECT), group.findtext(TITLE) or "") for group in groups]


def _rect(rect: ET.Element | None, tooltip: str) -> Rect:
    assert rect is not None
    x, y, w, h = (float(rect.attrib[k]) for k in ("x", "y", "width", "height"))
    return Rect(x, y, w, h, rect.attrib["fill"], tooltip)


def bands(svg: str) -> list[Band]:
    """The links, in painting order; each path is M top-left C … top-right L bottom-right C …
    bottom-left Z."""
    found = []
    for path in ET.fromstring(svg).iter(PATH):
        n = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", path.attrib["d"])]
        assert len(n) == 16, path.attrib["d"]
        found.append(
            Band(
                (n[1], n[15]),
                (n[7], n[9]),
                path.attrib["fill"],
                path.attrib["fill-opacity"],
                path.findtext(TITLE) or "",
            )
        )
    return found


def shown_text(text: ET.Element) -> str:
    """What a ``<text>`` element draws: its text and tspans, not its ``<title>``."""
    parts = [text.text or ""]
    for child in text:
        parts += [child.text or "" if child.tag != TITLE else "", child.tail or ""]
    return "".join(parts)


def text_extent(text: ET.Element) -> tuple[float, float]:
    """The x-range the text covers, from its anchor and its measured width."""
    size = float(text.attrib.get("font-size", sankey.FONT_SIZE))
    width = text_width(shown_text(text), size)
    x = float(text.attrib["x"])
    return (x - width, x) if text.attrib.get("text-anchor") == "end" else (x, x + width)


def test_the_svg_parses_and_its_root_names_the_figure_and_the_font() -> None:
    root = ET.fromstring(example())
    assert root.tag == SVG + "svg"
    assert root.attrib["viewBox"] == "0 0 680 148"
    assert (root.attrib["width"], root.attrib["height"]) == ("680", "148")
    assert (root.attrib["role"], root.attrib["aria-label"]) == ("img", "example")
    assert root.attrib["font-family"] == "Liberation Sans, Arial, Helvetica, sans-serif"


def test_one_rect_per_node_and_one_path_per_flow() -> None:
    columns = [["(start)"], ["home", "search"], ["home", "checkout", "(end)"]]
    flows = [
        Flow((0, "(start)"), (1, "home"), 50),
        Flow((0, "(start)"), (1, "search"), 20),
        Flow((1, "home"), (2, "home"), 10),
        Flow((1, "home"), (2, "(end)"), 40),
        Flow((1, "search"), (2, "checkout"), 20),
    ]
    root = ET.fromstring(sankey_svg(columns, flows, title="t"))
    assert len(list(root.iter(RECT))) == 6
    assert len(list(root.iter(PATH))) == 5


def test_node_heights_follow_one_scale_hand_computed() -> None:
    # a = 30 + 10 = 40, b = 20, x = 30 + 20 = 50, y = 10: both columns hold 60 units.
    # Plot: 148 − 8 (top margin) − 8 (bottom margin) = 132px, less one 12px gap = 120px,
    # so 2px per unit: a 80, b 40, x 100, y 20, stacked from y = 8 with 12px between.
    a, b, x, y = nodes(example())
    assert [n.height for n in (a, b, x, y)] == [80, 40, 100, 20]
    assert [n.y for n in (a, b, x, y)] == [8, 100, 8, 120]
    # Columns at the edges: x = 1 and 680 − 1 − 10 (node width).
    assert [n.x for n in (a, b, x, y)] == [1, 1, 669, 669]


def test_bands_stack_in_the_order_of_their_other_end_hand_computed() -> None:
    a_x, a_y, b_x = bands(example())
    assert [band.tooltip for band in (a_x, a_y, b_x)] == ["a → x: 30", "a → y: 10", "b → x: 20"]
    # At a: a→x (x is above y) on top, then a→y; together they fill a (8 to 88).
    assert (a_x.at_source, a_y.at_source) == ((8, 68), (68, 88))
    # At x: a→x (a is above b) on top, then b→x; together they fill x (8 to 108).
    assert (a_x.at_target, b_x.at_target) == ((8, 68), (68, 108))
    assert (a_y.at_target, b_x.at_source) == ((120, 140), (100, 140))


def test_link_colour_is_its_source_colour_and_labels_keep_their_colour() -> None:
    columns = [["home", "(start)"], ["home", "(end)", "(other)"]]
    flows = [
        Flow((0, "home"), (1, "home"), 5),
        Flow((0, "(start)"), (1, "home"), 5),
        Flow((0, "home"), (1, "(end)"), 3),
        Flow((0, "(start)"), (1, "(other)"), 2),
    ]
    svg = sankey_svg(columns, flows, title="t")
    home, start, home_again, end, other = nodes(svg)
    assert home.fill == home_again.fill == sankey.PALETTE[0]
    assert start.fill == end.fill == other.fill == sankey.GREY
    fills = {band.tooltip.split(" → ")[0]: band.fill for band in bands(svg)}
    assert fills == {"home": home.fill, "(start)": start.fill}
    assert {band.opacity for band in bands(svg)} == {"0.45"}


def test_node_and_link_tooltips() -> None:
    columns = [["a"], ["b"], ["c", "(end)"]]
    flows = [
        Flow((0, "a"), (1, "b"), 1234),
        Flow((1, "b"), (2, "c"), 1000),
        Flow((1, "b"), (2, "(end)"), 234),
    ]
    svg = sankey_svg(columns, flows, title="t")
    assert [n.tooltip for n in nodes(svg)] == [
        "a: 1,234",
        "b: 1,234 (1,234 in · 1,234 out)",
        "c: 1,000",
        "(end): 234",
    ]
    assert bands(svg)[0].tooltip == "a → b: 1,234"


def test_a_node_without_flows_is_drawn_1px_high_and_labelled_0() -> None:
    svg = sankey_svg([["a"], ["x", "never"]], [Flow((0, "a"), (1, "x"), 7)], title="t")
    never = nodes(svg)[2]
    assert never.height == 1
    assert never.tooltip == "never: 0"
    assert "never" in [shown_text(t) for t in ET.fromstring(svg).iter(TEXT)][2]


def test_labels_and_headings_are_escaped() -> None:
    nasty = "a&b <\"q\"> 'c'"
    columns = [[nasty], ["x\x01y"]]
    svg = sankey_svg(
        columns, [Flow((0, nasty), (1, "x\x01y"), 3)], title=nasty, headings=[nasty, "&"]
    )
    assert '<"q">' not in svg and "&amp;" in svg
    root = ET.fromstring(svg)
    assert root.attrib["aria-label"] == nasty
    texts = [shown_text(t) for t in root.iter(TEXT)]
    assert texts == [f"{nasty} 3", "x\ufffdy 3", nasty, "&"]
    assert bands(svg)[0].tooltip == f"{nasty} → x\ufffdy: 3"


def test_same_bytes_on_rerun_in_any_flow_order_and_any_hash_seed() -> None:
    svg = example()
    assert example() == svg
    shuffled = EXAMPLE_FLOWS.copy()
    random.Random(4).shuffle(shuffled)
    assert sankey_svg(EXAMPLE_COLUMNS, shuffled, title="example", height=148) == svg
    code = "import sys; from tests.test_sankey import example; sys.stdout.write(example())"
    for seed in ("0", "1"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, env=env, cwd=ROOT, check=True
        )
        assert run.stdout.decode() == svg


def test_coordinates_have_at_most_two_decimals() -> None:
    columns = [["a", "b", "c"], ["x", "y"], ["z"]]
    flows = [
        Flow((0, "a"), (1, "x"), 7),
        Flow((0, "b"), (1, "x"), 3),
        Flow((0, "c"), (1, "y"), 11),
        Flow((1, "x"), (2, "z"), 9),
    ]
    svg = sankey_svg(columns, flows, title="t", width=677, height=301)
    assert re.findall(r"\d\.\d{3}", svg) == []


def test_long_labels_are_cut_to_fit_and_kept_whole_in_the_tooltip() -> None:
    long = "add_to_cart_from_the_recommendations_carousel_on_the_product_page"
    columns = [[long], [long, "(end)"], [long]]
    flows = [
        Flow((0, long), (1, long), 900),
        Flow((0, long), (1, "(end)"), 100),
        Flow((1, long), (2, long), 900),
    ]
    svg = sankey_svg(columns, flows, title="t", headings=[long] * 3, width=400)
    root = ET.fromstring(svg)
    for text in root.iter(TEXT):
        assert "…" in shown_text(text) or shown_text(text) == "(end) 100"
        left, right = text_extent(text)
        assert 0 <= left <= right <= 400
    assert all(n.tooltip.startswith(f"{long}: ") for n in nodes(svg) if "(end)" not in n.tooltip)
    assert [t.findtext(TITLE) for t in root.findall(TEXT)] == [long] * 3


def test_no_flows_give_a_small_figure_that_says_so() -> None:
    root = ET.fromstring(sankey_svg([["a"], ["b"]], [], title="empty"))
    assert root.attrib["aria-label"] == "empty"
    assert root.attrib["height"] == "40"
    assert [shown_text(t) for t in root.iter(TEXT)] == ["no flows"]


@pytest.mark.parametrize("value", [0, -3, 1.5, True])
def test_a_flow_value_is_a_positive_int(value: int) -> None:
    with pytest.raises(ValueError, match="int > 0"):
        Flow((0, "a"), (1, "b"), value)


@pytest.mark.parametrize(
    ("columns", "flows", "options", "message"),
    [
        ([["a"], ["b"]], [((0, "a"), (2, "b"))], {}, "from column c to c"),
        ([["a"], ["checkout"]], [((0, "a"), (1, "chekout"))], {}, "did you mean 'checkout'"),
        ([["a"], ["b"]], [((1, "b"), (2, "c"))], {}, "there is no column 2"),
        ([["a", "a"], ["b"]], [], {}, "column 0 lists 'a' twice"),
        ([["a"], ["b"]], [((0, "a"), (1, "b"))] * 2, {}, "two flows"),
        ([["a"], ["b"]], [((0, "a"), (1, "b"))], {"headings": ["one"]}, "1 headings for 2"),
        ([list("abcdefgh"), ["z"]], [((0, "a"), (1, "z"))], {"height": 90}, "height too small"),
        ([["a"], ["b"]], [((0, "a"), (1, "b"))], {"width": 40}, "too narrow"),
    ],
)
def test_loud_errors(
    columns: list[list[str]],
    flows: list[tuple[tuple[int, str], tuple[int, str]]],
    options: dict[str, object],
    message: str,
) -> None:
    with pytest.raises(ValueError, match=message):
        made = [Flow(source, target, 1) for source, target in flows]
        sankey_svg(columns, made, title="t", **options)  # type: ignore[arg-type]


def test_text_measurement_and_cutting() -> None:
    assert text_width("checkout 1,234", 11) == pytest.approx(74.602)
    assert fit_text("checkout", 100, 11) == "checkout"
    cut = fit_text("add_to_cart", 40, 11)
    assert cut == "add_t…" and text_width(cut, 11) <= 40
    assert fit_text("anything", 5, 11) == ""


def test_the_docstring_examples_run() -> None:
    assert doctest.testmod(sankey).failed == 0


LABELS = ["home", "product_view", "add_to_cart", "checkout", "(end)", "(other)", "a&b <c>"]
HEADINGS = ["step", "a much longer heading than fits between two columns", "event 3"]


@st.composite
def diagrams(draw: st.DrawFn) -> tuple[list[list[str]], list[Flow], list[str], int]:
    """Random layered flows: 2–5 columns of 1–5 labels, any flows between neighbours."""
    count = draw(st.integers(2, 5))
    labels = st.lists(st.sampled_from(LABELS), min_size=1, max_size=5, unique=True)
    columns = [draw(labels) for _ in range(count)]
    flows = []
    for c in range(count - 1):
        pairs = [(s, t) for s in columns[c] for t in columns[c + 1]]
        chosen = draw(st.lists(st.sampled_from(pairs), unique=True, min_size=c == 0))
        flows += [Flow((c, s), (c + 1, t), draw(st.integers(1, 50_000))) for s, t in chosen]
    headings = [draw(st.sampled_from(HEADINGS)) for _ in range(count)]
    return columns, flows, headings, draw(st.sampled_from([360, 680, 1000]))


@settings(max_examples=150, deadline=None)
@given(diagrams())
def test_layout_properties(diagram: tuple[list[list[str]], list[Flow], list[str], int]) -> None:
    columns, flows, headings, width = diagram
    svg = sankey_svg(columns, flows, title="t", headings=headings, width=width)
    keys = [(c, label) for c, labels in enumerate(columns) for label in labels]
    drawn = dict(zip(keys, nodes(svg), strict=True))
    inflow = {k: sum(f.value for f in flows if f.target == k) for k in keys}
    outflow = {k: sum(f.value for f in flows if f.source == k) for k in keys}
    value = {k: max(inflow[k], outflow[k]) for k in keys}
    tallest = max(keys, key=lambda k: value[k])
    scale = drawn[tallest].height / value[tallest]
    for k in keys:
        assert drawn[k].height == pytest.approx(value[k] * scale or 1, abs=0.011)
        assert drawn[k].y >= 0 and drawn[k].bottom <= 360 and drawn[k].x + 10 <= width
    assert max(n.bottom for n in drawn.values()) == pytest.approx(360 - 8, abs=0.011)
    _check_bands(columns, flows, drawn, bands(svg), scale)
    _check_text(ET.fromstring(svg), len(columns), width)


def _check_bands(
    columns: list[list[str]],
    flows: list[Flow],
    drawn: dict[tuple[int, str], Rect],
    found: list[Band],
    scale: float,
) -> None:
    """Links painted by position; at each node, its bands on either side stacked in the order
    of their other end."""
    position = {(c, x): i for c, labels in enumerate(columns) for i, x in enumerate(labels)}
    order = sorted(flows, key=lambda f: (f.source[0], position[f.source], position[f.target]))
    tooltips = [f"{f.source[1]} → {f.target[1]}: {f.value:,}" for f in order]
    assert [band.tooltip for band in found] == tooltips
    placed = dict(zip(order, found, strict=True))
    for node, rect in drawn.items():
        outgoing = sorted((f for f in flows if f.source == node), key=lambda f: position[f.target])
        incoming = sorted((f for f in flows if f.target == node), key=lambda f: position[f.source])
        out_edges = [placed[f].at_source for f in outgoing]
        _check_stack(rect, out_edges, sum(f.value for f in outgoing) * scale)
        in_edges = [placed[f].at_target for f in incoming]
        _check_stack(rect, in_edges, sum(f.value for f in incoming) * scale)


def _check_stack(rect: Rect, edges: list[tuple[float, float]], total: float) -> None:
    """Bands from the node's top down, each starting where the one above ends (no gap, no
    overlap), ``total`` thick together and within the node."""
    y = rect.y
    for top, bottom in edges:
        assert top == pytest.approx(y, abs=0.011)
        y = bottom
    assert y - rect.y == pytest.approx(total, abs=0.02)
    assert y <= rect.bottom + 0.02


def _check_text(root: ET.Element, count: int, width: int) -> None:
    """Every text inside the SVG, and no column's labels reaching into the next one's."""
    extents: dict[int, list[tuple[float, float]]] = {}
    for group in root.findall(SVG + "g"):
        rect, text = group.find(RECT), group.find(TEXT)
        assert rect is not None
        if text is not None:
            extents.setdefault(round(float(rect.attrib["x"])), []).append(text_extent(text))
    for text in root.iter(TEXT):
        left, right = text_extent(text)
        assert 0 <= left <= right <= width
    columns = [extents[x] for x in sorted(extents)]
    assert len(columns) <= count
    for here, there in itertools.pairwise(columns):
        assert max(right for _, right in here) <= min(left for left, _ in there)
