"""Funnel kernels (SPEC §4, §11): one unit's events in (time, row) order → its level and chosen
attempt in each entry period.

Every kernel walks the units of one chunk. A unit's events are ``time[lo:hi]`` and
``name[lo:hi]`` (``starts[u]`` to ``starts[u + 1]``), where ``name`` is the index of the event's
name among the funnel's distinct step names (``names`` of them; any other event has a larger
code). ``steps[k]`` is the name index of step ``k + 1``. ``edges`` are the entry periods'
bounds, ascending: period ``p`` is ``[edges[p], edges[p + 1])`` (one period, ``[since, until)``,
without a trend). Every step-1 event in a period starts an attempt of that period; a unit's
level in a period is the best over its attempts there, and its chosen attempt the earliest one
(in (time, row) order) that reaches it.

Each kernel returns one row per (unit, period) with an attempt, in unit then period order:
``unit``, ``period``, ``level`` (≥ 1), ``chosen`` (the position of the chosen attempt's step-1
event), ``times`` (the matched events' times of the chosen attempt, in time order; ``times[r,
k]`` for ``k < level``) and ``last_start`` (the time of the period's last attempt, for *in
progress*).
"""

import numpy as np
from numpy.typing import NDArray

from journeykit.engine.jit import inline, kernel

Levels = tuple[
    NDArray[np.int64],
    NDArray[np.int64],
    NDArray[np.uint8],
    NDArray[np.int64],
    NDArray[np.int64],
    NDArray[np.int64],
]


@inline
def _period_of(edges: NDArray[np.int64], t: int) -> int:
    """The period of an instant, -1 outside every period."""
    if t < edges[0] or t >= edges[edges.shape[0] - 1]:
        return -1
    return int(np.searchsorted(edges, t, side="right")) - 1


@inline
def _outputs(
    starts: NDArray[np.int64],
    time: NDArray[np.int64],
    name: NDArray[np.uint8],
    steps: NDArray[np.uint8],
    edges: NDArray[np.int64],
) -> Levels:
    """The kernel's outputs, one row per (unit, period) with a step-1 event."""
    rows = 0
    for u in range(starts.shape[0] - 1):
        previous = -1
        for p in range(starts[u], starts[u + 1]):
            if name[p] == steps[0]:
                period = _period_of(edges, time[p])
                if period >= 0 and period != previous:
                    rows += 1
                    previous = period
    return (
        np.empty(rows, np.int64),
        np.empty(rows, np.int64),
        np.zeros(rows, np.uint8),
        np.full(rows, -1, np.int64),
        np.zeros((rows, steps.shape[0]), np.int64),
        np.empty(rows, np.int64),
    )


@inline
def _longest(starts: NDArray[np.int64]) -> int:
    longest = 1
    for u in range(starts.shape[0] - 1):
        longest = max(longest, starts[u + 1] - starts[u])
    return longest


@inline
def _index_names(
    name: NDArray[np.uint8],
    lo: int,
    hi: int,
    names: int,
    first: NDArray[np.int64],
    positions: NDArray[np.int64],
) -> None:
    """``positions[first[x]:first[x + 1]]``: the positions of the unit's events named ``x``, in
    order (``first`` has ``2 * names + 1`` entries, the last ``names`` a cursor)."""
    first[:] = 0
    for p in range(lo, hi):
        if name[p] < names:
            first[name[p] + 1] += 1
    for x in range(names):
        first[x + 1] += first[x]
    fill = first[names + 1 :]
    fill[:] = first[:names]
    for p in range(lo, hi):
        x = name[p]
        if x < names:
            positions[fill[x]] = p
            fill[x] += 1


@inline
def _period_end(
    time: NDArray[np.int64], positions: NDArray[np.int64], j: int, end: int, until: int
) -> int:
    """The index after the last of ``positions[j:end]`` before ``until``."""
    while j < end and time[positions[j]] < until:
        j += 1
    return j


@inline
def _instant_start(time: NDArray[np.int64], lo: int, p: int) -> int:
    """The first position of the unit (from ``lo``) at the instant of position ``p``."""
    while p > lo and time[p - 1] == time[p]:
        p -= 1
    return p


@inline
def _nth_at_or_after(
    positions: NDArray[np.int64], first: NDArray[np.int64], x: int, lower: int, nth: int
) -> int:
    """The position of the ``nth`` (from 0) event named ``x`` at position ``lower`` or later,
    -1 if there is none."""
    left, right = first[x], first[x + 1]
    while left < right:
        middle = (left + right) // 2
        if positions[middle] < lower:
            left = middle + 1
        else:
            right = middle
    found = left + nth
    return positions[found] if found < first[x + 1] else -1


@inline
def _ordered_period(
    time: NDArray[np.int64],
    lo: int,
    positions: NDArray[np.int64],
    first: NDArray[np.int64],
    steps: NDArray[np.uint8],
    window: int,
    attempts: tuple[int, int],
    scratch: tuple[NDArray[np.int64], NDArray[np.int64]],
    out: tuple[NDArray[np.int64], NDArray[np.int64]],
    row: int,
) -> int:
    """The level of the attempts ``positions[attempts[0]:attempts[1]]`` of one period; the
    chosen attempt and its times go to row ``row`` of ``out`` (chosen, times)."""
    n = steps.shape[0]
    last_use, path = scratch
    chosen, times = out
    best = 0
    for attempt in range(attempts[0], attempts[1]):
        start = positions[attempt]
        t0 = time[start]
        last_use[:] = -1
        last_use[steps[0]] = start
        path[0] = start
        reached = 1
        exhausted = False
        while reached < n:
            x = steps[reached]
            lower = _instant_start(time, lo, path[reached - 1])
            if last_use[x] >= 0:
                lower = max(lower, last_use[x] + 1)
            found = _nth_at_or_after(positions, first, x, lower, 0)
            exhausted = found < 0
            if exhausted or time[found] - t0 > window:
                break
            path[reached] = found
            last_use[x] = found
            reached += 1
        if reached > best:
            best = reached
            chosen[row] = start
            for k in range(reached):
                times[row, k] = time[path[k]]
        # A later start matches each step at or after this one's match: when a step had no
        # event left, no later attempt of the period gets further.
        if best == n or exhausted:
            break
    return best


@kernel
def ordered_levels(
    starts: NDArray[np.int64],
    time: NDArray[np.int64],
    name: NDArray[np.uint8],
    steps: NDArray[np.uint8],
    names: int,
    window: int,
    edges: NDArray[np.int64],
) -> Levels:
    """``ordered`` (SPEC §4): each next step takes the earliest event of its name at or after the
    instant of the previous match (events at one instant match in either order) and at most
    ``window`` after step 1; a name used by an earlier step of the chain needs a later event."""
    unit, period, level, chosen, times, last_start = _outputs(starts, time, name, steps, edges)
    positions = np.empty(_longest(starts), np.int64)
    first = np.empty(2 * names + 1, np.int64)
    scratch = (np.empty(names, np.int64), np.empty(steps.shape[0], np.int64))
    row = 0
    for u in range(starts.shape[0] - 1):
        lo, hi = starts[u], starts[u + 1]
        _index_names(name, lo, hi, names, first, positions)
        j, end = first[steps[0]], first[steps[0] + 1]
        while j < end:
            p = _period_of(edges, time[positions[j]])
            if p < 0:
                j += 1
                continue
            stop = _period_end(time, positions, j, end, edges[p + 1])
            level[row] = _ordered_period(
                time, lo, positions, first, steps, window, (j, stop), scratch, (chosen, times), row
            )
            unit[row], period[row] = u, p
            last_start[row] = time[positions[stop - 1]]
            row += 1
            j = stop
    return unit, period, level, chosen, times, last_start


@inline
def _strict_attempt(
    time: NDArray[np.int64],
    name: NDArray[np.uint8],
    start: int,
    hi: int,
    steps: NDArray[np.uint8],
    window: int,
) -> int:
    """The steps the attempt at ``start`` reaches by consecutive events within the window."""
    n = steps.shape[0]
    reached = 1
    while reached < n:
        following = start + reached
        if following >= hi or name[following] != steps[reached]:
            break
        if time[following] - time[start] > window:
            break
        reached += 1
    return reached


@kernel
def strict_levels(
    starts: NDArray[np.int64],
    time: NDArray[np.int64],
    name: NDArray[np.uint8],
    steps: NDArray[np.uint8],
    names: int,
    window: int,
    edges: NDArray[np.int64],
) -> Levels:
    """``strict`` (SPEC §4): step k + 1 must be the unit's very next event after step k (every
    event counts, in (time, row) order; no swapping at one instant), within ``window``."""
    unit, period, level, chosen, times, last_start = _outputs(starts, time, name, steps, edges)
    n = steps.shape[0]
    row = -1
    for u in range(starts.shape[0] - 1):
        lo, hi = starts[u], starts[u + 1]
        current = -1
        for start in range(lo, hi):
            t0 = time[start]
            p = _period_of(edges, t0) if name[start] == steps[0] else -1
            if p < 0:
                continue
            if p != current:
                current = p
                row += 1
                unit[row], period[row] = u, p
            last_start[row] = t0
            if level[row] == n:
                continue
            reached = _strict_attempt(time, name, start, hi, steps, window)
            if reached > level[row]:
                level[row] = reached
                chosen[row] = start
                for k in range(reached):
                    times[row, k] = time[start + k]
    return unit, period, level, chosen, times, last_start


@kernel
def any_order_levels(
    starts: NDArray[np.int64],
    time: NDArray[np.int64],
    name: NDArray[np.uint8],
    steps: NDArray[np.uint8],
    names: int,
    window: int,
    edges: NDArray[np.int64],
) -> Levels:
    """``any`` (SPEC §4): each step takes the earliest event of its name inside ``[t(e1), t(e1) +
    window]`` (a name used by m steps takes its m earliest events); the level is the number of
    steps matched, and the times are the matched events' times in order."""
    unit, period, level, chosen, times, last_start = _outputs(starts, time, name, steps, edges)
    n = steps.shape[0]
    longest = _longest(starts)
    positions = np.empty(longest, np.int64)
    first, used, found = (
        np.empty(2 * names + 1, np.int64),
        np.empty(names, np.int64),
        np.empty(n, np.int64),
    )
    row = 0
    for u in range(starts.shape[0] - 1):
        lo, hi = starts[u], starts[u + 1]
        _index_names(name, lo, hi, names, first, positions)
        j, end = first[steps[0]], first[steps[0] + 1]
        while j < end:
            p = _period_of(edges, time[positions[j]])
            if p < 0:
                j += 1
                continue
            stop = _period_end(time, positions, j, end, edges[p + 1])
            best = 0
            for attempt in range(j, stop):
                if best == n:
                    break
                start = positions[attempt]
                t0 = time[start]
                used[:] = 0
                reached = 0
                tie = _instant_start(time, lo, start)
                for k in range(n):
                    x = steps[k]
                    match = _nth_at_or_after(positions, first, x, tie, used[x])
                    used[x] += 1
                    if match >= 0 and time[match] - t0 <= window:
                        found[reached] = time[match]
                        reached += 1
                if reached > best:
                    best = reached
                    chosen[row] = start
                    ordered = np.sort(found[:reached])
                    for k in range(reached):
                        times[row, k] = ordered[k]
            unit[row], period[row], level[row] = u, p, best
            last_start[row] = time[positions[stop - 1]]
            row += 1
            j = stop
    return unit, period, level, chosen, times, last_start


KERNELS = {"ordered": ordered_levels, "strict": strict_levels, "any": any_order_levels}
