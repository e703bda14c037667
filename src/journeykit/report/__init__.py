"""``journeykit report``: a weekly or monthly report folder for cron (SPEC §9).

>>> from journeykit.load.events import load_events
>>> log = load_events(["data/samples/events.parquet"])  # doctest: +SKIP
>>> period = choose_period(log, "week", "UTC", at=None)  # doctest: +SKIP
>>> write_report(build_report(log, period, ReportSpec()), Path("reports"), {})  # doctest: +SKIP
"""

from journeykit.periods import ReportPeriod, containing, last_complete
from journeykit.report.build import (
    PeriodFigures,
    Report,
    ReportSpec,
    build_report,
    choose_period,
    triangle_up_to,
)
from journeykit.report.write import report_files, write_report

__all__ = [
    "PeriodFigures",
    "Report",
    "ReportPeriod",
    "ReportSpec",
    "build_report",
    "choose_period",
    "containing",
    "last_complete",
    "report_files",
    "triangle_up_to",
    "write_report",
]
