"""``build_report``: every figure of a report, from the library functions the commands call.

Nothing here computes a metric. Per-period sections call ``summary``, ``funnel``, ``stages`` and
``abandonment`` with ``since``/``until`` = the period's ``[start, end)``, exactly as the commands
do with ``--since/--until``; retention is ``retention`` over the whole log, of which the report
keeps the cohorts and cells up to the reported period (see ``triangle_up_to``).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from journeykit.attribution import AttributionResult, AttributionSpec, attribution
from journeykit.attribution.spec import touch_column
from journeykit.compare import CompareResult, CompareSpec, compare
from journeykit.errors import DataError
from journeykit.funnel import FunnelResult, FunnelSpec, funnel, resolve_steps
from journeykit.journey import (
    AbandonmentResult,
    AbandonmentSpec,
    StageRules,
    StagesResult,
    StagesSpec,
    SummaryResult,
    SummarySpec,
    abandonment,
    stages,
    summary,
)
from journeykit.load.events import EventLog
from journeykit.paths import (
    JourneyMapResult,
    JourneyMapSpec,
    PathsResult,
    PathsSpec,
    journey_map,
    paths,
)
from journeykit.periods import Kind, ReportPeriod, containing, last_complete
from journeykit.retention import RetentionResult, RetentionSpec, retention
from journeykit.segments import SegmentsResult, SegmentsSpec, segments


class ReportSpec(BaseModel):
    """What a report computes besides its period; every default is the commands' default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    period: Kind = "week"
    tz: str = "UTC"
    session_gap: timedelta = timedelta(minutes=30)
    rules: StageRules = StageRules()
    funnel_window: timedelta = timedelta(days=7)
    recovery_window: timedelta = timedelta(days=7)
    retention_periods: int = Field(default=8, ge=1, le=52)
    trend_periods: int = Field(default=12, ge=2)
    touch: str | None = None
    """The touch column of the touchpoint section (``None``: detected, SPEC §15)."""


@dataclass(frozen=True)
class PeriodFigures:
    """The per-period sections for one period."""

    period: ReportPeriod
    summary: SummaryResult
    funnel: FunnelResult | None
    stages: StagesResult
    abandonment: AbandonmentResult
    touchpoints: AttributionResult | None = None
    """Attribution of the period's orders (``None`` when the log has no touch column)."""
    segments: SegmentsResult | None = None
    """Users as of the period's end, by lifecycle (and RFM: ``segments.run.table_of``)."""


@dataclass(frozen=True)
class Trends:
    """``--trend`` over the data up to the end of the reported period: the default funnel's
    rows (with their anomalies) and the summary's; ``first`` is the first period shown."""

    every_funnel: pl.DataFrame | None
    every_summary: pl.DataFrame
    first: date
    funnel_steps: tuple[str, ...] = ()

    @property
    def funnel(self) -> pl.DataFrame | None:
        """The funnel rows of the periods shown."""
        if self.every_funnel is None:
            return None
        return self.every_funnel.filter(pl.col("period") >= self.first)

    @property
    def summary(self) -> pl.DataFrame:
        """The summary rows of the periods shown."""
        return self.every_summary.filter(pl.col("period") >= self.first)


@dataclass(frozen=True)
class Report:
    """A report: the period, the one before it, retention, and what the reader should know."""

    spec: ReportSpec
    log: EventLog
    current: PeriodFigures
    previous: PeriodFigures
    retention: RetentionResult
    triangle: pl.DataFrame
    """The rows of ``retention.table`` the report shows (``triangle_up_to``)."""
    trend: Trends
    journeys: "Journeys"
    comparison: CompareResult | None = None
    """``compare`` over the period by the log's ``variant`` or ``experiment`` column."""
    notes: tuple[str, ...] = ()
    """Warnings about the data or the options, for the data-quality section."""

    @property
    def period(self) -> ReportPeriod:
        return self.current.period

    @property
    def complete(self) -> bool:
        return self.period.is_complete(self.log.profile.last)


def choose_period(log: EventLog, kind: Kind, tz: str, at: datetime | None) -> ReportPeriod:
    """The period containing ``at``, else the last complete one; a ``DataError`` if it is empty."""
    first, last = log.profile.first, log.profile.last
    if first is None or last is None:
        raise DataError(f"{log.label}: no events to report on")
    period = last_complete(last, kind, tz) if at is None else containing(at, kind, tz)
    if period.until <= first or period.since > last:
        raise DataError(_empty_message(log, period, chosen=at is not None))
    return period


def _empty_message(log: EventLog, period: ReportPeriod, *, chosen: bool) -> str:
    first, last = log.profile.first, log.profile.last
    assert first is not None and last is not None
    span = f"the data runs from {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC"
    what = f"{period.kind} {period.id} ({period.title})"
    if chosen:
        return f"{log.label}: {what} has no events; {span}: choose a date inside it with --at"
    in_progress = containing(last, period.kind, period.tz)
    return (
        f"{log.label}: no complete {period.kind} to report: {what} has no events and {span}; "
        f"report the {period.kind} in progress with --at {in_progress.start.isoformat()}"
    )


def build_report(
    log: EventLog, period: ReportPeriod, spec: ReportSpec, notes: tuple[str, ...] = ()
) -> Report:
    """Every section of the report of ``period`` (and of the period before, for the changes).

    ``notes``: warnings met while building the spec (e.g. stage rules), shown with the data.

    >>> from journeykit.load.events import load_events
    >>> log = load_events(["data/samples/events.parquet"])  # doctest: +SKIP
    >>> spec = ReportSpec()  # doctest: +SKIP
    >>> build_report(log, choose_period(log, "week", "UTC", None), spec)  # doctest: +SKIP
    """
    steps, funnel_notes = _funnel_steps(log)
    trend = trends(log, period, spec, steps)
    current = period_figures(log, period, spec, steps, trend)
    if current.summary.figures()["events"] == 0:
        raise DataError(f"{log.label}: {period.kind} {period.id} ({period.title}) has no events")
    previous = period_figures(log, period.previous(), spec, steps, trend)
    cohorts = retention(
        log,
        RetentionSpec(
            period=spec.period,
            periods=spec.retention_periods,
            tz=spec.tz,
            session_gap=spec.session_gap,
        ),
    )
    triangle = triangle_up_to(cohorts.table, period, spec.retention_periods)
    return Report(
        spec,
        log,
        current,
        previous,
        cohorts,
        triangle,
        trend,
        journeys(log, period, spec, current.funnel),
        _comparison(log, period, spec, steps),
        (*log.warnings, *notes, *funnel_notes),
    )


DEPTH, PATHS_SHOWN = 3, 10
"""Events after the largest drop-off the report follows, and the paths it lists."""


@dataclass(frozen=True)
class Journeys:
    """The reported period's journey map and paths after its funnel's largest drop-off."""

    journey_map: JourneyMapResult
    dropoff: PathsResult | None
    """Paths after the largest drop-off (``None`` without a funnel or any drop-off)."""


def journeys(
    log: EventLog, period: ReportPeriod, spec: ReportSpec, funnel: FunnelResult | None
) -> Journeys:
    """The journey map of the sessions starting in ``period`` and, with the period's default
    ``funnel``, the paths after its largest drop-off (repeats collapsed)."""
    map_spec = JourneyMapSpec(
        rules=spec.rules, session_gap=spec.session_gap, since=period.since, until=period.until
    )
    stages = journey_map(log, map_spec)
    step = _largest_dropoff(funnel.table) if funnel is not None else None
    if funnel is None or step is None:
        return Journeys(stages, None)
    paths_spec = PathsSpec(
        dropped_at=step, funnel=funnel.spec, depth=DEPTH, top=PATHS_SHOWN, collapse=True
    )
    return Journeys(stages, paths(log, paths_spec))


def _largest_dropoff(table: pl.DataFrame) -> int | None:
    """The step K ≥ 2 with the most units dropped before it whose window has closed (row K's
    ``dropped`` less its ``in_progress``; the earliest of ties), ``None`` when there is none."""
    closed = table.filter(pl.col("step") >= 2).with_columns(
        (pl.col("dropped") - pl.col("in_progress")).alias("closed")
    )
    rows = closed.sort(["closed", "step"], descending=[True, False])
    return int(rows["step"][0]) if rows.height and rows["closed"][0] > 0 else None


EXPERIMENT_COLUMNS = ("variant", "experiment")
"""The columns a report compares by, the first the log has."""


def trends(
    log: EventLog, period: ReportPeriod, spec: ReportSpec, steps: tuple[str, ...] | None
) -> Trends:
    """``--trend`` over the data up to the end of ``period`` (the earlier periods are the
    anomaly baseline), showing the last ``spec.trend_periods`` periods."""
    gap, until = spec.session_gap, period.until
    funnel_rows = None
    if steps is not None:
        funnel_spec = FunnelSpec(
            steps=steps, window=spec.funnel_window, until=until, session_gap=gap,
            trend=spec.period, tz=spec.tz,
        )  # fmt: skip
        funnel_rows = funnel(log, funnel_spec).table
    summary_spec = SummarySpec(until=until, session_gap=gap, trend=spec.period, tz=spec.tz)
    first = period.shifted(1 - spec.trend_periods).start
    return Trends(funnel_rows, summary(log, summary_spec).table, first, steps or ())


def _comparison(
    log: EventLog, period: ReportPeriod, spec: ReportSpec, steps: tuple[str, ...] | None
) -> CompareResult | None:
    column = next((c for c in EXPERIMENT_COLUMNS if c in log.dimensions), None)
    if column is None or steps is None:
        return None
    funnel_spec = FunnelSpec(
        steps=steps, window=spec.funnel_window, since=period.since, until=period.until,
        session_gap=spec.session_gap,
    )  # fmt: skip
    return compare(log, CompareSpec(segment=column, funnel=funnel_spec))


def _funnel_steps(log: EventLog) -> tuple[tuple[str, ...] | None, list[str]]:
    """The default funnel steps present in the data, or ``None`` and why when under two are."""
    try:
        steps, warnings = resolve_steps(log, None)
    except DataError as error:
        return None, [f"no funnel: {error}"]
    return steps, warnings


def period_figures(
    log: EventLog,
    period: ReportPeriod,
    spec: ReportSpec,
    steps: tuple[str, ...] | None,
    trend: Trends,
) -> PeriodFigures:
    """The per-period sections, each with the commands' ``--since/--until`` semantics (the
    funnel and the summary are the trend's rows of the period: SPEC §11 makes them equal)."""
    since, until, gap = period.since, period.until, spec.session_gap
    steps_funnel = None
    if steps is not None:
        funnel_spec = FunnelSpec(
            steps=steps, window=spec.funnel_window, since=since, until=until, session_gap=gap
        )
        rows = _rows_of(trend.every_funnel, period)
        trend_extra = ("period", "partial", "z", "anomaly")
        steps_funnel = (
            FunnelResult(rows.drop(trend_extra), funnel_spec)
            if rows is not None
            else funnel(log, funnel_spec)
        )
    summary_spec = SummarySpec(since=since, until=until, session_gap=gap)
    headline = _rows_of(trend.every_summary, period)
    return PeriodFigures(
        period=period,
        summary=(
            SummaryResult(headline.drop("period"), summary_spec, log.has_money)
            if headline is not None
            else summary(log, summary_spec)
        ),
        funnel=steps_funnel,
        stages=stages(log, StagesSpec(rules=spec.rules, since=since, until=until, session_gap=gap)),
        abandonment=abandonment(
            log,
            AbandonmentSpec(
                recovery_window=spec.recovery_window, since=since, until=until, session_gap=gap
            ),
        ),
        touchpoints=_touchpoints(log, period, spec),
        segments=segments(log, SegmentsSpec(at=until, session_gap=gap)),
    )


def _touchpoints(log: EventLog, period: ReportPeriod, spec: ReportSpec) -> AttributionResult | None:
    """``attribution`` of the orders placed in ``period`` (a detected touch column may be
    missing: no section; a named one must exist)."""
    try:
        touch = touch_column(log, spec.touch)
    except DataError:
        if spec.touch is not None:
            raise
        return None
    attribution_spec = AttributionSpec(
        touch=touch, since=period.since, until=period.until, session_gap=spec.session_gap
    )
    return attribution(log, attribution_spec)


def _rows_of(table: pl.DataFrame | None, period: ReportPeriod) -> pl.DataFrame | None:
    """A trend table's rows of ``period``, None when the trend does not reach it."""
    if table is None:
        return None
    rows = table.filter(pl.col("period") == period.start)
    return rows if rows.height else None


def triangle_up_to(table: pl.DataFrame, period: ReportPeriod, periods: int) -> pl.DataFrame:
    """The retention rows of the ``periods + 1`` cohorts up to ``period``, cells up to ``period``.

    Cohort ``period − i`` keeps periods ``0…i``, so the triangle's last diagonal is the reported
    period and nothing that happened after it shows, whenever the report is made. Values are
    the library's, untouched; the ``average`` rows (over every cohort in the data) are left out.
    """
    shown = pl.DataFrame(
        {
            "cohort": [period.shifted(-i).start.isoformat() for i in range(periods + 1)],
            "last_period": list(range(periods + 1)),
        },
        schema={"cohort": pl.String, "last_period": pl.Int64},
    )
    return (
        table.join(shown, on="cohort", how="inner", maintain_order="left")
        .filter(pl.col("period") <= pl.col("last_period"))
        .drop("last_period")
    )
