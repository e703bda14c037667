"""The retention triangle for people: cohorts as rows, periods as columns, heat-shaded cells."""

from typing import Any

import polars as pl
from rich.color import Color
from rich.console import Group
from rich.style import Style
from rich.table import Table
from rich.text import Text

from journeykit.output.human import count, money, percent
from journeykit.retention.run import RetentionResult
from journeykit.retention.spec import ANY_EVENT
from journeykit.retention.table import AVERAGE

_PALE = (240, 246, 255)
_DEEP = (29, 78, 216)
PARTIAL_MARK = "*"


def render_retention(result: RetentionResult) -> Group:
    spec, table = result.spec, result.table
    title = Text(_title(result), style="bold")
    if table.height == 0:
        return Group(title, Text(f"No user has a '{spec.cohort_event}' event: no cohorts."))
    ratio = "revenue_per_user" if spec.value == "revenue" else "rate"
    grid = Table()
    grid.add_column("cohort", style="bold")
    grid.add_column("users", justify="right")
    for k in range(spec.periods + 1):
        grid.add_column(f"{spec.period.capitalize()} {k}", justify="right")
    scale = table.filter(pl.col("period") >= 1)[ratio].max()
    top = float(scale) if isinstance(scale, int | float) and scale > 0 else None
    groups = table.partition_by("cohort", maintain_order=True)
    for index, group in enumerate(groups):
        rows = group.sort("period").to_dicts()
        grid.add_row(
            rows[0]["cohort"],
            count(rows[0]["cohort_size"]),
            *(_cell(row, ratio, top) for row in rows),
            style="bold" if rows[0]["cohort"] == AVERAGE else None,
            end_section=index == len(groups) - 2,
        )
    return Group(title, grid, Text(_notes(result), style="dim"))


def _cell(row: dict[str, Any], ratio: str, top: float | None) -> Text:
    value = row[ratio]
    if value is None:
        return Text("")
    text = money(value) if ratio == "revenue_per_user" else percent(value)
    if row["partial"]:
        text += PARTIAL_MARK
    return Text(text, style=_heat(value, top))


def _heat(value: float, top: float | None) -> Style:
    """A background from pale to deep blue, ``value / top`` of the way (capped at 1)."""
    share = 0.0 if top is None else max(0.0, min(1.0, value / top))
    red, green, blue = (round(a + (b - a) * share) for a, b in zip(_PALE, _DEEP, strict=True))
    ink = "white" if share > 0.55 else "black"
    return Style(color=ink, bgcolor=Color.from_rgb(red, green, blue))


def _title(result: RetentionResult) -> str:
    spec = result.spec
    cohort = "first event" if spec.cohort_event == ANY_EVENT else f"first {spec.cohort_event}"
    back = "any event" if spec.return_event == ANY_EVENT else spec.return_event
    measure = "Revenue per cohort user" if spec.value == "revenue" else "Retention"
    when = f"in {spec.period} k" if spec.mode == "on" else f"in {spec.period} k or later"
    return f"{measure} · cohorts by {cohort} ({spec.tz}) · {back} {when}"


def _notes(result: RetentionResult) -> str:
    spec = result.spec
    last = "" if result.last is None else f" (last event {result.last:%Y-%m-%d %H:%M} UTC)"
    notes = [
        f"{PARTIAL_MARK} partial: the data ends inside this {spec.period}{last}; "
        "blank: not observed yet.",
        "average: weighted by cohort size over the cohorts where the period is observed.",
    ]
    if spec.value == "revenue":
        notes.append("Cells: order value per cohort user; totals with --format csv.")
    return "\n".join(notes)
