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
    """A chunk's users: their sessions' activity and their orders."""
    user, _, fields, events = chunk.facts()[:4]
    layout = chunk.layout
    engaged = np.zeros(user.shape[0], bool)
    for name in _ENGAGING:
        engaged |= fields[:, layout[MOMENTS.index(name)]] != NEVER
    sessions = pl.DataFrame(
        {"u": user, "first": fields[:, FIRST], "last": fields[:, LAST], "n": events}
        | {"engaged": engaged}
    )
    activity = sessions.group_by("u").agg(
        pl.col("first").min().alias("first_event"),
        pl.col("last").max().alias("last_event"),
        pl.len().cast(pl.Int64).alias("sessions"),
        pl.col("n").sum().cast(pl.Int64).alias("events"),
        pl.col("engaged").any(),
    )
    placed = (
        placed_orders(chunk, money=money)
        .group_by(pl.col("user").alias("u"))
        .agg(
            pl.len().cast(pl.Int64).alias("orders"),
            pl.col("value").sum().alias("revenue")
            if money
            else pl.lit(None, pl.Float64).alias("revenue"),
            pl.col("time").min().alias("first_order"),
            pl.col("time").max().alias("last_order"),
        )
    )
    joined = activity.join(placed, on="u", how="left").with_columns(
        pl.col("orders").fill_null(0),
        pl.col("revenue").fill_null(0.0) if money else pl.col("revenue"),
    )
    firsts = chunk.starts[joined["u"].to_numpy()]
    return joined.with_columns(chunk.value("user", firsts)).drop("u")


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
            return pl.Series([None] * users.height, dtype=dtype)
        return pl.Series(np.where(customers, values, np.nan)).fill_nan(None).cast(dtype)

    return users.with_columns(
        nulled(recency, pl.Float64()).alias("recency_days"),
        nulled(r_score, pl.Int64()).alias("r_score"),
        nulled(f_score, pl.Int64()).alias("f_score"),
        nulled(m_score, pl.Int64()).alias("m_score"),
        pl.Series("rfm_segment", segment, dtype=pl.String).zip_with(
            pl.Series(customers), pl.Series([None] * users.height, dtype=pl.String)
        ),
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
) -> NDArray[np.str_]:
    """The first matching segment of SPEC §16."""
    conditions = [
        (r >= 4) & (fm >= 4),
        (r >= 3) & (fm >= 3),
        (r >= 4) & (f == 1),
        r >= 3,
        fm >= 3,
        r == 2,
    ]
    return np.select(conditions, list(RFM[:-1]), default=RFM[-1])


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
