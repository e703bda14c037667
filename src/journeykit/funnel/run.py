"""``funnel(log, spec)``: per-unit levels from the sequence engine, then the table of SPEC §4."""

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl
from numpy.typing import NDArray

from journeykit.engine import EventRead, Sequences, read_sequences
from journeykit.engine.funnel import KERNELS, NEVER
from journeykit.engine.units import gap_sessions
from journeykit.funnel.spec import FunnelSpec
from journeykit.funnel.table import funnel_table
from journeykit.load.events import EventLog

MICROS = 1_000_000
OTHER = 255
"""The name code of an event that is no step (kept for strict order and gap sessions)."""


@dataclass(frozen=True)
class FunnelResult:
    table: pl.DataFrame
    spec: FunnelSpec
    warnings: tuple[str, ...] = ()


def funnel(log: EventLog, spec: FunnelSpec) -> FunnelResult:
    """The funnel table of ``spec`` over ``log`` (one row per step, per breakdown value).

    >>> from journeykit.load.events import load_events
    >>> log = load_events(["data/samples/events.parquet"])  # doctest: +SKIP
    >>> funnel(log, FunnelSpec(steps=("product_view", "purchase"))).table  # doctest: +SKIP
    """
    units = unit_levels(log, spec)
    if spec.complete_only:
        units = units.filter(~pl.col("in_progress"))
    return FunnelResult(funnel_table(units, spec), spec)


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


def unit_levels(log: EventLog, spec: FunnelSpec) -> pl.DataFrame:
    """One row per unit that entered: ``level``, ``in_progress``, ``gap_2…gap_n`` (µs between the
    chosen attempt's matched events) and ``breakdown`` (the value on its step-1 event)."""
    last_us = _epoch_us(log.profile.last) if log.profile.last is not None else None
    read = _read(log, spec)
    gap = int(spec.session_gap.total_seconds() * MICROS)
    split_gaps = spec.by == "session" and not log.has_sessions
    splits = _splits(log, spec)
    rows = log.rows_estimate(None if _needs_all_events(log, spec) else set(spec.steps))
    results = read_sequences(
        read,
        rows,
        lambda seq: _chunk_levels(seq, spec, last_us, gap if split_gaps else None, splits),
        log.profile.user_range,
    )
    frames = [frame for frame in results if frame.height]
    return pl.concat(frames) if frames else _chunk_levels_empty(spec, read)


def _chunk_levels(
    seq: Sequences,
    spec: FunnelSpec,
    last_us: int | None,
    gap: int | None,
    splits: tuple[str, ...],
) -> pl.DataFrame:
    extra = None if gap is None else gap_sessions(seq.starts, seq.time, gap)
    seq = seq.split(splits, extra)
    names = list(dict.fromkeys(spec.steps))
    steps = np.array([names.index(step) for step in spec.steps], dtype=np.uint8)
    since = _epoch_us(spec.since) if spec.since is not None else NEVER
    until = _epoch_us(spec.until) if spec.until is not None else np.iinfo(np.int64).max
    window = int(spec.window.total_seconds() * MICROS)
    name: NDArray[np.uint8] = seq.column("name")
    level, chosen, times, last_start = KERNELS[spec.order](
        seq.starts, seq.time, name, steps, len(names), window, since, until
    )
    entered = level > 0
    level, chosen, times, last_start = (
        level[entered],
        chosen[entered],
        times[entered],
        last_start[entered],
    )
    n = len(spec.steps)
    ends = last_us if last_us is not None else 0
    columns: dict[str, object] = {
        "level": level,
        "in_progress": (level < n) & (last_start + window > ends),
    }
    for k in range(2, n + 1):
        columns[f"gap_{k}"] = times[:, k - 1] - times[:, k - 2]
    frame = pl.DataFrame(columns)
    if spec.breakdown is not None:
        frame = frame.with_columns(seq.values(spec.breakdown, chosen).alias("breakdown"))
    return frame


def _chunk_levels_empty(spec: FunnelSpec, read: EventRead) -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {"level": pl.UInt8(), "in_progress": pl.Boolean()}
    schema |= {f"gap_{k}": pl.Int64() for k in range(2, len(spec.steps) + 1)}
    if spec.breakdown is not None:
        schema["breakdown"] = read.frame.collect_schema()[spec.breakdown]
    return pl.DataFrame(schema=schema)


def _epoch_us(moment: datetime) -> int:
    return int(pl.Series([moment]).dt.epoch("us")[0])
