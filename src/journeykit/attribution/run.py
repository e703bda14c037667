"""``attribution(log, spec)``: which touch values earn the orders and the revenue (SPEC §15).

The sequence engine gives each chunk of whole users its sessions (first event, touch value on it)
and its orders (time, value, own session); the sessions are put in path order, and the kernel
(``journeykit.engine.attribution.credits``) spreads every order in range over its path. Credits
of the chunks add up.
"""

from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from journeykit.attribution.spec import DIRECT, AttributionSpec
from journeykit.engine.attribution import MODELS, credits
from journeykit.engine.facts import FIRST
from journeykit.engine.sessions import Sessions
from journeykit.journey.units import UnitOptions, placed_orders, read_session_chunks
from journeykit.load.events import EventLog
from journeykit.stats import divided

COLUMNS = [
    "model",
    "touch",
    "conversions",
    "conversion_share",
    "revenue",
    "revenue_share",
    "orders_touched",
]
NONE = "(none)"
MICROS = 1_000_000


@dataclass(frozen=True)
class AttributionResult:
    """``table``: the SPEC columns, models in SPEC order; ``orders``: the orders in range."""

    table: pl.DataFrame
    orders: int
    spec: AttributionSpec
    has_money: bool


def attribution(log: EventLog, spec: AttributionSpec) -> AttributionResult:
    """The credits of every model of ``spec`` over the orders of ``log`` in its period.

    >>> from journeykit.load.events import load_events
    >>> log = load_events(["data/samples/events.parquet"])  # doctest: +SKIP
    >>> attribution(log, AttributionSpec(touch="channel")).table  # doctest: +SKIP
    """
    read = _read_credits(log, spec, keyed=False)
    if any(chunk is None for chunk in read):
        read = _read_credits(log, spec, keyed=True)
    chunks = [chunk for chunk in read if chunk is not None]
    labels = max((chunk.labels for chunk in chunks), key=len)
    sums = [np.zeros((len(MODELS), labels.len())), np.zeros((len(MODELS), labels.len()))]
    touched = np.zeros(labels.len(), np.int64)
    for chunk in chunks:
        width = chunk.touched.shape[0]
        sums[0][:, :width] += chunk.conversions
        sums[1][:, :width] += chunk.revenue
        touched[:width] += chunk.touched
    orders = sum(chunk.orders for chunk in chunks)
    rows = _credit_rows(labels, sums[0], sums[1], touched)
    return AttributionResult(_table(rows, spec, orders, log.has_money), orders, spec, log.has_money)


def _read_credits(log: EventLog, spec: AttributionSpec, *, keyed: bool) -> "list[_Credits | None]":
    """Every chunk's credits. Without ``keyed``, no session value is read (encoding them costs
    more than the rest): a chunk with two sessions of a user starting at one instant, which only
    their values can order, gives ``None`` instead, and the caller reads again ``keyed``."""
    options = UnitOptions(session_gap=spec.session_gap, moments=(), cart_value=False)
    values = (spec.touch, *(("session",) if keyed else ()))
    return read_session_chunks(
        log, options, lambda chunk: _chunk_credits(chunk, spec, log, keyed), values=values
    )


@dataclass(frozen=True)
class _Credits:
    """One chunk's credits per model and touch code (codes of ``labels``, the read's values)."""

    conversions: NDArray[np.float64]
    revenue: NDArray[np.float64]
    touched: NDArray[np.int64]
    orders: int
    labels: pl.Series


def _chunk_credits(
    chunk: Sessions, spec: AttributionSpec, log: EventLog, keyed: bool
) -> "_Credits | None":
    """A chunk's credits and its orders in range (``None``: ties that need the session values)."""
    user, head, fields = chunk.facts()[:3]
    first = np.ascontiguousarray(fields[:, FIRST])
    labels, label_of = _labels(chunk.dictionaries[spec.touch].values())
    codes = label_of[chunk.codes(spec.touch, head)]
    tied = (user[1:] == user[:-1]) & (first[1:] == first[:-1])
    if tied.any() and not keyed:
        return None
    position = np.arange(user.shape[0])
    if tied.any():
        position = _path_order(chunk, user, first, head)
        first[position], codes[position] = first.copy(), codes.copy()
    starts = np.searchsorted(user, np.arange(chunk.starts.shape[0])).astype(np.int64)
    placed = placed_orders(chunk, money=log.has_money)
    orders = placed.filter(spec.contains(pl.col("time").cast(pl.Datetime("us", "UTC"))))
    own = position[starts[orders["user"].to_numpy()] + orders["session"].to_numpy()]
    direct = labels.str.to_lowercase().is_in(list(DIRECT)).to_numpy().astype(np.uint8)
    conversions, revenue, touched = credits(
        starts,
        first,
        codes,
        orders["user"].to_numpy(),
        own,
        orders["time"].to_numpy(),
        orders["value"].fill_null(0.0).to_numpy(),
        int(spec.lookback.total_seconds() * MICROS),
        spec.half_life.total_seconds() * MICROS,
        direct,
    )
    return _Credits(conversions, revenue, touched, orders.height, labels)


def _path_order(
    chunk: Sessions, user: NDArray[np.int64], first: NDArray[np.int64], head: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Each session's position in path order: the facts are in (user, first event) order, and
    sessions of one user starting at one instant (possible only with a session column) go by
    session value as text."""
    key = chunk.value("session", head).cast(pl.String)
    frame = pl.DataFrame({"user": user, "first": first, "key": key}).with_row_index("row")
    ordered = frame.sort(["user", "first", "key"], nulls_last=False)["row"].to_numpy()
    position = np.empty(user.shape[0], np.int64)
    position[ordered] = np.arange(user.shape[0])
    return position


def _labels(values: pl.Series) -> tuple[pl.Series, NDArray[np.int64]]:
    """The touch labels (values as text, a null as ``(none)``, each once) and each value's
    label code (a null and a literal ``(none)`` are one label)."""
    text = values.cast(pl.String).fill_null(NONE).alias("touch")
    labels = text.unique(maintain_order=True)
    codes = text.replace_strict(
        labels, pl.int_range(labels.len(), eager=True), return_dtype=pl.Int64
    )
    return labels, codes.to_numpy()


def _credit_rows(
    labels: pl.Series,
    conversions: NDArray[np.float64],
    revenue: NDArray[np.float64],
    touched: NDArray[np.int64],
) -> pl.DataFrame:
    """One row per (model, touch code), labelled."""
    models = len(MODELS)
    return pl.DataFrame(
        {
            "model": np.repeat(np.arange(models), labels.len()),
            "touch": pl.concat([labels] * models) if labels.len() else labels,
            "conversions": conversions.reshape(-1),
            "revenue": revenue.reshape(-1),
            "orders_touched": np.tile(touched, models),
        },
        schema_overrides={"touch": pl.String},
    )


def _table(credited: pl.DataFrame, spec: AttributionSpec, orders: int, money: bool) -> pl.DataFrame:
    """The SPEC table: every touch value of any path under each model of ``spec``."""
    kept = credited.filter(pl.col("orders_touched") > 0)
    wanted = [MODELS.index(model) for model in spec.models]
    kept = kept.filter(pl.col("model").is_in(wanted))
    totals = kept.group_by("model").agg(pl.col("revenue").sum().alias("total"))
    kept = kept.join(totals, on="model")
    conversions = kept["conversions"].to_numpy()
    revenue, total = kept["revenue"].to_numpy(), kept["total"].to_numpy()
    table = kept.with_columns(
        pl.Series("conversions", np.round(conversions, 3)),
        divided(conversions, float(orders)).alias("conversion_share"),
        divided(revenue, total).alias("revenue_share"),
    )
    if not money:
        table = table.with_columns(
            pl.lit(None, pl.Float64).alias(c) for c in ("revenue", "revenue_share")
        )
    ordered = table.sort(["model", "conversions", "touch"], descending=[False, True, False])
    model = pl.col("model").replace_strict(list(range(len(MODELS))), list(MODELS))
    return ordered.with_columns(model.cast(pl.String)).select(COLUMNS)
