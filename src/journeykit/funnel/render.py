"""The funnel as a table for people: conversion bars, percentages, durations."""

from typing import Any, Literal

import polars as pl
from rich.console import Group
from rich.table import Table
from rich.text import Text

from journeykit.durations import format_duration
from journeykit.funnel.run import FunnelResult
from journeykit.output.human import bar, count, duration, percent


def render_funnel(result: FunnelResult) -> Group:
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
    )
    for name, justify in columns:
        grid.add_column(name, justify=justify)
    for group in _groups(table, spec.breakdown):
        for index, row in enumerate(group.iter_rows(named=True)):
            label = [str(row[spec.breakdown]) if index == 0 else ""] if spec.breakdown else []
            grid.add_row(*label, *_cells(row), end_section=index == group.height - 1)
    entered = int(table.filter(pl.col("step") == 1)["units"].sum())
    notes = Text(f"{entered:,} {unit} entered; times are between consecutive steps.", style="dim")
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
    ]
