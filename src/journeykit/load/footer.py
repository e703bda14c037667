"""What Parquet footers already know about a log, read without touching the data.

A writer stores, per row group and column, the number of nulls and the smallest and largest
value. When they show that no user can be dropped (no null; for text, no value that is blank)
and that no time is null, the profile needs no pass over those columns: the row count is the
footers', and the time range (and, for integer epochs, the unit) comes from the statistics.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from journeykit.load.timestamps import epoch_unit

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TIMESTAMP_UNITS = {"milliseconds": "ms", "microseconds": "us", "nanoseconds": "ns"}
_MICROS = {"s": 1_000_000, "ms": 1_000, "us": 1}
_NUMBERS = ("INT32", "INT64", "FLOAT", "DOUBLE")


@dataclass(frozen=True)
class FooterFacts:
    """What the footers of a log's files prove: no droppable user or time, and these facts."""

    rows: int
    first: datetime
    last: datetime
    epoch_unit: str | None = None
    """For a time column of integer epochs, the unit the statistics decide (SPEC §2)."""
    users: tuple[int, int] | None = None
    """The smallest and largest user, when users are integers with statistics."""
    nulls: frozenset[str] = frozenset()
    """The ``also`` columns of ``read_footers`` that may hold nulls (or lack statistics)."""
    negative: frozenset[str] = frozenset()
    """The ``signed`` columns of ``read_footers`` that may hold negative numbers (or lack
    statistics)."""


@dataclass(frozen=True)
class _TimeColumn:
    """How a time column's raw statistics become microseconds: a timestamp of ``unit`` (UTC or
    read as UTC), or integer epochs (``unit`` None until the statistics decide it)."""

    unit: str | None
    epoch: bool


def read_footers(
    files: tuple[Path, ...],
    user: str,
    time: str,
    *,
    naive_is_utc: bool,
    also: tuple[str, ...] = (),
    signed: tuple[str, ...] = (),
) -> FooterFacts | None:
    """``FooterFacts`` of ``files`` if their footers show no null or blank ``user`` and no null
    ``time`` anywhere; ``None`` when they do not, or when a row group lacks the statistics.

    ``time`` must be a Parquet timestamp (zone-less ones only with ``naive_is_utc``) or integer
    epochs. For the ``also`` columns the footers say whether they may hold nulls, for the
    ``signed`` ones whether they may hold negative numbers.
    """
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    found = _Found(user, time, also, signed)
    kinds = set()
    for path in files:
        metadata = pq.read_metadata(path)
        found.rows += metadata.num_rows
        names = [metadata.schema.column(i).path for i in range(metadata.num_columns)]
        if user not in names or time not in names:
            return None
        kind = _time_column(metadata.schema.column(names.index(time)), naive_is_utc)
        if kind is None:
            return None
        kinds.add(kind)
        groups = (metadata.row_group(g) for g in range(metadata.num_row_groups))
        if not all(found.add(group, names) for group in groups if group.num_rows):
            return None
    if not found.lows or len(kinds) != 1:
        return None
    users = (min(found.users), max(found.users)) if found.users else None
    low, high = min(found.lows), max(found.highs)
    return _facts(found, low, high, kinds.pop(), users)


@dataclass
class _Found:
    """What the row groups read so far prove."""

    user: str
    time: str
    also: tuple[str, ...]
    signed: tuple[str, ...]
    rows: int = 0
    lows: list[int] = field(default_factory=list)
    highs: list[int] = field(default_factory=list)
    users: list[int] | None = field(default_factory=list)
    nulls: set[str] = field(default_factory=set)
    negative: set[str] = field(default_factory=set)

    def add(self, row_group: Any, names: list[str]) -> bool:
        """One more row group; whether its user and time columns still prove what they must."""
        user_stats = row_group.column(names.index(self.user)).statistics
        time_stats = row_group.column(names.index(self.time)).statistics
        if not (_no_nulls(user_stats) and _never_blank(user_stats)):
            return False
        if not _no_nulls(time_stats) or not time_stats.has_min_max:
            return False
        self.nulls |= _unproven(self.also, row_group, names, _no_nulls)
        self.negative |= _unproven(self.signed, row_group, names, _never_negative)
        self.lows.append(time_stats.min_raw)
        self.highs.append(time_stats.max_raw)
        integer = user_stats.physical_type in ("INT32", "INT64") and user_stats.has_min_max
        if self.users is not None and integer:
            self.users += [user_stats.min, user_stats.max]
        else:
            self.users = None
        return True


def _unproven(
    columns: tuple[str, ...], row_group: Any, names: list[str], proves: Callable[[Any], bool]
) -> set[str]:
    """The ``columns`` whose statistics in ``row_group`` do not prove ``proves`` (or that are
    missing)."""
    return {
        column
        for column in columns
        if column not in names or not proves(row_group.column(names.index(column)).statistics)
    }


def _facts(
    found: _Found, low: int, high: int, kind: _TimeColumn, users: tuple[int, int] | None
) -> FooterFacts:
    unit = epoch_unit(float(max(abs(low), abs(high)))) if kind.epoch else kind.unit
    assert unit is not None
    first, last = (
        _EPOCH + timedelta(microseconds=_micros(v, unit, kind.epoch)) for v in (low, high)
    )
    epoch = unit if kind.epoch else None
    nulls, negative = frozenset(found.nulls), frozenset(found.negative)
    return FooterFacts(found.rows, first, last, epoch, users, nulls, negative)


def _time_column(column: Any, naive_is_utc: bool) -> _TimeColumn | None:
    described = json.loads(column.logical_type.to_json())
    if described.get("Type") == "Timestamp":
        utc = described.get("isAdjustedToUTC") or naive_is_utc
        unit = _TIMESTAMP_UNITS.get(described.get("timeUnit", ""))
        return _TimeColumn(unit, epoch=False) if utc and unit else None
    if column.physical_type in ("INT32", "INT64") and described.get("Type") in ("None", "Int"):
        return _TimeColumn(None, epoch=True)
    return None


def _no_nulls(statistics: Any) -> bool:
    """Whether ``statistics`` (of a column chunk) say it has no null."""
    return statistics is not None and statistics.has_null_count and statistics.null_count == 0


def _never_negative(statistics: Any) -> bool:
    """Whether a numeric column chunk's smallest value is at least 0."""
    numeric = statistics is not None and statistics.physical_type in _NUMBERS
    if not numeric:
        return False
    return bool(statistics.num_values == 0 or (statistics.has_min_max and statistics.min >= 0))


def _never_blank(statistics: Any) -> bool:
    """Whether no value of the column chunk can be blank (SPEC §2: empty or only whitespace).

    Numbers never are. Text is proven when its smallest and largest values both start with a
    printable ASCII character other than space: every value in between (in byte order) then
    starts with one too, so it is not only whitespace.
    """
    if statistics.physical_type != "BYTE_ARRAY":
        return True
    if not statistics.has_min_max:
        return False
    low, high = statistics.min_raw, statistics.max_raw
    return bool(low) and bool(high) and 0x21 <= low[0] <= 0x7E and 0x21 <= high[0] <= 0x7E


def _micros(value: int, unit: str, epoch: bool) -> int:
    """A raw value in ``unit`` as whole microseconds, as the normalized frame computes it:
    nanosecond epochs floored, nanosecond timestamps truncated toward zero."""
    if unit == "ns":
        return value // 1000 if epoch else abs(value) // 1000 * (1 if value >= 0 else -1)
    return value * _MICROS[unit]
