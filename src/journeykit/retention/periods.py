"""Calendar periods as integers: a day, an ISO week (Monday) or a month, in a time zone.

A period is numbered from the Unix epoch so that consecutive periods differ by 1: days since
1970-01-01, weeks since the week starting Monday 1969-12-29, months since January 1970. Cohort
arithmetic (``period − cohort``) is then plain integer subtraction, and ``period_start`` turns a
number back into the date the period starts on (the cohort label).
"""

from datetime import date, datetime
from typing import Literal

import polars as pl

Period = Literal["day", "week", "month"]

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
