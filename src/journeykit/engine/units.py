"""Units inside a user (SPEC §3, §4): sessions from the inactivity rule, and a user's events
regrouped by session or held value, each unit still in (time, row) order."""

import numpy as np
from numpy.typing import NDArray

from journeykit.engine.group import forget, local_code, local_table
from journeykit.engine.jit import kernel


@kernel
def gap_sessions(starts: NDArray[np.int64], time: NDArray[np.int64], gap: int) -> NDArray[np.int64]:
    """Session number (1, 2, …) of each event of each user (``starts``), events in time order: a
    session starts at a user's first event and whenever the gap to the previous event is
    ≥ ``gap`` (SPEC §3)."""
    number = np.empty(time.shape[0], np.int64)
    for user in range(starts.shape[0] - 1):
        current = 0
        for p in range(starts[user], starts[user + 1]):
            if p == starts[user] or time[p] - time[p - 1] >= gap:
                current += 1
            number[p] = current
    return number


@kernel
def split_groups(
    starts: NDArray[np.int64], keys: NDArray[np.uint64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Regroup the events of each group (``starts``) by ``keys`` (values in order of first
    appearance in the group, events kept in order): the permutation and the new groups' starts.
    """
    n = keys.shape[0]
    table, touched = local_table(starts)
    code_of = np.empty(touched.shape[0], np.int64)
    cursor = np.empty(touched.shape[0] + 1, np.int64)
    order, unit_starts = np.empty(n, np.int64), np.empty(n + 1, np.int64)
    units = 0
    for g in range(starts.shape[0] - 1):
        lo, hi = starts[g], starts[g + 1]
        count = 0
        for p in range(lo, hi):
            _, count = local_code(keys, p, lo, table, touched, code_of, count)
        forget(table, touched, count)
        cursor[: count + 1] = 0
        for p in range(lo, hi):
            cursor[code_of[p - lo] + 1] += 1
        for c in range(count):
            cursor[c + 1] += cursor[c]
            unit_starts[units + c] = lo + cursor[c]
        units += count
        for p in range(lo, hi):
            c = code_of[p - lo]
            order[lo + cursor[c]] = p
            cursor[c] += 1
    unit_starts[units] = n
    return order, unit_starts[: units + 1]
