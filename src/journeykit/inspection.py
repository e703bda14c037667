"""``journeykit inspect`` (SPEC §18): what journeykit understood of an input, before any metric.

The rows are ``section, key, value``: the source (files, format, delimiter), rows read and
dropped by cause, the column of each role and how it was chosen, how times were read and their
span, every event name with its rows and mapping, where sessions, orders and money come from,
the dimension columns with their distinct values, and every warning.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from journeykit.durations import format_duration
from journeykit.load.events import ROWS_ARE_COLUMN, EventLog
from journeykit.load.sources import read_failure
from journeykit.load.vocabulary import CANONICAL_EVENTS
from journeykit.output.human import plural

ROLES = ("user", "time", "event", "session", "price", "quantity", "revenue", "order")
COLUMNS = ["section", "key", "value"]
_CAUSES = {"user": "null {}", "time": "unparsable {}", "event": "null {}"}


@dataclass(frozen=True)
class InspectSpec:
    """What the other commands would use: how each role's column was chosen (``flag``,
    ``config`` or ``detected``), the session gap, the calendar zone, the config's aliases."""

    origins: dict[str, str]
    session_gap: timedelta
    tz: str
    aliases: dict[str, list[str]]
    rows_are: str | None = None


def inspection(log: EventLog, spec: InspectSpec) -> pl.DataFrame:
    """The ``COLUMNS`` rows of ``log``."""
    rows = [("source", key, value) for key, value in log.source_notes]
    rows += _rows(log)
    rows += _columns(log, spec)
    rows += _times(log, spec)
    rows += _events(log, spec)
    rows += _structure(log, spec)
    rows += _dimensions(log)
    rows += [("warnings", str(i), text) for i, text in enumerate(log.warnings, start=1)]
    return pl.DataFrame(rows, schema=COLUMNS, orient="row")


def _rows(log: EventLog) -> list[tuple[str, str, str]]:
    profile = log.profile
    rows = [("rows", "read", f"{profile.rows + profile.duplicates:,}")]
    if profile.duplicates:
        rows.append(("rows", "dropped: exact duplicates (--dedupe)", f"{profile.duplicates:,}"))
    for cause, what in _CAUSES.items():
        if profile.dropped[cause]:
            column = log.roles.columns[cause]
            rows.append(("rows", f"dropped: {what.format(column)}", f"{profile.dropped[cause]:,}"))
    rows.append(("rows", "kept", f"{profile.rows - profile.dropped_rows:,}"))
    return rows


def _columns(log: EventLog, spec: InspectSpec) -> list[tuple[str, str, str]]:
    rows = []
    for role in ROLES:
        column = log.roles.columns.get(role)
        if column == ROWS_ARE_COLUMN:
            rows.append(("columns", role, f"none: every row is '{spec.rows_are}' (--rows-are)"))
        elif column is not None:
            rows.append(("columns", role, f"{column} ({spec.origins.get(role, 'detected')})"))
        else:
            rows.append(("columns", role, "none found"))
    return rows


def _times(log: EventLog, spec: InspectSpec) -> list[tuple[str, str, str]]:
    profile = log.profile
    return [
        ("time", "read as", log.time_form),
        ("time", "first", _instant(profile.first)),
        ("time", "last", _instant(profile.last)),
        ("time", "calendar zone", f"{spec.tz} (days, weeks and months; --tz)"),
    ]


def _instant(moment: datetime | None) -> str:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else "none"


def _events(log: EventLog, spec: InspectSpec) -> list[tuple[str, str, str]]:
    """Every raw event name: its rows and what it became (most rows first)."""
    names = log.mapping.names
    shadowed = dict(log.mapping.shadowed)
    configured = {alias.lower() for group in spec.aliases.values() for alias in group}
    found: list[tuple[int, str, str]] = []
    for raw, canonical in names.items():
        counted = log.profile.raw_counts.get(raw)
        if counted is None:  # proven present, not counted: the rows of its canonical name
            alone = sum(1 for c in names.values() if c == canonical) == 1
            counted = log.event_counts.get(canonical, 0) if alone else None
        if raw in shadowed:
            how = f"kept as it is: '{shadowed[raw]}' also occurs"
        elif raw != canonical:
            how = f"{'config' if raw.lower() in configured else 'alias'} of {canonical}"
        elif canonical in CANONICAL_EVENTS:
            how = "canonical"
        else:
            how = "unknown name, kept (counts as activity)"
        rows = plural(counted, "row") if counted is not None else "present"
        found.append((-(counted or 0), raw, f"{rows}, {how}"))
    return [("events", raw, text) for _, raw, text in sorted(found)]


def _structure(log: EventLog, spec: InspectSpec) -> list[tuple[str, str, str]]:
    """Where sessions, orders and money come from (SPEC §3)."""
    columns = log.roles.columns
    if log.has_sessions:
        sessions = f"the session column {columns['session']}"
    else:
        gap = format_duration(spec.session_gap.total_seconds())
        sessions = f"a new one after {gap} without events (--session-gap)"
    per_session = "all purchase rows of one session form one order"
    if log.roles.has("order"):
        orders = f"the order column {columns['order']} (rows without one: {per_session})"
    else:
        orders = per_session
    if log.roles.has("revenue"):
        money = f"the revenue column {columns['revenue']}"
    elif log.roles.has("price"):
        quantity = columns.get("quantity") or "1"
        money = f"{columns['price']} × {quantity} of each row"
    else:
        money = "none: no price or revenue column, money figures are null"
    return [("sessions", "from", sessions), ("orders", "from", orders), ("money", "from", money)]


def _dimensions(log: EventLog) -> list[tuple[str, str, str]]:
    if not log.dimensions:
        return [("dimensions", "none", "no other columns")]
    try:
        distinct = log.frame.select(pl.col(d).n_unique() for d in log.dimensions).collect()
    except pl.exceptions.PolarsError as exc:
        raise read_failure(log.label, exc) from None
    return [("dimensions", d, f"{distinct[d].item():,} distinct values") for d in log.dimensions]


def render_inspection(table: pl.DataFrame) -> object:
    """A table for people: each section named once."""
    from rich.table import Table

    grid = Table(show_header=False, box=None, padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(style="dim")
    grid.add_column()
    previous = None
    for section, key, value in table.iter_rows():
        if section != previous and previous is not None:
            grid.add_row("", "", "")
        grid.add_row(section if section != previous else "", key, value)
        previous = section
    return grid
