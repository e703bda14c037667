"""The sequence engine: every per-user computation over events in (time, input row) order.

    normalized events ──read once, in batches──▶ chunks of whole users (memory or spill files)
      ──per chunk──▶ group by user, order by (time, row)  (``Sequences``)
      ──▶ kernels walk each user's (or unit's) events ──▶ small results, combined by the caller

A caller says what each event carries (``EventRead``: numeric columns; key columns, such as the
session or the order id, that kernels compare; value columns, such as a breakdown, whose value
on a chosen event is wanted) and what to compute on a chunk's ``Sequences``; ``read_sequences``
does the rest and returns the per-chunk results. The kernels (``journeykit.engine.funnel``,
``units``, ``facts``) are plain loops over the arrays of ``Sequences``, each with the SPEC rule
it follows.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import numpy as np
import polars as pl
from numpy.typing import NDArray

from journeykit.engine.group import group_by_key
from journeykit.engine.keys import Dictionary, NameCodes, key_columns, key_exprs, needs_flag
from journeykit.engine.stream import KEYS, Chunk, Plan, Stream, per_chunk, read_chunks, stream_of
from journeykit.engine.units import gap_sessions, split_groups

T = TypeVar("T")
_USER = "__user"
_TIME = "__time"


@dataclass(frozen=True)
class EventRead:
    """What the kernels need of each event of ``frame`` (a normalized event frame).

    ``columns``: name → a numeric expression (one value per event). ``keys``: columns the
    kernels compare (within a user: sessions, held values, order ids; a null is a value of its
    own). ``values``: columns whose value on a chosen event is wanted: the kernels see a code,
    ``Sequences.values`` the value of each code.
    """

    frame: pl.LazyFrame
    label: str
    columns: dict[str, pl.Expr] = field(default_factory=dict)
    keys: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    never_null: frozenset[str] = frozenset()
    names: dict[str, int] = field(default_factory=dict)
    """Event name → a small code, the ``name`` column (``unnamed`` for any other name)."""
    unnamed: int = 0
    """Key columns known to hold no null (an integer key then needs no null flag)."""

    def with_keys(self, *columns: str) -> "EventRead":
        return replace(self, keys=tuple(dict.fromkeys((*self.keys, *columns))))

    def with_values(self, *columns: str) -> "EventRead":
        return replace(self, values=tuple(dict.fromkeys((*self.values, *columns))))


@dataclass
class Sequences:
    """One chunk's events grouped by unit (users, until ``split``), each unit in (time, row)
    order: unit ``u`` is positions ``starts[u]`` to ``starts[u + 1]`` of every column."""

    chunk: Chunk
    order: NDArray[np.int64]
    starts: NDArray[np.int64]
    time: NDArray[np.int64]
    """Event times (µs since the epoch, UTC), in unit order."""
    dictionaries: dict[str, Dictionary]

    @classmethod
    def of(cls, chunk: Chunk, dictionaries: dict[str, Dictionary]) -> "Sequences":
        """The events of ``chunk`` grouped by user."""
        order, starts, time = group_by_key(chunk[KEYS], chunk[_TIME])
        return cls(chunk, order, starts, time, dictionaries)

    def column(self, name: str) -> NDArray[Any]:
        """A column of the chunk in unit order."""
        return self.chunk[name][self.order]

    def keys(self, *names: str) -> NDArray[np.uint64]:
        """The key columns of ``names`` (``EventRead.keys``) as one matrix, in unit order (no
        names: a matrix with no column)."""
        columns = [self.column(c) for name in names for c in key_columns(list(self.chunk), name)]
        if not columns:
            return np.empty((self.order.shape[0], 0), dtype=np.uint64)
        return np.ascontiguousarray(np.column_stack(columns), dtype=np.uint64)

    def values(self, name: str, positions: NDArray[np.int64]) -> pl.Series:
        """The values of column ``name`` (``EventRead.values``) at ``positions``."""
        codes = self.chunk[name][self.order[positions]]
        return self.dictionaries[name].values().gather(codes).alias(name)

    def split(self, names: tuple[str, ...], gap: int | None = None) -> "Sequences":
        """Units = (user, the values of key columns ``names``), e.g. sessions, and with ``gap``
        (µs) the sessions of the inactivity rule (SPEC §3) of each user: events of a unit stay
        in (time, row) order."""
        matrix = self.keys(*names)
        if gap is not None:
            extra = gap_sessions(self.starts, self.time, gap)
            matrix = np.ascontiguousarray(np.column_stack([matrix, extra.view(np.uint64)]))
        if matrix.shape[1] == 0:
            return self
        within, starts = split_groups(self.starts, matrix)
        return Sequences(
            self.chunk, self.order[within], starts, self.time[within], self.dictionaries
        )


def read_sequences(
    read: EventRead,
    rows: int,
    compute: Callable[[Sequences], T],
    users: tuple[int, int] | None = None,
) -> list[T]:
    """Read ``read.frame`` once and run ``compute`` on every chunk's ``Sequences``.

    ``rows`` estimates how many events the frame yields: it decides the chunks (and whether they
    are spilled to disk) so that memory stays bounded. ``users``: the range of integer users,
    when known (chunks then hold ranges of users, which get direct codes).
    """
    schema = read.frame.collect_schema()
    exprs = [
        *key_exprs("user", schema["user"], name=_USER, hashes=2, flag=False),
        pl.col("time").dt.epoch("us").alias(_TIME),
        *(expr.alias(name) for name, expr in read.columns.items()),
    ]
    names = NameCodes(read.names, default=read.unnamed) if read.names else None
    if names is not None:
        exprs.append(names.expr(pl.col("event")).alias("name"))
    for column in read.keys:
        flag = needs_flag(schema[column], column not in read.never_null)
        exprs += key_exprs(column, schema[column], name=column, hashes=1, flag=flag)
    dictionaries = {column: Dictionary() for column in read.values}
    for column in read.values:
        flag = needs_flag(schema[column], nullable=True)
        exprs += key_exprs(column, schema[column], name=f"__value_{column}", hashes=2, flag=flag)
        exprs.append(pl.col(column).alias(f"__raw_{column}"))
    selected = read.frame.select(exprs)
    user_keys = key_columns(selected.collect_schema().names(), _USER)

    def prepare(batch: pl.DataFrame) -> pl.DataFrame:
        if names is not None:
            batch = batch.with_columns(pl.Series("name", names.of(batch["name"])))
        for column, dictionary in dictionaries.items():
            hashes = key_columns(batch.columns, f"__value_{column}")
            matrix = np.ascontiguousarray(batch.select(hashes).to_numpy(), dtype=np.uint64)
            codes = dictionary.encode(matrix, batch[f"__raw_{column}"])
            batch = batch.drop(*hashes, f"__raw_{column}").with_columns(
                pl.Series(column, codes, dtype=pl.UInt32)
            )
        return batch

    integer = schema["user"].is_integer()
    plan = Plan.for_size(rows, 8 * len(exprs), users if integer else None)

    def split(batch: pl.DataFrame) -> dict[str, Stream]:
        return {"events": stream_of(prepare(batch), user_keys)}

    with read_chunks(selected, plan, read.label, split) as chunks:
        return per_chunk(chunks, lambda chunk: compute(Sequences.of(chunk["events"], dictionaries)))
