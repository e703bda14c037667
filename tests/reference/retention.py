"""Reference retention (SPEC §7).

AMBIGUITIES AND CHOICES
1. The data's last timestamp is the max time over ALL events passed in (every event name).
2. Calendar periods are taken on the local date in `tz` (zoneinfo): day = the date, week = the ISO
   week's Monday, month = the 1st.  A period "starts" at local midnight of that date in `tz`
   (converted to UTC for the comparison with the last timestamp).
3. Cell (c, k) is observed iff start(c + k) <= last timestamp (a period starting exactly at the last
   timestamp is observed, and partial).  It is partial iff period c + k contains the last
   timestamp.  The same rule is applied to period 0 (period 0 is partial when the cohort period is
   the last one) and, literally, to `unbounded` cells (partial only for the cell whose own period
   c + k holds the last timestamp).  Observed non-partial cells have partial = False.
4. Period 0: retained = cohort size, rate 1.0.  k >= 1 (`on`): users with a return event whose
   period is exactly c + k; (`unbounded`): users with a return event whose period is >= c + k.
   Return events before the cohort event never matter for k >= 1.
5. Cohort membership: users with at least one cohort event; cohort = period of their earliest one.
6. Rows: cohorts ascending, k = 0..periods for each; then the average rows k = 0..periods.  For the
   average row: cohort_size = Σ sizes over cohorts whose cell k is observed (0 if none), retained =
   Σ retained over them (None if none), rate = retained / cohort_size (None if none), partial = any
   used cell partial (None if none).
7. No cohort at all → an empty result (no average rows).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .model import Event


def period_start(t: datetime, period: str, zone: ZoneInfo) -> date:
    local = t.astimezone(zone).date()
    if period == "day":
        return local
    if period == "week":
        return local - timedelta(days=local.weekday())  # Monday = 0
    if period == "month":
        return local.replace(day=1)
    raise ValueError(f"unknown period {period!r}")


def add_periods(start: date, k: int, period: str) -> date:
    if period == "day":
        return start + timedelta(days=k)
    if period == "week":
        return start + timedelta(days=7 * k)
    if period == "month":
        month_index = start.year * 12 + (start.month - 1) + k
        return date(month_index // 12, month_index % 12 + 1, 1)
    raise ValueError(f"unknown period {period!r}")


def start_instant(d: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(d, time(0, 0), tzinfo=zone)


def _first_cohort_periods(
    events: list[Event], cohort_event: str, period: str, zone: ZoneInfo
) -> dict[Any, date]:
    """user -> period of the user's earliest cohort event."""
    first: dict[Any, datetime] = {}
    for e in events:
        if e.event == cohort_event and (e.user not in first or e.time < first[e.user]):
            first[e.user] = e.time
    return {u: period_start(t, period, zone) for u, t in first.items()}


def _return_periods(
    events: list[Event], return_event: str, period: str, zone: ZoneInfo
) -> dict[Any, set[date]]:
    """user -> set of periods in which the user has a return event."""
    out: dict[Any, set[date]] = {}
    for e in events:
        if e.event == return_event:
            out.setdefault(e.user, set()).add(period_start(e.time, period, zone))
    return out


def _retained(members: list[Any], target: date, returns: dict[Any, set[date]], mode: str) -> int:
    count = 0
    for u in members:
        ps = returns.get(u, set())
        hit = target in ps if mode == "on" else any(p >= target for p in ps)
        if hit:
            count += 1
    return count


def _average_rows(cells: dict[int, list[tuple[int, int, bool]]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for k in sorted(cells):
        used = cells[k]
        if not used:
            rows.append(
                {
                    "cohort": "average",
                    "period": k,
                    "cohort_size": 0,
                    "retained": None,
                    "rate": None,
                    "partial": None,
                }
            )
            continue
        size = sum(s for s, _, _ in used)
        retained = sum(r for _, r, _ in used)
        rows.append(
            {
                "cohort": "average",
                "period": k,
                "cohort_size": size,
                "retained": retained,
                "rate": retained / size,
                "partial": any(p for _, _, p in used),
            }
        )
    return rows


def retention(
    events: Iterable[Event],
    *,
    period: str = "week",
    periods: int = 8,
    cohort_event: str = "purchase",
    return_event: str = "purchase",
    mode: str = "on",
    tz: str = "UTC",
) -> list[dict[str, Any]]:
    if mode not in ("on", "unbounded"):
        raise ValueError(f"unknown mode {mode!r}")
    events = list(events)
    zone = ZoneInfo(tz)
    if not events:
        return []
    last_ts = max(e.time for e in events)
    last_period = period_start(last_ts, period, zone)
    cohort_of = _first_cohort_periods(events, cohort_event, period, zone)
    returns = _return_periods(events, return_event, period, zone)
    cohorts = sorted(set(cohort_of.values()))
    if not cohorts:
        return []

    rows: list[dict[str, Any]] = []
    # cells[k] = (size, retained, partial) for each observed cell (c, k)
    cells: dict[int, list[tuple[int, int, bool]]] = {k: [] for k in range(periods + 1)}
    for c in cohorts:
        members = [u for u, cp in cohort_of.items() if cp == c]
        size = len(members)
        for k in range(periods + 1):
            target = add_periods(c, k, period)
            if start_instant(target, zone) > last_ts:  # starts after the data's last timestamp
                rows.append(
                    {
                        "cohort": c.isoformat(),
                        "period": k,
                        "cohort_size": size,
                        "retained": None,
                        "rate": None,
                        "partial": None,
                    }
                )
                continue
            partial = target == last_period
            retained = size if k == 0 else _retained(members, target, returns, mode)
            rows.append(
                {
                    "cohort": c.isoformat(),
                    "period": k,
                    "cohort_size": size,
                    "retained": retained,
                    "rate": retained / size,
                    "partial": partial,
                }
            )
            cells[k].append((size, retained, partial))
    return rows + _average_rows(cells)
