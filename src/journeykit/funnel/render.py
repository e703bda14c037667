"""The funnel as a table for people: conversion bars, percentages, durations."""

from typing import Any, Literal

import polars as pl
from rich.console import Group
from rich.table import Table
from rich.text import Text

from journeykit.durations import format_duration
from journeykit.funnel.run import FunnelResult
from journeykit.output.human import bar, count, duration, percent, sparkline


def render_funnel(result: FunnelResult) -> Group:
    if result.trend is not None:
        return _render_trend(result)
    spec, table = result.spec, result.table
    unit = "sessions" if spec.by == "session" else "users"
    held = f" · same {spec.hold}" if spec.hold else ""
    title = (
        f"Funnel by {spec.by}{held} · {spec.order} · window "
        f"{format_duration(spec.window.total_seconds())}"
    )
    grid = Table(title=title, title_justify="left", title_style="bold")
    if spec.breakdown:
        grid.add_column(spec.breakdown, style="bold")
    columns: tuple[tuple[str, Literal["left", "right"]], ...] = (
        ("#", "right"),
        ("step", "left"),
        (unit, "right"),
        ("conversion", "left"),
        ("overall", "right"),
        ("from prev.", "right"),
        ("dropped", "right"),
        ("in progress", "right"),
        ("median time", "right"),
        ("mean time", "right"),
        ("total (median)", "right"),
        *((("spread", "right"),) if spec.percentiles else ()),
    )
    for name, justify in columns:
        grid.add_column(name, justify=justify)
    for group in _groups(table, spec.breakdown):
        for index, row in enumerate(group.iter_rows(named=True)):
            label = [str(row[spec.breakdown]) if index == 0 else ""] if spec.breakdown else []
            cells = [*_cells(row), *([_spread(row)] if spec.percentiles else [])]
            grid.add_row(*label, *cells, end_section=index == group.height - 1)
    entered = int(table.filter(pl.col("step") == 1)["units"].sum())
    notes = Text(
        f"{entered:,} {unit} entered; times are between consecutive steps, total from the first.",
        style="dim",
    )
    return Group(grid, notes)


def _groups(table: pl.DataFrame, breakdown: str | None) -> list[pl.DataFrame]:
    if breakdown is None:
        return [table]
    return table.partition_by(breakdown, maintain_order=True)


def _cells(row: dict[str, Any]) -> list[str]:
    later = row["step"] != 1
    return [
        str(row["step"]),
        str(row["event"]),
        count(row["units"]),
        bar(row["conversion_overall"]),
        percent(row["conversion_overall"]),
        percent(row["conversion_from_previous"]) if later else "",
        count(row["dropped"]) if later else "",
        count(row["in_progress"]) if later else "",
        duration(row["median_seconds_from_previous"]) if later else "",
        duration(row["mean_seconds_from_previous"]) if later else "",
        duration(row["median_seconds_from_first"]) if later else "",
    ]


def _spread(row: dict[str, Any]) -> str:
    """The asked percentiles of the time from the previous step: ``p25–p75 · p90`` when those
    are asked, else each as ``pQ value``."""
    if row["step"] == 1:
        return ""
    suffix = "_seconds_from_previous"
    asked = {k[1 : -len(suffix)]: v for k, v in row.items() if k[0] == "p" and k.endswith(suffix)}
    shown = (
        [f"{duration(asked['25'])}–{duration(asked['75'])}"] if {"25", "75"} <= set(asked) else []
    )
    shown += [duration(asked["90"])] if shown and "90" in asked else []
    return " · ".join(shown) or " · ".join(f"p{q} {duration(v)}" for q, v in asked.items())


_MARKS = {"low": "▼", "high": "▲"}


def _render_trend(result: FunnelResult) -> Group:
    """One line per period: entrants, the overall conversion of each step (▼/▲ on anomalies)
    and a bar of the last; a sparkline per step under each block."""
    spec, table = result.spec, result.table
    unit = "sessions" if spec.by == "session" else "users"
    parts: list[Table | Text] = []
    for group in _groups(table, spec.breakdown):
        title = f"Funnel by {spec.trend} of entry · {spec.by} · {spec.order}"
        if spec.breakdown:
            title += f" · {spec.breakdown} = {group[spec.breakdown][0]}"
        grid = Table(title=title, title_justify="left", title_style="bold")
        grid.add_column(spec.trend or "period")
        grid.add_column(unit, justify="right")
        for step in spec.steps[1:]:
            grid.add_column(step, justify="right")
        grid.add_column("overall", justify="left")
        for period in group.partition_by("period", maintain_order=True):
            rows = period.rows(named=True)
            cells = [_trend_cell(row) for row in rows[1:]]
            label = f"{rows[0]['period']}{' (partial)' if rows[0]['partial'] else ''}"
            grid.add_row(
                label, count(rows[0]["units"]), *cells, bar(rows[-1]["conversion_overall"])
            )
        parts.append(grid)
        series = group.partition_by("step", maintain_order=True, as_dict=True)
        lines = [
            f"{step}: {sparkline(series[(k,)]['conversion_overall'].to_list())}"
            for k, step in enumerate(spec.steps, start=1)
            if k > 1
        ]
        parts.append(Text("  ".join(lines), style="dim"))
    flagged = table.filter(pl.col("anomaly").is_in(["low", "high"])).height
    parts.append(
        Text(
            f"Overall conversion from step 1. {flagged} anomal{'y' if flagged == 1 else 'ies'}: "
            f"▼/▲ a step's conversion from the previous one is unusually low/high against the "
            f"{spec.baseline} earlier periods (alpha {spec.alpha}); partial periods are not tested."
        )
    )
    return Group(*parts)


def _trend_cell(row: dict[str, Any]) -> Text:
    mark = _MARKS.get(row["anomaly"] or "", "")
    style = "bold red" if mark == "▼" else "bold green" if mark else ""
    return Text(f"{percent(row['conversion_overall'])}{mark or ' '}", style=style)
