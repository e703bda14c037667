"""Funnel kernels (SPEC §4): one unit's events in (time, row) order → its level and chosen attempt.

Every kernel walks the units of one chunk. A unit's events are ``time[lo:hi]`` and
``name[lo:hi]`` (``starts[u]`` to ``starts[u + 1]``), where ``name`` is the index of the event's
name among the funnel's distinct step names (``names`` of them; any other event has a larger
code). ``steps[k]`` is the name index of step ``k + 1``. Every step-1 event with ``since <= t <
until`` starts an attempt; a unit's level is the best over its attempts, and its chosen attempt
the earliest one (in (time, row) order) that reaches it.

Each kernel returns, per unit: ``level`` (0 for a unit that never entered), ``chosen`` (the
position of the chosen attempt's step-1 event, -1 if none), ``times`` (the matched events' times
of the chosen attempt, in time order; ``times[u, k]`` for ``k < level``) and ``last_start`` (the
time of the unit's last attempt, for *in progress*).
"""

import numpy as np
from numpy.typing import NDArray

from journeykit.engine.jit import inline, kernel

NEVER = np.iinfo(np.int64).min
"""``last_start`` of a unit without an attempt."""

Levels = tuple[NDArray[np.uint8], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]


@inline
def _outputs(starts: NDArray[np.int64], steps: NDArray[np.uint8]) -> Levels:
    units = starts.shape[0] - 1
    return (
        np.zeros(units, np.uint8),
        np.full(units, -1, np.int64),
        np.zeros((units, steps.shape[0]), np.int64),
        np.full(units, NEVER, np.int64),
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


@kernel
def ordered_levels(
    starts: NDArray[np.int64],
    time: NDArray[np.int64],
    name: NDArray[np.uint8],
    steps: NDArray[np.uint8],
    names: int,
    window: int,
    since: int,
    until: int,
) -> Levels:
    """``ordered`` (SPEC §4): each next step takes the earliest event of its name at or after the
    instant of the previous match (events at one instant match in either order) and at most
    ``window`` after step 1; a name used by an earlier step of the chain needs a later event."""
    level, chosen, times, last_start = _outputs(starts, steps)
    n = steps.shape[0]
    longest = _longest(starts)
    positions = np.empty(longest, np.int64)
    first, last_use, path = (
        np.empty(2 * names + 1, np.int64),
        np.empty(names, np.int64),
        np.empty(n, np.int64),
    )
    for u in range(starts.shape[0] - 1):
        lo, hi = starts[u], starts[u + 1]
        _index_names(name, lo, hi, names, first, positions)
        last_start[u] = _last_start(time, positions, first, steps[0], since, until)
        best = 0
        for j in range(first[steps[0]], first[steps[0] + 1]):
            start = positions[j]
            t0 = time[start]
            if t0 < since or t0 >= until:
                continue
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
                chosen[u] = start
                for k in range(reached):
                    times[u, k] = time[path[k]]
            # A later start matches each step at or after this one's match: when a step had no
            # event left, no later attempt gets further.
            if best == n or exhausted:
                break
        level[u] = best
    return level, chosen, times, last_start


@inline
def _last_start(
    time: NDArray[np.int64],
    positions: NDArray[np.int64],
    first: NDArray[np.int64],
    x: int,
    since: int,
    until: int,
) -> int:
    """The time of the unit's last step-1 event in ``[since, until)`` (``NEVER`` if none)."""
    for j in range(first[x + 1] - 1, first[x] - 1, -1):
        t = time[positions[j]]
        if since <= t < until:
            return int(t)
    return NEVER


@kernel
def strict_levels(
    starts: NDArray[np.int64],
    time: NDArray[np.int64],
    name: NDArray[np.uint8],
    steps: NDArray[np.uint8],
    names: int,
    window: int,
    since: int,
    until: int,
) -> Levels:
    """``strict`` (SPEC §4): step k + 1 must be the unit's very next event after step k (every
    event counts, in (time, row) order; no swapping at one instant), within ``window``."""
    level, chosen, times, last_start = _outputs(starts, steps)
    n = steps.shape[0]
    for u in range(starts.shape[0] - 1):
        lo, hi = starts[u], starts[u + 1]
        best = 0
        for start in range(lo, hi):
            t0 = time[start]
            if name[start] != steps[0] or t0 < since or t0 >= until:
                continue
            last_start[u] = t0
            if best == n:
                continue
            reached = 1
            while reached < n:
                following = start + reached
                if following >= hi or name[following] != steps[reached]:
                    break
                if time[following] - t0 > window:
                    break
                reached += 1
            if reached > best:
                best = reached
                chosen[u] = start
                for k in range(reached):
                    times[u, k] = time[start + k]
        level[u] = best
    return level, chosen, times, last_start


@kernel
def any_order_levels(
    starts: NDArray[np.int64],
    time: NDArray[np.int64],
    name: NDArray[np.uint8],
    steps: NDArray[np.uint8],
    names: int,
    window: int,
    since: int,
    until: int,
) -> Levels:
    """``any`` (SPEC §4): each step takes the earliest event of its name inside ``[t(e1), t(e1) +
    window]`` (a name used by m steps takes its m earliest events); the level is the number of
    steps matched, and the times are the matched events' times in order."""
    level, chosen, times, last_start = _outputs(starts, steps)
    n = steps.shape[0]
    longest = _longest(starts)
    positions = np.empty(longest, np.int64)
    first, used, found = (
        np.empty(2 * names + 1, np.int64),
        np.empty(names, np.int64),
        np.empty(n, np.int64),
    )
    for u in range(starts.shape[0] - 1):
        lo, hi = starts[u], starts[u + 1]
        _index_names(name, lo, hi, names, first, positions)
        last_start[u] = _last_start(time, positions, first, steps[0], since, until)
        best = 0
        for j in range(first[steps[0]], first[steps[0] + 1]):
            start = positions[j]
            t0 = time[start]
            if t0 < since or t0 >= until:
                continue
            if best == n:
                break
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
                chosen[u] = start
                ordered = np.sort(found[:reached])
                for k in range(reached):
                    times[u, k] = ordered[k]
        level[u] = best
    return level, chosen, times, last_start


KERNELS = {"ordered": ordered_levels, "strict": strict_levels, "any": any_order_levels}
