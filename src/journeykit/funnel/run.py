"""``funnel(log, spec)``: per-unit levels chunk by chunk, then the step table of SPEC §4."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from journeykit.chunks import per_user
from journeykit.derive import sort_events, with_sessions
from journeykit.funnel.engine import (
    MICROS,
    Sequence,
    any_order_attempts,
    ordered_attempts,
    strict_attempts,
)
from journeykit.funnel.spec import FunnelSpec
from journeykit.funnel.table import funnel_table
from journeykit.load.events import EventLog

OTHER = "\x00other"  # any event that is not a step (kept for strict order and sessions)
Attempts = Callable[[Sequence, pl.Series, FunnelSpec], list[pl.Series]]
ATTEMPTS: dict[str, Attempts] = {
    "ordered": ordered_attempts,
    "strict": strict_attempts,
    "any": any_order_attempts,
}


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
    last_us = _epoch_us(log.profile.last)
    units = per_user(
        _relevant_events(log, spec),
        log.rows_for(None if _needs_all_events(log, spec) else set(spec.steps)),
        lambda chunk: unit_levels(
            chunk, spec, has_session_column=log.has_sessions, last_us=last_us
        ),
    )
    if spec.complete_only:
        units = units.filter(~pl.col("in_progress"))
    return FunnelResult(funnel_table(units, spec), spec)


def _needs_all_events(log: EventLog, spec: FunnelSpec) -> bool:
    return spec.order == "strict" or (spec.by == "session" and not log.has_sessions)


def _relevant_events(log: EventLog, spec: FunnelSpec) -> pl.LazyFrame:
    columns = ["user", "time", "row", "event"]
    if spec.by == "session" and log.has_sessions:
        columns.append("session")
    columns += [c for c in (spec.breakdown, spec.hold) if c is not None]
    steps = list(dict.fromkeys(spec.steps))
    frame = log.frame if _needs_all_events(log, spec) else log.events(steps)
    frame = frame.select(list(dict.fromkeys(columns)))
    # Only step names matter from here on: a one-byte Enum keeps chunks and spills small.
    step_or_other = pl.when(pl.col("event").is_in(steps)).then("event").otherwise(pl.lit(OTHER))
    return frame.with_columns(step_or_other.cast(pl.Enum([*steps, OTHER])).alias("event"))


def unit_levels(
    events: pl.DataFrame, spec: FunnelSpec, *, has_session_column: bool, last_us: int | None
) -> pl.DataFrame:
    """One row per unit that entered: ``level``, ``gap_2…gap_n`` (s), ``in_progress``, breakdown."""
    unit_columns = ["user"] + (["session"] if spec.by == "session" else [])
    if spec.hold is not None:
        unit_columns.append(spec.hold)
    events = _in_unit_order(events, spec, unit_columns, has_session_column)
    if spec.order != "strict":
        events = events.filter(pl.col("event").is_in(list(spec.steps)))
    seq = Sequence.build(events, unit_columns)
    starts = events.select(pl.arg_where(_starts_attempt(spec))).to_series().cast(pl.UInt32)
    times = ATTEMPTS[spec.order](seq, starts, spec)
    attempts = pl.DataFrame(
        {"unit": seq.unit.gather(starts), "pos": starts}
        | {f"t_{k}": t for k, t in enumerate(times, start=1)}
    )
    chosen = _chosen_attempts(attempts, spec, last_us)
    if spec.breakdown is not None:
        chosen = chosen.with_columns(
            events[spec.breakdown].gather(chosen["pos"]).alias("breakdown")
        )
    return chosen.drop("unit", "pos")


def _in_unit_order(
    events: pl.DataFrame, spec: FunnelSpec, unit_columns: list[str], has_session_column: bool
) -> pl.DataFrame:
    """Events sorted by (unit, time, row), with gap-rule sessions derived first when needed."""
    if spec.by == "session" and not has_session_column:
        events = with_sessions(events, has_column=False, gap=spec.session_gap)
        if spec.hold is None:
            return events  # (user, time, row) order is already (user, session, time, row)
    return sort_events(events, unit_columns)


def _starts_attempt(spec: FunnelSpec) -> pl.Expr:
    starts = pl.col("event") == spec.steps[0]
    if spec.since is not None:
        starts = starts & (pl.col("time") >= spec.since)
    if spec.until is not None:
        starts = starts & (pl.col("time") < spec.until)
    return starts


def _chosen_attempts(attempts: pl.DataFrame, spec: FunnelSpec, last_us: int | None) -> pl.DataFrame:
    """Per unit: the earliest-starting attempt reaching the unit's level, and its step gaps."""
    n = len(spec.steps)
    time_columns = [f"t_{k}" for k in range(1, n + 1)]
    window_us = int(spec.window.total_seconds() * MICROS)
    attempts = attempts.with_columns(
        pl.col("unit").set_sorted(),  # attempts are in position order, so in unit order
        pl.sum_horizontal(pl.col(time_columns).is_not_null()).cast(pl.UInt8).alias("level"),
    )
    best = pl.col("level").arg_max()  # the first (earliest-starting) attempt at the best level
    chosen = attempts.group_by("unit", maintain_order=True).agg(
        pl.col("t_1").max().alias("last_start"),
        pl.col("pos", "level", *time_columns).get(best),
    )
    in_progress = (pl.col("level") < n) & (
        pl.col("last_start") + window_us > (last_us if last_us is not None else 0)
    )
    return chosen.select("unit", "pos", "level", in_progress.alias("in_progress"), *_gaps(spec))


def _gaps(spec: FunnelSpec) -> list[pl.Expr]:
    """Seconds between the matched events of steps k−1 and k, for k = 2…n."""
    n = len(spec.steps)
    if spec.order == "any":
        ordered = pl.concat_list([f"t_{k}" for k in range(1, n + 1)]).list.drop_nulls().list.sort()
        gaps = ordered.list.diff(null_behavior="drop")
        return [
            (gaps.list.get(k - 2, null_on_oob=True) / MICROS).alias(f"gap_{k}")
            for k in range(2, n + 1)
        ]
    return [
        ((pl.col(f"t_{k}") - pl.col(f"t_{k - 1}")) / MICROS).alias(f"gap_{k}")
        for k in range(2, n + 1)
    ]


def _epoch_us(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    return int(pl.Series([moment]).dt.epoch("us")[0])
