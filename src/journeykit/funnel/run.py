"""``funnel(log, spec)``: per-unit levels from the sequence engine, then the table of SPEC §4."""

from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from journeykit.engine import EventRead, Sequences, read_sequences
from journeykit.engine.funnel import KERNELS
from journeykit.engine.units import gap_sessions
from journeykit.funnel.spec import FunnelSpec
from journeykit.funnel.table import funnel_table
from journeykit.load.events import EventLog
from journeykit.trend import Trend, epoch_us, trend_of, with_anomalies

MICROS = 1_000_000
OTHER = 255
"""The name code of an event that is no step (kept for strict order and gap sessions)."""


@dataclass(frozen=True)
class FunnelResult:
    table: pl.DataFrame
    spec: FunnelSpec
    trend: Trend | None = None


def funnel(log: EventLog, spec: FunnelSpec) -> FunnelResult:
    """The funnel table of ``spec`` over ``log`` (one row per step, per breakdown value).

    >>> from journeykit.load.events import load_events
    >>> log = load_events(["data/samples/events.parquet"])  # doctest: +SKIP
    >>> funnel(log, FunnelSpec(steps=("product_view", "purchase"))).table  # doctest: +SKIP
    """
    trend = trend_of(log, spec.trend, spec.tz, spec.since, spec.until) if spec.trend else None
    units = unit_levels(log, spec, trend)
    if spec.complete_only:
        units = units.filter(~pl.col("in_progress"))
    if trend is None:
        return FunnelResult(funnel_table(units, spec), spec)
    table = funnel_table(units, spec, periods=len(trend.periods))
    partial = trend.partial(spec.window, log.profile.last)
    keys = ["breakdown"] if spec.breakdown is not None else []
    table = with_anomalies(
        table.rename({spec.breakdown: "breakdown"} if spec.breakdown else {}),
        keys,
        partial,
        spec.baseline,
        spec.alpha,
    )
    index = pl.col("period_index")
    table = table.select(
        pl.lit(trend.labels()).gather(index).alias("period"),
        pl.exclude("period_index", "z", "anomaly"),
        pl.lit(pl.Series(partial, dtype=pl.Boolean)).gather(index).alias("partial"),
        "z",
        "anomaly",
    )
    return FunnelResult(
        table.rename({"breakdown": spec.breakdown} if spec.breakdown else {}), spec, trend
    )


def _needs_all_events(log: EventLog, spec: FunnelSpec) -> bool:
    return spec.order == "strict" or (spec.by == "session" and not log.has_sessions)


def _read(log: EventLog, spec: FunnelSpec) -> EventRead:
    """What the engine reads: the step events (every event for strict order and gap sessions),
    each with its step-name code; the session and held value split users into units."""
    names = list(dict.fromkeys(spec.steps))
    frame = log.frame if _needs_all_events(log, spec) else log.events(names)
    codes = {step: index for index, step in enumerate(names)}
    never_null = frozenset() if log.profile.session_nulls else frozenset({"session"})
    read = EventRead(frame, log.label, never_null=never_null, names=codes, unnamed=OTHER)
    read = read.with_keys(*_splits(log, spec))
    return read.with_values(spec.breakdown) if spec.breakdown is not None else read


def _splits(log: EventLog, spec: FunnelSpec) -> tuple[str, ...]:
    """The columns whose values split a user's events into units (besides gap sessions)."""
    by_session = ("session",) if spec.by == "session" and log.has_sessions else ()
    return by_session + ((spec.hold,) if spec.hold is not None else ())


def unit_levels(log: EventLog, spec: FunnelSpec, trend: Trend | None = None) -> pl.DataFrame:
    """One row per unit that entered (per period of entry with a ``trend``: ``period_index``):
    ``level``, ``in_progress``, ``gap_2…gap_n`` (µs between the chosen attempt's matched events)
    and ``breakdown`` (the value on its step-1 event)."""
    last_us = epoch_us(log.profile.last) if log.profile.last is not None else None
    read = _read(log, spec)
    gap = int(spec.session_gap.total_seconds() * MICROS)
    split_gaps = spec.by == "session" and not log.has_sessions
    splits = _splits(log, spec)
    rows = log.rows_estimate(None if _needs_all_events(log, spec) else set(spec.steps))
    edges = trend.edges() if trend is not None else _entry_range(spec)
    results = read_sequences(
        read,
        rows,
        lambda seq: _chunk_levels(
            seq, spec, last_us, gap if split_gaps else None, splits, edges, trend is not None
        ),
        log.profile.user_range,
    )
    frames = [frame for frame in results if frame.height]
    return pl.concat(frames) if frames else _chunk_levels_empty(spec, read, trend is not None)


def _entry_range(spec: FunnelSpec) -> NDArray[np.int64]:
    """``[since, until)`` as the one entry period of a funnel without a trend."""
    bounds = np.iinfo(np.int64)
    since = epoch_us(spec.since) if spec.since is not None else bounds.min
    until = epoch_us(spec.until) if spec.until is not None else bounds.max
    return np.array([since, until], np.int64)


def _chunk_levels(
    seq: Sequences,
    spec: FunnelSpec,
    last_us: int | None,
    gap: int | None,
    splits: tuple[str, ...],
    edges: NDArray[np.int64],
    periods: bool,
) -> pl.DataFrame:
    extra = None if gap is None else gap_sessions(seq.starts, seq.time, gap)
    seq = seq.split(splits, extra)
    names = list(dict.fromkeys(spec.steps))
    steps = np.array([names.index(step) for step in spec.steps], dtype=np.uint8)
    window = int(spec.window.total_seconds() * MICROS)
    name: NDArray[np.uint8] = seq.column("name")
    _, period, level, chosen, times, last_start = KERNELS[spec.order](
        seq.starts, seq.time, name, steps, len(names), window, edges
    )
    n = len(spec.steps)
    ends = last_us if last_us is not None else 0
    columns: dict[str, object] = {"period_index": period} if periods else {}
    columns |= {"level": level, "in_progress": (level < n) & (last_start + window > ends)}
    for k in range(2, n + 1):
        columns[f"gap_{k}"] = times[:, k - 1] - times[:, k - 2]
    frame = pl.DataFrame(columns)
    if spec.breakdown is not None:
        frame = frame.with_columns(seq.values(spec.breakdown, chosen).alias("breakdown"))
    return frame


def _chunk_levels_empty(spec: FunnelSpec, read: EventRead, periods: bool) -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {"period_index": pl.Int64()} if periods else {}
    schema |= {"level": pl.UInt8(), "in_progress": pl.Boolean()}
    schema |= {f"gap_{k}": pl.Int64() for k in range(2, len(spec.steps) + 1)}
    if spec.breakdown is not None:
        schema["breakdown"] = read.frame.collect_schema()[spec.breakdown]
    return pl.DataFrame(schema=schema)
