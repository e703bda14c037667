"""The report's journeys (SPEC §14): the journey map of the period, and what users did after the
default funnel's largest drop-off — their sections and their Sankey diagrams."""

import polars as pl

from journeykit.journey.spec import STAGES
from journeykit.output.human import count, percent
from journeykit.paths.journey_map import END_NODE, START_NODE
from journeykit.paths.run import OTHER_PATHS
from journeykit.periods import ReportPeriod
from journeykit.report.build import DEPTH, Journeys
from journeykit.report.content import Section, Table
from journeykit.report.sankey import Flow, sankey_svg

NODES_PER_COLUMN = 6
"""Names a drop-off column shows; the others join ``(other)``."""


# --- sections -----------------------------------------------------------------------------------


def journey_map_section(journeys: Journeys, period: ReportPeriod) -> Section:
    result = journeys.journey_map
    lede = (
        f"How {count(result.users)} users moved from one session's deepest stage to the next "
        f"session's, over the sessions that started in {period.id} ((start): a user's first "
        f"session of the {period.kind}; (end): the last)."
    )
    targets = result.targets()
    headers = ("From \u2193 to \u2192", *targets, "Moves")
    rows = tuple(
        (source, *(percent(moves[t] / total) if t in moves else "·" for t in targets), count(total))
        for source, moves, total in result.moves_from()
    )
    if not rows:
        notes = (f"No session started in {period.id}.",)
        return Section("journeys", "Journey map", lede, notes=notes)
    caption = (
        "Bands: moves from a session's stage (left) to the next session's (right); table: "
        "share of the moves out of each row's stage."
    )
    table = Table(headers, rows)
    return Section("journeys", "Journey map", lede, tables=(table,), caption=caption)


def dropoff_section(journeys: Journeys) -> Section:
    result = journeys.dropoff
    if result is None or result.spec.funnel is None or result.spec.dropped_at is None:
        nothing = (
            "No funnel drop-off to follow in this period: no user stopped at a step with "
            "their window closed.",
        )
        return Section("dropoff", "After the largest drop-off", notes=nothing)
    steps, k = result.spec.funnel.steps, result.spec.dropped_at
    lede = (
        f"The funnel loses the most users between step {k - 1} ({steps[k - 2]}) and step {k} "
        f"({steps[k - 1]}). What the {count(result.anchored)} users whose window has closed did "
        f"next, up to {DEPTH} events (repeats of one event in a row count once)."
    )
    ranked = result.table.iter_rows()
    rows = tuple((path, count(units), percent(share)) for path, units, share in ranked)
    users = f"{count(result.in_progress)} user" + ("" if result.in_progress == 1 else "s")
    waiting = f"{users} still in their window are not shown."
    notes = (waiting,) if result.in_progress else ()
    caption = f"Bands: what users did after {steps[k - 2]}, event by event ((end): nothing more)."
    table = Table(("Next events", "Users", "Share"), rows)
    return Section(
        "dropoff", "After the largest drop-off", lede, tables=(table,), caption=caption, notes=notes
    )


# --- diagrams -----------------------------------------------------------------------------------


def journey_map_chart(journeys: Journeys) -> str:
    """The journey map as a two-column Sankey: moves from each stage to the next session's."""
    table = journeys.journey_map.table
    order = [START_NODE, *STAGES, END_NODE]
    sources = [node for node in order if node in set(table["from"])]
    targets = [node for node in order if node in set(table["to"])]
    flows = [
        Flow((0, row["from"]), (1, row["to"]), row["transitions"])
        for row in table.iter_rows(named=True)
    ]
    return sankey_svg(
        [sources, targets],
        flows,
        title="Journey map: moves between stages from one session to the next",
        headings=["this session", "next session"],
        height=420,
    )


def dropoff_chart(journeys: Journeys) -> str | None:
    """The paths after the drop-off as a Sankey: one column per event after the anchor."""
    result = journeys.dropoff
    if result is None:
        return None
    counts = _grouped(result.counts, result.spec.depth)
    columns: list[list[str]] = []
    for d in range(result.spec.depth + 1):
        units = counts.group_by(f"at_{d}").agg(pl.col("units").sum()).drop_nulls()
        ranked = units.sort(["units", f"at_{d}"], descending=[True, False])[f"at_{d}"]
        columns.append(sorted(ranked.to_list(), key=lambda name: name in _LAST))
    flows = []
    for d in range(1, result.spec.depth + 1):
        links = counts.group_by(f"at_{d - 1}", f"at_{d}").agg(pl.col("units").sum()).drop_nulls()
        flows += [Flow((d - 1, a), (d, b), units) for a, b, units in links.sort(pl.all()).rows()]
    headings = ["dropped after", *(f"event {d}" for d in range(1, result.spec.depth + 1))]
    return sankey_svg(columns, flows, title="What users did after the drop-off", headings=headings)


_LAST = {END_NODE, OTHER_PATHS}
"""Nodes drawn at the bottom of their column."""


def _grouped(counts: pl.DataFrame, depth: int) -> pl.DataFrame:
    """``counts`` with each column's rarer names as ``(other)`` (``NODES_PER_COLUMN`` kept, and
    ``(end)`` always)."""
    cells = []
    for d in range(1, depth + 1):
        column = pl.col(f"at_{d}")
        ranked = counts.group_by(column).agg(pl.col("units").sum()).drop_nulls()
        kept = ranked.sort(["units", f"at_{d}"], descending=[True, False]).head(NODES_PER_COLUMN)
        keep = column.is_in(kept[f"at_{d}"].implode()) | column.is_null() | (column == END_NODE)
        cells.append(pl.when(keep).then(column).otherwise(pl.lit(OTHER_PATHS)).alias(f"at_{d}"))
    grouped = counts.with_columns(cells)
    return grouped.group_by(pl.exclude("units")).agg(pl.col("units").sum())
