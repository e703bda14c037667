"""``write_report``: render every file into a temporary folder, then rename it into place.

The folder ``OUT/<period id>/`` appears complete or not at all: a failure leaves no partial
folder (and an earlier report of the same period untouched). The same input gives the same
bytes: nothing depends on the clock unless a ``stamp`` is given.
"""

import shutil
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from journeykit.errors import DataError
from journeykit.report.build import Report
from journeykit.report.charts import funnel_chart, retention_chart, stages_chart
from journeykit.report.content import (
    Section,
    abandonment_section,
    comparison_section,
    funnel_section,
    headline_section,
    retention_section,
    stages_section,
    trend_section,
)
from journeykit.report.files import csv_bytes, json_bytes, report_tables, summary_document
from journeykit.report.html import render_html
from journeykit.report.journeys import (
    dropoff_chart,
    dropoff_section,
    journey_map_chart,
    journey_map_section,
)
from journeykit.report.markdown import render_markdown
from journeykit.report.quality import quality_notes
from journeykit.report.segments import segments_section
from journeykit.report.touchpoints import touchpoints_section


def report_files(
    report: Report, inputs: Mapping[str, Any], stamp: datetime | None = None
) -> dict[str, bytes]:
    """``file name → bytes`` of every file of the report folder."""
    tables = {f"{name}.csv": csv_bytes(table) for name, table in report_tables(report).items()}
    listed = ["report.md", *tables, "summary.json"]
    content = sections(report)
    charts = {
        "funnel": funnel_chart(report),
        "stages": stages_chart(report),
        "journeys": journey_map_chart(report.journeys),
        "dropoff": dropoff_chart(report.journeys),
        "retention": retention_chart(report),
    }
    return {
        "report.html": render_html(report, content, charts, listed, stamp).encode(),
        "report.md": render_markdown(report, content, listed, stamp).encode(),
        **tables,
        "summary.json": json_bytes(summary_document(report, inputs, stamp)),
    }


def sections(report: Report) -> list[Section]:
    """The report's sections, in page order (assembled here rather than in ``content``, which
    ``journeys`` builds on)."""
    return [
        headline_section(report),
        funnel_section(report),
        stages_section(report),
        journey_map_section(report.journeys, report.period),
        dropoff_section(report.journeys),
        abandonment_section(report),
        touchpoints_section(report),
        segments_section(report),
        retention_section(report),
        trend_section(report),
        *([comparison_section(report)] if report.comparison is not None else []),
        Section("quality", "Data quality", notes=tuple(quality_notes(report))),
    ]


def write_report(
    report: Report, out: Path, inputs: Mapping[str, Any], stamp: datetime | None = None
) -> Path:
    """Write ``out/<period id>/`` (replacing an earlier one) and return its path."""
    contents = report_files(report, inputs, stamp)
    target = out / report.period.id
    created = _make_directory(out)
    try:
        staging = Path(tempfile.mkdtemp(dir=out, prefix=f".{target.name}.", suffix=".tmp"))
    except OSError as error:
        _remove_if_empty(out, created)
        raise DataError(f"--out {out}: cannot write there ({error.strerror})") from None
    try:
        for name, payload in contents.items():
            (staging / name).write_bytes(payload)
        staging.chmod(0o755)
        _swap_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_if_empty(out, created)
        raise
    return target


def _make_directory(out: Path) -> bool:
    """Create ``out`` (and parents) when missing; ``True`` when this call created it."""
    if out.is_dir():
        return False
    try:
        out.mkdir(parents=True)
    except OSError as error:
        raise DataError(f"--out {out}: cannot create the folder ({error.strerror})") from None
    return True


def _swap_into_place(staging: Path, target: Path) -> None:
    """Rename ``staging`` to ``target``; an existing ``target`` is moved aside first, then
    deleted, so a reader sees the old report or the new one, never a mix."""
    if not target.exists():
        staging.rename(target)
        return
    retired = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".old"))
    retired.rmdir()
    target.rename(retired)
    try:
        staging.rename(target)
    except BaseException:
        retired.rename(target)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def _remove_if_empty(out: Path, created: bool) -> None:
    if created and out.is_dir() and not any(out.iterdir()):
        out.rmdir()
