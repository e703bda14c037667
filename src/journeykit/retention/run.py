"""``retention(log, spec)``: first-time cohorts and their return (or revenue) by period (SPEC §7).

Retention never needs the order of a user's events, only, per user, the period of the first
cohort event and the set of periods with a return event. So the user count is one streaming
aggregation over ``(user, period)`` (three columns read, no sort, no sessions); only
``--value revenue`` builds orders, chunk by chunk of whole users.
"""

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from journeykit.load.events import EventLog
from journeykit.periods import index_of, period_index
from journeykit.retention.spec import ANY_EVENT, RetentionSpec
from journeykit.retention.table import empty_table, retention_table


@dataclass(frozen=True)
class RetentionResult:
    table: pl.DataFrame
    """Long rows ``cohort, period, cohort_size, retained, rate, partial`` (or, for revenue,
    ``cohort, period, cohort_size, revenue, revenue_per_user, partial``), cohorts by date, then
    the ``average`` rows."""
    spec: RetentionSpec
    last: datetime | None
    """The data's last timestamp: periods starting after it are not observed."""


def retention(log: EventLog, spec: RetentionSpec) -> RetentionResult:
    """The retention table of ``spec`` over ``log``.

    >>> from journeykit.load.events import load_events
    >>> log = load_events(["data/samples/events.parquet"])  # doctest: +SKIP
    >>> retention(log, RetentionSpec(period="week")).table  # doctest: +SKIP
    """
    last = log.profile.last
    if last is None:
        return RetentionResult(empty_table(spec), spec, last)
    cells = revenue_cells(log, spec) if spec.value == "revenue" else user_cells(log, spec)
    table = retention_table(*cells, spec, index_of(last, spec.period, spec.tz))
    return RetentionResult(table, spec, last)


def user_cells(log: EventLog, spec: RetentionSpec) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cohort sizes (``cohort, cohort_size``) and returning users (``cohort, period, retained``)
    for periods 1…N, cohorts and periods as ``period_index`` numbers.

    ``on``: each active (user, period) row joins its user's cohort, so k = period − cohort and
    k = 0 holds exactly one row per cohort member. ``unbounded``: a user counts in every period up
    to the last one they returned in, so one group-by over users gives cohort and last return.
    """
    active = _active_periods(log, spec)
    cohort = pl.col("period").filter("is_cohort").min().alias("cohort")
    if spec.mode == "unbounded":
        # Returning in some period ≥ c + k ⇔ the user's last return period is ≥ c + k.
        last = pl.col("period").filter("is_return").max() - cohort
        members = (
            active.group_by("user")
            .agg(cohort, last.clip(0, spec.periods).fill_null(0).alias("k"))
            .filter(pl.col("cohort").is_not_null())
        )
        counts = members.group_by("cohort", "k").len("retained").collect(engine="streaming")
        return _sizes(counts), _at_least(counts, spec.periods)
    cohorts = active.group_by("user").agg(cohort)
    k = (pl.col("period") - pl.col("cohort")).alias("k")
    counted = active.join(cohorts, on="user").filter(
        k.is_between(0, spec.periods) & ((k == 0) | pl.col("is_return"))
    )
    counts = counted.group_by("cohort", k).len("retained").collect(engine="streaming")
    returned = counts.filter(pl.col("k") >= 1).rename({"k": "period"})
    return _sizes(counts.filter(pl.col("k") == 0)), returned


def _sizes(counts: pl.DataFrame) -> pl.DataFrame:
    return counts.group_by("cohort").agg(pl.col("retained").sum().alias("cohort_size"))


def _active_periods(log: EventLog, spec: RetentionSpec) -> pl.LazyFrame:
    """One row per (user, period) holding a cohort or a return event, flagged ``is_cohort`` and
    ``is_return``."""
    names = {spec.cohort_event, spec.return_event}
    events = log.frame if ANY_EVENT in names else log.events(names)
    events = events.select("user", "time", "event")
    period = period_index(pl.col("time"), spec.period, spec.tz)
    if len(names) == 1:
        return (
            events.select("user", period)
            .unique()
            .with_columns(is_cohort=pl.lit(True), is_return=pl.lit(True))
        )
    return events.group_by("user", period).agg(
        _is(spec.cohort_event).any().alias("is_cohort"),
        _is(spec.return_event).any().alias("is_return"),
    )


def _is(event: str) -> pl.Expr:
    return pl.lit(True) if event == ANY_EVENT else pl.col("event") == event


def _at_least(last_returns: pl.DataFrame, periods: int) -> pl.DataFrame:
    """Members per (cohort, d), d = how many periods after the cohort they last returned (capped
    at N) → per (cohort, k ≥ 1) the members with d ≥ k: the ``unbounded`` cells."""
    ks = pl.DataFrame({"period": pl.int_range(1, periods + 1, eager=True)})
    return (
        last_returns.join(ks, how="cross")
        .filter(pl.col("k") >= pl.col("period"))
        .group_by("cohort", "period")
        .agg(pl.col("retained").sum())
    )


def revenue_cells(log: EventLog, spec: RetentionSpec) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cohort sizes and revenue per (cohort, period) for periods 0…N: the value of the orders the
    cohort's users placed in the period, at or after their first cohort event."""
    firsts = _first_cohort_events(log, spec).collect(engine="streaming")
    # Orders arrive sorted by (user, time); keeping that order through the join and the sums
    # makes the float totals, and so the output, identical from run to run.
    placed = _orders(log, spec).join(firsts, on="user", maintain_order="left")
    revenue = (
        placed.filter(pl.col("time") >= pl.col("first"))
        .select(
            "cohort",
            (period_index(pl.col("time"), spec.period, spec.tz) - pl.col("cohort")).alias("period"),
            "value",
        )
        .filter(pl.col("period").is_between(0, spec.periods))
        .group_by("cohort", "period", maintain_order=True)
        .agg(pl.col("value").sum().alias("revenue"))
    )
    sizes = firsts.group_by("cohort").agg(pl.len().alias("cohort_size"))
    return sizes, revenue


def _first_cohort_events(log: EventLog, spec: RetentionSpec) -> pl.LazyFrame:
    events = log.frame if spec.cohort_event == ANY_EVENT else log.events([spec.cohort_event])
    return (
        events.group_by("user")
        .agg(pl.col("time").min().alias("first"))
        .with_columns(period_index(pl.col("first"), spec.period, spec.tz).alias("cohort"))
    )


def _orders(log: EventLog, spec: RetentionSpec) -> pl.DataFrame:
    """``user, time, value`` of every order (SPEC §3), sorted by user and each user's orders in
    the order they happen: float sums are then the same whatever the chunks."""
    # Orders need the sequence engine (and Numba), which counting users does not.
    from journeykit.journey.units import UnitOptions, orders_of

    placed = orders_of(log, UnitOptions(session_gap=spec.session_gap))
    return placed.sort("user", maintain_order=True)
