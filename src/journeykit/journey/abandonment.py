"""``abandonment(log, spec)``: cart sessions, what they left behind and what came back (SPEC §6)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import polars as pl

from journeykit.journey.spec import AbandonmentSpec
from journeykit.journey.units import UnitOptions, abandoned, converted, session_facts
from journeykit.load.events import EventLog

NONE_LABEL = "(none)"
COLUMNS = [
    "cart_sessions",
    "converted",
    "abandoned",
    "abandonment_rate",
    "checkout_sessions",
    "checkout_abandoned",
    "checkout_abandonment_rate",
    "value_at_risk",
    "recovered",
    "recovery_rate",
    "recovered_revenue",
    "recovery_pending",
]
_MONEY = ["value_at_risk", "recovered_revenue"]
_COUNTS = ["cart_sessions", "converted", "abandoned", "checkout_sessions", "checkout_abandoned"]
_RATES = {
    "abandonment_rate": ("abandoned", "cart_sessions"),
    "checkout_abandonment_rate": ("checkout_abandoned", "checkout_sessions"),
    "recovery_rate": ("recovered", "abandoned"),
}


@dataclass(frozen=True)
class AbandonmentResult:
    """``table``: one row, or one per breakdown value (breakdown first); ``total``: one row."""

    table: pl.DataFrame
    total: pl.DataFrame
    spec: AbandonmentSpec
    has_money: bool


def abandonment(log: EventLog, spec: AbandonmentSpec) -> AbandonmentResult:
    """Cart abandonment over the sessions whose first add-to-cart lies in the period.

    >>> from journeykit.load.events import load_events
    >>> log = load_events(["data/samples/events.parquet"])  # doctest: +SKIP
    >>> abandonment(log, AbandonmentSpec(breakdown="channel")).table  # doctest: +SKIP
    """
    options = UnitOptions(
        session_gap=spec.session_gap,
        breakdown=spec.breakdown,
        moments=("first_cart", "first_checkout", "last_purchase"),
    )
    reduce = partial(cart_sums, spec=spec, data_last=log.profile.last)
    return _result(session_facts(log, options, reduce=reduce), spec, has_money=log.has_money)


def cart_sums(
    facts: pl.LazyFrame, spec: AbandonmentSpec, data_last: datetime | None
) -> pl.DataFrame:
    """Partial sums of the per-session flags: one row, or one per breakdown value.

    Sums from chunks of whole users add up, so chunks can be reduced to these few rows.
    """
    anchor = pl.coalesce("first_cart", "first_checkout")
    flagged = facts.filter(spec.contains(anchor)).with_columns(
        cart_flags(spec.recovery_window, data_last)
    )
    if spec.breakdown is None:
        return flagged.select(_sums()).collect()
    return flagged.group_by("breakdown").agg(_sums()).collect()


def _result(sums: pl.DataFrame, spec: AbandonmentSpec, *, has_money: bool) -> AbandonmentResult:
    money = [] if has_money else [pl.lit(None, dtype=pl.Float64).alias(c) for c in _MONEY]
    total = sums.select(_sums()).with_columns(*money, *_rates()).select(COLUMNS)
    table = total
    if spec.breakdown is not None:
        table = (
            sums.group_by("breakdown")
            .agg(_sums())
            .with_columns(pl.col("breakdown").cast(pl.String))
            .sort("breakdown", nulls_last=True)
            .with_columns(*money, *_rates())
            .select(pl.col("breakdown").fill_null(NONE_LABEL), *COLUMNS)
            .rename({"breakdown": spec.breakdown})
        )
    return AbandonmentResult(table=table, total=total, spec=spec, has_money=has_money)


def cart_flags(window: timedelta, data_last: datetime | None) -> list[pl.Expr]:
    """Per-session flags that the table sums."""
    lost = abandoned()
    closes = pl.col("last_event") + window
    recovered = lost & (pl.col("next_order_time") <= closes).fill_null(False)
    pending = lost & ~recovered & (closes > data_last if data_last is not None else pl.lit(False))
    checkout = pl.col("first_checkout").is_not_null()
    return [
        pl.col("first_cart").is_not_null().alias("cart_sessions"),
        (pl.col("first_cart").is_not_null() & converted()).alias("converted"),
        lost.alias("abandoned"),
        checkout.alias("checkout_sessions"),
        (checkout & ~converted("first_checkout")).alias("checkout_abandoned"),
        pl.when(lost).then(pl.col("cart_value").clip(lower_bound=0.0)).alias("value_at_risk"),
        recovered.alias("recovered"),
        pl.when(recovered).then(pl.col("next_order_value")).alias("recovered_revenue"),
        pending.alias("recovery_pending"),
    ]


def _sums() -> list[pl.Expr]:
    """Sum every flag (and both money columns) over the rows of a group."""
    return [
        *(pl.col(c).sum().cast(pl.Int64) for c in [*_COUNTS, "recovered", "recovery_pending"]),
        pl.col("value_at_risk").sum().cast(pl.Float64),
        pl.col("recovered_revenue").sum().cast(pl.Float64),
    ]


def _rates() -> list[pl.Expr]:
    return [
        pl.when(pl.col(d) > 0).then(pl.col(n) / pl.col(d)).alias(rate)
        for rate, (n, d) in _RATES.items()
    ]
