"""``summary(log, spec)``: the one-row table of headline figures (SPEC §7b)."""

from dataclasses import dataclass
from typing import Any

import polars as pl

from journeykit.journey.spec import Period, SummarySpec
from journeykit.journey.units import UnitOptions, abandoned, session_facts
from journeykit.load.events import EventLog

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
    """``table``: one row with the columns of SPEC §7b."""

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
    options = UnitOptions(
        session_gap=spec.session_gap,
        events_in=period,
        moments=("first_cart", "last_purchase"),
        cart_value=False,
    )
    sums = session_facts(log, options, reduce=summary_sums)
    table = summary_from_sums(sums, has_money=log.has_money, dropped_rows=log.profile.dropped_rows)
    return SummaryResult(table=table, spec=spec, has_money=log.has_money)


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


def summary_sums(facts: pl.LazyFrame) -> pl.DataFrame:
    """One row of partial sums; rows from chunks of whole users add up (first/last: min/max)."""
    orders_per_user = (
        facts.filter(pl.col("orders") > 0).group_by("user").agg(pl.col("orders").sum())
    )
    customers = orders_per_user.select(
        pl.len().cast(pl.Int64).alias("customers"),
        (pl.col("orders") >= 2).sum().cast(pl.Int64).alias("repeat_customers"),
    )
    sums = facts.select(
        *_every_sums(),
        *_cart_sums(),
        pl.col("orders").sum().cast(pl.Int64).alias("orders"),
        pl.col("order_value").sum().cast(pl.Float64).alias("revenue"),
        pl.col("first_event").min(),
        pl.col("last_event").max(),
    )
    every, buyers = pl.collect_all([sums, customers])
    return pl.concat([every, buyers], how="horizontal").select(
        *(c for c in every.columns if c not in ("first_event", "last_event")),
        "customers",
        "repeat_customers",
        "first_event",
        "last_event",
    )


def summary_from_sums(sums: pl.DataFrame, *, has_money: bool, dropped_rows: int) -> pl.DataFrame:
    """The summary row from partial sums (one row per chunk)."""
    totals = sums.select(
        pl.exclude("first_event", "last_event").sum(),
        pl.col("first_event").min(),
        pl.col("last_event").max(),
    )
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
        .select(COLUMNS)
    )


def _ratio(numerator: str, denominator: str) -> pl.Expr:
    """``numerator / denominator``, null when the denominator is 0."""
    return pl.when(pl.col(denominator) > 0).then(pl.col(numerator) / pl.col(denominator))
