"""Attribution for people: a touch value per row, a model per column, and where they disagree."""

import polars as pl
from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from journeykit.attribution.run import AttributionResult
from journeykit.output.human import count, percent

SHOWN = 25
"""Touch values a terminal lists."""
LABELS = {
    "first": "first",
    "last": "last",
    "last_non_direct": "non-direct",
    "linear": "linear",
    "position": "position",
    "time_decay": "time decay",
}


def render_attribution(result: AttributionResult) -> RenderableType:
    """Per touch value (largest first by the middle model) and model: credited conversions and
    the share of revenue (of conversions without money), and the widest disagreement."""
    table = result.table
    if table.is_empty():
        return Text(f"No orders to attribute{_period(result)}.")
    share = "revenue_share" if result.has_money else "conversion_share"
    models = list(dict.fromkeys(table["model"]))
    order = touch_order(table, models)
    grid = Table(
        title=f"Attribution of {count(result.orders)} orders by {result.spec.touch}"
        f"{_period(result)} · lookback {lookback_text(result)}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        caption=f"cells: conversions credited, share of {share.removesuffix('_share')}",
        caption_justify="left",
    )
    grid.add_column(result.spec.touch)
    for model in models:
        grid.add_column(LABELS[model], justify="right")
    cells = {(row["model"], row["touch"]): row for row in table.iter_rows(named=True)}
    for touch in order[:SHOWN]:
        row = [cells.get((model, touch)) for model in models]
        grid.add_row(touch, *(_cell(r, share) for r in row))
    rest = [Text(f"… and {len(order) - SHOWN} more values (all in --format csv)")]
    return Group(
        grid, *(rest if len(order) > SHOWN else []), Text(disagreement(table, share, models))
    )


def touch_order(table: pl.DataFrame, models: list[str]) -> list[str]:
    """Touch values by the conversions of the middle model (linear when shown), then name."""
    middle = "linear" if "linear" in models else models[0]
    rows = table.filter(pl.col("model") == middle).sort(
        ["conversions", "touch"], descending=[True, False]
    )
    return rows["touch"].to_list()


def _cell(row: dict[str, object] | None, share: str) -> str:
    if row is None:
        return "–"
    conversions = row["conversions"]
    assert isinstance(conversions, float)
    value = row[share]
    return f"{conversions:,.0f} {percent(value if isinstance(value, float) else None):>6}"


def disagreement(table: pl.DataFrame, share: str, models: list[str]) -> str:
    """The touch value whose ``share`` column varies most across the models, in words."""
    if len(models) < 2:
        return f"One model ({LABELS[models[0]]}): nothing to compare."
    spread = table.group_by("touch").agg(
        (pl.col(share).max() - pl.col(share).min()).alias("spread"),
        pl.col("model").sort_by(share).first().alias("low"),
        pl.col(share).min().alias("least"),
        pl.col("model").sort_by(share).last().alias("high"),
        pl.col(share).max().alias("most"),
    )
    top = spread.sort(["spread", "touch"], descending=[True, False]).row(0, named=True)
    what = share.removesuffix("_share")
    return (
        f"The models disagree most on {top['touch']}: {percent(top['most'])} of {what} under "
        f"{LABELS[top['high']]}, {percent(top['least'])} under {LABELS[top['low']]}."
    )


def _period(result: AttributionResult) -> str:
    from journeykit.journey.render import period_label

    return period_label(result.spec)


def lookback_text(result: AttributionResult) -> str:
    """The lookback as a duration (``30d``)."""
    from journeykit.durations import format_duration

    return format_duration(result.spec.lookback.total_seconds())
