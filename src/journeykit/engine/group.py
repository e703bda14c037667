"""Grouping events by key, in (time, input row) order: the first step of every sequence kernel.

Keys are rows of a ``uint64`` matrix (one column for an integer key, more for text keys, which
arrive as independent 64-bit hashes, so that two distinct values share a key only if every hash
collides). ``group_by_key`` gives the permutation that puts each key's events together (keys in
order of first appearance, events in input order) and the offsets of each group; ``order_by_time``
then sorts, inside each group, the events that are not yet in time order (exports usually are,
so this is a check). Both are a counting sort after a hash-table factorization: linear, no
general sort.
"""

from typing import Any

import numpy as np
from numpy.typing import NDArray

from journeykit.engine.jit import inline, kernel

EMPTY = -1
_SEED = np.uint64(0x9E3779B97F4A7C15)
_STEP = np.uint64(0xBF58476D1CE4E5B9)


@inline
def mix(x: np.uint64) -> np.uint64:
    """The splitmix64 finalizer: a bijection of 64-bit integers that spreads every input bit."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@inline
def key_hash(keys: NDArray[np.uint64], row: int) -> np.uint64:
    """The hash of one row of a key matrix: each column times its own odd constant (products
    the CPU computes side by side), summed, then mixed once."""
    h = _SEED
    for j in range(keys.shape[1]):
        h += (keys[row, j] + np.uint64(j)) * (_SEED + np.uint64(2 * j + 2) * _STEP)
    return mix(h)


@inline
def pair_hash(a: NDArray[np.uint64], b: NDArray[np.uint64], row: int) -> np.uint64:
    """``key_hash`` of row ``row`` of two key matrices side by side."""
    h = _SEED
    for j in range(a.shape[1]):
        h += (a[row, j] + np.uint64(j)) * (_SEED + np.uint64(2 * j + 2) * _STEP)
    for j in range(b.shape[1]):
        k = a.shape[1] + j
        h += (b[row, j] + np.uint64(k)) * (_SEED + np.uint64(2 * k + 2) * _STEP)
    return mix(h)


@inline
def same_row(a: NDArray[np.uint64], i: int, b: NDArray[np.uint64], j: int) -> bool:
    """Whether row ``i`` of key matrix ``a`` equals row ``j`` of ``b`` (without branches: keys
    have a column or two, and an early exit costs more than it saves)."""
    same = True
    for column in range(a.shape[1]):
        same &= a[i, column] == b[j, column]
    return same


@inline
def local_table(starts: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """An empty table for ``local_code`` big enough for the longest group of ``starts``, and
    the list of its used slots."""
    longest = 1
    for group in range(starts.shape[0] - 1):
        longest = max(longest, starts[group + 1] - starts[group])
    capacity = 16
    while capacity < 2 * longest:
        capacity *= 2
    return np.full(capacity, EMPTY, np.int64), np.empty(longest, np.int64)


@inline
def local_code(
    keys: NDArray[np.uint64],
    row: int,
    offset: int,
    table: NDArray[np.int64],
    touched: NDArray[np.int64],
    codes: NDArray[np.int64],
    count: int,
) -> tuple[int, int]:
    """The code of ``keys[row]`` among the keys of one group seen so far (``table``: the row
    holding each slot's key; ``codes[row - offset]``: each row's code); a new key gets code
    ``count``. Returns (code, count after). ``forget`` empties the table for the next group."""
    mask = np.uint64(table.shape[0] - 1)
    slot = key_hash(keys, row) & mask
    while True:
        seen = table[slot]
        if seen == EMPTY:
            table[slot] = row
            touched[count] = slot
            codes[row - offset] = count
            return count, count + 1
        if same_row(keys, seen, keys, row):
            codes[row - offset] = codes[seen - offset]
            return codes[seen - offset], count
        slot = (slot + np.uint64(1)) & mask


@inline
def forget(table: NDArray[np.int64], touched: NDArray[np.int64], count: int) -> None:
    """Empty the slots ``local_code`` used (``count`` keys)."""
    for i in range(count):
        table[touched[i]] = EMPTY


@kernel
def factorize(keys: NDArray[np.uint64]) -> tuple[NDArray[np.int64], int]:
    """Dense codes 0, 1, … of the rows of ``keys``, in order of first appearance, and how many.

    Open addressing on a table that holds each key and its code (so probes stay inside the
    table); it doubles at half load.
    """
    n, width = keys.shape
    codes = np.empty(n, np.int64)
    capacity = 1024
    table_keys = np.empty((capacity, width), np.uint64)
    table_codes = np.full(capacity, EMPTY, np.int64)
    firsts = np.empty(max(n, 1), np.int64)
    count = 0
    for row in range(n):
        mask = np.uint64(capacity - 1)
        slot = key_hash(keys, row) & mask
        while True:
            code = table_codes[slot]
            if code == EMPTY:
                table_codes[slot] = count
                table_keys[slot] = keys[row]
                firsts[count] = row
                codes[row] = count
                count += 1
                if 2 * count > capacity:
                    capacity *= 2
                    table_keys, table_codes = _rehash(keys, firsts, count, capacity)
                break
            if same_row(keys, row, table_keys, int(slot)):
                codes[row] = code
                break
            slot = (slot + np.uint64(1)) & mask
    return codes, count


@inline
def _rehash(
    keys: NDArray[np.uint64], firsts: NDArray[np.int64], count: int, capacity: int
) -> tuple[NDArray[np.uint64], NDArray[np.int64]]:
    table_keys = np.empty((capacity, keys.shape[1]), np.uint64)
    table_codes = np.full(capacity, EMPTY, np.int64)
    mask = np.uint64(capacity - 1)
    for code in range(count):
        row = firsts[code]
        slot = key_hash(keys, row) & mask
        while table_codes[slot] != EMPTY:
            slot = (slot + np.uint64(1)) & mask
        table_codes[slot] = code
        table_keys[slot] = keys[row]
    return table_keys, table_codes


@kernel
def dense_codes(keys: NDArray[np.uint64]) -> tuple[NDArray[np.int64], int]:
    """Codes ``key - smallest key`` of a one-column key matrix whose values span fewer than
    ``2 n + 1024`` integers (their count; unused codes are empty groups), as DuckDB's perfect
    hash aggregate does; ``count`` -1 when the keys are not like that."""
    n = keys.shape[0]
    if keys.shape[1] != 1 or n == 0:
        return np.empty(0, np.int64), -1
    low, high = keys[0, 0], keys[0, 0]
    for row in range(n):
        low, high = min(low, keys[row, 0]), max(high, keys[row, 0])
    if high - low >= np.uint64(2 * n + 1024):
        return np.empty(0, np.int64), -1
    codes = np.empty(n, np.int64)
    for row in range(n):
        codes[row] = np.int64(keys[row, 0] - low)
    return codes, int(high - low) + 1


@kernel
def counting_sort(
    codes: NDArray[np.int64], count: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The stable permutation that groups rows by code, and the offsets of each code's rows
    (``starts[c]`` to ``starts[c + 1]``)."""
    starts = np.zeros(count + 1, np.int64)
    for row in range(codes.shape[0]):
        starts[codes[row] + 1] += 1
    for code in range(count):
        starts[code + 1] += starts[code]
    cursor = starts[:-1].copy()
    order = np.empty(codes.shape[0], np.int64)
    for row in range(codes.shape[0]):
        code = codes[row]
        order[cursor[code]] = row
        cursor[code] += 1
    return order, starts


@kernel
def order_by_time(
    order: NDArray[np.int64], starts: NDArray[np.int64], time: NDArray[np.int64]
) -> None:
    """Sort each group of ``order`` by time in place, and ``time`` with it (``time[p]`` is the
    time of row ``order[p]``), keeping input order for equal times (a stable sort of rows
    already in input order): the (time, input row) order of SPEC §3.

    A group already in time order, the usual case, is only checked.
    """
    for group in range(starts.shape[0] - 1):
        lo, hi = starts[group], starts[group + 1]
        for p in range(lo + 1, hi):
            if time[p] < time[p - 1]:
                by_time = np.argsort(time[lo:hi], kind="mergesort")
                rows, times = order[lo:hi].copy(), time[lo:hi].copy()
                for i in range(hi - lo):
                    order[lo + i] = rows[by_time[i]]
                    time[lo + i] = times[by_time[i]]
                break


def group_by_key(
    keys: NDArray[np.uint64], time: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """``(order, starts, time)``: rows of ``keys`` grouped by key, each group in (time, row)
    order, and the times in that order.

    >>> keys = np.array([[7], [3], [7], [3]], dtype=np.uint64)
    >>> order, starts, times = group_by_key(keys, np.array([5, 2, 1, 2]))
    >>> order.tolist(), starts.tolist(), times.tolist()
    ([2, 0, 1, 3], [0, 2, 4], [1, 5, 2, 2])
    """
    codes, count = dense_codes(keys)
    if count < 0:
        codes, count = factorize(keys)
    order, starts = counting_sort(codes, count)
    if count > keys.shape[0]:
        starts = np.append(starts[:-1][np.diff(starts) > 0], starts[-1])
    ordered = time[order]
    order_by_time(order, starts, ordered)
    return order, starts, ordered


def group_streams(
    keys: NDArray[np.uint64],
    time: NDArray[np.int64],
    other_keys: NDArray[np.uint64],
    other_time: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """``group_by_key`` of two streams at once, with the same groups: ``(order, starts,
    other_order, other_starts)``, group ``g`` being ``starts[g]`` to ``starts[g + 1]`` of the
    first stream and ``other_starts[g]`` to ``other_starts[g + 1]`` of the other, each in (time,
    row) order. Every key of the other stream must be a key of the first.
    """
    both = np.concatenate([keys, other_keys]) if other_keys.shape[0] else keys
    codes, count = dense_codes(both)
    if count < 0:
        codes, count = factorize(both)
    order, starts = counting_sort(codes[: keys.shape[0]], count)
    other_order, other_starts = counting_sort(codes[keys.shape[0] :], count)
    if count > keys.shape[0] or (np.diff(starts) == 0).any():
        used = np.diff(starts) > 0
        starts = np.append(starts[:-1][used], starts[-1])
        other_starts = np.append(other_starts[:-1][used], other_starts[-1])
    order_by_time(order, starts, time[order])
    order_by_time(other_order, other_starts, other_time[other_order])
    return order, starts, other_order, other_starts


@kernel
def take(values: NDArray[Any], order: NDArray[np.int64]) -> NDArray[Any]:
    """``values[order]`` (rows of a 1-D or 2-D array) in one pass."""
    taken = np.empty_like(values)
    for i in range(order.shape[0]):
        taken[i] = values[order[i]]
    return taken


@kernel
def take_rows(values: NDArray[Any], order: NDArray[np.int64]) -> NDArray[Any]:
    """``take`` for a 2-D array, column by column within each row."""
    taken = np.empty_like(values)
    for i in range(order.shape[0]):
        for j in range(values.shape[1]):
            taken[i, j] = values[order[i], j]
    return taken
