"""Session facts: the per-session table that stages and abandonment aggregate (and summary, for
sessions from the inactivity rule).

With a session column, sessions need no event order: one streaming hash aggregation over the
whole log by (user, session) gives them, and only the purchase rows (a few percent of events) are
sorted, to place orders. That holds every session in memory, so it is used when the log fits
(``GROUPED_BYTES_PER_ROW``). Otherwise, and for sessions from the inactivity rule, which need every
user's events in time order, each chunk of whole users (``journeykit.chunks.per_user``) is sorted
once, by (user, time, row). One row per session, with the columns ``UnitOptions.facts`` asks for:

``user``, ``session`` (with ``session_ids``), ``breakdown`` (the breakdown column's value on the
session's first event, when asked), ``first_event``, ``last_event``, ``events``, ``stage`` (code,
index into ``STAGES``), ``first_cart``, ``first_checkout``, ``last_purchase``, ``cart_value``
(Σ value of add_to_cart − Σ of remove_from_cart, not floored, null without money), ``orders``
(orders that happen in the session), ``order_value``, ``next_order_time`` and
``next_order_value`` (for cart sessions: the user's first order strictly after the session's last
event; null otherwise).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Literal

import polars as pl

from journeykit.chunks import fits_in_memory, per_user
from journeykit.derive import order_value, orders, price_times_quantity, sort_events, with_sessions
from journeykit.journey.spec import Period, StageRules
from journeykit.load.events import EventLog
from journeykit.load.roles import Roles

CART, REMOVE, CHECKOUT, PURCHASE = "add_to_cart", "remove_from_cart", "checkout", "purchase"
GROUPED_BYTES_PER_ROW = 64
"""Peak memory per input row of the whole-log aggregation, with margin (measured: 3.8–4.8 GiB at
101M events)."""
STAGE_CODE = {"consideration": 1, "decision": 2, "purchase": 3, "retention": 4, "advocacy": 5}
CONSIDERED, DECIDED, PURCHASED = 1, 2, 4
"""Bits of a session's ``reached`` fact: an event of the rules' consideration or decision stage,
a purchase row."""


@dataclass(frozen=True)
class UnitOptions:
    """What the session facts need beyond the log."""

    rules: StageRules = field(default_factory=StageRules)
    session_gap: timedelta = timedelta(minutes=30)
    breakdown: str | None = None
    session_ids: bool = False
    events_in: Period = field(default_factory=Period)
    """Keep only the events in this period before sessions and orders are built (summary)."""
    facts: Literal["all", "stages", "carts"] = "all"
    """Which facts to compute: ``stages`` leaves out the cart columns and the next order;
    ``carts`` leaves out the stage, the orders of the session, ``first_event`` and ``events``,
    and keeps only the sessions with an add-to-cart or a checkout. Fewer aggregates over
    millions of sessions cost less."""


@dataclass(frozen=True)
class _Roles:
    has_order: bool
    order_value: pl.Expr | None
    line_value: pl.Expr | None


Reduce = Callable[[pl.DataFrame], pl.DataFrame]


def session_facts(
    log: EventLog, options: UnitOptions, reduce: Reduce | None = None
) -> pl.DataFrame:
    """One row per session of ``log`` (see the module docstring for the columns).

    With ``reduce``, the facts are reduced (to partial sums, say) before they are returned; for
    chunked logs each chunk is reduced before the chunks are concatenated, so memory follows the
    chunk size rather than the session count.
    """
    roles = _Roles(
        has_order=log.roles.has("order"),
        order_value=order_value(log.roles),
        line_value=cart_line_value(log.roles),
    )
    rows = log.rows_for(None)
    if log.has_sessions and fits_in_memory(rows, GROUPED_BYTES_PER_ROW):
        facts = _grouped_facts(log, roles, options)
        return facts if reduce is None else reduce(facts)
    facts_of = partial(chunk_facts, roles=roles, options=options, has_session=log.has_sessions)
    compute = facts_of if reduce is None else (lambda chunk: reduce(facts_of(chunk)))
    return per_user(_events(log, options), rows, compute)


def _events(log: EventLog, options: UnitOptions, names: list[str] | None = None) -> pl.LazyFrame:
    """The columns the facts need, of the events in ``options.events_in`` (of ``names`` only)."""
    wanted = ["user", "time", "row", "event", "session", "price", "quantity", "revenue", "order_id"]
    frame = log.frame if names is None else log.events(names)
    schema = frame.collect_schema()
    columns: list[str | pl.Expr] = [c for c in wanted if c in schema]
    # Event names as a small Enum: chunks, spills and comparisons stop carrying strings.
    columns[columns.index("event")] = pl.col("event").cast(
        pl.Enum(sorted(log.profile.event_counts))
    )
    if options.breakdown is not None:
        columns.append(pl.col(options.breakdown).alias("breakdown"))
    return frame.select(columns).filter(options.events_in.contains(pl.col("time")))


def cart_line_value(roles: Roles) -> pl.Expr | None:
    """Value of one cart row, SPEC §6: price × quantity (quantity 1, null price 0).

    With a revenue column but no price the value is 0 (money columns exist, carts carry no
    price); with neither it is ``None`` and money figures are null.
    """
    if roles.has("price"):
        return price_times_quantity(roles)
    return pl.lit(0.0) if roles.has("revenue") else None


def _grouped_facts(log: EventLog, roles: _Roles, options: UnitOptions) -> pl.DataFrame:
    """Session facts of a log with a session column (a null session value is its own session)."""
    aggregates = _session_aggregates(options, roles.line_value)
    sessions = _events(log, options).group_by("user", "session").agg(aggregates)
    purchases = _events(log, options, [PURCHASE])
    sessions_df, purchases_df = pl.collect_all([sessions, purchases], engine="streaming")
    placed = orders(
        sort_events(purchases_df, ["user"]),
        has_order_column=roles.has_order,
        value=roles.order_value,
    )
    return _with_orders(sessions_df, placed, options, money=roles.order_value is not None)


def chunk_facts(
    events: pl.DataFrame, *, roles: _Roles, options: UnitOptions, has_session: bool
) -> pl.DataFrame:
    """Session facts for one chunk of whole users, sorted here by (user, time, row).

    Sessions from the inactivity rule are runs of that order: grouping by the run number (one
    integer) is much faster than by the (user, session) pair that a session column needs.
    """
    events = with_sessions(events, has_column=has_session, gap=options.session_gap)
    placed = orders(events, has_order_column=roles.has_order, value=roles.order_value)
    aggregates = _session_aggregates(options, roles.line_value)
    if has_session:
        sessions = events.group_by("user", "session").agg(aggregates)
    else:
        run = pl.struct("user", "session").rle_id().alias("run")
        keys = [pl.col("user").first(), pl.col("session").first()]
        sessions = events.group_by(run).agg(*keys, *aggregates).drop("run")
    return _with_orders(sessions, placed, options, money=roles.order_value is not None)


def _session_aggregates(options: UnitOptions, line_value: pl.Expr | None) -> list[pl.Expr]:
    """Per-session aggregates; plain reductions of row-wise expressions, so that the streaming
    engine computes them without keeping the session's rows."""
    event, time, rules = pl.col("event"), pl.col("time"), options.rules

    def time_of(condition: pl.Expr) -> pl.Expr:
        return pl.when(condition).then(time)

    cart_value = pl.lit(None, dtype=pl.Float64)
    if line_value is not None:
        signed = pl.when(event == CART).then(line_value).when(event == REMOVE).then(-line_value)
        cart_value = signed.fill_null(0.0).sum()
    aggregates = [time.max().alias("last_event")]
    if options.facts != "carts":
        aggregates += [
            time.min().alias("first_event"),
            pl.len().cast(pl.UInt32).alias("events"),
            _reached(rules).bitwise_or().alias("reached"),
            time_of(event.is_in(list(rules.advocacy))).max().alias("last_advocacy"),
        ]
    if options.facts != "stages":
        aggregates += [
            time_of(event == CART).min().alias("first_cart"),
            time_of(event == CHECKOUT).min().alias("first_checkout"),
            time_of(event == PURCHASE).max().alias("last_purchase"),
            cart_value.cast(pl.Float64).alias("cart_value"),
        ]
    if options.breakdown is not None:
        # The value on the first event in (time, row) order.
        aggregates.append(pl.col("breakdown").min_by(pl.struct("time", "row")))
    return aggregates


def _reached(rules: StageRules) -> pl.Expr:
    """Per event: its ``reached`` bits (one aggregate then serves three facts)."""
    event = pl.col("event")
    bits = [
        (event.is_in(list(rules.consideration)), CONSIDERED),
        (event.is_in(list(rules.decision)), DECIDED),
        (event == PURCHASE, PURCHASED),
    ]
    return pl.sum_horizontal(pl.when(is_it).then(pl.lit(bit, pl.UInt8)) for is_it, bit in bits)


def _has(bit: int) -> pl.Expr:
    return (pl.col("reached") & bit) != 0


def _with_orders(
    sessions: pl.DataFrame, placed: pl.DataFrame, options: UnitOptions, *, money: bool
) -> pl.DataFrame:
    """Join each session's orders, the user's first order and the next order to ``sessions``
    (what ``options.facts`` asks for)."""
    if options.facts == "carts":
        carts = sessions.filter(
            pl.col("first_cart").is_not_null() | pl.col("first_checkout").is_not_null()
        )
        return _with_next_order(carts, placed).select(_fact_columns(options, money=money))
    keys = ["user", "session"]
    per_session = placed.group_by(keys).agg(
        pl.len().cast(pl.UInt32).alias("orders"),
        (pl.col("order_number") == 1).any().alias("first_order"),
        (pl.col("order_number") >= 2).any().alias("repeat_order"),
        pl.col("value").sum().alias("order_value"),
    )
    first_orders = placed.filter(pl.col("order_number") == 1).select(
        "user", pl.col("time").alias("first_order_time")
    )
    # Only a session with a purchase row can own an order, and only one with an advocacy event
    # needs the user's first order: the others, most sessions, skip both joins.
    involved = _has(PURCHASED) | pl.col("last_advocacy").is_not_null()
    joined = (
        sessions.filter(involved)
        .join(per_session, on=keys, how="left", nulls_equal=True)
        .join(first_orders, on="user", how="left")
    )
    sessions = pl.concat([joined, sessions.filter(~involved)], how="diagonal")
    if options.facts == "all":
        sessions = _with_next_order(sessions, placed)
    return sessions.select(_fact_columns(options, money=money))


def _with_next_order(sessions: pl.DataFrame, placed: pl.DataFrame) -> pl.DataFrame:
    """The user's first order strictly after the last event of each cart session (recovery
    needs it for no other session). ``placed`` is in (user, time, row) order, so of orders at
    the same instant the first placed is found."""
    indexed = sessions.with_row_index("index")
    carts = (
        indexed.filter(pl.col("first_cart").is_not_null())
        .select("index", "user", "last_event")
        .sort("user", "last_event")
    )
    following = placed.select(
        "user",
        pl.col("time").alias("placed_at"),
        pl.col("time").alias("next_order_time"),
        pl.col("value").alias("next_order_value"),
    )
    after = carts.join_asof(
        following,
        left_on="last_event",
        right_on="placed_at",
        by="user",
        strategy="forward",
        allow_exact_matches=False,
        check_sortedness=False,
    )
    found = after.select("index", "next_order_time", "next_order_value")
    return indexed.join(found, on="index", how="left").drop("index")


def stage_code() -> pl.Expr:
    """Deepest stage of a session (SPEC §5), from its aggregated flags."""
    advocacy = (pl.col("last_advocacy") >= pl.col("first_order_time")).fill_null(False)
    reached = [
        (advocacy, STAGE_CODE["advocacy"]),
        (pl.col("repeat_order").fill_null(False), STAGE_CODE["retention"]),
        (pl.col("first_order").fill_null(False), STAGE_CODE["purchase"]),
        (_has(DECIDED), STAGE_CODE["decision"]),
        (_has(CONSIDERED), STAGE_CODE["consideration"]),
    ]
    code: pl.Expr = pl.lit(0, dtype=pl.UInt8)
    for condition, value in reversed(reached):
        code = pl.when(condition).then(pl.lit(value, dtype=pl.UInt8)).otherwise(code)
    return code.alias("stage")


def _fact_columns(options: UnitOptions, *, money: bool) -> list[pl.Expr | str]:
    value = pl.col("order_value").cast(pl.Float64) if money else pl.lit(None, dtype=pl.Float64)
    columns: list[pl.Expr | str] = ["user"]
    columns += ["session"] if options.session_ids else []
    columns += ["breakdown"] if options.breakdown is not None else []
    columns += ["last_event"]
    if options.facts != "carts":
        columns += [
            "first_event",
            "events",
            stage_code(),
            pl.col("orders").fill_null(0),
            value.fill_null(0.0).alias("order_value") if money else value.alias("order_value"),
        ]
    if options.facts != "stages":
        columns += ["first_cart", "first_checkout", "last_purchase", "cart_value"]
        columns += ["next_order_time", pl.col("next_order_value").cast(pl.Float64)]
    return columns
