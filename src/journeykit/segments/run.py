"""``segments(log, spec)``: users by lifecycle, RFM or custom segment (SPEC §16)."""

from dataclasses import dataclass

import numpy as np
import polars as pl

from journeykit.load.events import EventLog
from journeykit.segments.custom import custom_segment
from journeykit.segments.spec import LIFECYCLE, OTHER, RFM, SegmentsSpec
from journeykit.segments.users import user_table
from journeykit.stats import divided

TABLE_COLUMNS = [
    "segment",
    "users",
    "share",
    "sessions",
    "orders",
    "revenue",
    "revenue_share",
    "average_order_value",
]
COLUMN = {"lifecycle": "lifecycle", "rfm": "rfm_segment", "custom": "custom_segment"}


@dataclass(frozen=True)
class SegmentsResult:
    """``table``: one row per segment; ``users``: one row per user (the ``--emit`` file)."""

    table: pl.DataFrame
    users: pl.DataFrame
    spec: SegmentsSpec
    has_money: bool


def segments(log: EventLog, spec: SegmentsSpec) -> SegmentsResult:
    """The segments of ``spec.by`` as of ``spec.at``.

    >>> from journeykit.load.events import load_events
    >>> log = load_events(["data/samples/events.parquet"])  # doctest: +SKIP
    >>> segments(log, SegmentsSpec(by="rfm")).table  # doctest: +SKIP
    """
    users = user_table(log, spec)
    if not log.has_money:
        users = users.with_columns(pl.lit(None, pl.Float64).alias("revenue"))
    if spec.custom:
        users = users.with_columns(custom_segment(users, spec.custom))
    elif spec.by == "custom":
        custom_segment(users, ())
    fixed = {"lifecycle": LIFECYCLE, "rfm": RFM}
    names = fixed.get(spec.by) or (*(name for name, _ in spec.custom), OTHER)
    table = segment_table(users, COLUMN[spec.by], names, money=log.has_money)
    return SegmentsResult(table, users, spec, log.has_money)


def table_of(result: SegmentsResult, by: str) -> pl.DataFrame:
    """The table of another ``by`` over the same users (``lifecycle`` or ``rfm``)."""
    names = {"lifecycle": LIFECYCLE, "rfm": RFM}[by]
    return segment_table(result.users, COLUMN[by], names, money=result.has_money)


def segment_table(
    users: pl.DataFrame, column: str, names: tuple[str, ...], *, money: bool
) -> pl.DataFrame:
    """``TABLE_COLUMNS`` for the segments ``names`` (in that order, empty ones included) of the
    users whose ``column`` is set (customers for RFM)."""
    users = users.filter(pl.col(column).is_not_null())
    sums = users.group_by(pl.col(column).alias("segment")).agg(
        pl.len().cast(pl.Int64).alias("users"),
        pl.col("sessions", "orders").sum().cast(pl.Int64),
        pl.col("revenue").sum(),
    )
    frame = pl.DataFrame({"segment": list(names)}).join(sums, on="segment", how="left")
    frame = frame.with_columns(pl.col("users", "sessions", "orders").fill_null(0))
    count = frame["users"].to_numpy().astype(np.float64)
    shares: list[pl.Series | pl.Expr] = [divided(count, count.sum()).alias("share")]
    if money:
        revenue = frame["revenue"].fill_null(0.0).to_numpy()
        orders = frame["orders"].to_numpy().astype(np.float64)
        shares += [
            pl.Series("revenue", revenue),
            divided(revenue, revenue.sum()).alias("revenue_share"),
            divided(revenue, orders).alias("average_order_value"),
        ]
    else:
        nothing = pl.lit(None, pl.Float64)
        shares += [nothing.alias(c) for c in ("revenue", "revenue_share", "average_order_value")]
    return frame.with_columns(shares).select(TABLE_COLUMNS)
