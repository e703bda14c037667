"""Session facts: the one per-session table that stages, abandonment and summary aggregate.

Each chunk of whole users (``journeykit.chunks.per_user``) is sorted once, by (user, time, row),
in ``with_sessions``; everything else is hash aggregation, joins on small frames and binary
searches over positions in that sorted order. One row per session:

``user``, ``session`` (with ``session_ids``), ``breakdown`` (the breakdown column's value on the
session's first event, when asked), ``first_event``, ``last_event``, ``events``, ``stage`` (code,
index into ``STAGES``), ``first_cart``, ``first_checkout``, ``last_purchase``, ``cart_value``
(Σ value of add_to_cart − Σ of remove_from_cart, not floored, null without money), ``orders``
(orders that happen in the session), ``order_value``, ``next_order_time`` and
``next_order_value`` (the user's first order strictly after the session's last event).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

import polars as pl

from journeykit.chunks import per_user
from journeykit.derive import order_value, orders, price_times_quantity, with_sessions
from journeykit.journey.spec import Period, StageRules
from journeykit.load.events import EventLog
from journeykit.load.roles import Roles

CART, REMOVE, CHECKOUT, PURCHASE = "add_to_cart", "remove_from_cart", "checkout", "purchase"
STAGE_CODE = {"consideration": 1, "decision": 2, "purchase": 3, "retention": 4, "advocacy": 5}


@dataclass(frozen=True)
class UnitOptions:
    """What the session facts need beyond the log."""

    rules: StageRules = field(default_factory=StageRules)
    session_gap: timedelta = timedelta(minutes=30)
    breakdown: str | None = None
    session_ids: bool = False
    events_in: Period = field(default_factory=Period)
    """Keep only the events in this period before sessions and orders are built (summary)."""


@dataclass(frozen=True)
class _Roles:
    has_session: bool
    has_order: bool
    order_value: pl.Expr | None
    line_value: pl.Expr | None


Reduce = Callable[[pl.DataFrame], pl.DataFrame]


def session_facts(
    log: EventLog, options: UnitOptions, reduce: Reduce | None = None
) -> pl.DataFrame:
    """One row per session of ``log`` (see the module docstring for the columns).

    With ``reduce``, each chunk's session facts are reduced (to partial sums, say) before the
    chunks are concatenated, so memory follows the chunk size rather than the session count.
    """
    roles = _roles(log)
    wanted = ["user", "time", "row", "event", "session", "price", "quantity", "revenue", "order_id"]
    schema = log.frame.collect_schema()
    columns: list[str | pl.Expr] = [c for c in wanted if c in schema]
    # Event names as a small Enum: chunks, spills and comparisons stop carrying strings.
    columns[columns.index("event")] = pl.col("event").cast(
        pl.Enum(sorted(log.profile.event_counts))
    )
    if options.breakdown is not None:
        columns.append(pl.col(options.breakdown).alias("breakdown"))
    frame = log.frame.select(columns).filter(options.events_in.contains(pl.col("time")))
    facts = partial(chunk_facts, roles=roles, options=options)
    compute = facts if reduce is None else (lambda chunk: reduce(facts(chunk)))
    return per_user(frame, log.rows_for(None), compute)


def _roles(log: EventLog) -> _Roles:
    return _Roles(
        has_session=log.has_sessions,
        has_order=log.roles.has("order"),
        order_value=order_value(log.roles),
        line_value=cart_line_value(log.roles),
    )


def cart_line_value(roles: Roles) -> pl.Expr | None:
    """Value of one cart row, SPEC §6: price × quantity (quantity 1, null price 0).

    With a revenue column but no price the value is 0 (money columns exist, carts carry no
    price); with neither it is ``None`` and money figures are null.
    """
    if roles.has("price"):
        return price_times_quantity(roles)
    return pl.lit(0.0) if roles.has("revenue") else None


def chunk_facts(events: pl.DataFrame, *, roles: _Roles, options: UnitOptions) -> pl.DataFrame:
    """Session facts for one chunk of whole users."""
    events = with_sessions(events, has_column=roles.has_session, gap=options.session_gap)
    events = events.with_row_index("pos")
    placed = orders(events, has_order_column=roles.has_order, value=roles.order_value)
    keys = ["user", "session"]
    aggregates = _session_aggregates(options, roles.line_value)
    sessions = _aggregate_sessions(events, aggregates, contiguous=not roles.has_session)
    per_session = placed.group_by(keys).agg(
        pl.len().cast(pl.UInt32).alias("orders"),
        (pl.col("order_number") == 1).any().alias("first_order"),
        (pl.col("order_number") >= 2).any().alias("repeat_order"),
        pl.col("value").sum().alias("order_value"),
    )
    first_orders = placed.filter(pl.col("order_number") == 1).select(
        "user", pl.col("time").alias("first_order_time")
    )
    sessions = sessions.join(per_session, on=keys, how="left", nulls_equal=True).join(
        first_orders, on="user", how="left"
    )
    sessions = _with_next_order(sessions, events, placed)
    return sessions.select(_fact_columns(options, money=roles.order_value is not None))


def _aggregate_sessions(
    events: pl.DataFrame, aggregates: list[pl.Expr], *, contiguous: bool
) -> pl.DataFrame:
    """``aggregates`` per session (``user``, ``session`` first), in order of first event.

    Sessions from the inactivity rule are runs of the sorted events: grouping by the run number
    (one integer) is much faster than by the (user, session) pair that a session column needs.
    """
    if not contiguous:
        return events.group_by("user", "session", maintain_order=True).agg(*aggregates)
    run = pl.struct("user", "session").rle_id().alias("run")
    keys = [pl.col("user").first(), pl.col("session").first()]
    return events.group_by(run, maintain_order=True).agg(*keys, *aggregates).drop("run")


def _session_aggregates(options: UnitOptions, line_value: pl.Expr | None) -> list[pl.Expr]:
    event, time, rules = pl.col("event"), pl.col("time"), options.rules
    cart_value = pl.lit(None, dtype=pl.Float64)
    if line_value is not None:
        cart_value = (
            line_value.filter(event == CART).sum() - line_value.filter(event == REMOVE).sum()
        )
    aggregates = [
        time.min().alias("first_event"),
        time.max().alias("last_event"),
        pl.len().cast(pl.UInt32).alias("events"),
        pl.col("pos").max().alias("last_pos"),
        event.is_in(list(rules.consideration)).any().alias("consideration"),
        event.is_in(list(rules.decision)).any().alias("decision"),
        time.filter(event.is_in(list(rules.advocacy))).max().alias("last_advocacy"),
        time.filter(event == CART).min().alias("first_cart"),
        time.filter(event == CHECKOUT).min().alias("first_checkout"),
        time.filter(event == PURCHASE).max().alias("last_purchase"),
        cart_value.cast(pl.Float64).alias("cart_value"),
    ]
    if options.breakdown is not None:
        aggregates.append(pl.col("breakdown").first())
    return aggregates


def stage_code() -> pl.Expr:
    """Deepest stage of a session (SPEC §5), from its aggregated flags."""
    advocacy = (pl.col("last_advocacy") >= pl.col("first_order_time")).fill_null(False)
    reached = [
        (advocacy, STAGE_CODE["advocacy"]),
        (pl.col("repeat_order").fill_null(False), STAGE_CODE["retention"]),
        (pl.col("first_order").fill_null(False), STAGE_CODE["purchase"]),
        (pl.col("decision"), STAGE_CODE["decision"]),
        (pl.col("consideration"), STAGE_CODE["consideration"]),
    ]
    code: pl.Expr = pl.lit(0, dtype=pl.UInt8)
    for condition, value in reversed(reached):
        code = pl.when(condition).then(pl.lit(value, dtype=pl.UInt8)).otherwise(code)
    return code.alias("stage")


def _with_next_order(
    sessions: pl.DataFrame, events: pl.DataFrame, placed: pl.DataFrame
) -> pl.DataFrame:
    """The user's first order strictly after each session's last event.

    Orders are in event order, so their positions in ``events`` are sorted: a binary search for
    the end of the session's last instant (its last event and any event of the same user at the
    same time) finds the next order; it counts only if it belongs to the same user.
    """
    instant_ends = events.select(_instant_end()).to_series()
    order_positions = events.select(
        pl.arg_where(pl.col("row").is_in(placed["row"].implode()))
    ).to_series()
    after = order_positions.search_sorted(instant_ends.gather(sessions["last_pos"]), side="right")
    index = pl.select(pl.when(after < placed.height).then(after)).to_series()
    same_user = (placed["user"].gather(index) == sessions["user"]).fill_null(False)
    index = pl.select(pl.when(same_user).then(index)).to_series()
    return sessions.with_columns(
        placed["time"].gather(index).alias("next_order_time"),
        placed["value"].gather(index).alias("next_order_value"),
    )


def _instant_end() -> pl.Expr:
    """Per event: position of the last event of the same user at the same time."""
    ends_instant = (pl.col("user") != pl.col("user").shift(-1)) | (
        pl.col("time") != pl.col("time").shift(-1)
    )
    return pl.when(ends_instant.fill_null(True)).then(pl.col("pos")).backward_fill()


def _fact_columns(options: UnitOptions, *, money: bool) -> list[pl.Expr | str]:
    value = pl.col("order_value").cast(pl.Float64) if money else pl.lit(None, dtype=pl.Float64)
    columns: list[pl.Expr | str] = ["user"]
    columns += ["session"] if options.session_ids else []
    columns += ["breakdown"] if options.breakdown is not None else []
    return [
        *columns,
        "first_event",
        "last_event",
        "events",
        stage_code(),
        "first_cart",
        "first_checkout",
        "last_purchase",
        "cart_value",
        pl.col("orders").fill_null(0),
        value.fill_null(0.0).alias("order_value") if money else value.alias("order_value"),
        "next_order_time",
        pl.col("next_order_value").cast(pl.Float64),
    ]
