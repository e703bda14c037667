"""Per-unit funnel levels on one chunk of whole units (SPEC §4), vectorised over attempts.

Events are sorted by (unit, time, row) and addressed by position. Each step-1 event starts an
attempt; an attempt advances step by step to the earliest eligible event, found with a binary search
in the sorted positions of that step's events. Ties in time may match in either order (the search
starts at the first event of the previous match's instant); a step name used twice needs a new
event.
"""

from dataclasses import dataclass

import polars as pl

from journeykit.funnel.spec import FunnelSpec

MICROS = 1_000_000


@dataclass(frozen=True)
class Sequence:
    """One chunk of events in (unit, time, row) order, addressed by position."""

    unit: pl.Series
    time: pl.Series
    event: pl.Series
    tie_start: pl.Series
    positions_by_event: dict[str, pl.Series]

    @classmethod
    def build(cls, events: pl.DataFrame, unit_columns: list[str]) -> "Sequence":
        frame = events.select(
            pl.struct(unit_columns).rle_id().alias("unit"),
            pl.col("time").dt.epoch("us").alias("time"),
            pl.col("event"),
        ).with_row_index("pos")
        new_instant = (pl.col("unit") != pl.col("unit").shift()) | (
            pl.col("time") != pl.col("time").shift()
        )
        tie_start = frame.select(
            pl.when(new_instant.fill_null(True)).then(pl.col("pos")).forward_fill()
        ).to_series()
        groups = frame.group_by("event").agg("pos")  # positions stay in (sorted) row order
        positions = {name: pos for name, pos in zip(groups["event"], groups["pos"], strict=True)}
        return cls(frame["unit"], frame["time"], frame["event"], tie_start, positions)

    def first_at_or_after(self, name: str, lower: pl.Series, offset: int = 0) -> pl.Series:
        """Position of the (offset+1)-th ``name`` event at position ≥ ``lower`` (null if none).

        A null ``lower`` (an attempt that already stopped) gives null.
        """
        positions = self.positions_by_event.get(name, pl.Series([], dtype=pl.UInt32))
        index = positions.search_sorted(lower, side="left") + offset
        found = (index < positions.len()) & lower.is_not_null()
        in_bounds = pl.select(pl.when(found).then(index)).to_series()
        return positions.gather(in_bounds)


def _same_unit_within(
    seq: Sequence, candidate: pl.Series, unit: pl.Series, start_time: pl.Series, window_us: int
) -> pl.Series:
    ok = (seq.unit.gather(candidate) == unit) & (
        seq.time.gather(candidate) - start_time <= window_us
    )
    return ok.fill_null(False)


def _when(mask: pl.Series, values: pl.Series) -> pl.Series:
    return pl.select(pl.when(mask).then(values)).to_series()


def ordered_attempts(seq: Sequence, starts: pl.Series, spec: FunnelSpec) -> list[pl.Series]:
    """Matched times per step for each attempt (null from the first step not reached)."""
    window_us = int(spec.window.total_seconds() * MICROS)
    unit, start_time = seq.unit.gather(starts), seq.time.gather(starts)
    matched, times = starts, [start_time]
    last_of_name = {spec.steps[0]: starts}
    for name in spec.steps[1:]:
        lower = seq.tie_start.gather(matched)
        if name in last_of_name:
            after_last_use = pl.max_horizontal(lower, last_of_name[name] + 1)
            lower = _when(lower.is_not_null(), pl.select(after_last_use).to_series())
        candidate = seq.first_at_or_after(name, lower)
        matched = _when(_same_unit_within(seq, candidate, unit, start_time, window_us), candidate)
        last_of_name[name] = matched
        times.append(seq.time.gather(matched))
    return times


def strict_attempts(seq: Sequence, starts: pl.Series, spec: FunnelSpec) -> list[pl.Series]:
    """Like ``ordered_attempts`` but each step must be the unit's very next event."""
    window_us = int(spec.window.total_seconds() * MICROS)
    unit, start_time = seq.unit.gather(starts), seq.time.gather(starts)
    matched, times = starts, [start_time]
    for name in spec.steps[1:]:
        following = _when(matched + 1 < seq.unit.len(), matched + 1)
        is_step = (seq.event.gather(following) == name).fill_null(False)
        ok = is_step & _same_unit_within(seq, following, unit, start_time, window_us)
        matched = _when(ok, following)
        times.append(seq.time.gather(matched))
    return times


def any_order_attempts(seq: Sequence, starts: pl.Series, spec: FunnelSpec) -> list[pl.Series]:
    """Earliest event of each step inside ``[t(e1), t(e1) + window]``, in step order.

    A step name used n times takes the n earliest events of that name.
    """
    window_us = int(spec.window.total_seconds() * MICROS)
    unit, start_time = seq.unit.gather(starts), seq.time.gather(starts)
    lower = seq.tie_start.gather(starts)
    seen: dict[str, int] = {}
    times = []
    for name in spec.steps:
        candidate = seq.first_at_or_after(name, lower, offset=seen.get(name, 0))
        seen[name] = seen.get(name, 0) + 1
        ok = _same_unit_within(seq, candidate, unit, start_time, window_us)
        times.append(_when(ok, seq.time.gather(candidate)))
    return times
