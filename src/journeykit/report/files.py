"""The report's tables as files: one CSV per table and ``summary.json`` with every figure.

Per-period tables carry a leading ``period`` column (``2026-W46``, ``2026-W47``: the previous
period first); each period's rows are exactly what the command prints for ``--since/--until`` =
that period, formatted by the same output layer (``journeykit.output.write``).
"""

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import polars as pl

from journeykit import __version__
from journeykit.output.write import machine_frame, serialize
from journeykit.periods import ReportPeriod
from journeykit.report.build import PeriodFigures, Report
from journeykit.report.compare import ABANDONMENT, HEADLINE, Change, Figure
from journeykit.report.segments import segments_table


def report_tables(report: Report) -> dict[str, pl.DataFrame]:
    """``name → table``, in the order the report shows them (no funnel when there is none)."""
    tables = {"summary": per_period(report, lambda f: f.summary.table)}
    if report.current.funnel is not None:
        tables["funnel"] = per_period(report, _funnel_table)
    tables["stages"] = per_period(report, lambda f: f.stages.sessions)
    tables["stage_users"] = per_period(report, lambda f: f.stages.users)
    tables["journey_map"] = _of_period(report, report.journeys.journey_map.table)
    if report.journeys.dropoff is not None:
        tables["dropoff_paths"] = _of_period(report, report.journeys.dropoff.table)
    tables["abandonment"] = per_period(report, lambda f: f.abandonment.table)
    for by in ("lifecycle", "rfm"):
        tables[f"segments_{by}"] = per_period(report, partial(segments_table, by=by))
    if report.current.touchpoints is not None:
        tables["attribution"] = per_period(report, _attribution_table)
    tables["retention"] = report.triangle
    if report.trend.funnel is not None:
        tables["trend_funnel"] = report.trend.funnel
    tables["trend_summary"] = report.trend.summary
    if report.comparison is not None:
        tables["comparison"] = report.comparison.table
    return tables


def _attribution_table(figures: PeriodFigures) -> pl.DataFrame:
    assert figures.touchpoints is not None
    return figures.touchpoints.table


def _of_period(report: Report, table: pl.DataFrame) -> pl.DataFrame:
    """A table of the reported period, with its ``period`` column first."""
    return table.select(pl.lit(report.period.id).alias("period"), pl.all())


def _funnel_table(figures: PeriodFigures) -> pl.DataFrame:
    assert figures.funnel is not None
    return figures.funnel.table


def per_period(report: Report, pick: Callable[[PeriodFigures], pl.DataFrame]) -> pl.DataFrame:
    """The tables of the previous and the reported period, one above the other."""
    frames = [
        pick(figures).select(pl.lit(figures.period.id).alias("period"), pl.all())
        for figures in (report.previous, report.current)
    ]
    return pl.concat(frames, how="vertical_relaxed")


def csv_bytes(table: pl.DataFrame) -> bytes:
    return serialize(machine_frame(table, "csv"), "csv")


def records(table: pl.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON values, rounded like ``--format json``."""
    rows: list[dict[str, Any]] = json.loads(serialize(machine_frame(table, "json"), "json"))
    return rows


def summary_document(
    report: Report, inputs: Mapping[str, Any], stamp: datetime | None
) -> dict[str, Any]:
    """Every figure, the changes, and what produced them (inputs, options, version)."""
    from journeykit.report.quality import quality_notes

    document: dict[str, Any] = {
        "journeykit": __version__,
        "report": _period_facts(report),
        "inputs": {**inputs, **_input_facts(report)},
        "options": options(report),
        "figures": {name: records(table) for name, table in report_tables(report).items()},
        "changes": {
            "summary": _changes(report, HEADLINE, "summary"),
            "abandonment": _changes(report, ABANDONMENT, "abandonment"),
        },
        "data_quality": quality_notes(report),
    }
    if stamp is not None:
        document["generated_at"] = utc_text(stamp)
    return document


def json_bytes(document: Mapping[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def utc_text(moment: datetime) -> str:
    """``2026-11-17T00:00:00Z`` (microseconds only when non-zero)."""
    from zoneinfo import ZoneInfo

    utc = moment.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    return utc.isoformat() + "Z"


def _period_json(period: ReportPeriod) -> dict[str, Any]:
    return {
        "id": period.id,
        "title": period.title,
        "since": utc_text(period.since),
        "until": utc_text(period.until),
    }


def _period_facts(report: Report) -> dict[str, Any]:
    return {
        "period": report.spec.period,
        **_period_json(report.period),
        "tz": report.spec.tz,
        "complete": report.complete,
        "previous": _period_json(report.previous.period),
    }


def _input_facts(report: Report) -> dict[str, Any]:
    log = report.log
    profile = log.profile
    return {
        "label": log.label,
        "columns": {role: name for role, name in log.roles.columns.items() if name},
        "rows": profile.rows,
        "dropped_rows": profile.dropped_rows,
        "dropped": profile.dropped,
        "first_event": None if profile.first is None else utc_text(profile.first),
        "last_event": None if profile.last is None else utc_text(profile.last),
        "event_counts": log.event_counts,
    }


def options(report: Report) -> dict[str, Any]:
    """The options of every section, as the equivalent command-line values."""
    spec = report.spec
    funnel = report.current.funnel
    return {
        "period": spec.period,
        "tz": spec.tz,
        "session_gap": duration_text(spec.session_gap),
        "funnel": None
        if funnel is None
        else {
            "steps": list(funnel.spec.steps),
            "window": duration_text(funnel.spec.window),
            "by": funnel.spec.by,
            "order": funnel.spec.order,
        },
        "stages": spec.rules.model_dump(mode="json"),
        "abandonment": {"recovery_window": duration_text(spec.recovery_window)},
        "retention": report.retention.spec.model_dump(mode="json", exclude={"session_gap"}),
    }


def duration_text(span: timedelta) -> str:
    """``7d``, ``30m``, ``1d12h``: a duration as ``--window`` takes it."""
    seconds = int(span.total_seconds())
    parts = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts) or "0s"


def _changes(report: Report, figures: tuple[Figure, ...], pick: str) -> dict[str, Any]:
    def row(side: PeriodFigures) -> dict[str, Any]:
        table = side.summary.table if pick == "summary" else side.abandonment.total
        return records(table)[0]

    now, before = row(report.current), row(report.previous)
    changes = {}
    for figure in figures:
        change = Change(before[figure.column], now[figure.column])
        relative = change.relative
        changes[figure.column] = {
            "previous": change.previous,
            "current": change.current,
            "absolute": None if change.absolute is None else round(change.absolute, 6),
            "relative": None if relative is None else round(relative, 6),
        }
    return changes
