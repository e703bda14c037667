"""Reading a log for session facts: partials and purchase rows, chunk by chunk of whole users.

Every batch gives two streams (``journeykit.engine.facts`` says why): ``partials`` (with a
session column, the batch reduced to one partial per (user, session); without, every event)
and ``purchases`` (the purchase rows, for orders). A chunk groups both by user (``Sessions``),
and ``Sessions.facts`` and ``Sessions.orders`` run the kernels on it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import polars as pl
from numpy.typing import NDArray

from journeykit.engine.facts import (
    MOMENTS,
    Facts,
    Partials,
    batch_partials,
    event_partials,
    layout_of,
    order_rows,
    purchase_rows,
    user_facts,
)
from journeykit.engine.group import group_streams, take, take_rows
from journeykit.engine.keys import Dictionary, NameCodes, key_columns, key_exprs, needs_flag
from journeykit.engine.stream import KEYS, Chunks, Plan, Stream, per_chunk, read_chunks

T = TypeVar("T")
_USER, _TIME = "__user", "__time"


@dataclass(frozen=True)
class SessionRead:
    """What the session kernels need of each event of ``frame`` (a normalized event frame):
    its ``kind`` and ``value`` (``journeykit.engine.facts``), and the ``values`` columns whose
    value on each session's first event is wanted."""

    frame: pl.LazyFrame
    label: str
    kinds: dict[str, int]
    """Each event name's ``kind`` (``journeykit.engine.facts.kind_code``; other names 0)."""
    line: pl.Expr | None
    """Each event's cart line value (price × quantity), ``None`` when no money is wanted."""
    revenue: pl.Expr | None
    """Each purchase row's value when it is not its line value (a revenue column)."""
    cart: bool
    """Whether each session's cart value is wanted (else only ``line`` of purchase rows)."""
    sessions: bool
    """Whether sessions come from the ``session`` column (else from the inactivity rule)."""
    session_nulls: bool
    """Whether the session column may hold nulls."""
    orders: bool
    """Whether the frame has an ``order_id`` column."""
    moments: tuple[str, ...] = MOMENTS
    """The moments the facts need (``journeykit.engine.facts``)."""
    values: tuple[str, ...] = field(default_factory=tuple)
    split: str | None = None
    """An integer column that splits users: each (user, value) is a user of its own (a trend's
    period, so sessions and orders never span two periods)."""


@dataclass
class Sessions:
    """One chunk's partials and purchase rows grouped by user: user ``u``'s partials are
    ``starts[u]`` to ``starts[u + 1]`` (in order of their first event), its purchase rows
    ``b_starts[u]`` to ``b_starts[u + 1]`` (in (time, row) order)."""

    partials: dict[str, NDArray[Any]]
    purchases: dict[str, NDArray[Any]]
    starts: NDArray[np.int64]
    b_starts: NDArray[np.int64]
    gap: int
    dictionaries: dict[str, Dictionary]
    """The encoded ``values`` columns' dictionaries."""
    layout: NDArray[np.int64]
    user_type: pl.DataType | None = None
    """An integer user column's type: its values are the user keys, ``partials["user"]``."""

    def facts(self) -> Facts:
        """``journeykit.engine.facts.user_facts`` of this chunk."""
        p, b = self.partials, self.purchases
        return user_facts(
            self.starts, p["fields"], p["events"], p["rank"], p.get("cart", self._no_cart()),
            p["sessions"], self.gap, self.b_starts, b["time"], b["row"], b["value"],
            b["sessions"], b["orders"], self.layout,
        )  # fmt: skip

    def _no_cart(self) -> NDArray[np.float64]:
        return np.zeros(self.partials["fields"].shape[0])

    def orders(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """``journeykit.engine.facts.order_rows`` of this chunk: (user, order, session) per
        purchase row."""
        p, b = self.partials, self.purchases
        return order_rows(
            self.starts, p["fields"], p["sessions"], self.gap, self.b_starts, b["time"],
            b["row"], b["value"], b["sessions"], b["orders"],
        )  # fmt: skip

    def value(self, name: str, partials: NDArray[np.int64]) -> pl.Series:
        """Column ``name``'s value on the first event of each of ``partials``."""
        if name == "user" and self.user_type is not None:
            users = self.partials["user"][partials].view(np.int64)
            return pl.Series("user", users).cast(self.user_type)
        return self.dictionaries[name].values().gather(self.codes(name, partials)).alias(name)

    def codes(self, name: str, partials: NDArray[np.int64]) -> NDArray[np.uint32]:
        """The code of column ``name``'s value on the first event of each of ``partials``: the
        same value has the same code in every chunk of a read (``dictionaries[name]``)."""
        column = list(self.dictionaries).index(name)
        codes: NDArray[np.uint32] = self.partials["codes"][partials, column]
        return codes


def read_sessions(
    read: SessionRead,
    rows: int,
    gap: int,
    compute: Callable[[Sessions], T],
    users: tuple[int, int] | None = None,
) -> list[T]:
    """Read ``read.frame`` once and run ``compute`` on every chunk's ``Sessions``.

    ``rows`` estimates the events, ``users`` the range of integer users (as
    ``journeykit.engine.read_sequences``).
    """
    schema = read.frame.collect_schema()
    user_keys = key_exprs("user", schema["user"], name=_USER, hashes=2, flag=False)
    if read.split is not None:
        split = pl.col(read.split).cast(pl.Int64).reinterpret(signed=False)
        user_keys.append(split.alias(f"{_USER}_{len(user_keys)}"))
    exprs = [
        *user_keys,
        pl.col("time").dt.epoch("us").alias(_TIME),
        NameCodes.expr(pl.col("event")).alias("kind"),
    ]
    if read.line is not None:
        exprs.append(read.line.fill_null(0.0).cast(pl.Float64).alias("line"))
    if read.revenue is not None:
        exprs.append(read.revenue.fill_null(0.0).cast(pl.Float64).alias("revenue"))
    if read.sessions:
        flag = needs_flag(schema["session"], read.session_nulls)
        exprs += key_exprs("session", schema["session"], name="session", hashes=1, flag=flag)
    if read.orders:
        # The flag tells a purchase row with an order id from one without (SPEC §3).
        exprs += key_exprs("order_id", schema["order_id"], name="order_id", hashes=1, flag=True)
    # An integer user is its own key: its values need no dictionary.
    ids = schema["user"] if schema["user"].is_integer() and "user" in read.values else None
    encoded = [column for column in read.values if ids is None or column != "user"]
    dictionaries = {column: Dictionary() for column in encoded}
    for column in encoded:
        flag = needs_flag(schema[column], nullable=True)
        exprs += key_exprs(column, schema[column], name=f"__value_{column}", hashes=2, flag=flag)
        exprs.append(pl.col(column).alias(f"__raw_{column}"))
    batches = _Batches(read, dictionaries)
    integer = schema["user"].is_integer() and read.split is None
    bytes_per_event = 16 if read.sessions else 8 * len(exprs)
    plan = Plan.for_size(rows, bytes_per_event, users if integer else None)

    def chunk_sessions(chunk: Chunks) -> T:
        return compute(_grouped(chunk, read, gap, dictionaries, ids))

    with read_chunks(read.frame.select(exprs), plan, read.label, batches.split) as chunks:
        return per_chunk(chunks, chunk_sessions)


class _Batches:
    """Cuts each batch into the ``partials`` and ``purchases`` streams."""

    def __init__(self, read: SessionRead, dictionaries: dict[str, Dictionary]) -> None:
        self.read = read
        self.kinds = NameCodes(read.kinds, default=0)
        self.layout = layout_of(read.moments)
        self.dictionaries = dictionaries
        self.rows = 0
        self.bought: NDArray[np.int64] | None = None
        self.out: Partials | None = None

    def split(self, batch: pl.DataFrame) -> dict[str, Stream]:
        n, first = batch.height, self.rows
        self.rows += n
        users = _matrix(batch, key_columns(batch.columns, _USER))
        sessions = _matrix(batch, key_columns(batch.columns, "session"))
        time, kind = batch[_TIME].to_numpy(), self.kinds.of(batch["kind"])
        line = batch["line"].to_numpy() if "line" in batch.columns else np.empty(0)
        cart_line = line if self.read.cart else np.empty(0)
        bought = self._bought(n)
        bought = bought[: purchase_rows(kind, bought)]
        value = batch["revenue"].to_numpy() if "revenue" in batch.columns else line
        purchases = {
            "time": time[bought], "row": bought + first,
            "value": value[bought] if value.shape[0] else np.zeros(bought.shape[0]),
            "sessions": sessions[bought],
            "orders": _matrix(batch, key_columns(batch.columns, "order_id"), bought),
        }  # fmt: skip
        bought_users = users[bought]
        if not self.read.sessions:
            rows = np.arange(first, first + n, dtype=np.int64)
            events = {"time": time, "row": rows, "kind": kind, "codes": self._codes(batch)}
            events |= {"line": cart_line} if cart_line.shape[0] else {}
            return {"partials": (users, events), "purchases": (bought_users, purchases)}
        # The kernel notes each partial's first row; only those rows' values are encoded.
        held = int(bool(self.dictionaries))
        row_of = (
            np.arange(n, dtype=np.uint32).reshape(n, held) if held else np.empty((n, 0), np.uint32)
        )
        out = self._buffers(n, users.shape[1], sessions.shape[1], held)
        made = batch_partials(
            users, sessions, time, kind, cart_line, row_of, first, self.layout, out
        )
        # Copies of the buffers' first rows (the buffers serve the next batch; memory written
        # once in order is cheaper than the kernel's scattered first writes).
        fields, events_, rank, cart, first_rows = (a[:made].copy() for a in out[2:])
        partials: dict[str, NDArray[Any]] = {
            "fields": fields, "events": events_, "rank": rank,
            "sessions": out[1][:made].copy(),
            "codes": self._codes(batch, first_rows[:, 0].astype(np.int64)) if held else first_rows,
        }  # fmt: skip
        partials |= {"cart": cart} if cart_line.shape[0] else {}
        return {
            "partials": (out[0][:made].copy(), partials),
            "purchases": (bought_users, purchases),
        }

    def _buffers(self, rows: int, users: int, sessions: int, values: int) -> Partials:
        """Arrays for a batch's partials, reused from batch to batch."""
        if self.out is None or self.out[0].shape[0] < rows:
            width = 3 + int((self.layout >= 0).sum())
            self.out = (
                np.empty((rows, users), np.uint64), np.empty((rows, sessions), np.uint64),
                np.empty((rows, width), np.int64), np.empty(rows, np.uint32),
                np.empty(rows, np.uint8), np.empty(rows), np.empty((rows, values), np.uint32),
            )  # fmt: skip
        return self.out

    def _bought(self, rows: int) -> NDArray[np.int64]:
        if self.bought is None or self.bought.shape[0] < rows:
            self.bought = np.empty(rows, np.int64)
        return self.bought

    def _codes(
        self, batch: pl.DataFrame, rows: NDArray[np.int64] | None = None
    ) -> NDArray[np.uint32]:
        """The value columns' codes, one column each, of every row (of ``rows`` only, if
        given)."""
        codes = np.empty(
            (batch.height if rows is None else rows.shape[0], len(self.dictionaries)), np.uint32
        )
        for j, (column, dictionary) in enumerate(self.dictionaries.items()):
            keys = _matrix(batch, key_columns(batch.columns, f"__value_{column}"), rows)
            raw = batch[f"__raw_{column}"]
            codes[:, j] = dictionary.encode(keys, raw if rows is None else raw.gather(rows))
        return codes


def _matrix(
    batch: pl.DataFrame, columns: list[str], rows: NDArray[np.int64] | None = None
) -> NDArray[np.uint64]:
    """The ``uint64`` columns as one matrix, a row per row (of ``rows`` only, if given); one
    column is a view of it."""
    if len(columns) == 1 and rows is None:
        return batch[columns[0]].to_numpy().reshape(-1, 1)
    matrix = np.empty((batch.height if rows is None else rows.shape[0], len(columns)), np.uint64)
    for j, column in enumerate(columns):
        values = batch[column].to_numpy()
        matrix[:, j] = values if rows is None else values[rows]
    return matrix


def _taken(values: NDArray[Any], order: NDArray[np.int64]) -> NDArray[Any]:
    return take_rows(values, order) if values.ndim == 2 else take(values, order)


def _grouped(
    chunk: Chunks,
    read: SessionRead,
    gap: int,
    dictionaries: dict[str, Dictionary],
    user_type: pl.DataType | None,
) -> Sessions:
    partials, purchases = chunk["partials"], chunk["purchases"]
    layout = layout_of(read.moments)
    if not read.sessions:
        line = partials.get("line", np.empty(0))
        fields, events, rank, cart = event_partials(
            partials["time"], partials["row"], partials["kind"], line, layout
        )
        partials = {
            KEYS: partials[KEYS], "fields": fields, "events": events, "rank": rank,
            "sessions": np.empty((fields.shape[0], 0), np.uint64), "codes": partials["codes"],
        }  # fmt: skip
        partials |= {"cart": cart} if line.shape[0] else {}
    first_event = np.ascontiguousarray(partials["fields"][:, 0])
    order, starts, b_order, b_starts = group_streams(
        partials[KEYS],
        first_event,
        purchases[KEYS],
        purchases["time"],
    )
    grouped = {name: _taken(array, order) for name, array in partials.items() if name != KEYS}
    if user_type is not None:
        grouped["user"] = take(np.ascontiguousarray(partials[KEYS][:, 0]), order)
    b_grouped = {name: _taken(array, b_order) for name, array in purchases.items() if name != KEYS}
    return Sessions(grouped, b_grouped, starts, b_starts, gap, dictionaries, layout, user_type)
