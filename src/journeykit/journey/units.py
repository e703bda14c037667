"""Session facts: the per-session table that stages and abandonment aggregate (and summary, for
sessions from the inactivity rule).

With a session column, sessions need no event order: one streaming aggregation over every
event, grouped by a hash of (user, session) (``derive.hashed_sessions``), gives each session's
user, times, event count and deepest event-defined stage, and keeps the add-to-cart, remove,
checkout, purchase and advocacy rows (a tenth of the events or less) in memory on the way for
the cart facts, the last advocacy event and the orders (only the purchase rows are sorted).
Cart facts read those rows first and aggregate only the events of the sessions they name as
cart sessions. That holds every session in memory, so it is used when the log fits
(``GROUPED_BYTES_PER_ROW``). Otherwise, and for sessions from the inactivity rule, which need
every user's events in time order, each chunk of whole users (``journeykit.chunks.per_user``) is
sorted once, by (user, time, row). One row per session, with the columns ``UnitOptions.facts``
asks for:

``user``, ``session`` (with ``session_ids``), ``breakdown`` (the breakdown column's value on the
session's first event, when asked), ``first_event``, ``last_event``, ``stage`` (code, index
into ``STAGES``), ``single_event``, ``events``, ``orders`` (orders that happen in the session)
and ``order_value`` (these three with ``UnitOptions.counts``), ``first_cart``,
``first_checkout``, ``last_purchase``, ``cart_value`` (Σ value of add_to_cart − Σ of
remove_from_cart, not floored, null without money), ``next_order_time`` and
``next_order_value`` (for abandoned cart sessions: the user's first order strictly after the
session's last event; null otherwise).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Literal

import polars as pl

from journeykit.chunks import fits_in_memory, per_user
from journeykit.derive import (
    SESSION_KEY,
    SINGLE_EVENT,
    SessionKeys,
    Tag,
    hashed_sessions,
    order_value,
    orders,
    price_times_quantity,
    sort_events,
    with_sessions,
)
from journeykit.journey.spec import Period, StageRules
from journeykit.load.events import EventLog
from journeykit.load.roles import Roles

CART, REMOVE, CHECKOUT, PURCHASE = "add_to_cart", "remove_from_cart", "checkout", "purchase"
GROUPED_BYTES_PER_ROW = 64
"""Peak memory per input row of the whole-log aggregation, with margin (measured: 2.5–3.1 GiB at
101M events)."""
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
    spans: bool = True
    """Compute ``first_event`` and ``last_event`` (``stages`` needs them only for a period or
    labelled rows; cart facts always have ``last_event``)."""
    counts: bool = True
    """Compute each session's ``events``, ``orders`` and ``order_value``; without them stage
    facts say only whether the session is one event (``single_event``, all stage counts need)."""
    facts: Literal["all", "stages", "carts"] = "all"
    """Which facts to compute: ``stages`` leaves out the cart columns and the next order;
    ``carts`` leaves out the stage, the orders of the session, ``first_event`` and ``events``,
    and keeps only the sessions with an add-to-cart or a checkout. Fewer aggregates over
    millions of sessions cost less."""


@dataclass(frozen=True)
class _Context:
    """What the facts need to know of the log."""

    has_order: bool
    order_value: pl.Expr | None
    line_value: pl.Expr | None
    ladder: "EventLadder"


@dataclass(frozen=True)
class EventLadder:
    """The log's event names as an Enum ordered by the stage they reach: other events, then
    consideration events, then decision events. A session's deepest event-defined stage is then
    the largest code among its events, one cheap aggregate."""

    names: list[str]
    considered_from: int
    decided_from: int

    @classmethod
    def of(cls, names: list[str], rules: StageRules) -> "EventLadder":
        def rank(name: str) -> int:
            return 2 if name in rules.decision else 1 if name in rules.consideration else 0

        ordered = sorted(names, key=lambda name: (rank(name), name))
        ranks = [rank(name) for name in ordered]
        return cls(ordered, _first_at(ranks, 1), _first_at(ranks, 2))

    @property
    def dtype(self) -> pl.Enum:
        return pl.Enum(self.names)


def _first_at(ranks: list[int], rank: int) -> int:
    """Index of the first of ``ranks`` (sorted) at or above ``rank``."""
    return next((i for i, r in enumerate(ranks) if r >= rank), len(ranks))


Reduce = Callable[[pl.DataFrame], pl.DataFrame]


def session_facts(
    log: EventLog, options: UnitOptions, reduce: Reduce | None = None
) -> pl.DataFrame:
    """One row per session of ``log`` (see the module docstring for the columns).

    With ``reduce``, the facts are reduced (to partial sums, say) before they are returned; for
    chunked logs each chunk is reduced before the chunks are concatenated, so memory follows the
    chunk size rather than the session count.
    """
    context = _Context(
        has_order=log.roles.has("order"),
        order_value=order_value(log.roles) if options.counts else None,
        line_value=cart_line_value(log.roles) if options.facts != "stages" else None,
        ladder=EventLadder.of(list(log.profile.events), options.rules),
    )
    rows = log.rows_for(None)
    if log.has_sessions and fits_in_memory(rows, GROUPED_BYTES_PER_ROW):
        facts = _grouped_facts(log, context, options)
        return facts if reduce is None else reduce(facts)
    facts_of = partial(chunk_facts, context=context, options=options, has_session=log.has_sessions)
    compute = facts_of if reduce is None else (lambda chunk: reduce(facts_of(chunk)))
    return per_user(_events(log, options, context), rows, compute)


def _events(
    log: EventLog, options: UnitOptions, context: _Context, names: list[str] | None = None
) -> pl.LazyFrame:
    """The columns the facts need, of the events in ``options.events_in`` (of ``names`` only)."""
    wanted = ["user", "time", "row", "event", "session", "order_id"]
    if context.order_value is not None or context.line_value is not None:
        wanted += ["price", "quantity", "revenue"]
    frame = log.frame if names is None else log.events(names)
    schema = frame.collect_schema()
    columns: list[str | pl.Expr] = [c for c in wanted if c in schema]
    # Event names as a small Enum: chunks, spills and comparisons stop carrying strings.
    columns[columns.index("event")] = pl.col("event").cast(context.ladder.dtype)
    if options.breakdown is not None:
        columns.append(pl.col(options.breakdown).alias("breakdown"))
    frame = frame.select(columns)
    # Kept events always have a time: an open period filters nothing (and reads no time).
    period = options.events_in
    return frame.filter(period.contains(pl.col("time"))) if period.bounded else frame


def cart_line_value(roles: Roles) -> pl.Expr | None:
    """Value of one cart row, SPEC §6: price × quantity (quantity 1, null price 0).

    With a revenue column but no price the value is 0 (money columns exist, carts carry no
    price); with neither it is ``None`` and money figures are null.
    """
    if roles.has("price"):
        return price_times_quantity(roles)
    return pl.lit(0.0) if roles.has("revenue") else None


EventsOf = Callable[[list[str]], pl.LazyFrame]
"""The events of the given names, that the small session tables are built from."""


@dataclass(frozen=True)
class _Tables:
    """The per-session tables of one computation, all keyed by ``keys``.

    ``every`` aggregates every event of every session; ``carts`` (cart facts) and ``advocacy``
    (``last_advocacy``) aggregate only the few events they are about, so the aggregates that
    take a conditional time of each event run over a tenth of the rows or less.
    """

    keys: SessionKeys
    every: pl.DataFrame
    carts: pl.DataFrame | None
    advocacy: pl.DataFrame | None


def _grouped_facts(log: EventLog, context: _Context, options: UnitOptions) -> pl.DataFrame:
    """Session facts of a log with a session column (a null session value is its own session).

    Every event is read once for the ``every`` table, and on its way the events the small
    tables and the orders need (a tenth of them or less) are kept in memory (``_Tee``):
    the columns are read and decompressed once. Cart facts need every event only of the
    sessions with an add-to-cart or a checkout: those rows are read first, by a filter that
    reaches the file scan, and their sessions pick the events that go into the aggregation (a
    third of them or so).
    """
    marked_names = sorted(_marked_names(options) | {PURCHASE})
    events = _events(log, options, context)
    aggregates = [
        *([pl.col("session").first()] if options.session_ids else []),
        *_every_aggregates(options, tagged=True),
    ]
    if options.facts == "carts":
        marked_df = _events(log, options, context, marked_names).collect(engine="streaming")

        def build(key: pl.Expr, owner: list[pl.Expr]) -> list[pl.LazyFrame]:
            started = _events_named(marked_df.lazy(), context.ladder, [CART, CHECKOUT])
            started_keys = started.select(key).unique().collect().to_series().implode()
            # The key as a column first: a filter on the expression goes into the scan, which
            # then hashes every event twice.
            keyed = events.with_columns(key).filter(pl.col(SESSION_KEY).is_in(started_keys))
            return [keyed.group_by(SESSION_KEY).agg(*owner, *aggregates)]

        keys, (every,) = hashed_sessions(build)
    else:
        deepest = pl.col("event").to_physical().alias("deepest_event")
        users, schema = log.profile.user_range, events.collect_schema()
        bound, rows = max(len(context.ladder.names), 1), max(log.profile.rows, 1)
        single = None if options.counts else rows
        tag = Tag(deepest, bound=bound, users=users, user_dtype=schema["user"], rows=single)
        tee = _Tee(_named(context.ladder, marked_names), schema)

        def build(key: pl.Expr, owner: list[pl.Expr]) -> list[pl.LazyFrame]:
            tee.kept.clear()
            teed = events.map_batches(tee, streamable=True, schema=schema)
            return [teed.group_by(key).agg(*owner, *aggregates)]

        keys, (every,) = hashed_sessions(build, tag=tag)
        marked_df = tee.rows()
    events_of = partial(_events_named, keys.keyed(marked_df).lazy(), context.ladder)
    frames = pl.collect_all(
        _table_queries(events_of, keys.columns, options, context), engine="streaming"
    )
    placed = orders(
        sort_events(marked_df.filter(pl.col("event") == PURCHASE), ["user"]),
        has_order_column=context.has_order,
        value=context.order_value,
    )
    return _with_orders(
        _tables(keys, [every, *frames], options), keys.keyed(placed), options, context
    )


@dataclass(frozen=True)
class _Tee:
    """A pass-through for ``LazyFrame.map_batches`` that keeps the rows of each batch that
    ``keep`` selects, so that one streaming pass both aggregates every event and collects the few
    that the small tables need. ``rows`` gives them in input order, whatever order the batches
    ran in."""

    keep: pl.Expr
    schema: pl.Schema
    kept: list[pl.DataFrame] = field(default_factory=list)

    def __call__(self, batch: pl.DataFrame) -> pl.DataFrame:
        self.kept.append(batch.filter(self.keep))
        return batch

    def rows(self) -> pl.DataFrame:
        return pl.concat([pl.DataFrame(schema=self.schema), *self.kept]).sort("row")


def _events_named(events: pl.LazyFrame, ladder: EventLadder, names: list[str]) -> pl.LazyFrame:
    """The rows of ``events`` whose event is one of ``names`` (names the log lacks match none)."""
    return events.filter(_named(ladder, names))


def _named(ladder: EventLadder, names: list[str]) -> pl.Expr:
    """Whether an event (of the ladder's Enum) is one of ``names``."""
    return pl.col("event").is_in([n for n in names if n in ladder.names])


def _marked_names(options: UnitOptions) -> set[str]:
    """The events the ``carts`` and ``advocacy`` tables are made of."""
    names = set() if options.facts == "stages" else {CART, REMOVE, CHECKOUT, PURCHASE}
    return names if options.facts == "carts" else names | set(options.rules.advocacy)


def chunk_facts(
    events: pl.DataFrame, *, context: _Context, options: UnitOptions, has_session: bool
) -> pl.DataFrame:
    """Session facts for one chunk of whole users, sorted here by (user, time, row).

    Sessions from the inactivity rule are runs of that order: grouping by the run number (one
    integer) is much faster than by the (user, session) pair that a session column needs.
    """
    events = with_sessions(events, has_column=has_session, gap=options.session_gap)
    placed = orders(events, has_order_column=context.has_order, value=context.order_value)
    lazy = events.lazy()
    events_of = partial(_events_named, lazy, context.ladder)

    if has_session:
        every = lazy.group_by("user", "session").agg(_every_aggregates(options))
    else:
        run = pl.struct("user", "session").rle_id().alias("run")
        first = [pl.col("user").first(), pl.col("session").first()]
        every = lazy.group_by(run).agg(*first, *_every_aggregates(options)).drop("run")
    keys = SessionKeys()
    frames = pl.collect_all([every, *_table_queries(events_of, keys.columns, options, context)])
    return _with_orders(_tables(keys, frames, options), placed, options, context)


def _table_queries(
    events_of: EventsOf, by: list[str], options: UnitOptions, context: _Context
) -> list[pl.LazyFrame]:
    """The queries of the ``carts`` and ``advocacy`` tables, as far as ``options.facts`` needs
    them, grouped ``by`` the key columns."""
    queries = []
    if options.facts != "stages":
        marked = events_of([CART, REMOVE, CHECKOUT, PURCHASE])
        queries.append(marked.group_by(by).agg(_cart_aggregates(context.line_value)))
    if options.facts != "carts":
        advocates = events_of(list(options.rules.advocacy))
        user = [] if "user" in by else [pl.col("user").first()]
        last = pl.col("time").max().alias("last_advocacy")
        queries.append(advocates.group_by(by).agg(*user, last))
    return queries


def _tables(keys: SessionKeys, frames: list[pl.DataFrame], options: UnitOptions) -> _Tables:
    every, *rest = frames
    carts = rest.pop(0) if options.facts != "stages" else None
    advocacy = rest.pop(0) if options.facts != "carts" else None
    return _Tables(keys, every, carts, advocacy)


def _every_aggregates(options: UnitOptions, *, tagged: bool = False) -> list[pl.Expr]:
    """Aggregates over every event of a session; plain reductions, so that the streaming engine
    computes them without keeping the session's rows (``tagged``: without ``deepest_event`` and
    ``single_event``, which ``hashed_sessions`` computes from its ``Tag``)."""
    time = pl.col("time")
    spans = options.spans or options.facts != "stages"
    aggregates = [time.max().alias("last_event")] if spans else []
    if options.facts != "carts":
        aggregates += [time.min().alias("first_event")] if spans else []
        if options.counts:
            aggregates.append(pl.len().cast(pl.UInt32).alias("events"))
        elif not tagged:
            aggregates.append((pl.len() == 1).alias(SINGLE_EVENT))
        if not tagged:
            aggregates.append(pl.col("event").to_physical().max().alias("deepest_event"))
    if options.breakdown is not None:
        # The value on the first event in (time, row) order.
        aggregates.append(pl.col("breakdown").min_by(pl.struct("time", "row")))
    return aggregates


def _cart_aggregates(line_value: pl.Expr | None) -> list[pl.Expr]:
    """Aggregates over a session's add-to-cart, remove-from-cart, checkout and purchase rows."""
    event, time = pl.col("event"), pl.col("time")
    cart_value = pl.lit(None, dtype=pl.Float64)
    if line_value is not None:
        signed = pl.when(event == CART).then(line_value).when(event == REMOVE).then(-line_value)
        cart_value = signed.fill_null(0.0).sum()
    return [
        pl.when(event == CART).then(time).min().alias("first_cart"),
        pl.when(event == CHECKOUT).then(time).min().alias("first_checkout"),
        pl.when(event == PURCHASE).then(time).max().alias("last_purchase"),
        cart_value.cast(pl.Float64).alias("cart_value"),
    ]


def _with_orders(
    tables: _Tables, placed: pl.DataFrame, options: UnitOptions, context: _Context
) -> pl.DataFrame:
    """Join each session's cart facts, orders, the user's first order and the next order to the
    sessions (what ``options.facts`` asks for); ``placed`` carries the key columns."""
    keys = tables.keys.columns
    if tables.carts is not None:
        started = pl.col("first_cart").is_not_null() | pl.col("first_checkout").is_not_null()
        if options.facts == "carts":
            carts = tables.carts.lazy().filter(started)
            carts = carts.join(tables.every.lazy(), on=keys, nulls_equal=True)
            found = _with_next_order(carts.collect(engine="streaming"), placed)
            return found.select(_fact_columns(options, context))
        sessions = tables.every.join(tables.carts, on=keys, how="left", nulls_equal=True)
    else:
        sessions = tables.every
    assert tables.advocacy is not None
    sums = [pl.len().cast(pl.UInt32).alias("orders"), pl.col("value").sum().alias("order_value")]
    per_session = (
        placed.lazy()
        .group_by(keys)
        .agg(
            (pl.col("order_number") == 1).any().alias("first_order"),
            (pl.col("order_number") >= 2).any().alias("repeat_order"),
            *(sums if options.counts else []),
        )
    )
    first_orders = placed.lazy().filter(pl.col("order_number") == 1)
    first_orders = first_orders.select("user", pl.col("time").alias("first_order_time"))
    # Only a session that owns an order or has an advocacy event needs these facts (a few of
    # them): they are put together on that small table, down to the sessions they take past
    # the event-defined stages (and their order sums), which one join adds to every session.
    advocacy = tables.advocacy.lazy().join(first_orders, on="user", how="left")
    advocacy = advocacy if "user" in keys else advocacy.drop("user")
    involved = per_session.join(advocacy, on=keys, how="full", coalesce=True, nulls_equal=True)
    kept = ["orders", "order_value"] if options.counts else []
    involved = involved.select(*keys, _order_stage(), *kept).filter(pl.col("order_stage") > 0)
    facts = sessions.lazy().join(involved, on=keys, how="left", nulls_equal=True)
    if options.facts == "all":
        facts = _with_next_order(facts.collect(engine="streaming"), placed).lazy()
    return facts.select(_fact_columns(options, context)).collect(engine="streaming")


def converted(started: str = "first_cart") -> pl.Expr:
    """A purchase in the session at or after ``started`` (timestamps only)."""
    return (pl.col("last_purchase") >= pl.col(started)).fill_null(False)


def abandoned() -> pl.Expr:
    """A cart session with no purchase at or after its first add-to-cart."""
    return pl.col("first_cart").is_not_null() & ~converted()


def _with_next_order(sessions: pl.DataFrame, placed: pl.DataFrame) -> pl.DataFrame:
    """The user's first order strictly after the last event of each abandoned cart session
    (recovery needs it for no other session). ``placed`` is in (user, time, row) order, so of
    orders at the same instant the first placed is found."""
    lost = abandoned()
    following = placed.select(
        "user",
        pl.col("time").alias("placed_at"),
        pl.col("time").alias("next_order_time"),
        pl.col("value").alias("next_order_value"),
    )
    carts = (
        sessions.filter(lost)
        .sort("user", "last_event")
        .join_asof(
            following,
            left_on="last_event",
            right_on="placed_at",
            by="user",
            strategy="forward",
            allow_exact_matches=False,
            check_sortedness=False,
        )
        .drop("placed_at")
    )
    return pl.concat([carts, sessions.filter(~lost)], how="diagonal")


def _order_stage() -> pl.Expr:
    """``order_stage``: the stage a session reaches by its orders and advocacy (SPEC §5:
    advocacy after the user's first order, a repeat order, the first order), else 0."""
    advocacy = (pl.col("last_advocacy") >= pl.col("first_order_time")).fill_null(False)
    reached = [
        (advocacy, STAGE_CODE["advocacy"]),
        (pl.col("repeat_order").fill_null(False), STAGE_CODE["retention"]),
        (pl.col("first_order").fill_null(False), STAGE_CODE["purchase"]),
    ]
    return _first_reached(reached).alias("order_stage")


def stage_code(ladder: EventLadder) -> pl.Expr:
    """Deepest stage of a session (SPEC §5): the stage of its orders and advocacy
    (``order_stage``, null for a session with neither), which is deeper than any its events
    define alone."""
    reached: list[tuple[pl.Expr, int | pl.Expr]] = [
        (pl.col("order_stage") > 0, pl.col("order_stage")),
        (pl.col("deepest_event") >= ladder.decided_from, STAGE_CODE["decision"]),
        (pl.col("deepest_event") >= ladder.considered_from, STAGE_CODE["consideration"]),
    ]
    return _first_reached(reached).alias("stage")


def _first_reached(reached: Sequence[tuple[pl.Expr, int | pl.Expr]]) -> pl.Expr:
    """The stage of the first condition that holds (0 when none does or is known)."""
    code: pl.Expr = pl.lit(0, dtype=pl.UInt8)
    for condition, value in reversed(reached):
        stage = pl.lit(value, dtype=pl.UInt8) if isinstance(value, int) else value
        code = pl.when(condition.fill_null(False)).then(stage).otherwise(code)
    return code


def _fact_columns(options: UnitOptions, context: _Context) -> list[pl.Expr | str]:
    money = context.order_value is not None
    value = pl.col("order_value").cast(pl.Float64) if money else pl.lit(None, dtype=pl.Float64)
    columns: list[pl.Expr | str] = ["user"]
    columns += ["session"] if options.session_ids else []
    columns += ["breakdown"] if options.breakdown is not None else []
    spans = options.spans or options.facts != "stages"
    columns += ["last_event"] if spans else []
    if options.facts != "carts":
        columns += ["first_event"] if spans else []
        columns.append(stage_code(context.ladder))
        if not options.counts:
            columns.append(SINGLE_EVENT)
    if options.facts != "carts" and options.counts:
        columns += [
            "events",
            (pl.col("events") == 1).alias(SINGLE_EVENT),
            pl.col("orders").fill_null(0),
            value.fill_null(0.0).alias("order_value") if money else value.alias("order_value"),
        ]
    if options.facts != "stages":
        columns += ["first_cart", "first_checkout", "last_purchase", "cart_value"]
        columns += ["next_order_time", pl.col("next_order_value").cast(pl.Float64)]
    return columns
