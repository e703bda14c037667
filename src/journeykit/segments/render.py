"""Segments for people: the segment table with bars, and for RFM the R × FM grid."""

import polars as pl
from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from journeykit.output.human import bar, count, money, percent
from journeykit.segments.run import SegmentsResult
from journeykit.segments.users import fm_of

BAR = 10
TITLES = {
    "lifecycle": "Users by lifecycle",
    "rfm": "Customers by RFM",
    "custom": "Users by segment",
}


def render_segments(result: SegmentsResult) -> RenderableType:
    """The segments with shares of users and of revenue; for ``rfm`` the 5 × 5 grid too."""
    parts: list[RenderableType] = [_table(result)]
    if result.spec.by == "rfm":
        title = "Customers by R score (rows, 5 = most recent) and FM score (columns)"
        parts += [Text(""), Text(title, style="bold"), _grid(result.users)]
    return Group(*parts)


def _table(result: SegmentsResult) -> Table:
    at = f" as of {result.spec.at:%Y-%m-%d %H:%M} UTC" if result.spec.at else ""
    grid = Table(
        title=f"{TITLES[result.spec.by]}{at}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        collapse_padding=True,
        pad_edge=False,
    )
    for name in ("segment", "users", "share", ""):
        grid.add_column(name, justify="left" if name in ("segment", "") else "right")
    grid.add_column("orders", justify="right")
    if result.has_money:
        for name in ("revenue", "of revenue", "", "avg order"):
            grid.add_column(name, justify="left" if name == "" else "right")
    for row in result.table.iter_rows(named=True):
        cells = [
            row["segment"],
            count(row["users"]),
            percent(row["share"]),
            bar(row["share"], BAR),
            count(row["orders"]),
        ]
        if result.has_money:
            cells += [
                money(row["revenue"]),
                percent(row["revenue_share"]),
                bar(row["revenue_share"], BAR),
                money(row["average_order_value"]),
            ]
        grid.add_row(*cells)
    return grid


def _grid(users: pl.DataFrame) -> Table:
    """Customers by R score (rows, 5 = most recent) and FM score (columns)."""
    customers = users.filter(pl.col("r_score").is_not_null())
    f = customers["f_score"].to_numpy()
    m = customers["m_score"].to_numpy() if customers["m_score"].null_count() == 0 else None
    scores = pl.DataFrame({"r": customers["r_score"], "fm": fm_of(f, m)})
    cells = {(r, fm): n for r, fm, n in scores.group_by("r", "fm").len().iter_rows()}
    grid = Table(box=box.SIMPLE_HEAD)
    grid.add_column("R \\ FM")
    for fm in range(1, 6):
        grid.add_column(str(fm), justify="right")
    for r in range(5, 0, -1):
        grid.add_row(str(r), *(count(cells.get((r, fm), 0)) for fm in range(1, 6)))
    return grid
