"""Shared helpers: small hand-written event logs."""

import os
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import pytest

from journeykit.funnel import FunnelSpec, funnel
from journeykit.load.events import EventLog, LoadOptions, load_frame

os.environ.setdefault("TZ", "UTC")
BASE = datetime(2026, 3, 2, 12, 0, 0)
SHARED_DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")


def at(minutes: float) -> str:
    """An ISO timestamp ``minutes`` after 2026-03-02 12:00 UTC."""
    return (BASE + timedelta(minutes=minutes)).isoformat()


def log_of(
    rows: Sequence[tuple[Any, ...]],
    columns: Sequence[str] = ("user_id", "ts", "event"),
    **options: Any,
) -> EventLog:
    """An ``EventLog`` from literal rows (times as ``at(minutes)`` strings)."""
    frame = pl.DataFrame([list(r) for r in rows], schema=list(columns), orient="row")
    return load_frame(frame, LoadOptions(**options))


def levels(
    rows: Sequence[tuple[Any, ...]],
    steps: Sequence[str],
    columns: Sequence[str] = ("user_id", "ts", "event"),
    **spec: Any,
) -> list[int]:
    """Units per step of the funnel ``steps`` over ``rows``."""
    table = funnel(log_of(rows, columns), FunnelSpec(steps=tuple(steps), **spec)).table
    return table["units"].to_list()


def shared(*parts: str) -> str:
    path = os.path.join(SHARED_DATA, *parts)
    if not os.path.exists(path):
        pytest.fail(f"shared data missing: {path} (tests expect ../shared beside the repo)")
    return path


def reference_events(log: EventLog) -> list[Any]:
    """``log``'s normalized events as ``tests.reference`` events (same loading, own analysis)."""
    from tests.reference.model import Event

    roles = {"user", "time", "event", "row", "session", "price", "quantity", "revenue", "order_id"}
    events = []
    for record in log.frame.collect().iter_rows(named=True):
        dims = {k: v for k, v in record.items() if k not in roles}
        known = {k: v for k, v in record.items() if k in roles}
        events.append(Event(**known, dims=dims))
    return events
