"""What Parquet footers already know about a log, read without touching the data.

A writer stores, per row group and column, the number of nulls and the smallest and largest
value. When they show that the user and time columns hold no null at all, the profile needs no
pass over those columns: no row can be dropped for them, and the time range is the range of the
statistics.
"""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNITS = ("milliseconds", "microseconds", "nanoseconds")


def complete_time_range(
    files: tuple[Path, ...], user: str, time: str
) -> tuple[datetime, datetime] | None:
    """The first and last time of ``files`` (UTC) if their footers show no null ``user`` or
    ``time`` anywhere; ``None`` when they do, or when a row group lacks the statistics.

    ``time`` must be stored as a UTC-adjusted Parquet timestamp (64-bit integers).
    """
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    lows: list[int] = []
    highs: list[int] = []
    for path in files:
        metadata = pq.read_metadata(path)
        names = [metadata.schema.column(i).path for i in range(metadata.num_columns)]
        if user not in names or time not in names:
            return None
        unit = _utc_unit(metadata.schema.column(names.index(time)).logical_type.to_json())
        if unit is None:
            return None
        for group in range(metadata.num_row_groups):
            row_group = metadata.row_group(group)
            if row_group.num_rows == 0:
                continue
            users = row_group.column(names.index(user)).statistics
            times = row_group.column(names.index(time)).statistics
            if not _no_nulls(users) or not _no_nulls(times) or not times.has_min_max:
                return None
            lows.append(_micros(times.min_raw, unit))
            highs.append(_micros(times.max_raw, unit))
    if not lows:
        return None
    return _EPOCH + timedelta(microseconds=min(lows)), _EPOCH + timedelta(microseconds=max(highs))


def _no_nulls(statistics: Any) -> bool:
    """Whether ``statistics`` (of a column chunk) say it has no null."""
    return statistics is not None and statistics.has_null_count and statistics.null_count == 0


def _utc_unit(logical_type: str) -> str | None:
    """The unit of a UTC-adjusted timestamp column (from its logical type), else ``None``."""
    described = json.loads(logical_type)
    if described.get("Type") != "Timestamp" or not described.get("isAdjustedToUTC"):
        return None
    unit = described.get("timeUnit")
    return unit if unit in _UNITS else None


def _micros(value: int, unit: str) -> int:
    """A raw timestamp in ``unit`` as whole microseconds (nanoseconds truncated toward zero, as
    the normalized frame's cast to microseconds does)."""
    if unit == "milliseconds":
        return value * 1000
    if unit == "nanoseconds":
        return abs(value) // 1000 * (1 if value >= 0 else -1)
    return value
