"""One row per user (SPEC §16 ``--emit``): activity, orders, recency, RFM scores and segments.

The sequence engine reads the log once (events before ``--at`` only) and gives each chunk of
whole users its sessions and orders; a user's row sums them. RFM scores are quintile ranks over
all customers, so they are computed on the whole table.
"""

import math

import numpy as np
import polars as pl
from numpy.typing import NDArray

from journeykit.engine.facts import FIRST, LAST, MOMENTS, NEVER
from journeykit.engine.sessions import Sessions
from journeykit.journey.spec import Period
from journeykit.journey.units import UnitOptions, placed_orders, read_session_chunks
from journeykit.load.events import EventLog
from journeykit.segments.spec import RFM, SegmentsSpec
from journeykit.trend import epoch_us

EMIT_COLUMNS = [
    "user",
    "first_event",
    "last_event",
    "sessions",
    "events",
    "orders",
    "revenue",
    "first_order",
    "last_order",
    "recency_days",
    "r_score",
    "f_score",
    "m_score",
    "lifecycle",
    "rfm_segment",
]
DAY_US = 86_400 * 1_000_000
_UTC = pl.Datetime("us", "UTC")
_ENGAGING = ("first_cart", "first_checkout")


def user_table(log: EventLog, spec: SegmentsSpec) -> pl.DataFrame:
    """The ``EMIT_COLUMNS`` of every user with an event before ``spec.at``, by user."""
    options = UnitOptions(
        session_gap=spec.session_gap,
        events_in=Period(until=spec.at),
        moments=_ENGAGING,
        money=log.has_money,
        cart_value=False,
    )
    chunks = read_session_chunks(
        log, options, lambda chunk: _chunk_users(chunk, log.has_money), values=("user",)
    )
    users = pl.concat(chunks)
    now = spec.at if spec.at is not None else log.profile.last
    now_us = epoch_us(now) if now is not None else 0
    scored = _with_rfm(users, now_us, money=log.has_money)
    times = [
        pl.col(c).cast(_UTC) for c in ("first_event", "last_event", "first_order", "last_order")
    ]
    return scored.with_columns(*times, _lifecycle()).sort("user").select(EMIT_COLUMNS)


def _chunk_users(chunk: Sessions, money: bool) -> pl.DataFrame:
    """A chunk's users: their sessions' activity and their orders (NumPy reductions over the
    sessions and orders, which come grouped by user)."""
    user, _, fields, events = chunk.facts()[:4]
    layout = chunk.layout
    engaged = np.zeros(user.shape[0], bool)
    for name in _ENGAGING:
        engaged |= fields[:, layout[MOMENTS.index(name)]] != NEVER
    heads = _heads(user)
    users = user[heads]
    placed = placed_orders(chunk, money=money)
    order_user = placed["user"].to_numpy()
    at = np.searchsorted(users, order_user)
    orders = np.bincount(at, minlength=users.shape[0]).astype(np.int64)
    bought = orders > 0
    times = placed["time"].to_numpy()
    order_heads = _heads(order_user)
    first_order, last_order = np.zeros(users.shape[0], np.int64), np.zeros(users.shape[0], np.int64)
    if order_heads.shape[0]:
        first_order[bought] = np.minimum.reduceat(times, order_heads)
        last_order[bought] = np.maximum.reduceat(times, order_heads)
    if money:
        values = placed["value"].to_numpy()
        revenue = pl.Series(np.bincount(at, weights=values, minlength=users.shape[0]).astype(float))
    else:
        revenue = pl.repeat(None, users.shape[0], dtype=pl.Float64, eager=True)
    return pl.DataFrame(
        {
            "first_event": np.minimum.reduceat(fields[:, FIRST], heads),
            "last_event": np.maximum.reduceat(fields[:, LAST], heads),
            "sessions": np.diff(np.append(heads, user.shape[0])).astype(np.int64),
            "events": np.add.reduceat(events.astype(np.int64), heads),
            "engaged": np.logical_or.reduceat(engaged, heads),
            "orders": orders,
            "revenue": revenue,
            "first_order": pl.Series(first_order).zip_with(
                pl.Series(bought), pl.Series([None], dtype=pl.Int64)
            ),
            "last_order": pl.Series(last_order).zip_with(
                pl.Series(bought), pl.Series([None], dtype=pl.Int64)
            ),
        }
    ).with_columns(chunk.value("user", chunk.starts[users]))


def _heads(grouped: NDArray[np.int64]) -> NDArray[np.int64]:
    """Where each run of equal values starts."""
    if grouped.shape[0] == 0:
        return np.zeros(0, np.int64)
    return np.flatnonzero(np.diff(grouped, prepend=grouped[0] - 1))


def _with_rfm(users: pl.DataFrame, now_us: int, *, money: bool) -> pl.DataFrame:
    """Recency in days and the R, F, M scores and segment of every customer (SPEC §16)."""
    customers = users["orders"].to_numpy() > 0
    recency = (now_us - users["last_order"].fill_null(now_us).to_numpy()) / DAY_US
    f = users["orders"].to_numpy()
    r_score = _scores(recency, customers, high_is_good=False)
    f_score = _scores(f.astype(np.float64), customers, high_is_good=True)
    m_score = (
        _scores(np.round(users["revenue"].to_numpy(), 6), customers, high_is_good=True)
        if money
        else None
    )
    fm = fm_of(f_score, m_score)
    segment = _rfm_segment(r_score, fm, f)

    def nulled(values: NDArray[np.float64] | None, dtype: pl.DataType) -> pl.Series:
        if values is None:
            return pl.repeat(None, users.height, dtype=dtype, eager=True)
        return pl.Series(np.where(customers, values, np.nan)).fill_nan(None).cast(dtype)

    return users.with_columns(
        nulled(recency, pl.Float64()).alias("recency_days"),
        nulled(r_score, pl.Int64()).alias("r_score"),
        nulled(f_score, pl.Int64()).alias("f_score"),
        nulled(m_score, pl.Int64()).alias("m_score"),
        pl.Series(RFM, dtype=pl.String)
        .gather(pl.Series(segment).set(pl.Series(~customers), None))
        .alias("rfm_segment"),
    )


def _scores(
    x: NDArray[np.float64], customers: NDArray[np.bool_], *, high_is_good: bool
) -> NDArray[np.float64]:
    """Quintile scores 1…5 of ``x`` over the customers: thresholds q_j = the value at 1-based
    position ceil(j·n/5) of their ascending values; 1 + #{j: x > q_j} (or 5 − that)."""
    values = np.sort(x[customers])
    n = values.shape[0]
    if n == 0:
        return np.zeros(x.shape[0])
    q = values[[math.ceil(j * n / 5) - 1 for j in range(1, 5)]]
    above: NDArray[np.float64] = (x[:, None] > q[None, :]).sum(axis=1).astype(np.float64)
    return 1 + above if high_is_good else 5 - above


def fm_of(f_score: NDArray[np.float64], m_score: NDArray[np.float64] | None) -> NDArray[np.float64]:
    """FM = floor((F + M) / 2 + 0.5), or F without money (SPEC §16)."""
    if m_score is None:
        return f_score
    fm: NDArray[np.float64] = np.floor((f_score + m_score) / 2 + 0.5)
    return fm


def _rfm_segment(
    r: NDArray[np.float64], fm: NDArray[np.float64], f: NDArray[np.int64]
) -> NDArray[np.int64]:
    """The first matching segment of SPEC §16 (its index in ``RFM``)."""
    conditions = [
        (r >= 4) & (fm >= 4),
        (r >= 3) & (fm >= 3),
        (r >= 4) & (f == 1),
        r >= 3,
        fm >= 3,
        r == 2,
    ]
    segment: NDArray[np.int64] = np.select(conditions, range(len(RFM) - 1), default=len(RFM) - 1)
    return segment


def _lifecycle() -> pl.Expr:
    """SPEC §16 lifecycle segments."""
    return (
        pl.when(pl.col("orders") >= 2)
        .then(pl.lit("repeat_buyer"))
        .when(pl.col("orders") == 1)
        .then(pl.lit("first_time_buyer"))
        .when((pl.col("sessions") >= 2) | pl.col("engaged"))
        .then(pl.lit("engaged_visitor"))
        .otherwise(pl.lit("first_time_visitor"))
        .alias("lifecycle")
    )
