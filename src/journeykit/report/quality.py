"""The data-quality note: what a reader should know before trusting the figures."""

from datetime import datetime

from journeykit.load.events import dropped_summary
from journeykit.output.human import count
from journeykit.report.build import PeriodFigures, Report
from journeykit.report.compare import in_words


def quality_notes(report: Report) -> list[str]:
    """Plain sentences: completeness, coverage, dropped rows, open windows, warnings."""
    notes = [completeness(report), rows_read(report)]
    notes += [n for f in (report.previous, report.current) if (n := coverage(report, f))]
    if not report.previous.summary.figures()["events"]:
        notes.append(
            f"{report.previous.period.id} has no events: there is nothing to compare with."
        )
    notes += [n for n in (funnel_in_progress(report), recovery_pending(report)) if n]
    if not report.log.has_money:
        notes.append("The data has no price or revenue column: money figures are not available.")
    notes += [f"Warning: {warning}" for warning in report.notes]
    return notes


def _when(moment: datetime | None) -> str:
    return "–" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


def completeness(report: Report) -> str:
    period, last = report.period, report.log.profile.last
    if report.complete:
        return (
            f"{period.id} is complete: it ended before the data's last event ({_when(last)}), "
            "so its events will not change."
        )
    return (
        f"{period.id} is still in progress: the data ends at {_when(last)}, before the "
        f"{period.kind} ends, so its figures will change (retention cells marked * are partial)."
    )


def rows_read(report: Report) -> str:
    profile = report.log.profile
    if profile.dropped_rows:
        return f"Read {count(profile.rows)} rows and {dropped_summary(profile, report.log.roles)}."
    return f"Read {count(profile.rows)} rows; none was dropped."


def coverage(report: Report, figures: PeriodFigures) -> str | None:
    """A note when the data starts after the period starts (the period is partly covered)."""
    first = report.log.profile.first
    period = figures.period
    if first is None or first <= period.since:
        return None
    return (
        f"The data starts at {_when(first)}, after {period.id} begins: {period.id} is only "
        "partly covered, so compare it with care."
    )


def funnel_in_progress(report: Report) -> str | None:
    result = report.current.funnel
    if result is None:
        return None
    waiting = int(result.table["in_progress"].sum())
    if not waiting:
        return None
    window = in_words(result.spec.window)
    return (
        f"{count(waiting)} users who entered the funnel in {report.period.id} have not finished "
        f"it and were still inside its window ({window}) when the data ends (in progress): "
        "its conversion may still rise."
    )


def recovery_pending(report: Report) -> str | None:
    pending = report.current.abandonment.total["recovery_pending"][0]
    if not pending:
        return None
    window = in_words(report.spec.recovery_window)
    return (
        f"{count(pending)} abandoned carts of {report.period.id} were still inside their "
        f"recovery window ({window}) when the data ends (recovery pending): recoveries may "
        "still rise."
    )
