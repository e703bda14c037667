"""Reference funnel (SPEC §4).

AMBIGUITIES AND CHOICES
1. Units: by="user" → the user; by="session" → the session key of model.sessions (so the window is
   naturally capped by the session: a unit only contains its session's events).  With `hold=COL` the
   unit key is (unit, dims[COL]); a missing or null value is its own group (unit, None), exactly as
   the SPEC's "(unit, COL value)" reads.
2. Steps match events by exact name (input is already normalized to canonical names).
3. A unit *enters* when it has at least one step-1 event with time in [since, until); units that
   never enter are not counted anywhere (not in any breakdown row either).
4. ordered: the level is found by an exhaustive DFS per start (every eligible event for every next
   step, ties in either order, distinct events).  Times come from the greedy match ("earliest
   eligible event for each next step", ties broken by input row) of the chosen attempt; the code
   asserts that greedy reaches the same level as the DFS (the SPEC claims it does).
5. ordered/any: events used for later steps only need t >= t(e1) and t <= t(e1)+window; they may be
   after `until` and may have a lower row number than e1 when at the same instant.
6. strict: the unit's sequence is ALL its events (every event name, not only funnel steps), not
   filtered by since/until, ordered by (time, row); matched events are a contiguous run starting
   at the step-1 event, and the window is checked as t(eL) - t(e1) <= window.
7. any: for a start s, the interval is [t(s), t(s)+window] (inclusive both ends, by timestamp, so an
   event at t(s) with a lower row is inside).  For each distinct step name needed m times, the m
   earliest events (by (time,row)) of that name inside the interval are matched (if fewer exist,
   all of them); level = number matched.  Times: the matched events sorted by (time,row); row k's
   time is t(k-th) - t((k-1)-th).
8. Chosen attempt: the earliest (time, row) in-range step-1 event whose attempt reaches the unit's
   level.  Breakdown value = dims[COL] of that event; None → "(none)".
9. in_progress: level < number of steps AND (latest in-range step-1 event time) + window > last
   timestamp over ALL events passed in.  This is applied the same way for session units (the
   session cap is not used to end the in-progress state — the SPEC only names the window).
10. complete_only removes in-progress units entirely (from units, dropped, rates, and also from
   the time-to-convert statistics); in_progress is then 0 everywhere.
11. Row 1: both rates 1.0 when units_1 > 0, else None; dropped 0; median/mean None.  Rows k >= 2
   with no unit reaching step k: median/mean None.
12. Without breakdown, the n step rows are always returned (zeros and None rates when no unit
   entered).  With breakdown, one block of n rows per breakdown value seen among entered units,
   ordered by (value is None, str(value)) — i.e. "(none)" last; no rows if no unit entered.
13. Duplicate rows (same time, same event) are real, distinct events.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from .model import DEFAULT_GAP, Event, in_range, mean, median, order_key, ratio, sessions

NONE_LABEL = "(none)"


# ----------------------------------------------------------------------------------------------
# ordered
# ----------------------------------------------------------------------------------------------
def ordered_level_dfs(seq: list[Event], start: Event, steps: list[str], window: timedelta) -> int:
    """Deepest level reachable from `start` by exhaustive search (distinct events, t non-decreasing,
    t(eL) - t(start) <= window, equal timestamps in either order)."""
    n = len(steps)
    deadline = start.time + window
    by_row = {e.row: e for e in seq}
    memo: dict[Any, int] = {}

    def dfs(i: int, prev_time: datetime, used: frozenset[int]) -> int:
        # i = number of steps matched so far; next step to match is steps[i]
        if i == n:
            return n
        later_names = set(steps[i:])
        relevant_used = frozenset(r for r in used if by_row[r].event in later_names)
        key = (i, prev_time, relevant_used)
        if key in memo:
            return memo[key]
        best = i
        tried_times: set[datetime] = set()
        for e in seq:
            if e.event != steps[i] or e.row in used:
                continue
            if e.time < prev_time or e.time > deadline:
                continue
            # two unused events with the same name and the same time are interchangeable
            if e.time in tried_times:
                continue
            tried_times.add(e.time)
            best = max(best, dfs(i + 1, e.time, used | {e.row}))
            if best == n:
                break
        memo[key] = best
        return best

    return dfs(1, start.time, frozenset({start.row}))


def ordered_greedy(
    seq: list[Event], start: Event, steps: list[str], window: timedelta
) -> list[Event]:
    """Match each next step to the earliest eligible unused event (seq is sorted by (time,row))."""
    deadline = start.time + window
    matched = [start]
    used = {start.row}
    prev_time = start.time
    for step in steps[1:]:
        found = None
        for e in seq:
            if e.event == step and e.row not in used and prev_time <= e.time <= deadline:
                found = e
                break
        if found is None:
            break
        matched.append(found)
        used.add(found.row)
        prev_time = found.time
    return matched


# ----------------------------------------------------------------------------------------------
# strict
# ----------------------------------------------------------------------------------------------
def strict_match(
    seq: list[Event], start_index: int, steps: list[str], window: timedelta
) -> list[Event]:
    start = seq[start_index]
    matched = [start]
    for j in range(1, len(steps)):
        q = start_index + j
        if q >= len(seq):
            break
        e = seq[q]
        if e.event != steps[j] or e.time - start.time > window:
            break
        matched.append(e)
    return matched


# ----------------------------------------------------------------------------------------------
# any
# ----------------------------------------------------------------------------------------------
def any_match(seq: list[Event], start: Event, steps: list[str], window: timedelta) -> list[Event]:
    deadline = start.time + window
    need = Counter(steps)
    matched: list[Event] = []
    for name, count in need.items():
        inside = [e for e in seq if e.event == name and start.time <= e.time <= deadline]
        matched.extend(inside[:count])
    matched.sort(key=order_key)
    return matched


# ----------------------------------------------------------------------------------------------
# per unit
# ----------------------------------------------------------------------------------------------
def evaluate_unit(
    seq: list[Event],
    steps: list[str],
    *,
    window: timedelta,
    order: str,
    since: datetime | None,
    until: datetime | None,
) -> dict[str, Any] | None:
    """None if the unit never enters; else level, chosen start, its matched events, last start."""
    starts = [
        (i, e) for i, e in enumerate(seq) if e.event == steps[0] and in_range(e.time, since, until)
    ]
    if not starts:
        return None
    attempts = []  # (start event, level, matched events for timing)
    for index, s in starts:
        if order == "ordered":
            level = ordered_level_dfs(seq, s, steps, window)
            matched = ordered_greedy(seq, s, steps, window)
            assert len(matched) == level, (
                f"greedy reached {len(matched)} but search reached {level} for start row {s.row}"
            )
        elif order == "strict":
            matched = strict_match(seq, index, steps, window)
            level = len(matched)
        elif order == "any":
            matched = any_match(seq, s, steps, window)
            level = len(matched)
        else:
            raise ValueError(f"unknown order {order!r}")
        attempts.append((s, level, matched))
    unit_level = max(level for _, level, _ in attempts)
    # starts are in (time,row) order because seq is; the first reaching the level is chosen
    chosen = next(a for a in attempts if a[1] == unit_level)
    return {
        "level": unit_level,
        "start": chosen[0],
        "matched": chosen[2],
        "last_start_time": max(s.time for _, s in starts),
    }


def funnel(
    events: Iterable[Event],
    steps: list[str],
    *,
    window: timedelta = timedelta(days=7),
    by: str = "user",
    order: str = "ordered",
    breakdown: str | None = None,
    hold: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    complete_only: bool = False,
    has_session_column: bool = False,
    gap: timedelta = DEFAULT_GAP,
) -> list[dict[str, Any]]:
    events = list(events)
    steps = list(steps)
    if len(steps) < 2:
        raise ValueError("a funnel needs at least two steps")
    if by not in ("user", "session"):
        raise ValueError(f"unknown by {by!r}")
    n = len(steps)
    last_ts = max((e.time for e in events), default=None)
    session_of = sessions(events, has_session_column=has_session_column, gap=gap)

    units: dict[Any, list[Event]] = {}
    for e in events:
        base = e.user if by == "user" else session_of[e.row]
        key = (base, e.dims.get(hold)) if hold is not None else base
        units.setdefault(key, []).append(e)

    results = []  # (breakdown value, level, in_progress, matched)
    for seq in units.values():
        seq.sort(key=order_key)
        info = evaluate_unit(seq, steps, window=window, order=order, since=since, until=until)
        if info is None:
            continue
        level = info["level"]
        progressing = (
            level < n and last_ts is not None and (info["last_start_time"] + window > last_ts)
        )
        if complete_only and progressing:
            continue
        value = info["start"].dims.get(breakdown) if breakdown is not None else None
        results.append((value, level, progressing, info["matched"]))

    if breakdown is None:
        return _rows(steps, results, None, None)
    values = sorted({r[0] for r in results}, key=lambda v: (v is None, str(v)))
    out = []
    for value in values:
        group = [r for r in results if r[0] == value]
        label = NONE_LABEL if value is None else value
        out.extend(_rows(steps, group, breakdown, label))
    return out


def _rows(
    steps: list[str],
    results: list[tuple[Any, int, bool, list[Event]]],
    breakdown: str | None,
    label: Any,
) -> list[dict[str, Any]]:
    n = len(steps)
    counts = [sum(1 for r in results if r[1] >= k) for k in range(0, n + 1)]  # counts[k]
    rows = []
    for k in range(1, n + 1):
        units_k = counts[k]
        if k == 1:
            conv_prev = 1.0 if units_k > 0 else None
            conv_all = 1.0 if units_k > 0 else None
            dropped = 0
            med = avg = first_med = first_avg = None
        else:
            conv_prev = ratio(units_k, counts[k - 1])
            conv_all = ratio(units_k, counts[1])
            dropped = counts[k - 1] - units_k
            gaps = [
                (r[3][k - 1].time - r[3][k - 2].time).total_seconds() for r in results if r[1] >= k
            ]
            med = median(gaps)
            avg = mean(gaps)
            # SPEC §13: the total time t(e_k) − t(e_1) of the same matched events.
            totals = [
                (r[3][k - 1].time - r[3][0].time).total_seconds() for r in results if r[1] >= k
            ]
            first_med = median(totals)
            first_avg = mean(totals)
        in_progress = sum(1 for r in results if r[2] and r[1] == k - 1)
        row: dict[str, Any] = {}
        if breakdown is not None:
            row[breakdown] = label
        row.update(
            {
                "step": k,
                "event": steps[k - 1],
                "units": units_k,
                "conversion_from_previous": conv_prev,
                "conversion_overall": conv_all,
                "dropped": dropped,
                "in_progress": in_progress,
                "median_seconds_from_previous": med,
                "mean_seconds_from_previous": avg,
                "median_seconds_from_first": first_med,
                "mean_seconds_from_first": first_avg,
            }
        )
        rows.append(row)
    return rows
