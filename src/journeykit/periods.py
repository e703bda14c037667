"""Calendar periods in a zone: a day, an ISO week (Monday to Sunday) or a month.

As numbers (cohorts, SPEC §7): a period is numbered from the Unix epoch so that consecutive
periods differ by 1: days since 1970-01-01, weeks since the week starting Monday 1969-12-29,
months since January 1970. Cohort arithmetic (``period − cohort``) is then plain integer
subtraction, and ``period_start`` turns a number back into the date the period starts on.

As ranges (``ReportPeriod``):
A report covers a week or a month; a trend (SPEC §11) is a run of days, weeks or months. A period
is complete when it ends at or before the data's last timestamp; by default a report covers the
last complete period. Period ids are ``2026-11-17``, ``2026-W47`` (ISO year and week, so the week
of Monday 2019-12-30 is ``2020-W01``) and ``2026-11``.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import polars as pl

Kind = Literal["week", "month"]
Period = Literal["day", "week", "month"]

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True, order=True)
class ReportPeriod:
    """One day, week or month: ``[since, until)`` with both ends at local midnight in ``tz``.

    >>> ReportPeriod("week", date(2019, 12, 30)).id
    '2020-W01'
    >>> ReportPeriod("month", date(2026, 11, 1)).previous().id
    '2026-10'
    """

    kind: Period
    start: date
    tz: str = "UTC"

    @property
    def id(self) -> str:
        if self.kind == "day":
            return self.start.isoformat()
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def end(self) -> date:
        """The first day after the period."""
        return self.shifted(1).start

    @property
    def since(self) -> datetime:
        """Local midnight of the first day, as a UTC instant (the zone of the event times)."""
        return _utc_midnight(self.start, self.tz)

    @property
    def until(self) -> datetime:
        return _utc_midnight(self.end, self.tz)

    @property
    def title(self) -> str:
        """``Mon 17 Nov 2026``, ``Mon 17 Nov – Sun 23 Nov 2026`` or ``November 2026`` (no
        locale involved)."""
        if self.kind == "day":
            return f"{_day(self.start)} {self.start.year}"
        if self.kind == "month":
            return f"{_MONTHS[self.start.month - 1]} {self.start.year}"
        last = self.end - timedelta(days=1)
        first_year = "" if self.start.year == last.year else f" {self.start.year}"
        return f"{_day(self.start)}{first_year} – {_day(last)} {last.year}"

    def previous(self) -> "ReportPeriod":
        return self.shifted(-1)

    def shifted(self, periods: int) -> "ReportPeriod":
        """The period ``periods`` days, weeks or months later (earlier when negative)."""
        if self.kind == "day":
            start = self.start + timedelta(days=periods)
        elif self.kind == "week":
            start = self.start + timedelta(weeks=periods)
        else:
            months = self.start.year * 12 + self.start.month - 1 + periods
            start = date(months // 12, months % 12 + 1, 1)
        return ReportPeriod(self.kind, start, self.tz)

    def is_complete(self, last: datetime | None) -> bool:
        """The period ends at or before ``last`` (the data's last timestamp)."""
        return last is not None and self.until <= last


def _utc_midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(), ZoneInfo(tz)).astimezone(UTC)


def _day(day: date) -> str:
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1][:3]}"


def containing(moment: datetime, kind: Period, tz: str = "UTC") -> ReportPeriod:
    """The period of ``kind`` that contains ``moment`` (naive means UTC) on the calendar of ``tz``.

    >>> containing(datetime(2021, 1, 3, 12), "week").id
    '2020-W53'
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    day = moment.astimezone(ZoneInfo(tz)).date()
    if kind == "week":
        day -= timedelta(days=day.weekday())
    elif kind == "month":
        day = day.replace(day=1)
    return ReportPeriod(kind, day, tz)


def last_complete(last: datetime, kind: Kind, tz: str = "UTC") -> ReportPeriod:
    """The latest period that ends at or before ``last``: the one before the period holding it.

    >>> last_complete(datetime(2018, 1, 1, 4), "week").id
    '2017-W52'
    """
    return containing(last, kind, tz).previous()


_MONDAY_OFFSET = 3
"""1970-01-01 is a Thursday: day ``d`` lies in week ``(d + 3) // 7``, which starts on day
``7·w − 3``."""


def period_index(time: pl.Expr, period: Period, tz: str) -> pl.Expr:
    """The period number of a UTC ``Datetime`` expression, on the calendar of zone ``tz``.

    >>> monday = pl.lit(datetime(2024, 12, 30, 5)).dt.replace_time_zone("UTC")
    >>> pl.select(period_index(monday, "week", "UTC")).item()
    2870
    """
    local = time if tz == "UTC" else time.dt.convert_time_zone(tz)
    if period == "month":
        return (local.dt.year().cast(pl.Int32) * 12 + local.dt.month().cast(pl.Int32) - 1).alias(
            "period"
        )
    days = local.dt.date().cast(pl.Int32)
    if period == "week":
        days = (days + _MONDAY_OFFSET) // 7
    return days.alias("period")


def period_start(index: pl.Expr, period: Period) -> pl.Expr:
    """The date (in the zone the index was taken in) on which period ``index`` starts.

    >>> pl.select(period_start(pl.lit(2870), "week")).item()
    datetime.date(2024, 12, 30)
    """
    if period == "day":
        return index.cast(pl.Int32).cast(pl.Date)
    if period == "week":
        return (index.cast(pl.Int32) * 7 - _MONDAY_OFFSET).cast(pl.Date)
    return pl.date(index // 12, index % 12 + 1, 1)


def index_of(moment: datetime, period: Period, tz: str) -> int:
    """``period_index`` of one instant (e.g. the data's last timestamp)."""
    frame = pl.DataFrame({"t": [moment]}).with_columns(
        pl.col("t").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
        if moment.tzinfo is None
        else pl.col("t").dt.convert_time_zone("UTC")
    )
    return int(frame.select(period_index(pl.col("t"), period, tz)).item())


def start_of(index: int, period: Period) -> date:
    """``period_start`` of one period number."""
    value = pl.select(period_start(pl.lit(index, dtype=pl.Int32), period)).item()
    assert isinstance(value, date)
    return value
