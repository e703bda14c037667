"""What Parquet footers already know about a log, read without touching the data.

A writer stores, per row group and column, the number of nulls and the smallest and largest
value. When they show that the user and time columns hold no null at all, the profile needs no
pass over those columns: no row can be dropped for them, and the time range is the range of the
statistics.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNITS = ("milliseconds", "microseconds", "nanoseconds")


@dataclass(frozen=True)
class FooterFacts:
    """What the footers of a log's files prove: no null user or time, and these ranges."""

    rows: int
    first: datetime
    last: datetime
    users: tuple[int, int] | None
    """The smallest and largest user, when users are signed integers with statistics."""


def read_footers(files: tuple[Path, ...], user: str, time: str) -> FooterFacts | None:
    """``FooterFacts`` of ``files`` if their footers show no null ``user`` or ``time``
    anywhere; ``None`` when they do, or when a row group lacks the statistics.

    ``time`` must be stored as a UTC-adjusted Parquet timestamp (64-bit integers).
    """
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    times: list[int] = []
    users: list[int] | None = []
    rows = 0
    for path in files:
        metadata = pq.read_metadata(path)
        rows += metadata.num_rows
        names = [metadata.schema.column(i).path for i in range(metadata.num_columns)]
        if user not in names or time not in names:
            return None
        unit = _utc_unit(metadata.schema.column(names.index(time)).logical_type.to_json())
        if unit is None:
            return None
        signed = _signed_integer(metadata.schema.column(names.index(user)))
        for group in range(metadata.num_row_groups):
            row_group = metadata.row_group(group)
            if row_group.num_rows == 0:
                continue
            user_stats = row_group.column(names.index(user)).statistics
            time_stats = row_group.column(names.index(time)).statistics
            if not _no_nulls(user_stats) or not _no_nulls(time_stats):
                return None
            if not time_stats.has_min_max:
                return None
            times += [_micros(time_stats.min_raw, unit), _micros(time_stats.max_raw, unit)]
            if users is not None and signed and user_stats.has_min_max:
                users += [user_stats.min_raw, user_stats.max_raw]
            else:
                users = None
    if not times:
        return None
    first, last = (_EPOCH + timedelta(microseconds=t) for t in (min(times), max(times)))
    return FooterFacts(rows, first, last, (min(users), max(users)) if users else None)


def _signed_integer(column: Any) -> bool:
    """Whether a Parquet column holds signed integers (plain or annotated as signed)."""
    if column.physical_type not in ("INT32", "INT64"):
        return False
    described = json.loads(column.logical_type.to_json())
    return described.get("Type") == "None" or (
        described.get("Type") == "Int" and bool(described.get("isSigned"))
    )


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
