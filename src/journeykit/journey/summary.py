"""``summary(log, spec)``: the one-row table of headline figures (SPEC §7b)."""

from dataclasses import dataclass
from functools import partial
from typing import Any

import polars as pl
from polars.lazyframe.group_by import LazyGroupBy

from journeykit.journey.spec import Period, SummarySpec
from journeykit.journey.units import UnitOptions, abandoned, session_facts
from journeykit.load.events import EventLog
from journeykit.periods import index_of, period_index
from journeykit.trend import trend_of

COLUMNS = [
    "events",
    "users",
    "sessions",
    "bounce_rate",
    "sessions_with_purchase",
    "session_conversion_rate",
    "cart_abandonment_rate",
    "orders",
    "revenue",
    "average_order_value",
    "customers",
    "repeat_customers",
    "repeat_purchase_rate",
    "first_event",
    "last_event",
    "dropped_rows",
]


@dataclass(frozen=True)
class SummaryResult:
    """``table``: one row with the columns of SPEC §7b (one per period, ``period`` first, with
    a trend)."""

    table: pl.DataFrame
    spec: SummarySpec
    has_money: bool

    def figures(self) -> dict[str, Any]:
        """The row as a dict (for panels and reports)."""
        return self.table.row(0, named=True)


def summary(log: EventLog, spec: SummarySpec) -> SummaryResult:
    """Headline figures over the events in ``[spec.since, spec.until)``.

    Sessions and orders are built from those events only; ``dropped_rows`` counts the whole input.

    >>> from journeykit.load.events import load_events
    >>> log = load_events(["data/samples/events.parquet"])  # doctest: +SKIP
    >>> summary(log, SummarySpec()).table["revenue"][0]  # doctest: +SKIP
    """
    period = Period(since=spec.since, until=spec.until)
    trend = trend_of(log, spec.trend, spec.tz, spec.since, spec.until) if spec.trend else None
    split = None
    if trend is not None and trend.periods:
        first = index_of(trend.periods[0].since, trend.kind, spec.tz)
        split = period_index(pl.col("time"), trend.kind, spec.tz).cast(pl.Int64) - first
    options = UnitOptions(
        session_gap=spec.session_gap,
        events_in=period,
        moments=("first_cart", "last_purchase"),
        cart_value=False,
        split=split,
    )
    keys = ["split"] if split is not None else []
    sums = session_facts(log, options, reduce=partial(summary_sums, keys=keys))
    table = summary_from_sums(
        sums, has_money=log.has_money, dropped_rows=log.profile.dropped_rows, keys=keys
    )
    if trend is not None:
        if split is None:  # no period: no row
            table = table.with_columns(split=pl.lit(-1, dtype=pl.Int64))
        table = _every_period(table, trend.labels())
    return SummaryResult(table=table, spec=spec, has_money=log.has_money)


_FIXED = ("split", "dropped_rows")


def _every_period(table: pl.DataFrame, labels: pl.Series) -> pl.DataFrame:
    """One row per period (``period`` first, from ``split``), zeros where there were no events
    (rates, first and last event null)."""
    periods = pl.DataFrame(
        {"split": range(labels.len()), "period": labels},
        schema={"split": pl.Int64, "period": pl.Date},
    )
    counts = [c for c in table.columns if table.schema[c].is_integer() and c not in _FIXED]
    filled = periods.join(table, on="split", how="left").with_columns(
        pl.col(counts).fill_null(0),
        pl.col("dropped_rows").fill_null(table["dropped_rows"].first() if table.height else 0),
    )
    if table.height and table["revenue"].null_count() < table.height:
        filled = filled.with_columns(pl.col("revenue").fill_null(0.0))
    return filled.sort("split").select("period", *COLUMNS)


def _every_sums() -> list[pl.Expr]:
    """The sums over a table of one row per session (``user``, ``events``)."""
    return [
        pl.col("events").sum().cast(pl.Int64).alias("events"),
        pl.col("user").n_unique().cast(pl.Int64).alias("users"),
        pl.len().cast(pl.Int64).alias("sessions"),
        (pl.col("events") == 1).sum().cast(pl.Int64).alias("bounces"),
    ]


def _cart_sums() -> list[pl.Expr]:
    """The sums over a table of sessions with ``first_cart`` and ``last_purchase`` (null when
    the session has no such event; sessions with neither may be left out)."""
    return [
        pl.col("last_purchase").is_not_null().sum().cast(pl.Int64).alias("sessions_with_purchase"),
        pl.col("first_cart").is_not_null().sum().cast(pl.Int64).alias("cart_sessions"),
        abandoned().sum().cast(pl.Int64).alias("abandoned"),
    ]


def summary_sums(facts: pl.LazyFrame, keys: list[str] | None = None) -> pl.DataFrame:
    """One row of partial sums (per value of ``keys``); rows from chunks of whole users add up
    (first/last: min/max)."""
    keys = keys or []
    orders_per_user = (
        facts.filter(pl.col("orders") > 0).group_by("user", *keys).agg(pl.col("orders").sum())
    )
    customers = _by(orders_per_user, keys).agg(
        pl.len().cast(pl.Int64).alias("customers"),
        (pl.col("orders") >= 2).sum().cast(pl.Int64).alias("repeat_customers"),
    )
    sums = _by(facts, keys).agg(
        *_every_sums(),
        *_cart_sums(),
        pl.col("orders").sum().cast(pl.Int64).alias("orders"),
        pl.col("order_value").sum().cast(pl.Float64).alias("revenue"),
        pl.col("first_event").min(),
        pl.col("last_event").max(),
    )
    every, buyers = pl.collect_all([sums, customers])
    joined = every.join(buyers, on=keys or "_all", how="left").with_columns(
        pl.col("customers", "repeat_customers").fill_null(0)
    )
    return joined.select(
        *keys,
        *(c for c in every.columns if c not in ("first_event", "last_event", "_all", *keys)),
        "customers",
        "repeat_customers",
        "first_event",
        "last_event",
    )


def _by(frame: pl.LazyFrame, keys: list[str]) -> LazyGroupBy:
    """Group by ``keys``, or into one group (key ``_all``) without."""
    return frame.group_by(keys) if keys else frame.group_by(pl.lit(0).alias("_all"))


def summary_from_sums(
    sums: pl.DataFrame, *, has_money: bool, dropped_rows: int, keys: list[str] | None = None
) -> pl.DataFrame:
    """The summary row (per value of ``keys``) from partial sums (rows per chunk)."""
    keys = keys or []
    aggregates = [
        pl.exclude("first_event", "last_event", *keys).sum(),
        pl.col("first_event").min(),
        pl.col("last_event").max(),
    ]
    totals = sums.group_by(keys).agg(aggregates) if keys else sums.select(aggregates)
    money = [] if has_money else [pl.lit(None, dtype=pl.Float64).alias("revenue")]
    return (
        totals.with_columns(*money, pl.lit(dropped_rows, dtype=pl.Int64).alias("dropped_rows"))
        .with_columns(
            _ratio("bounces", "sessions").alias("bounce_rate"),
            _ratio("sessions_with_purchase", "sessions").alias("session_conversion_rate"),
            _ratio("abandoned", "cart_sessions").alias("cart_abandonment_rate"),
            _ratio("revenue", "orders").alias("average_order_value"),
            _ratio("repeat_customers", "customers").alias("repeat_purchase_rate"),
        )
        .select(*keys, *COLUMNS)
    )


def _ratio(numerator: str, denominator: str) -> pl.Expr:
    """``numerator / denominator``, null when the denominator is 0."""
    return pl.when(pl.col(denominator) > 0).then(pl.col(numerator) / pl.col(denominator))
