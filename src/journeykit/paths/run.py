"""``paths(log, spec)``: what units do after (or before) an anchor event (SPEC §14).

The sequence engine walks each unit's events once (``journeykit.engine.paths``); each chunk's
path rows are counted by (anchor name, path), and every output comes from those counts.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from journeykit.engine import Sequences, read_sequences
from journeykit.engine.paths import END, NONE, START, first_anchors, walk_paths
from journeykit.funnel.run import (
    OTHER,
    Codes,
    codes_of,
    entry_range,
    in_progress,
    levels_of,
    unit_keys,
    unit_read,
)
from journeykit.funnel.spec import FunnelSpec
from journeykit.load.events import EventLog
from journeykit.paths.spec import PathsSpec
from journeykit.stats import divided
from journeykit.trend import epoch_us

PATH_COLUMNS = ["path", "units", "share"]
TRANSITION_COLUMNS = ["depth", "from", "to", "units"]
OTHER_PATHS = "(other)"
SEPARATOR = " > "
_SPECIAL = {END: "(end)", START: "(start)"}


@dataclass(frozen=True)
class PathsResult:
    """``counts``: one row per distinct (anchor, path) — ``at_0`` (the anchor's name),
    ``at_1…at_depth`` (the names at each distance from it, outward; null beyond the end) and
    ``units``. ``anchored``: the units with an anchor."""

    counts: pl.DataFrame
    anchored: int
    spec: PathsSpec
    in_progress: int = 0
    """With ``dropped_at``: units at level K − 1 left out because they are still in progress."""

    @property
    def table(self) -> pl.DataFrame:
        """``path, units, share``: the ``top`` paths, then ``(other)`` (when not empty)."""
        ranked = self.paths()
        top, rest = ranked.head(self.spec.top), ranked.slice(self.spec.top)
        if rest.is_empty():
            return top
        other = pl.DataFrame({"path": [OTHER_PATHS], "units": [int(rest["units"].sum())]})
        return pl.concat([top, self._shared(other)]).select(PATH_COLUMNS)

    def paths(self) -> pl.DataFrame:
        """Every path (``path, units, share``), by units descending then path."""
        cells = [f"at_{d}" for d in range(1, self.spec.depth + 1)]
        if self.spec.direction == "before":
            cells.reverse()
        path = pl.concat_str(cells, separator=SEPARATOR, ignore_nulls=True).alias("path")
        grouped = self.counts.group_by(path).agg(pl.col("units").sum())
        ranked = grouped.sort(["units", "path"], descending=[True, False])
        return self._shared(ranked).select(PATH_COLUMNS)

    @property
    def transitions(self) -> pl.DataFrame:
        """``depth, from, to, units``: the steps between distances d − 1 and d, in time order."""
        steps = []
        for d in range(1, self.spec.depth + 1):
            near, far = pl.col(f"at_{d - 1}"), pl.col(f"at_{d}")
            ends = (far, near) if self.spec.direction == "before" else (near, far)
            steps.append(
                self.counts.filter(far.is_not_null())
                .group_by(ends[0].alias("from"), ends[1].alias("to"))
                .agg(pl.col("units").sum())
                .select(pl.lit(d, pl.Int64).alias("depth"), "from", "to", "units")
            )
        every = pl.concat(steps)
        order = ["depth", "units", "from", "to"]
        return every.sort(order, descending=[False, True, False, False]).select(TRANSITION_COLUMNS)

    def _shared(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` with ``share`` = units / anchored units."""
        units = frame["units"].to_numpy().astype(np.float64)
        return frame.with_columns(divided(units, self.anchored).cast(pl.Float64).alias("share"))


def paths(log: EventLog, spec: PathsSpec) -> PathsResult:
    """The paths of ``spec`` over ``log`` (every event is read: paths see all of them).

    >>> from journeykit.load.events import load_events
    >>> log = load_events(["data/samples/events.parquet"])  # doctest: +SKIP
    >>> paths(log, PathsSpec(anchor="add_to_cart")).table  # doctest: +SKIP
    """
    names = {name: code for code, name in enumerate(log.profile.events)}
    units = unit_keys(log, spec.by, spec.gap)
    anchors = _anchors(log, spec, names)
    forward = spec.direction == "after"

    def compute(seq: Sequences) -> tuple[pl.DataFrame, int]:
        seq = units.of(seq)
        name = seq.column("name")
        positions, waiting = anchors(seq, name)
        rows = walk_paths(seq.starts, name, positions, spec.depth, spec.collapse, forward)
        return _counted(rows), waiting

    read = unit_read(log, log.frame, units, names, unnamed=len(names))
    chunks = read_sequences(read, log.rows_estimate(None), compute, log.profile.user_range)
    empty = _counted(np.empty((0, spec.depth + 1), np.int32))
    counted = pl.concat([empty, *(frame for frame, _ in chunks)])
    counts = counted.group_by(pl.exclude("units")).agg(pl.col("units").sum())
    waiting = sum(waiting for _, waiting in chunks)
    anchored = int(counts["units"].sum())
    return PathsResult(_named(counts, log.profile.events), anchored, spec, waiting)


Anchors = Callable[[Sequences, NDArray[np.unsignedinteger]], tuple[NDArray[np.int64], int]]
"""Each unit's anchor position in a chunk (-1 for none), from the chunk and its name codes,
and how many units were left out as still in progress."""


def _anchors(log: EventLog, spec: PathsSpec, names: dict[str, int]) -> Anchors:
    """The anchor rule of ``spec``: the first event with an anchor name, or the drop-off's."""
    if spec.funnel is not None and spec.dropped_at is not None:
        return _dropped_anchors(log, spec.funnel, spec.dropped_at, names)
    member = np.zeros(len(names) + 1, np.uint8)
    assert spec.anchor is not None
    member[[names[name] for name in spec.anchor.split("|") if name in names]] = 1
    return lambda seq, name: (first_anchors(seq.starts, name, member), 0)


def _dropped_anchors(
    log: EventLog, funnel: FunnelSpec, dropped_at: int, names: dict[str, int]
) -> Anchors:
    """Units whose level is exactly K − 1 and that are not in progress (SPEC §14): the chosen
    attempt's step-(K−1) event, or for ``any`` its last matched event."""
    codes: Codes = codes_of(funnel)
    step_code = np.full(len(names) + 1, OTHER, np.uint8)
    for name, code in codes.names.items():
        if name in names:
            step_code[names[name]] = code
    edges = entry_range(funnel)
    last_us = epoch_us(log.profile.last) if log.profile.last is not None else None

    def anchors(seq: Sequences, name: NDArray[np.unsignedinteger]) -> tuple[NDArray[np.int64], int]:
        unit, _, level, _, matched, last_start = levels_of(
            seq, step_code[name], codes, funnel, edges
        )
        stopped = level == dropped_at - 1
        waiting = in_progress(funnel, level, last_start, last_us)
        keep = stopped & ~waiting
        chosen = matched[keep]
        at = chosen.max(axis=1) if funnel.order == "any" else chosen[:, dropped_at - 2]
        positions = np.full(seq.starts.shape[0] - 1, -1, np.int64)
        positions[unit[keep]] = at
        return positions, int((stopped & waiting).sum())

    return anchors


def _counted(rows: NDArray[np.int32]) -> pl.DataFrame:
    """A chunk's path rows counted by (anchor, path)."""
    cells = pl.DataFrame({f"at_{d}": rows[:, d] for d in range(rows.shape[1])})
    return cells.group_by(cells.columns).agg(pl.len().cast(pl.Int64).alias("units"))


def _named(counts: pl.DataFrame, events: tuple[str, ...]) -> pl.DataFrame:
    """Name codes as event names, ``(end)``/``(start)`` as such, beyond them null."""
    old = [*range(len(events)), *_SPECIAL, NONE]
    new = [*events, *_SPECIAL.values(), None]
    cells = pl.exclude("units").replace_strict(old, new, return_dtype=pl.String)
    return counts.with_columns(cells)
