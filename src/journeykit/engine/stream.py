"""Reading events once, in batches, into chunks of whole users.

A query's batches (Polars' streaming engine, in input order) are cut by a hash of the user into
``2**bits`` chunks, so every user's events land in one chunk, in input order. Each chunk has its
own region of one buffer per column; when the routed bytes pass ``MEMORY_BYTES`` the regions are
flushed to temporary files (one per chunk, removed at the end) and later batches are appended
there, so peak memory follows the chunk size rather than the log. Each chunk is then computed on
its own (``per_chunk``), as many at a time as there are cores: the kernels release the GIL.
"""

import math
import os
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import numpy as np
import polars as pl
from numpy.typing import NDArray

from journeykit import progress
from journeykit.engine.group import key_hash
from journeykit.engine.jit import kernel, threads
from journeykit.load.sources import read_failure

KEYS = "__keys"
"""The chunk entry holding the user key matrix (``uint64``, one row per event)."""
CHUNK_BYTES = 16 * 2**20
"""Routed bytes per chunk: a chunk's user table and working arrays stay small."""


def _memory_bytes() -> int:
    """An eighth of the machine's memory, at least 1.25 GiB."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        physical = 0
    return max(1280 * 2**20, physical // 8)


MEMORY_BYTES = _memory_bytes()
"""Routed bytes kept in memory (an eighth of the machine's memory, at least 1.25 GiB); beyond
this the chunks go to temporary files."""
BATCH_ROWS = 1 << 20
T = TypeVar("T")
Chunk = dict[str, NDArray[Any]]
"""A chunk's columns by name (their dtypes are the kernels' business)."""


@kernel
def route(
    keys: NDArray[np.uint64], bits: int, low: int, shift: int
) -> tuple[NDArray[np.uint32], NDArray[np.int64]]:
    """The rows of a batch grouped by chunk, in order within each chunk, and where each chunk's
    rows start (``bounds[c]`` to ``bounds[c + 1]``). A row's chunk is the top ``bits`` bits of
    its key's hash, or, with ``shift >= 0`` (integer keys from ``low`` on), ``(key - low) >>
    shift``: each chunk then holds a range of keys."""
    n = keys.shape[0]
    chunk_of = np.zeros(n, np.int64)
    bounds = np.zeros((1 << bits) + 1, np.int64)
    if shift >= 0:
        for row in range(n):
            chunk_of[row] = np.int64((keys[row, 0] - np.uint64(low)) >> np.uint64(shift))
    elif bits > 0:
        top = np.uint64(64 - bits)
        for row in range(n):
            chunk_of[row] = np.int64(key_hash(keys, row) >> top)
    for row in range(n):
        bounds[chunk_of[row] + 1] += 1
    for chunk in range(1 << bits):
        bounds[chunk + 1] += bounds[chunk]
    at = bounds[:-1].copy()
    order = np.empty(n, np.uint32)
    for row in range(n):
        order[at[chunk_of[row]]] = row
        at[chunk_of[row]] += 1
    return order, bounds


@kernel
def permute(values: NDArray[np.generic], order: NDArray[np.uint32]) -> None:
    """Rows ``values[order[0]], values[order[1]], …`` in place (``values`` 2-D, one column or
    more)."""
    copy = values.copy()
    for i in range(order.shape[0]):
        for j in range(values.shape[1]):
            values[i, j] = copy[order[i], j]


@dataclass(frozen=True)
class Plan:
    """How a read is cut: ``2**bits`` chunks, ``rows`` rows expected (an estimate), whether to
    spill from the start, and, for integer users in a compact known range, chunks by range
    (``low``, ``shift``; ``shift`` -1: by hash)."""

    bits: int
    rows: int
    spill: bool = False
    low: int = 0
    shift: int = -1

    @classmethod
    def for_size(cls, rows: int, row_bytes: int, users: tuple[int, int] | None = None) -> "Plan":
        """The plan for about ``rows`` rows of ``row_bytes`` routed bytes each, of users in
        ``users`` (integers, when known).

        ``JOURNEYKIT_CHUNK_ROWS`` fixes the rows per chunk and spills from the start (tests).
        """
        fixed = os.environ.get("JOURNEYKIT_CHUNK_ROWS")
        spill = fixed is not None
        bits = _bits_for(rows / int(fixed) if fixed else rows * row_bytes / CHUNK_BYTES)
        if users is None or users[0] < 0 or users[1] - users[0] > COMPACT * max(rows, 1):
            return cls(bits, rows, spill)
        span = users[1] - users[0]
        shift = 0
        while span >> shift >= 1 << bits:
            shift += 1
        return cls(bits, rows, spill, low=users[0], shift=shift)


COMPACT = 4
"""Integer users span at most this many values per row for chunks by range."""


def _bits_for(chunks: float) -> int:
    return max(0, math.ceil(math.log2(chunks))) if chunks > 1 else 0


class _Chunks:
    """The batches read so far, their rows grouped by the chunk of their user; once their bytes
    pass ``MEMORY_BYTES``, one temporary file per chunk instead, of blocks of rows that hold
    every column in turn. A chunk is put together when it is read (``read``), in the thread
    that computes it."""

    def __init__(self, plan: Plan, folder: Path, budget: "_Budget") -> None:
        self.parts = 1 << plan.bits
        self.bits, self.low, self.shift = plan.bits, plan.low, plan.shift
        self.folder = folder
        self.names: list[str] = []
        self.dtypes: list[np.dtype[np.generic]] = []
        self.shapes: list[tuple[int, ...]] = []
        self.raw: list[list[NDArray[np.generic]]] = []
        self.batches: list[Batch] = []
        self.counts = np.zeros(self.parts, np.int64)
        self.budget = budget
        self.files: list[BinaryIO] | None = None
        self.spill_from_start = plan.spill

    def describe(
        self, matrix: NDArray[np.uint64], names: list[str], arrays: list[NDArray[np.generic]]
    ) -> None:
        """Name the columns (from the first batch)."""
        self.names = [KEYS, *names]
        self.dtypes = [matrix.dtype, *(a.dtype for a in arrays)]
        self.shapes = [a.shape[1:] for a in (matrix, *arrays)]
        if self.spill_from_start:
            self._open_files()

    def add(self, arrays: list[NDArray[np.generic]]) -> None:
        """The rows of one batch (``arrays[0]``: the keys). Kept as they are while the log fits
        in memory (``finish`` groups them, on every core, once reading is over: the read has
        the cores to itself); else grouped by chunk and written now."""
        if self.files is not None:
            self._write(self._grouped(arrays))
            return
        # Own copies (of Polars' read-only arrays), so Polars reuses its memory for the next
        # batches and ``finish`` can group the rows in place.
        self.raw.append([a if _own(a) else np.array(a, order="C") for a in arrays])
        self.budget.held += sum(a.nbytes for a in arrays)
        if self.budget.held > MEMORY_BYTES:
            self._open_files()

    def _grouped(self, arrays: list[NDArray[np.generic]], *, own: bool = False) -> "Batch":
        """A batch with its rows grouped by the chunk of their user (in place when the arrays
        are ``own`` copies)."""
        order, bounds = route(arrays[0], self.bits, self.low, self.shift)  # type: ignore[arg-type]
        if self.parts == 1:
            return Batch(arrays, bounds)
        if not own:
            return Batch([a[order] for a in arrays], bounds)
        for array in arrays:
            permute(array.reshape(array.shape[0], -1), order)
        return Batch(arrays, bounds)

    def finish(self) -> None:
        """Group the batches kept in memory by chunk."""
        raw, self.raw = self.raw, []
        with ThreadPoolExecutor(threads()) as pool:
            self.batches = list(pool.map(partial(self._grouped, own=True), raw))
        for batch in self.batches:
            self.counts += np.diff(batch.bounds)

    def _open_files(self) -> None:
        self.files = [(self.folder / f"chunk-{p}.bin").open("wb") for p in range(self.parts)]
        raw, self.raw = self.raw, []
        for arrays in raw:
            self._write(self._grouped(arrays))

    def _write(self, batch: "Batch") -> None:
        assert self.files is not None
        for part in range(self.parts):
            lo, hi = batch.bounds[part], batch.bounds[part + 1]
            if hi > lo:
                pieces = [np.array([hi - lo], dtype=np.int64), *(a[lo:hi] for a in batch.arrays)]
                block = np.concatenate([piece.view(np.uint8).reshape(-1) for piece in pieces])
                block.tofile(self.files[part])

    def read(self, part: int) -> Chunk:
        """Chunk ``part``'s columns, rows in input order."""
        if self.files is not None:
            return self._from_file(part)
        size = int(self.counts[part])
        chunk = self._empty(size)
        at = 0
        for batch in self.batches:
            lo, hi = batch.bounds[part], batch.bounds[part + 1]
            for target, array in zip(chunk.values(), batch.arrays, strict=True):
                target[at : at + hi - lo] = array[lo:hi]
            at += hi - lo
        return chunk

    def _empty(self, rows: int = 0) -> Chunk:
        return {
            name: np.empty((rows, *shape), dtype)
            for name, dtype, shape in zip(self.names, self.dtypes, self.shapes, strict=True)
        }

    def _from_file(self, part: int) -> Chunk:
        assert self.files is not None
        self.files[part].close()
        path = self.folder / f"chunk-{part}.bin"
        data = np.fromfile(path, dtype=np.uint8)
        path.unlink()
        blocks: list[list[NDArray[np.generic]]] = [[] for _ in self.names]
        offset = 0
        while offset < data.shape[0]:
            rows = int(data[offset : offset + 8].view(np.int64)[0])
            offset += 8
            for i, shape in enumerate(self.shapes):
                size = rows * math.prod(shape) * self.dtypes[i].itemsize
                array = data[offset : offset + size].view(self.dtypes[i])
                blocks[i].append(array.reshape(rows, *shape))
                offset += size
        if not blocks[0]:
            return self._empty()
        return {name: np.concatenate(p) for name, p in zip(self.names, blocks, strict=True)}

    def close(self) -> None:
        for out in self.files or []:
            out.close()


def _own(array: NDArray[Any]) -> bool:
    """Whether an array can be kept and grouped in place as it is (a fresh, writable one)."""
    return bool(array.flags.writeable and array.flags.c_contiguous)


@dataclass(frozen=True)
class Batch:
    """One batch's columns, rows grouped by chunk (``route``): chunk ``c`` is rows
    ``bounds[c]`` to ``bounds[c + 1]``."""

    arrays: list[NDArray[np.generic]]
    bounds: NDArray[np.int64]


Stream = tuple[NDArray[np.uint64], dict[str, NDArray[Any]]]
"""What one batch gives a stream: the user key matrix and named columns, one row per row."""
Chunks = dict[str, Chunk]
"""One chunk of every stream: its users' rows of each."""


def stream_of(batch: pl.DataFrame, keys: list[str]) -> Stream:
    """A batch as a stream: the ``keys`` columns (``uint64``) as one matrix, every other column
    by name."""
    if len(keys) == 1:
        matrix = batch[keys[0]].to_numpy().reshape(-1, 1)
    else:
        matrix = np.ascontiguousarray(batch.select(keys).to_numpy(), dtype=np.uint64)
    return matrix, {c: batch[c].to_numpy() for c in batch.columns if c not in keys}


@contextmanager
def read_chunks(
    frame: pl.LazyFrame,
    plan: Plan,
    label: str,
    split: Callable[[pl.DataFrame], dict[str, Stream]],
) -> Iterator[list[Callable[[], Chunks]]]:
    """The chunks of whole users of the streams that ``split`` makes of each batch of
    ``frame`` (in input order): every stream's rows of one chunk's users, in input order."""
    with tempfile.TemporaryDirectory(prefix="journeykit-") as folder:
        streams: dict[str, _Chunks] = {}
        budget = _Budget()

        def add(batch: pl.DataFrame) -> None:
            progress.rows_read(batch.height)
            for name, (matrix, columns) in split(batch).items():
                if name not in streams:
                    (Path(folder) / name).mkdir()
                    streams[name] = _Chunks(plan, Path(folder) / name, budget)
                    streams[name].describe(matrix, list(columns), list(columns.values()))
                streams[name].add([matrix, *columns.values()])

        progress.phase("reading events")
        try:
            for batch in frame.collect_batches(chunk_size=BATCH_ROWS):
                add(batch)
            if not streams:
                add(frame.head(0).collect())
        except pl.exceptions.PolarsError as exc:
            for chunks in streams.values():
                chunks.close()
            raise read_failure(label, exc) from None
        for chunks in streams.values():
            chunks.finish()

        def chunk(part: int) -> Chunks:
            return {name: chunks.read(part) for name, chunks in streams.items()}

        yield [partial(chunk, part) for part in range(1 << plan.bits)]


@dataclass
class _Budget:
    """The bytes all streams of one read hold in memory."""

    held: int = 0


def _computed(compute: Callable[[Chunks], T], chunk: Callable[[], Chunks]) -> T:
    return compute(chunk())


def per_chunk(chunks: list[Callable[[], Chunks]], compute: Callable[[Chunks], T]) -> list[T]:
    """``compute`` on every chunk, as many at a time as there are cores (results in chunk order).

    Each chunk is put together (or read from its file) in the thread that computes it."""
    progress.phase("computing")
    workers = threads()
    if workers <= 1:
        return [compute(chunk()) for chunk in chunks]
    with ThreadPoolExecutor(workers) as pool:
        pending = []
        results = []
        for chunk in chunks:
            pending.append(pool.submit(_computed, compute, chunk))
            if len(pending) > workers:
                results.append(pending.pop(0).result())
        results += [future.result() for future in pending]
    return results
