"""Derived structure (SPEC §3): sessions and orders, as expressions over the normalized frame.

Both work on frames holding every event of the users they contain (a chunk of whole users) and
sorted by (user, time, row) where the docstring says so.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import polars as pl

from journeykit.load.roles import Roles

SESSION_KEY = "session_key"
_KEY_SEEDS = (20_191_001, 20_191_002, 20_191_003)
_USER_CHECK = "__user_max"


def gap_sessions(gap: timedelta) -> pl.Expr:
    """Per-user session number (1, 2, …) from the inactivity rule, on a frame sorted by user, time.

    A session starts at a user's first event and whenever the gap to the previous event is
    ≥ ``gap``.
    """
    return count_within_user(pl.col("time").diff() >= gap)


def count_within_user(starts: pl.Expr) -> pl.Expr:
    """How many rows so far, in each user's run of a frame sorted by user, were ``starts``
    (a user's first row always counts): a running number, without a window over users."""
    first_of_user = (pl.col("user") != pl.col("user").shift()).fill_null(True)
    number = (first_of_user | starts).cum_sum()
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
    # Groups keep the order of their first row, which is (user, time, row): no sort needed,
    # and each user's orders are one run of rows.
    return grouped.with_columns(count_within_user(pl.lit(True)).alias("order_number"))


def session_key(seed: int) -> pl.Expr:
    """A session, (``user``, ``session``), as one 64-bit hash (``session_key``).

    Grouping by one integer is about twice as fast as by the (user, text) pair. A hash can
    collide: ``hashed_sessions`` checks that no key holds two users. What it cannot see is two
    sessions *of one user* sharing a key, about 2⁻⁶⁴ per pair of that user's sessions
    (≈ 10⁻¹² for 20 million sessions).
    """
    return pl.struct("user", "session").hash(seed).alias(SESSION_KEY)


@dataclass(frozen=True)
class SessionKeys:
    """How the session tables of one computation identify a session: by ``key`` (a
    ``session_key`` expression) or, with ``None``, by the exact (user, session) pair."""

    key: pl.Expr | None = None

    @property
    def columns(self) -> list[str]:
        return [SESSION_KEY] if self.key is not None else ["user", "session"]

    def keyed(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` (with ``user`` and ``session`` columns) with the key columns."""
        return frame if self.key is None else frame.with_columns(self.key)


Build = Callable[[pl.Expr, list[pl.Expr]], Sequence[pl.LazyFrame]]
"""``(key, owner) →`` queries; the first groups every session by ``key`` and aggregates
``owner`` (its ``user``, the largest ``tag`` and, if asked, ``single_event``)."""

SINGLE_EVENT = "single_event"


@dataclass(frozen=True)
class Tag:
    """A small per-event integer in ``[0, bound)`` whose largest value per session is wanted.

    ``hashed_sessions`` folds it into the user aggregates when the users are integers in a known,
    small enough ``users`` range (of ``user_dtype``). With ``rows`` (the bound of the ``row``
    column), the first table also says whether each session is one event (``single_event``),
    for which the row is packed too when it fits, rather than every event counted."""

    expr: pl.Expr
    bound: int
    users: tuple[int, int] | None
    user_dtype: pl.DataType
    rows: int | None = None


def hashed_sessions(
    build: Build, *, tag: Tag | None = None
) -> tuple[SessionKeys, list[pl.DataFrame]]:
    """Run the queries of ``build``, grouping sessions by a ``session_key``.

    If a key of the first query holds two users (a hash collision), everything runs again with
    the next seed. With ``tag``, the first table also gets its largest value per session.
    Integer users in a small enough range are packed with it (user × bound + tag, then × rows +
    row with ``tag.rows``; bound and rows rounded up to powers of two): then one ``max`` and one
    ``min`` give the user, the check, the tag and whether the session is one event (its largest
    and smallest row are the same row), where each aggregate over every event of millions of
    sessions costs about half a second.
    """
    rows = _packed_rows(tag)
    owner = [pl.col("user").min(), pl.col("user").max().alias(_USER_CHECK)]
    if tag is not None and rows is not None:
        owner = _packed_owner(tag, rows)
    elif tag is not None:
        owner.append(tag.expr.max())
    if tag is not None and tag.rows is not None and rows in (None, 1):
        owner.append((pl.len() == 1).alias(SINGLE_EVENT))
    for seed in _KEY_SEEDS:
        key = session_key(seed)
        first, *others = pl.collect_all(build(key, owner), engine="streaming")
        if tag is not None and rows is not None:
            first = _unpacked(first, tag, rows)
        if (first["user"] == first[_USER_CHECK]).all():
            return SessionKeys(key), [first.drop(_USER_CHECK), *others]
    raise AssertionError("three 64-bit session hashes collided")  # pragma: no cover


_PACKED = "__packed"


def _packed_rows(tag: Tag | None) -> int | None:
    """How the user aggregates pack: with the tag and the row (the power of two at or above
    ``tag.rows``), with the tag only (1), or not at all (``None``), as far as user × bound [×
    rows] fits in 63 bits. Powers of two make the unpacking divisions cheap."""
    if tag is None or tag.users is None:
        return None
    largest = max(map(abs, tag.users)) * _power_of_two(tag.bound)
    if tag.rows is not None and largest * _power_of_two(tag.rows) < 2**62:
        return _power_of_two(tag.rows)
    return 1 if largest < 2**62 else None


def _power_of_two(bound: int) -> int:
    """The smallest power of two at or above ``bound`` (≥ 1)."""
    return 1 << max(bound - 1, 0).bit_length()


def _packed_owner(tag: Tag, rows: int) -> list[pl.Expr]:
    """``max`` and ``min`` of (user × bound + tag) × rows + row (no row when ``rows`` is 1)."""
    packed = pl.col("user").cast(pl.Int64) * _power_of_two(tag.bound) + tag.expr.cast(pl.Int64)
    if rows > 1:
        packed = packed * rows + pl.col("row").cast(pl.Int64)
    return [packed.max().alias(_PACKED), packed.min().alias(_USER_CHECK)]


def _unpacked(table: pl.DataFrame, tag: Tag, rows: int) -> pl.DataFrame:
    """``user``, the check, the largest tag (and ``single_event`` when rows are packed) back out
    of the packed aggregates."""
    bound = _power_of_two(tag.bound)
    largest, smallest = pl.col(_PACKED) // rows, pl.col(_USER_CHECK) // rows
    user = largest // bound
    single = pl.col(_PACKED) == pl.col(_USER_CHECK)
    unpacked = table.lazy().with_columns(
        user.cast(tag.user_dtype).alias("user"),
        (smallest // bound).alias(_USER_CHECK),
        (largest - user * bound).alias(tag.expr.meta.output_name()),
        *([single.alias(SINGLE_EVENT)] if rows > 1 else []),
    )
    return unpacked.drop(_PACKED).collect(engine="streaming")
