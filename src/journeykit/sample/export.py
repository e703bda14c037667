"""From compact frames to the public log: ``generate``, ``users_for_events`` and ``write_sample``
(one file in time order, chunks merged slab by slab via disk when the log is large)."""

import contextlib
import gzip
import itertools
import math
import tempfile
import uuid
from collections.abc import Generator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import IO, cast

import numpy as np
import polars as pl

from journeykit.errors import UsageError
from journeykit.sample.params import SampleParams, names
from journeykit.sample.simulate import (
    CART,
    COMPACT,
    EVENTS,
    PURCHASE,
    REMOVE,
    VIEW,
    Array,
    compact_chunks,
)

DEFAULT_CHUNK_USERS = 200_000
WRITE_CHUNK_USERS = 100_000  # users per chunk that write_sample spills to disk
SLAB_ROWS = 1_000_000  # rows per time slab that write_sample merges and writes at once
_PILOT_USERS = 6_000


def _id_words(texts: list[str]) -> Array:
    return np.frombuffer("".join(texts).encode(), dtype="<u4")


_ID_HEAD = _id_words([f"s{i:03d}" for i in range(1000)])
_ID_BODY = _id_words([f"{i:04d}" for i in range(10_000)])
_ID_TAIL = _id_words([f"{i // 100}-{i % 100:02d}" for i in range(1000)])


def _visit_ids(compact: pl.DataFrame) -> tuple[pl.Series, pl.Series]:
    """Session ids ``s00000012-03`` (user id, visit number) and, on purchase rows, ``o00000012-03``.

    Written as 12-byte Arrow string views from digit tables: ten times faster than formatting.
    """
    import pyarrow as pa  # type: ignore[import-untyped]

    user, visit = compact["user_id"].to_numpy(), compact["visit"].to_numpy()
    views = np.empty((user.size, 4), dtype=np.uint32)
    views[:, 0] = 12
    views[:, 1] = _ID_HEAD[user // 100_000]
    views[:, 2] = _ID_BODY[user // 10 % 10_000]
    views[:, 3] = _ID_TAIL[user % 10 * 100 + visit]
    orders = views.copy()
    orders[:, 1] -= ord("s") - ord("o")  # the first byte is the lowest
    purchase = pa.py_buffer(np.packbits(compact["event"].to_numpy() == PURCHASE, bitorder="little"))
    return (
        pl.Series(pa.Array.from_buffers(pa.string_view(), user.size, [None, pa.py_buffer(views)])),
        pl.Series(
            pa.Array.from_buffers(pa.string_view(), user.size, [purchase, pa.py_buffer(orders)])
        ),
    )


def _decode(column: str, names: list[str] | tuple[str, ...]) -> pl.Expr:
    return pl.col(column).cat.to(pl.Enum(list(names))).cast(pl.String)


def _to_public(compact: pl.DataFrame, params: SampleParams) -> pl.DataFrame:
    """The export columns, in order and with their dtypes, from a compact frame."""
    event, product = pl.col("event"), pl.col("product").cast(pl.Int64)
    priced = event.is_in([VIEW, CART, REMOVE, PURCHASE])
    session_id, order_id = _visit_ids(compact)
    return compact.select(
        "user_id",
        session_id=pl.lit(session_id),
        event_time=pl.col("event_time").cast(pl.Datetime("us", "UTC")),
        event_type=_decode("event", EVENTS),
        product_id=pl.when(product >= 0).then(product + 10_001),
        price=pl.when(priced).then((pl.col("cents") / 100).round(2)),
        quantity=pl.when(pl.col("quantity") > 0).then(pl.col("quantity").cast(pl.Int64)),
        order_id=pl.lit(order_id),
        channel=_decode("channel", params.channels),
        device=_decode("device", names(params.device_mix)),
        country=_decode("country", names(params.country_mix)),
        variant=_decode("variant", names(params.variant_mix)),
    )


def generate(
    params: SampleParams, chunk_users: int = DEFAULT_CHUNK_USERS
) -> Iterator[pl.DataFrame]:
    """Yield the log in chunks of ``chunk_users`` whole users (rows never depend on it), by time.

    >>> chunks = list(generate(SampleParams(users=300, days=7), chunk_users=100))
    >>> len(chunks), chunks[0].columns[:4]
    (3, ['user_id', 'session_id', 'event_time', 'event_type'])
    """
    for chunk in compact_chunks(params, chunk_users):
        yield _to_public(chunk.sort("event_time", maintain_order=True), params)


def users_for_events(target_events: int, params: SampleParams) -> int:
    """How many users give about ``target_events`` events with ``params`` (measured on a pilot).

    >>> 3_000 < users_for_events(100_000, SampleParams()) < 6_000
    True
    """
    pilot = replace(params, users=_PILOT_USERS)
    events = sum(chunk.height for chunk in compact_chunks(pilot, _PILOT_USERS))
    return max(1, round(target_events * _PILOT_USERS / max(events, 1)))


def write_sample(params: SampleParams, out: Path) -> int:
    """Write the log to ``out`` (.parquet, .csv or .csv.gz) sorted by time; return its rows.

    The file appears atomically: written to a temporary file beside ``out``, then renamed.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     write_sample(SampleParams(users=20, days=7), Path(folder) / "events.csv.gz") > 20
    True
    """
    name = out.name.lower()
    fmt = next((f for f in ("csv.gz", "csv", "parquet") if name.endswith("." + f)), None)
    if fmt is None:
        raise UsageError(f"--out {out}: unknown extension; use .parquet, .csv or .csv.gz")
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.{uuid.uuid4().hex[:12]}.tmp")
    empty = _to_public(pl.DataFrame(schema=COMPACT), params)
    try:  # closing() removes the spill folder at once, even on failure
        with contextlib.closing(_sorted_frames(params, out.parent)) as frames:
            if fmt == "parquet":
                rows = _write_parquet(frames, temporary, empty)
            else:
                rows = _write_csv(frames, temporary, gzipped=fmt == "csv.gz")
        temporary.replace(out)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return rows


def _sorted_frames(params: SampleParams, spill_to: Path) -> Generator[pl.DataFrame]:
    """The whole log in time order: one chunk as is, or chunks merged slab by slab via disk."""
    chunks = compact_chunks(params, WRITE_CHUNK_USERS)
    if params.users <= WRITE_CHUNK_USERS:
        yield _to_public(next(chunks).sort("event_time", maintain_order=True), params)
        return
    with tempfile.TemporaryDirectory(prefix=".journeykit-sample-", dir=spill_to) as folder:
        for slab in range(_spill(chunks, params, Path(folder))):
            paths = sorted(Path(folder).glob(f"{slab:06d}-*.arrow"))
            merged = pl.concat([pl.read_ipc(path) for path in paths])
            yield _to_public(merged.sort("event_time", maintain_order=True), params)


def _spill(chunks: Iterator[pl.DataFrame], params: SampleParams, folder: Path) -> int:
    """Write each chunk, cut into time slabs, to ``folder``; return the number of slabs.

    Slab edges are quantiles of the first chunk's times, so each slab holds about SLAB_ROWS rows.
    """
    edges = np.zeros(0, dtype=np.int64)
    for index, chunk in enumerate(chunks):
        times = chunk["event_time"].to_numpy()
        if index == 0:
            slabs = math.ceil(times.size * math.ceil(params.users / WRITE_CHUNK_USERS) / SLAB_ROWS)
            edges = np.quantile(times, np.arange(1, slabs) / slabs, method="lower")
        slab = np.searchsorted(edges, times, side="right")
        order = np.argsort(slab, kind="stable")
        bounds = np.searchsorted(slab[order], np.arange(edges.size + 2)).tolist()
        by_slab = chunk[order]
        for number, (low, high) in enumerate(itertools.pairwise(bounds)):
            path = folder / f"{number:06d}-{index:06d}.arrow"
            by_slab.slice(low, high - low).write_ipc(path, compression="uncompressed")
    return edges.size + 1


def _write_parquet(frames: Iterator[pl.DataFrame], path: Path, empty: pl.DataFrame) -> int:
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    rows, newest = 0, pl.CompatLevel.newest()
    with pq.ParquetWriter(
        path,
        empty.to_arrow(compat_level=newest).schema,
        compression="zstd",
        store_schema=False,
        use_dictionary=["event_type", "channel", "device", "country", "order_id", "variant"],
        column_encoding={"event_time": "DELTA_BINARY_PACKED"},
        write_statistics=["user_id", "event_time"],
    ) as writer:
        for frame in frames:
            writer.write_table(frame.to_arrow(compat_level=newest))
            rows += frame.height
    return rows


def _write_csv(frames: Iterator[pl.DataFrame], path: Path, *, gzipped: bool) -> int:
    rows, header = 0, True
    with path.open("xb") as raw, contextlib.ExitStack() as stack:
        packed = stack.enter_context(gzip.GzipFile("", "wb", 6, raw, mtime=0)) if gzipped else raw
        handle = cast(IO[bytes], packed)
        for frame in frames:
            frame.write_csv(
                handle,
                include_header=header,
                float_precision=2,
                datetime_format="%Y-%m-%dT%H:%M:%S%.3fZ",
            )
            rows, header = rows + frame.height, False
    return rows
