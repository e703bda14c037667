"""Durations with units (``30m``, ``2h``, ``7d``, ``1d12h``); bare numbers are rejected."""

import re
from datetime import timedelta

from journeykit.errors import UsageError

_UNITS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+(?:\.\d+)?)(w|d|h|m|s)")
_WHOLE = re.compile(r"^(?:\d+(?:\.\d+)?(?:w|d|h|m|s))+$")


def parse_duration(text: str, *, option: str = "duration") -> timedelta:
    """Parse a duration such as ``7d`` or ``1h30m``.

    >>> parse_duration("1h30m")
    datetime.timedelta(seconds=5400)
    """
    compact = text.strip().lower().replace(" ", "")
    if not _WHOLE.match(compact):
        raise UsageError(
            f"{option}: '{text}' is not a duration; use a number with a unit "
            "(s, m, h, d, w), e.g. 30m, 2h, 7d, 1d12h"
        )
    seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(compact))
    if seconds <= 0:
        raise UsageError(f"{option}: '{text}' must be longer than zero")
    return timedelta(seconds=seconds)


def format_duration(seconds: float | None) -> str:
    """Human duration for terminals: ``3m 12s``, ``2h 5m``, ``1d 4h``, ``0.4s``.

    >>> format_duration(192)
    '3m 12s'
    """
    if seconds is None:
        return ""
    if seconds < 10:
        return f"{seconds:.1f}s".replace(".0s", "s")
    whole = round(seconds)
    parts = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        count, whole = divmod(whole, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts[:2])
