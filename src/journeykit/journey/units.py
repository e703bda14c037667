"""Session facts: the per-session table that stages, abandonment and the summary aggregate.

The sequence engine (``journeykit.engine.facts.session_facts``) walks each user's events in
(time, row) order once and gives one row per session, with the columns:

``user`` (the user's value with ``session_ids``, else an index unique within a chunk),
``session`` (with ``session_ids``: the session column's value, or the session's number within its
user for sessions from the inactivity rule), ``breakdown`` (the breakdown column's value on the
session's first event, when asked), ``first_event``, ``last_event``, ``events``,
``single_event``, ``stage`` (code, index into ``STAGES``), ``orders`` (orders that happen in the
session) and ``order_value``, ``first_cart``, ``first_checkout``, ``last_purchase``,
``cart_value`` (Σ value of add_to_cart − Σ of remove_from_cart, not floored, null without money),
``next_order_time`` and ``next_order_value`` (for abandoned cart sessions: the user's first order
strictly after the session's last event; null otherwise), and ``split`` (with
``UnitOptions.split``: the value that split the session's user).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

import numpy as np
import polars as pl
from numpy.typing import NDArray

from journeykit.engine.facts import (
    CART,
    CHECKOUT,
    CONSIDERATION,
    DECISION,
    FIRST,
    LAST,
    MOMENTS,
    NEVER,
    PURCHASE,
    REMOVE,
    kind_code,
)
from journeykit.engine.sessions import SessionRead, Sessions, read_sessions
from journeykit.journey.spec import Period, StageRules
from journeykit.load.events import EventLog
from journeykit.load.roles import Roles

CART_EVENT, REMOVE_EVENT, CHECKOUT_EVENT, PURCHASE_EVENT = (
    "add_to_cart",
    "remove_from_cart",
    "checkout",
    "purchase",
)
MICROS = 1_000_000
SPLIT = "__split"
_UTC = pl.Datetime("us", "UTC")
_CART_KINDS = {
    CART_EVENT: CART,
    REMOVE_EVENT: REMOVE,
    CHECKOUT_EVENT: CHECKOUT,
    PURCHASE_EVENT: PURCHASE,
}


@dataclass(frozen=True)
class UnitOptions:
    """What the session facts need beyond the log."""

    rules: StageRules = field(default_factory=StageRules)
    session_gap: timedelta = timedelta(minutes=30)
    breakdown: str | None = None
    session_ids: bool = False
    """Give each session's user and session values (labelled rows need them)."""
    events_in: Period = field(default_factory=Period)
    """Keep only the events in this period before sessions and orders are built (summary)."""
    moments: tuple[str, ...] = MOMENTS
    """The moments of each session the facts need (``journeykit.engine.facts``; the others are
    null): ``first_cart``, ``first_checkout``, ``last_purchase``, ``last_advocacy``."""
    money: bool = True
    """Compute the money facts (``cart_value``, ``order_value``, ``next_order_value``); without
    them they are null, and no price or revenue is read."""
    cart_value: bool = True
    """Compute ``cart_value`` (null without it; the order values stay)."""
    split: pl.Expr | None = None
    """An integer expression of each event that splits users: each (user, value) is a user of
    its own, and the facts gain ``split`` (a trend's period number)."""


Reduce = Callable[[pl.LazyFrame], pl.DataFrame]
T = TypeVar("T")


def session_facts(
    log: EventLog, options: UnitOptions, reduce: Reduce | None = None
) -> pl.DataFrame:
    """One row per session of ``log`` (see the module docstring for the columns).

    With ``reduce``, each chunk's facts are reduced (to partial sums, say) before they are
    returned, so memory follows the chunk size rather than the session count.
    """

    def compute(chunk: Sessions) -> pl.DataFrame:
        facts = _facts_frame(chunk, log, options)
        return facts.collect() if reduce is None else reduce(facts)

    return pl.concat(read_session_chunks(log, options, compute))


def orders_of(log: EventLog, options: UnitOptions) -> pl.DataFrame:
    """One row per order (SPEC §3): ``user`` (the user's value), ``time`` (of its first purchase
    row) and ``value`` (the sum over its rows; null without money), each user's orders in the
    order they happen."""

    def compute(chunk: Sessions) -> pl.DataFrame:
        placed = placed_orders(chunk, money=log.has_money)
        users = chunk.starts[placed["user"].to_numpy()]
        return placed.with_columns(pl.col("time").cast(_UTC), chunk.value("user", users))

    options = UnitOptions(
        session_gap=options.session_gap, events_in=options.events_in, moments=(), cart_value=False
    )
    frames = read_session_chunks(log, options, compute, values=("user",))
    return pl.concat(frames).select("user", "time", "value")


def placed_orders(chunk: Sessions, *, money: bool) -> pl.DataFrame:
    """A chunk's orders (SPEC §3), each user's in the order they happen: ``user`` (index in the
    chunk), ``order``, ``time`` (of its first purchase row, µs), ``value`` (the sum over its rows;
    null without ``money``) and ``session`` (its first row's, an index within the user in order
    of first event)."""
    user, order, session = chunk.orders()
    bought = chunk.purchases
    rows = pl.DataFrame(
        {"user": user, "order": order, "time": bought["time"], "value": bought["value"]}
        | {"session": session}
    )
    value = pl.col("value").sum() if money else pl.lit(None, pl.Float64)
    return rows.group_by("user", "order", maintain_order=True).agg(
        pl.col("time").first(), value.alias("value"), pl.col("session").first()
    )


def read_session_chunks(
    log: EventLog,
    options: UnitOptions,
    compute: Callable[[Sessions], T],
    values: tuple[str, ...] = (),
) -> list[T]:
    """Every event (in ``options.events_in``) read once for ``compute``, chunk by chunk of
    whole users; ``values``: the columns whose value on each session's first event
    ``Sessions.value`` gives."""
    frame = log.frame
    period = options.events_in
    if period.bounded:
        frame = frame.filter(period.contains(pl.col("time")))
    if options.session_ids:
        values += ("user", *(("session",) if log.has_sessions else ()))
    if options.breakdown is not None:
        values += (options.breakdown,)
    if options.split is not None:
        frame = frame.with_columns(options.split.alias(SPLIT))
        values += (SPLIT,)
    money = options.money and log.has_money
    revenue = money and log.roles.has("revenue")
    read = SessionRead(
        frame,
        log.label,
        kinds=_kinds(log, options.rules),
        line=cart_line_value(log.roles) if money and (options.cart_value or not revenue) else None,
        revenue=pl.col("revenue") if revenue else None,
        cart=money and options.cart_value,
        sessions=log.has_sessions,
        session_nulls=log.profile.session_nulls,
        orders=log.roles.has("order"),
        moments=options.moments,
        values=tuple(dict.fromkeys(values)),
        split=SPLIT if options.split is not None else None,
    )
    gap = int(options.session_gap.total_seconds() * MICROS)
    rows = log.rows_estimate(None)
    return read_sessions(read, rows, gap, compute, log.profile.user_range)


def _kinds(log: EventLog, rules: StageRules) -> dict[str, int]:
    """Each event name's ``kind`` (``journeykit.engine.facts.kind_code``)."""
    kinds = {}
    for name in log.profile.events:
        rank = (
            DECISION
            if name in rules.decision
            else CONSIDERATION
            if name in rules.consideration
            else 0
        )
        kinds[name] = kind_code(rank, _CART_KINDS.get(name, 0), name in rules.advocacy)
    return kinds


def cart_line_value(roles: Roles) -> pl.Expr | None:
    """Value of one cart row, SPEC §6: price × quantity (quantity 1, null price 0).

    With a revenue column but no price the value is 0 (money columns exist, carts carry no
    price); with neither it is ``None`` and money figures are null.
    """
    if roles.has("price"):
        return price_times_quantity(roles)
    return pl.lit(0.0) if roles.has("revenue") else None


def price_times_quantity(roles: Roles) -> pl.Expr:
    """Price × quantity of a row (quantity 1 when absent or null, a null price counts 0)."""
    quantity = pl.col("quantity").fill_null(1) if roles.has("quantity") else pl.lit(1.0)
    return pl.col("price").fill_null(0) * quantity


def _facts_frame(chunk: Sessions, log: EventLog, options: UnitOptions) -> pl.LazyFrame:
    """The chunk's session facts, lazily: a reducer computes only the columns it reads."""
    user, head, fields, events, stage, cart_value, orders, value, next_time, next_value = (
        chunk.facts()
    )
    layout = chunk.layout
    at = {"first_event": FIRST, "last_event": LAST}
    at |= {name: int(layout[i]) for i, name in enumerate(MOMENTS) if layout[i] >= 0}
    raw = pl.DataFrame(
        {
            "user": user,
            "events": events.astype(np.uint32),
            "stage": stage,
            "orders": orders.astype(np.uint32),
            "order_value": value,
            "cart_value": cart_value,
            "next_order_value": next_value,
        }
        | {name: fields[:, column] for name, column in at.items()}
        | {"next_order_time": next_time}
    )
    missing = [pl.lit(None, dtype=_UTC).alias(m) for m in MOMENTS if m not in at]
    money = options.money and log.has_money
    no_money = pl.lit(None, dtype=pl.Float64)
    facts = raw.lazy().with_columns(
        *(_time(name) for name in [*at, "next_order_time"]),
        *missing,
        (pl.col("events") == 1).alias("single_event"),
        pl.col("next_order_value").fill_nan(None) if money else no_money.alias("next_order_value"),
        *([] if money else [no_money.alias("order_value")]),
        *([] if money and options.cart_value else [no_money.alias("cart_value")]),
    )
    if options.session_ids:
        facts = facts.with_columns(chunk.value("user", head), _session(chunk, user, head, log))
    if options.breakdown is not None:
        facts = facts.with_columns(chunk.value(options.breakdown, head).alias("breakdown"))
    if options.split is not None:
        facts = facts.with_columns(chunk.value(SPLIT, head).alias("split"))
    return facts


def _time(name: str) -> pl.Expr:
    """Column ``name`` (epoch microseconds, ``NEVER`` for none) as UTC times."""
    micros = pl.col(name)
    return pl.when(micros != NEVER).then(micros).cast(_UTC).alias(name)


def _session(
    chunk: Sessions, user: NDArray[np.int64], head: NDArray[np.int64], log: EventLog
) -> pl.Series:
    """Each session's value: the session column's, or its number within its user (1, 2, …)."""
    if log.has_sessions:
        return chunk.value("session", head)
    first_of_user = np.searchsorted(user, user, side="left")
    return pl.Series("session", np.arange(user.shape[0]) - first_of_user + 1, dtype=pl.UInt32)


def converted(started: str = "first_cart") -> pl.Expr:
    """A purchase in the session at or after ``started`` (timestamps only)."""
    return (pl.col("last_purchase") >= pl.col(started)).fill_null(False)


def abandoned() -> pl.Expr:
    """A cart session with no purchase at or after its first add-to-cart."""
    return pl.col("first_cart").is_not_null() & ~converted()
