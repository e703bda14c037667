"""Paths for people: a tree of the top paths, and the journey map as a from × to matrix."""

import polars as pl
from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from journeykit.output.human import count, percent, plural
from journeykit.paths.journey_map import JourneyMapResult
from journeykit.paths.run import OTHER_PATHS, SEPARATOR, PathsResult

GUIDE = 4
"""Columns a tree level indents its children by."""
SHADES = ("", "on #1e3a5f", "on #1d4ed8", "on #2563eb", "on #3b82f6")
"""Cell backgrounds from the smallest to the largest share of a row."""


def render_paths(result: PathsResult) -> RenderableType:
    """The top paths as a tree from the anchor outward: each node is a path prefix with its
    units and share of the anchored units; leaves are the top paths; ``(other)`` last."""
    spec = result.spec
    if result.anchored == 0:
        return Text(f"No paths: {_nobody(result)}.")
    top = [row for row in result.table.iter_rows(named=True) if row["path"] != OTHER_PATHS]
    prefixes, outward = _prefix_counts(result)
    cells = [outward[row["path"]] for row in top]
    width = max(len(name) for names in cells for name in names) + GUIDE * spec.depth
    title = Text(f"Paths {_anchor(result)} · {plural(result.anchored, spec.by)}", style="bold")
    tree = Tree(title, guide_style="dim")
    nodes: dict[tuple[str, ...], Tree] = {}
    every = {names[:k] for names in cells for k in range(1, len(names) + 1)}
    for names in sorted(every, key=lambda names: _tree_order(names, prefixes)):
        parent = nodes.get(names[:-1], tree)
        label = _node_label(names, prefixes[names], result.anchored, width - GUIDE * len(names))
        nodes[names] = parent.add(label)
    rest = result.table.filter(pl.col("path") == OTHER_PATHS)["units"]
    other = f"{OTHER_PATHS}: {plural(int(rest.sum()), spec.by)} on other paths"
    footer = [Text(other)] if rest.len() else []
    note = "nearest event first" if spec.direction == "before" else "in time order"
    return Group(tree, *footer, Text(f"Each level: the next event, {note}.", style="dim"))


def _tree_order(
    names: tuple[str, ...], prefixes: dict[tuple[str, ...], int]
) -> list[tuple[int, str]]:
    """Depth first, parents before children, siblings by units descending then name."""
    return [(-prefixes[names[: k + 1]], names[k]) for k in range(len(names))]


def _nobody(result: PathsResult) -> str:
    spec = result.spec
    if spec.dropped_at is not None:
        step = f"{spec.dropped_at - 1} ({spec.last_step})"
        return f"no {spec.by} stopped at step {step} with its window closed"
    return f"no {spec.by} has a {spec.anchor} event"


def _anchor(result: PathsResult) -> str:
    spec = result.spec
    if spec.dropped_at is not None:
        return f"after dropping at step {spec.dropped_at} (last step reached: {spec.last_step})"
    return f"{spec.direction} {spec.anchor}"


def _prefix_counts(
    result: PathsResult,
) -> tuple[dict[tuple[str, ...], int], dict[str, tuple[str, ...]]]:
    """Units per path prefix (outward from the anchor) over every path, and each path's names
    outward (from the counts' cells: an event name may hold the separator)."""
    counts: dict[tuple[str, ...], int] = {}
    outward: dict[str, tuple[str, ...]] = {}
    cells = [f"at_{d}" for d in range(1, result.spec.depth + 1)]
    for row in result.counts.select(*cells, "units").iter_rows():
        names = tuple(name for name in row[:-1] if name is not None)
        in_time = names[::-1] if result.spec.direction == "before" else names
        outward[SEPARATOR.join(in_time)] = names
        for k in range(1, len(names) + 1):
            counts[names[:k]] = counts.get(names[:k], 0) + row[-1]
    return counts, outward


def _node_label(names: tuple[str, ...], units: int, anchored: int, width: int) -> Text:
    label = Text(names[-1].ljust(max(width, len(names[-1]))))
    label.append(f" {count(units):>9} {percent(units / anchored):>6}", style="cyan")
    return label


def render_transitions(result: PathsResult) -> RenderableType:
    """The transitions, one table per depth."""
    grid = Table(title=f"Transitions {_anchor(result)}", title_justify="left", box=box.SIMPLE)
    for column in ("depth", "from", "to"):
        grid.add_column(column)
    grid.add_column("units", justify="right")
    previous = None
    for row in result.transitions.iter_rows(named=True):
        depth = str(row["depth"]) if row["depth"] != previous else ""
        grid.add_row(depth, row["from"], row["to"], count(row["units"]))
        previous = row["depth"]
    return grid


def render_journey_map(result: JourneyMapResult) -> RenderableType:
    """The from × to matrix: each cell the share of the moves out of its row, shaded."""
    title = f"Journey map · {count(result.users)} users · from one session's stage to the next"
    grid = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        collapse_padding=True,
        pad_edge=False,
    )
    grid.add_column("from \\ to")
    for target in result.targets():
        grid.add_column(target, justify="right")
    grid.add_column("moves", justify="right")
    for source, moves, total in result.moves_from():
        cells = (_cell(moves.get(target, 0), total) for target in result.targets())
        grid.add_row(source, *cells, count(total))
    return Group(
        grid,
        Text(
            "Cells: share of the moves out of the row's stage ((start): the first sessions).",
            style="dim",
        ),
    )


def _cell(moves: int, total: int) -> Text:
    if not moves:
        return Text("·", style="dim")
    share = moves / total
    shade = SHADES[min(len(SHADES) - 1, int(share * len(SHADES)))]
    return Text(percent(share), style=shade)
