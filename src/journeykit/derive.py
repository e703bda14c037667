"""Derived structure (SPEC §3): sessions and orders, as expressions over the normalized frame.

Both work on frames holding every event of the users they contain (a chunk of whole users) and
sorted by (user, time, row) where the docstring says so.
"""

from datetime import timedelta

import polars as pl

from journeykit.load.roles import Roles


def gap_sessions(gap: timedelta) -> pl.Expr:
    """Per-user session number (1, 2, …) from the inactivity rule, on a frame sorted by user, time.

    A session starts at a user's first event and whenever the gap to the previous event is
    ≥ ``gap``.
    """
    first_of_user = (pl.col("user") != pl.col("user").shift()).fill_null(True)
    starts = first_of_user | (pl.col("time").diff() >= gap)
    number = starts.cum_sum()
    return (number - pl.when(first_of_user).then(number).forward_fill() + 1).cast(pl.UInt32)


def sort_events(events: pl.DataFrame, units: list[str]) -> pl.DataFrame:
    """Sort by (``units``…, time, row): the order of events within each unit.

    Exports are usually already in time order; then a stable sort on the unit columns alone gives
    the same order at half the cost.
    """
    if events["row"].is_sorted() and events["time"].is_sorted():
        return events.sort(units, maintain_order=True)
    return events.sort([*units, "time", "row"])


def with_sessions(events: pl.DataFrame, *, has_column: bool, gap: timedelta) -> pl.DataFrame:
    """Sort by (user, time, row) and make sure a ``session`` column exists."""
    events = sort_events(events, ["user"])
    if has_column:
        return events
    return events.with_columns(gap_sessions(gap).alias("session"))


def order_value(roles: Roles) -> pl.Expr | None:
    """Value of one purchase row: revenue, else price × quantity (quantity 1, null price 0).

    ``None`` when the data has neither column: money figures are then null, not 0.
    """
    if roles.has("revenue"):
        return pl.col("revenue")
    if roles.has("price"):
        return price_times_quantity(roles)
    return None


def price_times_quantity(roles: Roles) -> pl.Expr:
    """Price × quantity of a row (quantity 1 when absent or null, a null price counts 0)."""
    quantity = pl.col("quantity").fill_null(1) if roles.has("quantity") else pl.lit(1.0)
    return pl.col("price").fill_null(0) * quantity


def order_key(*, has_order_column: bool) -> pl.Expr:
    """A purchase row's order within its user: ``o:`` + ``order_id`` when present, else
    ``s:`` + its session (all purchases of one session are one order)."""
    by_session = pl.lit("s:") + pl.col("session").cast(pl.String).fill_null("")
    if not has_order_column:
        return by_session
    by_id = pl.lit("o:") + pl.col("order_id").cast(pl.String)
    return pl.when(pl.col("order_id").is_not_null()).then(by_id).otherwise(by_session)


def orders(events: pl.DataFrame, *, has_order_column: bool, value: pl.Expr | None) -> pl.DataFrame:
    """One row per order: ``user, order_key, time, session, value, order_number``.

    ``events`` must carry ``session`` and be sorted by (user, time, row). An order is (user,
    order_id) when the id is present, else all purchase rows of one session; it happens at its
    first purchase row and belongs to that row's session. ``order_number`` counts from 1 per user.
    """
    purchases = events.filter(pl.col("event") == "purchase")
    key = order_key(has_order_column=has_order_column)
    row_value = pl.lit(None, dtype=pl.Float64) if value is None else value
    grouped = (
        purchases.with_columns(key.alias("order_key"), row_value.alias("value"))
        .group_by("user", "order_key", maintain_order=True)
        .agg(
            pl.col("time").first(),
            pl.col("row").first(),
            pl.col("session").first(),
            pl.col("value").sum() if value is not None else pl.col("value").first(),
        )
    )
    # Groups keep the order of their first row, which is (user, time, row): no sort needed.
    return grouped.with_columns(pl.int_range(1, pl.len() + 1).over("user").alias("order_number"))
