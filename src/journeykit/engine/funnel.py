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
event), ``matched`` (the position of the chosen attempt's event of each step, -1 for a step it
did not reach) and ``last_start`` (the time of the period's last attempt, for *in progress*).
"""

import numpy as np
from numpy.typing import NDArray

from journeykit.engine.jit import inline, kernel

NEVER = np.iinfo(np.int64).min
LATEST = np.iinfo(np.int64).max

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
def members(steps: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """``member[k, x]``: whether name code ``x`` matches step ``k`` (one name per step)."""
    member = np.zeros((steps.shape[0], 256), np.uint8)
    for k in range(steps.shape[0]):
        member[k, steps[k]] = 1
    return member


@inline
def _outputs(
    starts: NDArray[np.int64],
    time: NDArray[np.int64],
    name: NDArray[np.uint8],
    member: NDArray[np.uint8],
    edges: NDArray[np.int64],
) -> Levels:
    """The kernel's outputs, one row per (unit, period) with a step-1 event."""
    rows = 0
    for u in range(starts.shape[0] - 1):
        previous = -1
        for p in range(starts[u], starts[u + 1]):
            if member[0, name[p]]:
                period = _period_of(edges, time[p])
                if period >= 0 and period != previous:
                    rows += 1
                    previous = period
    return (
        np.empty(rows, np.int64),
        np.empty(rows, np.int64),
        np.zeros(rows, np.uint8),
        np.full(rows, -1, np.int64),
        np.full((rows, member.shape[0]), -1, np.int64),
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
def _first_from(
    time: NDArray[np.int64],
    positions: NDArray[np.int64],
    first: NDArray[np.int64],
    x: int,
    lower: int,
    not_before: int,
) -> int:
    """The index (into ``positions``) of the first event named ``x`` at position ``lower`` or
    later and at time ``not_before`` or later, ``first[x + 1]`` if there is none (positions and
    their times both ascend)."""
    left, right = first[x], first[x + 1]
    while left < right:
        middle = (left + right) // 2
        if positions[middle] < lower or time[positions[middle]] < not_before:
            left = middle + 1
        else:
            right = middle
    return int(left)


@inline
def _nth_at_or_after(
    time: NDArray[np.int64],
    positions: NDArray[np.int64],
    first: NDArray[np.int64],
    x: int,
    lower: int,
    nth: int,
) -> int:
    """The position of the ``nth`` (from 0) event named ``x`` at position ``lower`` or later,
    -1 if there is none."""
    found = _first_from(time, positions, first, x, lower, NEVER) + nth
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
    chosen attempt and its matched positions go to row ``row`` of ``out`` (chosen, matched)."""
    n = steps.shape[0]
    last_use, path = scratch
    chosen, matched = out
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
            found = _nth_at_or_after(time, positions, first, x, lower, 0)
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
                matched[row, k] = path[k]
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
    unit, period, level, chosen, matched, last_start = _outputs(
        starts, time, name, members(steps), edges
    )
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
                time,
                lo,
                positions,
                first,
                steps,
                window,
                (j, stop),
                scratch,
                (chosen, matched),
                row,
            )
            unit[row], period[row] = u, p
            last_start[row] = time[positions[stop - 1]]
            row += 1
            j = stop
    return unit, period, level, chosen, matched, last_start


@inline
def _strict_attempt(
    time: NDArray[np.int64],
    name: NDArray[np.uint8],
    start: int,
    hi: int,
    member: NDArray[np.uint8],
    window: int,
) -> int:
    """The steps the attempt at ``start`` reaches by consecutive events within the window."""
    n = member.shape[0]
    reached = 1
    while reached < n:
        following = start + reached
        if following >= hi or not member[reached, name[following]]:
            break
        if time[following] - time[start] > window:
            break
        reached += 1
    return reached


@inline
def _candidate(
    time: NDArray[np.int64],
    lo: int,
    positions: NDArray[np.int64],
    first: NDArray[np.int64],
    steps: NDArray[np.uint8],
    path: NDArray[np.int64],
    k: int,
    not_before: int,
    deadline: int,
) -> int:
    """The earliest event for step ``k`` after the chain ``path[:k]``: at or after the instant of
    step k − 1, later than any chain event of its name, at or after time ``not_before`` and at
    or before ``deadline``; -1 if there is none."""
    x = steps[k]
    lower = _instant_start(time, lo, path[k - 1])
    for m in range(k):
        if steps[m] == x:
            lower = max(lower, path[m] + 1)
    found = _first_from(time, positions, first, x, lower, not_before)
    if found == first[x + 1] or time[positions[found]] > deadline:
        return -1
    return int(positions[found])


@inline
def _next_exclusion(
    time: NDArray[np.int64],
    positions: NDArray[np.int64],
    first: NDArray[np.int64],
    x: int,
    t: int,
) -> int:
    """The time of the first event named ``x`` strictly after ``t`` (``LATEST`` if none; times
    are whole microseconds)."""
    found = _first_from(time, positions, first, x, NEVER, t + 1)
    return int(time[positions[found]]) if found < first[x + 1] else LATEST


@inline
def _deadline(
    time: NDArray[np.int64],
    positions: NDArray[np.int64],
    first: NDArray[np.int64],
    path: NDArray[np.int64],
    k: int,
    exclusions: NDArray[np.int64],
    limit: int,
) -> int:
    """The latest time step ``k`` (from 0) may take: ``limit`` (the window), and for every
    exclusion (code, i, j) with i ≤ k < j (steps from 1), the first excluded event strictly
    after the chain's step-i event (an event at that instant breaks nothing)."""
    for e in range(exclusions.shape[0]):
        code, low, high = exclusions[e, 0], exclusions[e, 1], exclusions[e, 2]
        if low <= k < high:
            limit = min(limit, _next_exclusion(time, positions, first, code, time[path[low - 1]]))
    return limit


@inline
def _excluding_attempt(
    time: NDArray[np.int64],
    lo: int,
    positions: NDArray[np.int64],
    first: NDArray[np.int64],
    steps: NDArray[np.uint8],
    window: int,
    exclusions: NDArray[np.int64],
    start: int,
    path: NDArray[np.int64],
    best_path: NDArray[np.int64],
    floor: NDArray[np.int64],
) -> int:
    """The level of the attempt at ``start`` over the chains no exclusion breaks, by a search
    that follows the earliest event at each step but, at a step that opens an exclusion, also
    tries the earliest event past each excluded event (a later step-i event can avoid an
    exclusion); the first chain of the best level (the smallest in (time, row) order) goes to
    ``best_path``."""
    n = steps.shape[0]
    limit = time[start] + window
    path[0] = start
    best_path[0] = start
    best = 1
    floor[:] = NEVER
    k = 1
    while k >= 1:
        found = _candidate(
            time, lo, positions, first, steps, path, k, floor[k],
            _deadline(time, positions, first, path, k, exclusions, limit),
        )  # fmt: skip
        if found < 0:
            floor[k] = NEVER
            k -= 1
            continue
        path[k] = found
        # The next try at this step: past the first excluded event that this choice lets in.
        jump = LATEST
        for e in range(exclusions.shape[0]):
            if exclusions[e, 1] == k + 1:
                code = exclusions[e, 0]
                jump = min(jump, _next_exclusion(time, positions, first, code, time[found]))
        floor[k] = jump
        if k + 1 > best:
            best = k + 1
            best_path[: k + 1] = path[: k + 1]
            if best == n:
                return best
        k += 1
    return best


@inline
def _has_any(first: NDArray[np.int64], exclusions: NDArray[np.int64]) -> bool:
    """Whether the unit has an event of any exclusion."""
    for e in range(exclusions.shape[0]):
        if first[exclusions[e, 0] + 1] > first[exclusions[e, 0]]:
            return True
    return False


@kernel
def excluding_levels(
    starts: NDArray[np.int64],
    time: NDArray[np.int64],
    name: NDArray[np.uint8],
    steps: NDArray[np.uint8],
    names: int,
    window: int,
    edges: NDArray[np.int64],
    exclusions: NDArray[np.int64],
) -> Levels:
    """``ordered`` with exclusions (SPEC §13): a chain e1..eL is broken by an event x of an
    exclusion (code, i, j) when L > i and t(e_i) < t(x) < t(e_min(j, L)); a unit's level is the
    largest L over the unbroken chains of its attempts, its chosen attempt the first chain of
    that level in (time, row) order. ``exclusions`` holds (code, i, j) rows (steps from 1)."""
    unit, period, level, chosen, matched, last_start = _outputs(
        starts, time, name, members(steps), edges
    )
    n = steps.shape[0]
    positions = np.empty(_longest(starts), np.int64)
    first = np.empty(2 * names + 1, np.int64)
    path, best_path, floor = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    last_use = np.empty(names, np.int64)
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
            if not _has_any(first, exclusions):  # nothing to avoid: the plain ordered rule
                level[row] = _ordered_period(
                    time, lo, positions, first, steps, window, (j, stop), (last_use, path),
                    (chosen, matched), row,
                )  # fmt: skip
            for attempt in range(j, stop if level[row] == 0 else j):
                reached = _excluding_attempt(
                    time, lo, positions, first, steps, window, exclusions, positions[attempt],
                    path, best_path, floor,
                )  # fmt: skip
                if reached > level[row]:
                    level[row] = reached
                    chosen[row] = positions[attempt]
                    matched[row, :reached] = best_path[:reached]
                    if reached == n:
                        break
            unit[row], period[row] = u, p
            last_start[row] = time[positions[stop - 1]]
            row += 1
            j = stop
    return unit, period, level, chosen, matched, last_start


@kernel
def strict_levels(
    starts: NDArray[np.int64],
    time: NDArray[np.int64],
    name: NDArray[np.uint8],
    member: NDArray[np.uint8],
    window: int,
    edges: NDArray[np.int64],
) -> Levels:
    """``strict`` (SPEC §4): step k + 1 must be the unit's very next event after step k (every
    event counts, in (time, row) order; no swapping at one instant), within ``window``.
    ``member[k, x]``: whether name code ``x`` matches step k (alternatives, SPEC §13)."""
    unit, period, level, chosen, matched, last_start = _outputs(starts, time, name, member, edges)
    n = member.shape[0]
    row = -1
    for u in range(starts.shape[0] - 1):
        lo, hi = starts[u], starts[u + 1]
        current = -1
        for start in range(lo, hi):
            t0 = time[start]
            p = _period_of(edges, t0) if member[0, name[start]] else -1
            if p < 0:
                continue
            if p != current:
                current = p
                row += 1
                unit[row], period[row] = u, p
            last_start[row] = t0
            if level[row] == n:
                continue
            reached = _strict_attempt(time, name, start, hi, member, window)
            if reached > level[row]:
                level[row] = reached
                chosen[row] = start
                for k in range(reached):
                    matched[row, k] = start + k
    return unit, period, level, chosen, matched, last_start


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
    steps matched (``matched`` holds each step's event, -1 for a step left unmatched)."""
    unit, period, level, chosen, matched, last_start = _outputs(
        starts, time, name, members(steps), edges
    )
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
                    match = _nth_at_or_after(time, positions, first, x, tie, used[x])
                    used[x] += 1
                    inside = match >= 0 and time[match] - t0 <= window
                    found[k] = match if inside else -1
                    reached += inside
                if reached > best:
                    best = reached
                    chosen[row] = start
                    matched[row] = found
            unit[row], period[row], level[row] = u, p, best
            last_start[row] = time[positions[stop - 1]]
            row += 1
            j = stop
    return unit, period, level, chosen, matched, last_start


@inline
def _flip(
    free: int,
    step: int,
    via: NDArray[np.int64],
    owner: NDArray[np.int64],
    assign: NDArray[np.int64],
) -> None:
    """Turn the alternating path ending at the free event ``free`` back to ``step``."""
    event = free
    while True:
        taker = via[event]
        previous = assign[taker]
        owner[event], assign[taker] = taker, event
        if taker == step:
            return
        event = previous


@inline
def _augment(
    member: NDArray[np.uint8],
    name: NDArray[np.uint8],
    events: NDArray[np.int64],
    count: int,
    step: int,
    owner: NDArray[np.int64],
    assign: NDArray[np.int64],
    scratch: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]],
) -> bool:
    """Give ``step`` one of ``events[:count]`` along an alternating path (Kuhn's algorithm):
    ``owner[i]`` is the step holding event i (-1 if free), ``assign[k]`` the event of step k."""
    via, queue, queued = scratch
    via[:count] = -1
    queued[:] = 0
    queue[0], queued[step] = step, 1
    head, tail = 0, 1
    while head < tail:
        holder = queue[head]
        head += 1
        for i in range(count):
            if via[i] >= 0 or not member[holder, name[events[i]]]:
                continue
            via[i] = holder
            if owner[i] < 0:
                _flip(i, step, via, owner, assign)
                return True
            if not queued[owner[i]]:
                queue[tail], queued[owner[i]] = owner[i], 1
                tail += 1
    return False


@inline
def _collect(events: NDArray[np.int64], block: int, end: int, skip: int) -> int:
    """Positions ``block`` to ``end`` but ``skip`` into ``events``; how many."""
    count = 0
    for q in range(block, end):
        if q != skip:
            events[count] = q
            count += 1
    return count


@inline
def _matching_attempt(
    time: NDArray[np.int64],
    name: NDArray[np.uint8],
    member: NDArray[np.uint8],
    window: int,
    lo: int,
    hi: int,
    start: int,
    ordered: bool,
    work: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]],
    scratch: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]],
    found: NDArray[np.int64],
) -> int:
    """The level of the attempt at ``start``; each step's event goes to ``found`` (-1 if none)."""
    events, owner, assign = work
    n, t0 = member.shape[0], time[start]
    found[:] = -1
    reached = 0
    if ordered:
        found[0], reached = start, 1
    block = _instant_start(time, lo, start)
    while block < hi and time[block] - t0 <= window and reached < n:
        end = block + 1
        # ``ordered``: one instant; ``any``: the whole window.
        while end < hi and (time[end] == time[block] or (not ordered and time[end] - t0 <= window)):
            end += 1
        count = _collect(events, block, end, start if ordered else -1)
        owner[:count] = -1
        assign[:] = -1
        for k in range(reached if ordered else 0, n):
            if _augment(member, name, events, count, k, owner, assign, scratch):
                reached += 1
            elif ordered:
                break
        for k in range(n):
            if assign[k] >= 0:
                found[k] = events[assign[k]]
        block = hi if not ordered else end
    return reached


@kernel
def matching_levels(
    starts: NDArray[np.int64],
    time: NDArray[np.int64],
    name: NDArray[np.uint8],
    member: NDArray[np.uint8],
    window: int,
    edges: NDArray[np.int64],
    ordered: bool,
) -> Levels:
    """``ordered`` or ``any`` when one event name matches two different steps (SPEC §13: the
    level is the longest chain that exists). ``ordered``: instant by instant from the attempt's,
    as many next steps as the events of the instant can be given (distinct events, by
    augmenting paths); taking the most at the earliest instant is never worse. ``any``: the
    largest set of steps given distinct events of ``[t(e1), t(e1) + window]``."""
    unit, period, level, chosen, matched, last_start = _outputs(starts, time, name, member, edges)
    n, longest = member.shape[0], _longest(starts)
    work = (np.empty(longest, np.int64), np.empty(longest, np.int64), np.empty(n, np.int64))
    scratch = (np.empty(longest, np.int64), np.empty(n, np.int64), np.empty(n, np.int64))
    found = np.empty(n, np.int64)
    row = -1
    for u in range(starts.shape[0] - 1):
        lo, hi = starts[u], starts[u + 1]
        current = -1
        for start in range(lo, hi):
            p = _period_of(edges, time[start]) if member[0, name[start]] else -1
            if p < 0:
                continue
            if p != current:
                current, row = p, row + 1
                unit[row], period[row] = u, p
            last_start[row] = time[start]
            if level[row] == n:
                continue
            reached = _matching_attempt(
                time, name, member, window, lo, hi, start, ordered, work, scratch, found
            )
            if reached > level[row]:
                level[row], chosen[row] = reached, start
                matched[row] = found
    return unit, period, level, chosen, matched, last_start


@inline
def _in(path: NDArray[np.int64], length: int, q: int) -> bool:
    for m in range(length):
        if path[m] == q:
            return True
    return False


@inline
def _unbroken(
    time: NDArray[np.int64],
    name: NDArray[np.uint8],
    lo: int,
    hi: int,
    path: NDArray[np.int64],
    length: int,
    excluded: NDArray[np.uint8],
    ranges: NDArray[np.int64],
) -> bool:
    """Whether no exclusion breaks the chain ``path[:length]``, given that its prefix is
    unbroken (only the exclusions whose interval ends at the chain's last event can break it):
    an event x of exclusion e, not in the chain, with t(e_i) < t(x) < t(e_min(j, L))."""
    for e in range(ranges.shape[0]):
        low, high = ranges[e, 0], ranges[e, 1]
        if not low < length <= high:
            continue
        after, before = time[path[low - 1]], time[path[length - 1]]
        for x in range(lo, hi):
            inside = after < time[x] < before
            if inside and excluded[e, name[x]] and not _in(path, length, x):
                return False
    return True


@inline
def _repeat(
    time: NDArray[np.int64], name: NDArray[np.uint8], path: NDArray[np.int64], k: int, q: int,
    floor: int,
) -> bool:  # fmt: skip
    """Whether an earlier event of q's name and instant, not in the chain, was a candidate for
    step k before q (from ``floor``; the two are interchangeable: the search tried it)."""
    p = q - 1
    while p >= floor and time[p] == time[q]:
        if name[p] == name[q] and not _in(path, k, p):
            return True
        p -= 1
    return False


@inline
def _next_in_chain(
    time: NDArray[np.int64],
    name: NDArray[np.uint8],
    member: NDArray[np.uint8],
    lo: int,
    hi: int,
    path: NDArray[np.int64],
    k: int,
    q: int,
    limit: int,
    excluded: NDArray[np.uint8],
    ranges: NDArray[np.int64],
) -> int:
    """The first position from ``q`` that can be step ``k`` after ``path[:k]`` (its names, not in
    the chain, at or after step k − 1's instant, by ``limit``, unbroken), -1 if none."""
    floor = _instant_start(time, lo, path[k - 1])
    while q < hi and time[q] <= limit:
        if (
            time[q] >= time[path[k - 1]]
            and member[k, name[q]]
            and not _in(path, k, q)
            and not _repeat(time, name, path, k, q, floor)
        ):
            path[k] = q
            if _unbroken(time, name, lo, hi, path, k + 1, excluded, ranges):
                return q
        q += 1
    return -1


@inline
def _search_attempt(
    time: NDArray[np.int64],
    name: NDArray[np.uint8],
    member: NDArray[np.uint8],
    lo: int,
    hi: int,
    start: int,
    window: int,
    excluded: NDArray[np.uint8],
    ranges: NDArray[np.int64],
    path: NDArray[np.int64],
    best_path: NDArray[np.int64],
    scan: NDArray[np.int64],
) -> int:
    """The best level of the attempt at ``start`` over every chain (depth first, candidates in
    (time, row) order); its first chain goes to ``best_path``."""
    n = member.shape[0]
    path[0], best_path[0], best = start, start, 1
    k, scan[1] = 1, _instant_start(time, lo, start)
    limit = time[start] + window
    while k >= 1 and best < n:
        found = _next_in_chain(
            time, name, member, lo, hi, path, k, scan[k], limit, excluded, ranges
        )
        if found < 0:
            k -= 1
            continue
        scan[k] = found + 1
        if k + 1 > best:
            best = k + 1
            best_path[:best] = path[:best]
        if k + 1 < n:
            k += 1
            scan[k] = _instant_start(time, lo, found)
    return best


@kernel
def searching_levels(
    starts: NDArray[np.int64],
    time: NDArray[np.int64],
    name: NDArray[np.uint8],
    member: NDArray[np.uint8],
    window: int,
    edges: NDArray[np.int64],
    excluded: NDArray[np.uint8],
    ranges: NDArray[np.int64],
) -> Levels:
    """``ordered`` with exclusions whose names are also step names, or with a name in two
    steps (SPEC §13), by searching every chain: each step takes, in (time, row) order, any
    event of its names not already in the chain, at or after the previous step's instant and
    within the window, that leaves the chain unbroken; the first chain of the best level is
    the chosen one. ``excluded[e, x]``: whether name code ``x`` is exclusion e's, ``ranges[e]``
    its (i, j)."""
    unit, period, level, chosen, matched, last_start = _outputs(starts, time, name, member, edges)
    n = member.shape[0]
    path, best_path, scan = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    row = -1
    for u in range(starts.shape[0] - 1):
        lo, hi = starts[u], starts[u + 1]
        current = -1
        for start in range(lo, hi):
            p = _period_of(edges, time[start]) if member[0, name[start]] else -1
            if p < 0:
                continue
            if p != current:
                current, row = p, row + 1
                unit[row], period[row] = u, p
            last_start[row] = time[start]
            if level[row] == n:
                continue
            best = _search_attempt(
                time, name, member, lo, hi, start, window, excluded, ranges, path, best_path, scan
            )
            if best > level[row]:
                level[row], chosen[row] = best, start
                matched[row, :best] = best_path[:best]
    return unit, period, level, chosen, matched, last_start


KERNELS = {"ordered": ordered_levels, "any": any_order_levels}
"""The kernels of steps with one name code each (``strict_levels`` and ``matching_levels`` take
a membership matrix)."""
