"""Formatting for people: thousands separators, percentages, bars, durations, Rich printing."""

import os
from typing import IO, Any

from rich.console import Console
from rich.table import Table

from journeykit.durations import format_duration

BAR_WIDTH = 24


def count(value: int | float | None) -> str:
    return "" if value is None else f"{value:,.0f}"


def plural(number: int, word: str) -> str:
    """``1 cart``, ``2,000 carts``."""
    return f"{number:,} {word}" + ("" if number == 1 else "s")


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def money(value: float | None) -> str:
    return "–" if value is None else f"{value:,.2f}"


def duration(seconds: float | None) -> str:
    return "–" if seconds is None else format_duration(seconds)


def bar(fraction: float | None, width: int = BAR_WIDTH) -> str:
    """A horizontal bar of eighth-blocks: ``bar(0.5, 4)`` → ``'██  '``."""
    if fraction is None:
        return " " * width
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    full, part = divmod(eighths, 8)
    partial = " ▏▎▍▌▋▊▉"[part] if part else ""
    return ("█" * full + partial).ljust(width)


def console(stream: IO[str] | None = None) -> Console:
    """A console that honours ``NO_COLOR`` and never colours a file or a pipe."""
    no_color = "NO_COLOR" in os.environ
    return Console(
        file=stream,
        no_color=no_color,
        highlight=False,
        soft_wrap=False,
        width=None if stream is None or stream.isatty() else 160,
    )


def print_renderable(renderable: Any, stream: IO[str]) -> None:
    """Print a Rich renderable, or a plain Polars frame as a Rich table."""
    import polars as pl

    if isinstance(renderable, pl.DataFrame):
        renderable = frame_table(renderable)
    console(stream).print(renderable)


def frame_table(frame: Any, title: str | None = None) -> Table:
    """Any frame as a plain Rich table (numbers right-aligned)."""
    table = Table(title=title, title_justify="left")
    for name, dtype in frame.schema.items():
        table.add_column(name, justify="right" if dtype.is_numeric() else "left")
    for row in frame.iter_rows():
        table.add_row(
            *("" if v is None else f"{v:,}" if isinstance(v, int) else str(v) for v in row)
        )
    return table


def interval_bar(
    low: float | None, value: float | None, high: float | None, scale: tuple[float, float]
) -> str:
    """An interval on a fixed scale: ``─`` from low to high, ``●`` at the value
    (``interval_bar(0.2, 0.3, 0.4, (0, 1))`` spans a fifth of the width)."""
    if low is None or value is None or high is None:
        return " " * BAR_WIDTH
    start, end = scale
    span = end - start or 1.0

    def cell(x: float) -> int:
        return min(BAR_WIDTH - 1, max(0, int((x - start) / span * BAR_WIDTH)))

    cells = [" "] * BAR_WIDTH
    for i in range(cell(low), cell(high) + 1):
        cells[i] = "─"
    cells[cell(value)] = "●"
    return "".join(cells)


def sparkline(values: list[float | None]) -> str:
    """Eight-level blocks between the series' least and greatest value (blank for None)."""
    known = [v for v in values if v is not None]
    if not known:
        return " " * len(values)
    low, high = min(known), max(known)
    levels = "▁▂▃▄▅▆▇█"
    return "".join(
        " " if v is None else levels[round((v - low) / (high - low) * 7) if high > low else 3]
        for v in values
    )
