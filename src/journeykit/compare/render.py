"""The comparison for people: per step, one row per segment, control first."""

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from journeykit.compare.run import CompareResult
from journeykit.output.human import count, interval_bar, percent

_WHAT = {
    "abandonment": "cart sessions abandoned",
    "bounce": "sessions that bounced",
    "repeat": "customers with 2+ orders",
}


def render_compare(result: CompareResult) -> Group:
    spec, table = result.spec, result.table
    level = f"{1 - spec.alpha:.0%}"
    funnel = spec.funnel
    unit = funnel.by + "s" if funnel is not None else ""
    what = f"overall conversion from step 1 ({unit})" if funnel else _WHAT[spec.metric]
    grid = Table(
        title=f"{spec.segment}: {what} · control {result.control} · {level} intervals",
        title_justify="left",
        title_style="bold",
    )
    stepped = "step" in table.columns
    if stepped:
        grid.add_column("step")
    for name in ("segment", "n", "x", "rate", f"{level} interval", "", "diff", "lift", "p"):
        grid.add_column(name, justify="left" if name in ("segment", "") else "right")
    grid.add_column("", justify="left")
    groups = table.partition_by("step", maintain_order=True) if stepped else [table]
    for group in groups:
        scale = (min(group["rate_low"]), max(group["rate_high"]))
        for index, row in enumerate(group.iter_rows(named=True)):
            label = [f"{row['step']} {row['event']}" if index == 0 else ""] if stepped else []
            grid.add_row(*label, *_cells(row, scale), end_section=index == group.height - 1)
    notes = Text(
        "✔ significant after Holm–Bonferroni over every comparison shown; p needs n ≥ 30 in "
        "both segments.",
        style="dim",
    )
    return Group(grid, notes)


def _cells(row: dict[str, Any], scale: tuple[float, float]) -> list[str]:
    lift = row["relative_lift"]
    p = row["p_value"]
    return [
        f"{row['segment']}{' (control)' if row['control'] else ''}",
        count(row["n"]),
        count(row["x"]),
        percent(row["rate"]),
        f"{percent(row['rate_low'])}–{percent(row['rate_high'])}",
        interval_bar(row["rate_low"], row["rate"], row["rate_high"], scale),
        "" if row["control"] else _points(row["diff"]),
        "" if row["control"] or lift is None else f"{lift:+.1%}",
        "" if p is None else f"{p:.3g}",
        "✔" if row["significant"] else "",
    ]


def _points(diff: float | None) -> str:
    return "" if diff is None else f"{100 * diff:+.1f} pp"
