"""Columns as engine keys: 64-bit integers the kernels hash and compare.

An integer column is its own key (exact). Any other column (text, categorical, …) is keyed by
64-bit hashes of its text: two hashes for users, whose codes are global, so two different users
share a key only if both hashes collide (about n² / 2¹²⁹); one hash for keys compared only inside
one user (sessions, held values), where two values of one user would have to collide (about
2⁻⁶⁴ per pair). Nullable keys carry a null flag, so a null is its own value.
"""

import numpy as np
import polars as pl
from numpy.typing import NDArray

from journeykit.engine.group import key_hash, same_row
from journeykit.engine.jit import kernel

SEEDS = (0x6A6B_0001, 0x6A6B_0002)


def key_exprs(
    column: str, dtype: pl.DataType, *, name: str, hashes: int, flag: bool
) -> list[pl.Expr]:
    """``uint64`` key columns ``name_0, name_1, …`` of ``column``: an integer column's value,
    any other column's ``hashes`` hashes of its text (a null hashes to a value of its own);
    with ``flag``, then a null flag (1 for a null; an integer null's value is then 0). The flag
    is always last."""
    value = pl.col(column)
    if dtype.is_integer():
        keys = [(value.fill_null(0) if flag else value).cast(pl.Int64).reinterpret(signed=False)]
    else:
        text = value if dtype == pl.String else value.cast(pl.String)
        keys = [text.hash(seed) for seed in SEEDS[:hashes]]
    keys += [value.is_null().cast(pl.UInt64)] if flag else []
    return [key.alias(f"{name}_{i}") for i, key in enumerate(keys)]


def needs_flag(dtype: pl.DataType, nullable: bool) -> bool:
    """Whether keys of a column of ``dtype`` need a null flag to tell a null from every value:
    integers that may be null do; a text null hashes to a value of its own."""
    return nullable and dtype.is_integer()


def key_columns(names: list[str], key: str) -> list[str]:
    """The key columns of ``key`` (``key_exprs``) among ``names``."""
    return [n for n in names if n.startswith(f"{key}_") and n[len(key) + 1 :].isdigit()]


@kernel
def _encode(
    keys: NDArray[np.uint64],
    slots: NDArray[np.int64],
    known: NDArray[np.uint64],
    count: int,
    codes: NDArray[np.int64],
    new_rows: NDArray[np.int64],
) -> tuple[int, int, int]:
    """Codes of ``keys`` rows against the table (``slots`` → code, ``known`` keys by code);
    new keys get the next codes and their rows are listed in ``new_rows``. Stops early (returns
    the row reached) when the table is half full: it must grow first."""
    capacity = slots.shape[0]
    mask = np.uint64(capacity - 1)
    added = 0
    for row in range(keys.shape[0]):
        slot = key_hash(keys, row) & mask
        while True:
            code = slots[slot]
            if code < 0:
                if 2 * (count + 1) > capacity:
                    return count, added, row
                slots[slot] = count
                known[count] = keys[row]
                codes[row] = count
                new_rows[added] = row
                added += 1
                count += 1
                break
            if same_row(keys, row, known, code):
                codes[row] = code
                break
            slot = (slot + np.uint64(1)) & mask
    return count, added, keys.shape[0]


@kernel
def _rehashed(known: NDArray[np.uint64], count: int, capacity: int) -> NDArray[np.int64]:
    slots = np.full(capacity, -1, np.int64)
    mask = np.uint64(capacity - 1)
    for code in range(count):
        slot = key_hash(known, code) & mask
        while slots[slot] >= 0:
            slot = (slot + np.uint64(1)) & mask
        slots[slot] = code
    return slots


class Dictionary:
    """Dense codes for the values of one column over every batch of a read, and the values.

    >>> words = Dictionary()
    >>> keys = np.array([[5], [7], [5]], dtype=np.uint64)
    >>> words.encode(keys, pl.Series(["a", "b", "a"])).tolist(), words.values().to_list()
    ([0, 1, 0], ['a', 'b'])
    """

    def __init__(self) -> None:
        self._slots = np.full(64, -1, np.int64)
        self._known = np.empty((0, 0), np.uint64)
        self._count = 0
        self._values: list[pl.Series] = []
        self._all: pl.Series | None = None

    def encode(self, keys: NDArray[np.uint64], values: pl.Series) -> NDArray[np.int64]:
        """The code of each row (``keys`` a ``uint64`` matrix, ``values`` what they stand for)."""
        if self._known.shape[1] != keys.shape[1]:
            self._known = np.empty((self._slots.shape[0] // 2, keys.shape[1]), np.uint64)
        codes = np.empty(keys.shape[0], np.int64)
        new_rows = np.empty(keys.shape[0], np.int64)
        done = 0
        while done < keys.shape[0]:
            self._count, added, reached = _encode(
                keys[done:], self._slots, self._known, self._count, codes[done:], new_rows
            )
            if added:
                self._values.append(values.slice(done, reached).gather(new_rows[:added]))
                self._all = None
            done += reached
            if done < keys.shape[0]:
                self._grow()
        return codes

    def _grow(self) -> None:
        capacity = self._slots.shape[0] * 2
        known = np.empty((capacity // 2, self._known.shape[1]), np.uint64)
        known[: self._count] = self._known[: self._count]
        self._known = known
        self._slots = _rehashed(known, self._count, capacity)

    def values(self) -> pl.Series:
        """The value of each code, in code order."""
        if self._all is None:
            self._all = pl.concat(self._values) if self._values else pl.Series([], dtype=pl.Null)
        return self._all


@kernel
def _lookup(
    hashes: NDArray[np.uint64],
    table_hashes: NDArray[np.uint64],
    table_codes: NDArray[np.unsignedinteger],
    default: int,
    free: int,
    codes: NDArray[np.unsignedinteger],
) -> None:
    """``codes[row]``: the code of each hash in a small open-addressing table (``default``
    when absent; a ``free`` slot holds no name)."""
    mask = np.uint64(table_hashes.shape[0] - 1)
    for row in range(hashes.shape[0]):
        h = hashes[row]
        slot = h & mask
        code = default
        while table_codes[slot] != free:
            if table_hashes[slot] == h:
                code = table_codes[slot]
                break
            slot = (slot + np.uint64(1)) & mask
        codes[row] = code


_NAME_SEED = 0x6A6B_0003


class NameCodes:
    """A small code for each event name (``uint8`` for codes up to 254, else ``uint16`` up to
    65,534): Polars hashes the names (one pass, far cheaper than comparing every row with every
    name), a kernel looks the hashes up.

    >>> codes = NameCodes({"purchase": 3, "search": 1}, default=0)
    >>> codes.of(pl.select(codes.expr(pl.lit(pl.Series(["search", "view"])))).to_series())
    array([1, 0], dtype=uint8)
    """

    def __init__(self, names: dict[str, int], default: int) -> None:
        self.default = default
        hashes = pl.Series(list(names), dtype=pl.String).hash(_NAME_SEED).to_numpy()
        if len(set(hashes.tolist())) != len(hashes):  # pragma: no cover (64-bit collision)
            raise AssertionError("two event names share a hash")
        capacity = 16
        while capacity < 2 * len(names):
            capacity *= 2
        largest = max(names.values(), default=0)
        dtype = np.uint8 if largest < 255 and default <= 255 else np.uint16
        if largest >= np.iinfo(np.uint16).max:
            raise ValueError(f"{largest + 1} event name codes: at most 65,535 are possible")
        free = self.free = int(np.iinfo(dtype).max)
        self.hashes = np.zeros(capacity, np.uint64)
        self.codes: NDArray[np.unsignedinteger] = np.full(capacity, free, dtype)
        for h, code in zip(hashes.tolist(), names.values(), strict=True):
            slot = h % capacity
            while self.codes[slot] != free:
                slot = (slot + 1) % capacity
            self.hashes[slot], self.codes[slot] = h, code

    @staticmethod
    def expr(event: pl.Expr) -> pl.Expr:
        """What Polars computes for each event: the name's hash."""
        return event.hash(_NAME_SEED)

    def of(self, hashes: pl.Series) -> NDArray[np.unsignedinteger]:
        """The code of each hashed name."""
        codes = np.empty(hashes.len(), self.codes.dtype)
        _lookup(hashes.to_numpy(), self.hashes, self.codes, self.default, self.free, codes)
        return codes
