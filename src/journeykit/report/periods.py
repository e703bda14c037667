"""The period a report covers: an ISO week (Monday to Sunday) or a calendar month, in a zone.

A period is complete when it ends at or before the data's last timestamp; by default a report
covers the last complete period. Period ids are ``2026-W47`` (ISO year and week, so the week of
Monday 2019-12-30 is ``2020-W01``) and ``2026-11``.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Kind = Literal["week", "month"]

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
    """One week or month: ``[since, until)`` with both ends at local midnight in ``tz``.

    >>> ReportPeriod("week", date(2019, 12, 30)).id
    '2020-W01'
    >>> ReportPeriod("month", date(2026, 11, 1)).previous().id
    '2026-10'
    """

    kind: Kind
    start: date
    tz: str = "UTC"

    @property
    def id(self) -> str:
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
        """``Mon 17 Nov – Sun 23 Nov 2026`` or ``November 2026`` (no locale involved)."""
        if self.kind == "month":
            return f"{_MONTHS[self.start.month - 1]} {self.start.year}"
        last = self.end - timedelta(days=1)
        first_year = "" if self.start.year == last.year else f" {self.start.year}"
        return f"{_day(self.start)}{first_year} – {_day(last)} {last.year}"

    def previous(self) -> "ReportPeriod":
        return self.shifted(-1)

    def shifted(self, periods: int) -> "ReportPeriod":
        """The period ``periods`` weeks or months later (earlier when negative)."""
        if self.kind == "week":
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


def containing(moment: datetime, kind: Kind, tz: str = "UTC") -> ReportPeriod:
    """The period of ``kind`` that contains ``moment`` (naive means UTC) on the calendar of ``tz``.

    >>> containing(datetime(2021, 1, 3, 12), "week").id
    '2020-W53'
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    day = moment.astimezone(ZoneInfo(tz)).date()
    start = day - timedelta(days=day.weekday()) if kind == "week" else day.replace(day=1)
    return ReportPeriod(kind, start, tz)


def last_complete(last: datetime, kind: Kind, tz: str = "UTC") -> ReportPeriod:
    """The latest period that ends at or before ``last``: the one before the period holding it.

    >>> last_complete(datetime(2018, 1, 1, 4), "week").id
    '2017-W52'
    """
    return containing(last, kind, tz).previous()
