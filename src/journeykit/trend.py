"""Conversion over time (SPEC §11): the calendar periods of a trend, and its anomaly test.

A trend runs from the period of the first event (of any name) in ``[since, until)`` to the
period of the last, with no gaps. Each period's row k ≥ 2 of a funnel is tested against a
baseline of recent earlier periods with the pooled two-proportion z-test that ``compare`` also
uses (``pooled_z``).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
from numpy.typing import NDArray

from journeykit.load.events import EventLog
from journeykit.periods import Period, ReportPeriod, containing
from journeykit.stats import MIN_N, pooled_z, two_sided_p


@dataclass(frozen=True)
class Trend:
    """The periods of a trend, in time order, and the range they are clipped to."""

    kind: Period
    periods: tuple[ReportPeriod, ...]
    since: datetime | None = None
    until: datetime | None = None

    def edges(self) -> NDArray[np.int64]:
        """The periods' bounds in epoch microseconds, clipped to ``[since, until)``: period
        ``p`` is ``[edges[p], edges[p + 1])`` (two equal edges without a period)."""
        if not self.periods:
            return np.zeros(2, np.int64)
        bounds = [p.since for p in self.periods] + [self.periods[-1].until]
        if self.since is not None:
            bounds = [max(b, self.since) for b in bounds]
        if self.until is not None:
            bounds = [min(b, self.until) for b in bounds]
        return np.array([epoch_us(b) for b in bounds], np.int64)

    def labels(self) -> pl.Series:
        """Each period's label: the date it starts on."""
        return pl.Series("period", [p.start for p in self.periods], dtype=pl.Date)

    def partial(self, window: timedelta, last: datetime | None) -> list[bool]:
        """Per period: ``end(P) + window`` is strictly after ``last`` (entrants may still
        convert); ``end(P)`` is the calendar end even when ``until`` falls inside P."""
        return [last is None or p.until + window > last for p in self.periods]


def trend_of(
    log: EventLog, kind: Period, tz: str, since: datetime | None, until: datetime | None
) -> Trend:
    """The periods of ``kind`` (in ``tz``) from the first to the last event in ``[since,
    until)``."""
    first, last = event_span(log, since, until)
    if first is None or last is None:
        return Trend(kind, (), since, until)
    period, end = containing(first, kind, tz), containing(last, kind, tz)
    periods = [period]
    while period != end:
        period = period.shifted(1)
        periods.append(period)
    return Trend(kind, tuple(periods), since, until)


def event_span(
    log: EventLog, since: datetime | None, until: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """The first and last event time in ``[since, until)`` (the profile's without bounds)."""
    if since is None and until is None:
        return log.profile.first, log.profile.last
    time = pl.col("time")
    inside = time.is_not_null()
    if since is not None:
        inside &= time >= since
    if until is not None:
        inside &= time < until
    row = log.frame.filter(inside).select(time.min().alias("a"), time.max().alias("b"))
    first, last = row.collect().row(0)
    return first, last


def epoch_us(moment: datetime) -> int:
    """Microseconds since the Unix epoch (a naive moment is UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True)
class Test:
    """The anomaly test of one row (both null when it is not tested)."""

    z: float | None = None
    anomaly: str | None = None

    @property
    def flagged(self) -> bool:
        return self.anomaly in ("low", "high")


def anomaly_series(
    counts: Sequence[tuple[int, int]], partial: Sequence[bool], baseline: int, alpha: float
) -> list[Test]:
    """The tests of one series of (x, n) per period, in time order (SPEC §11): each non-partial
    period against the most recent ``baseline`` earlier periods not flagged."""
    tests: list[Test] = []
    for index, ((x, n), open_) in enumerate(zip(counts, partial, strict=True)):
        earlier = [i for i in range(index - 1, -1, -1) if not tests[i].flagged][:baseline]
        x0 = sum(counts[i][0] for i in earlier)
        n0 = sum(counts[i][1] for i in earlier)
        if open_ or len(earlier) < 2 or n < MIN_N or n0 < MIN_N:
            tests.append(Test())
            continue
        z = pooled_z(x, n, x0, n0)
        p = two_sided_p(z)
        anomaly = "none" if p >= alpha else "low" if z < 0 else "high"
        tests.append(Test(round(z, 3), anomaly))
    return tests


def with_anomalies(
    table: pl.DataFrame, keys: list[str], partial: list[bool], baseline: int, alpha: float
) -> pl.DataFrame:
    """``z`` and ``anomaly`` for a trend table of funnels sorted by period (index
    ``period_index``), then ``keys``, then step: one series per key value and step k ≥ 2, with
    x = units of step k and n = units of step k − 1."""
    rows = table.select("period_index", *keys, "step", "units").rows()
    series: dict[tuple[object, ...], list[tuple[int, tuple[int, int]]]] = {}
    previous: dict[tuple[object, ...], int] = {}
    for position, (_, *key, step, units) in enumerate(rows):
        if step > 1:
            series.setdefault((*key, step), []).append((position, (units, previous[tuple(key)])))
        previous[tuple(key)] = units
    z: list[float | None] = [None] * len(rows)
    anomaly: list[str | None] = [None] * len(rows)
    for points in series.values():
        periods = [rows[position][0] for position, _ in points]
        tests = anomaly_series(
            [c for _, c in points], [partial[p] for p in periods], baseline, alpha
        )
        for (position, _), test in zip(points, tests, strict=True):
            z[position], anomaly[position] = test.z, test.anomaly
    return table.with_columns(
        pl.Series("z", z, dtype=pl.Float64), pl.Series("anomaly", anomaly, dtype=pl.String)
    )
