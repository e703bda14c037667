"""Every timestamp form of SPEC §2 → ``Datetime("us", "UTC")``.

Native datetimes and dates, ISO-8601 strings with or without a zone (``2019-10-01 00:00:00 UTC``
included) and integer epochs whose unit is decided once per column from its largest absolute value.
"""

import polars as pl

UTC_TIME = pl.Datetime("us", "UTC")

_MICROS_PER = {"s": 1_000_000, "ms": 1_000, "us": 1}


def epoch_unit(max_abs: float) -> str:
    """The epoch unit for a column whose largest absolute value is ``max_abs``.

    >>> epoch_unit(1_511_544_070), epoch_unit(1_511_544_070_000)
    ('s', 'ms')
    """
    if max_abs < 1e11:
        return "s"
    if max_abs < 1e14:
        return "ms"
    if max_abs < 1e17:
        return "us"
    return "ns"


_UNIT_NAMES = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}


def describe_time(dtype: pl.DataType, *, assume_tz: str, unit: str | None = None) -> str:
    """How ``to_utc`` reads a time column of ``dtype``, in words (``journeykit inspect``).

    >>> describe_time(pl.Int64(), assume_tz="UTC", unit="ms")
    'integer epochs in milliseconds (decided from the largest value)'
    """
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            return f"timestamps without a zone, read in {assume_tz}"
        return f"timestamps in {dtype.time_zone}" + (
            ", converted to UTC" if dtype.time_zone != "UTC" else ""
        )
    if isinstance(dtype, pl.Date):
        return f"dates, read as midnight in {assume_tz}"
    if is_epoch(dtype):
        return f"integer epochs in {_UNIT_NAMES[unit or 's']} (decided from the largest value)"
    return f"ISO-8601 text (zone-less values read in {assume_tz})"


def is_epoch(dtype: pl.DataType) -> bool:
    return dtype.is_numeric()


def to_utc(column: str, dtype: pl.DataType, *, assume_tz: str, unit: str | None = None) -> pl.Expr:
    """An expression turning ``column`` (of ``dtype``) into UTC microseconds; unparsable → null."""
    col = pl.col(column)
    if dtype == UTC_TIME:
        return col
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            col = col.dt.replace_time_zone(assume_tz, ambiguous="earliest", non_existent="null")
        return col.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    if isinstance(dtype, pl.Date):
        return _localize(col.cast(pl.Datetime("us")), assume_tz)
    if is_epoch(dtype):
        return _from_epoch(col, unit or "s")
    return _from_string(col.cast(pl.String), assume_tz)


def _from_epoch(col: pl.Expr, unit: str) -> pl.Expr:
    if unit == "ns":
        micros = (col // 1_000).cast(pl.Int64)
    else:
        micros = (col * _MICROS_PER[unit]).cast(pl.Int64, strict=False)
    return micros.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def _from_string(col: pl.Expr, assume_tz: str) -> pl.Expr:
    text = (
        col.str.strip_chars()
        .str.replace(r"(?i)\s*(UTC|GMT|Z)$", "+00:00")
        .str.replace(r"^(\d{4}-\d{2}-\d{2})[ T]", "${1}T")
    )
    with_zone = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%z", strict=False, time_zone="UTC")
    naive = pl.coalesce(
        text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False),
        text.str.to_datetime("%Y-%m-%dT%H:%M", strict=False),
        text.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us")),
    )
    return pl.coalesce(with_zone.dt.cast_time_unit("us"), _localize(naive, assume_tz))


def _localize(naive: pl.Expr, assume_tz: str) -> pl.Expr:
    local = naive.dt.cast_time_unit("us").dt.replace_time_zone(
        assume_tz, ambiguous="earliest", non_existent="null"
    )
    return local.dt.convert_time_zone("UTC")
