"""``funnel(log, spec)``: per-unit levels from the sequence engine, then the table of SPEC §4."""

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import polars as pl
from numpy.typing import NDArray

from journeykit.engine import EventRead, Sequences, read_sequences
from journeykit.engine.funnel import (
    KERNELS,
    Levels,
    excluding_levels,
    matching_levels,
    searching_levels,
    strict_levels,
)
from journeykit.funnel.spec import FunnelSpec
from journeykit.funnel.table import funnel_table
from journeykit.load.events import EventLog
from journeykit.trend import Trend, epoch_us, trend_of, with_anomalies

MICROS = 1_000_000
_LATEST = np.iinfo(np.int64).max
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
    keys = [spec.breakdown] if spec.breakdown is not None else []
    table = with_anomalies(table, keys, partial, spec.baseline, spec.alpha)
    index = pl.col("period_index")
    table = table.select(
        pl.lit(trend.labels()).gather(index).alias("period"),
        pl.exclude("period_index", "z", "anomaly"),
        pl.lit(pl.Series(partial, dtype=pl.Boolean)).gather(index).alias("partial"),
        "z",
        "anomaly",
    )
    return FunnelResult(table, spec, trend)


def _needs_all_events(log: EventLog, spec: FunnelSpec) -> bool:
    return spec.order == "strict" or (spec.by == "session" and not log.has_sessions)


@dataclass(frozen=True)
class Codes:
    """Each event name's code, each step's code(s) and the exclusions as (code, i, j) rows.

    Usually the names of one step share its code and identical steps share a code (the §4
    rules for a repeated name then apply), so the kernels see one name per step (SPEC §13: a
    step ``a|b`` matches either). When a name is in two different steps (``a|b`` and ``b``),
    or an exclusion names a step's event, every name has its own code and ``member[k, x]`` says
    whether code ``x`` matches step k (``overlap``). Otherwise each exclusion's names share a
    code of their own.
    """

    names: dict[str, int]
    steps: NDArray[np.uint8]
    member: NDArray[np.uint8]
    excluded: NDArray[np.uint8]
    """``excluded[e, x]``: whether name code ``x`` is exclusion e's."""
    exclusions: NDArray[np.int64]
    overlap: bool

    @property
    def count(self) -> int:
        return max(self.names.values(), default=0) + 1


def codes_of(spec: FunnelSpec) -> Codes:
    """The ``Codes`` of a funnel (``overlap`` also when an exclusion names a step's event)."""
    groups = list(dict.fromkeys(frozenset(step.split("|")) for step in spec.steps))
    stepped = [name for group in groups for name in sorted(group)]
    excluded = [names.split("|") for names, _, _ in spec.exclude]
    shared = {name for names in excluded for name in names} & set(stepped)
    excluding = [name for group in dict.fromkeys(map(frozenset, excluded)) for name in group]
    overlap = len(stepped) != len(set(stepped)) or bool(shared)
    overlap |= len(excluding) != len(set(excluding))
    if overlap:
        every = [*stepped, *(name for names in excluded for name in names)]
        codes = {name: index for index, name in enumerate(dict.fromkeys(every))}
    else:
        codes = {name: index for index, group in enumerate(groups) for name in group}
        for names in excluded:  # each exclusion's names: one code
            code = codes.get(names[0], max(codes.values()) + 1)
            codes |= dict.fromkeys(names, code)
    member = np.zeros((len(spec.steps), OTHER + 1), np.uint8)
    for k, step in enumerate(spec.steps):
        member[k, [codes[name] for name in step.split("|")]] = 1
    excludes = np.zeros((len(excluded), OTHER + 1), np.uint8)
    for e, names in enumerate(excluded):
        excludes[e, [codes[name] for name in names]] = 1
    rows = [(int(np.argmax(excludes[e])), i, j) for e, (_, i, j) in enumerate(spec.exclude)]
    return Codes(
        codes,
        np.argmax(member, axis=1).astype(np.uint8),
        member,
        excludes,
        np.array(rows, np.int64).reshape(-1, 3),
        overlap,
    )


def _read(log: EventLog, spec: FunnelSpec, codes: Codes) -> EventRead:
    """What the engine reads: the step events (every event for strict order and gap sessions),
    each with its step code; the session and held value split users into units."""
    frame = log.frame if _needs_all_events(log, spec) else log.events(list(codes.names))
    units = unit_keys(log, spec.by, spec.session_gap, spec.hold)
    read = unit_read(log, frame, units, codes.names, OTHER)
    return read.with_values(spec.breakdown) if spec.breakdown is not None else read


def unit_read(
    log: EventLog, frame: pl.LazyFrame, units: "UnitKeys", names: dict[str, int], unnamed: int
) -> EventRead:
    """The events of ``frame`` with their name codes (``names``; ``unnamed`` for the others)
    and the key columns of ``units``."""
    never_null = frozenset() if log.profile.session_nulls else frozenset({"session"})
    read = EventRead(frame, log.label, never_null=never_null, names=names, unnamed=unnamed)
    return read.with_keys(*units.columns)


@dataclass(frozen=True)
class UnitKeys:
    """How a chunk's users become units (SPEC §4 ``--by``, ``--hold``): the key columns that
    split them, and the inactivity gap (µs) of sessions when the log has no session column."""

    columns: tuple[str, ...] = ()
    gap: int | None = None

    def of(self, seq: Sequences) -> Sequences:
        return seq.split(self.columns, self.gap)


def unit_keys(log: EventLog, by: str, session_gap: timedelta, hold: str | None = None) -> UnitKeys:
    """The ``UnitKeys`` of units ``by`` user or session, each held at one value of ``hold``."""
    sessions = by == "session"
    columns = ("session",) if sessions and log.has_sessions else ()
    gap = int(session_gap.total_seconds() * MICROS) if sessions and not log.has_sessions else None
    return UnitKeys(columns + ((hold,) if hold is not None else ()), gap)


def unit_levels(log: EventLog, spec: FunnelSpec, trend: Trend | None = None) -> pl.DataFrame:
    """One row per unit that entered (per period of entry with a ``trend``: ``period_index``):
    ``level``, ``in_progress``, ``gap_2…gap_n`` (µs between the chosen attempt's matched events)
    and ``breakdown`` (the value on its step-1 event)."""
    last_us = epoch_us(log.profile.last) if log.profile.last is not None else None
    codes = codes_of(spec)
    read = _read(log, spec, codes)
    units = unit_keys(log, spec.by, spec.session_gap, spec.hold)
    rows = log.rows_estimate(None if _needs_all_events(log, spec) else set(codes.names))
    edges = trend.edges() if trend is not None else entry_range(spec)
    results = read_sequences(
        read,
        rows,
        lambda seq: _chunk_levels(units.of(seq), spec, codes, last_us, edges, trend is not None),
        log.profile.user_range,
    )
    frames = [frame for frame in results if frame.height]
    return pl.concat(frames) if frames else _chunk_levels_empty(spec, read, trend is not None)


def entry_range(spec: FunnelSpec) -> NDArray[np.int64]:
    """``[since, until)`` as the one entry period of a funnel without a trend."""
    bounds = np.iinfo(np.int64)
    since = epoch_us(spec.since) if spec.since is not None else bounds.min
    until = epoch_us(spec.until) if spec.until is not None else bounds.max
    return np.array([since, until], np.int64)


def _chunk_levels(
    seq: Sequences,
    spec: FunnelSpec,
    codes: Codes,
    last_us: int | None,
    edges: NDArray[np.int64],
    periods: bool,
) -> pl.DataFrame:
    name: NDArray[np.uint8] = seq.column("name")
    _, period, level, chosen, matched, last_start = levels_of(seq, name, codes, spec, edges)
    # The matched events' times in time order (``any`` matches steps in any order).
    times = np.sort(np.where(matched >= 0, seq.time[np.maximum(matched, 0)], _LATEST), axis=1)
    n = len(spec.steps)
    columns: dict[str, object] = {"period_index": period} if periods else {}
    columns |= {"level": level, "in_progress": in_progress(spec, level, last_start, last_us)}
    for k in range(2, n + 1):
        columns[f"gap_{k}"] = times[:, k - 1] - times[:, k - 2]
        columns[f"total_{k}"] = times[:, k - 1] - times[:, 0]
    frame = pl.DataFrame(columns)
    if spec.breakdown is not None:
        at = _attributed(spec, chosen, matched)
        value = seq.values(spec.breakdown, np.maximum(at, 0))
        frame = frame.with_columns(pl.when(pl.Series(at >= 0)).then(value).alias("breakdown"))
    return frame


def in_progress(
    spec: FunnelSpec, level: NDArray[np.uint8], last_start: NDArray[np.int64], last_us: int | None
) -> NDArray[np.bool_]:
    """Units still in progress (SPEC §4): not complete, and the window of their last in-range
    step-1 event (``last_start``, µs) ends after the data's last instant ``last_us``."""
    ends = last_us if last_us is not None else 0
    window = int(spec.window.total_seconds() * MICROS)
    still: NDArray[np.bool_] = (level < len(spec.steps)) & (last_start + window > ends)
    return still


def levels_of(
    seq: Sequences,
    name: NDArray[np.uint8],
    codes: Codes,
    spec: FunnelSpec,
    edges: NDArray[np.int64],
) -> Levels:
    """The kernel of the funnel's order, steps and exclusions (``journeykit.engine.funnel``)
    over the units of ``seq`` (``name``: each event's code of ``codes``)."""
    window = int(spec.window.total_seconds() * MICROS)
    if spec.order == "strict":
        return strict_levels(seq.starts, seq.time, name, codes.member, window, edges)
    if codes.overlap:
        if spec.exclude:
            ranges = codes.exclusions[:, 1:]
            return searching_levels(
                seq.starts, seq.time, name, codes.member, window, edges, codes.excluded, ranges
            )
        ordered = spec.order == "ordered"
        return matching_levels(seq.starts, seq.time, name, codes.member, window, edges, ordered)
    arguments = (seq.starts, seq.time, name, codes.steps, codes.count, window, edges)
    if spec.exclude:
        return excluding_levels(*arguments, codes.exclusions)
    return KERNELS[spec.order](*arguments)


def _attributed(
    spec: FunnelSpec, chosen: NDArray[np.int64], matched: NDArray[np.int64]
) -> NDArray[np.int64]:
    """The position whose breakdown value a unit takes (SPEC §13): its chosen attempt's step-1
    event, its last matched event in (time, row) order (the largest position), or its step-N
    event (-1 when it did not reach step N)."""
    if spec.attribution == "first":
        return chosen
    if spec.attribution == "last":
        last: NDArray[np.int64] = matched.max(axis=1)
        return last
    return matched[:, int(spec.attribution.removeprefix("step:")) - 1]


def _chunk_levels_empty(spec: FunnelSpec, read: EventRead, periods: bool) -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {"period_index": pl.Int64()} if periods else {}
    schema |= {"level": pl.UInt8(), "in_progress": pl.Boolean()}
    for k in range(2, len(spec.steps) + 1):
        schema |= {f"gap_{k}": pl.Int64(), f"total_{k}": pl.Int64()}
    if spec.breakdown is not None:
        schema["breakdown"] = read.frame.collect_schema()[spec.breakdown]
    return pl.DataFrame(schema=schema)
