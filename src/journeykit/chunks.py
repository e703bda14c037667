"""Run a per-user computation over a log too big for memory, one chunk of whole users at a time.

Small inputs are computed in one piece. Larger ones are first spilled, in one streaming pass, to
temporary Arrow IPC files partitioned by a hash of the user, then computed file by file, so peak
memory follows the chunk size rather than the input size.
"""

import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import polars as pl

CHUNK_BYTES = 256 * 2**20
"""Input bytes per chunk; the computations on a chunk peak at about six times this."""
_SEED = 20_191_001
_STRING_BYTES = 32


def chunk_count(schema: pl.Schema, rows: int) -> int:
    """How many chunks ``rows`` rows of ``schema`` need.

    ``JOURNEYKIT_CHUNK_ROWS`` fixes the rows per chunk instead (tests use it to force chunking).
    """
    fixed = os.environ.get("JOURNEYKIT_CHUNK_ROWS")
    if fixed is not None:
        return max(1, math.ceil(rows / int(fixed)))
    row_bytes = sum(_width(dtype) for dtype in schema.dtypes())
    return max(1, math.ceil(rows * row_bytes / CHUNK_BYTES))


_NARROW = {
    pl.Boolean: 1,
    pl.Int8: 1,
    pl.UInt8: 1,
    pl.Int16: 2,
    pl.UInt16: 2,
    pl.Int32: 4,
    pl.UInt32: 4,
    pl.Float32: 4,
    pl.Date: 4,
}


def _width(dtype: pl.DataType) -> int:
    """Approximate bytes per value (strings and nested types: a typical short string)."""
    if isinstance(dtype, pl.Enum):
        return 1 if len(dtype.categories) < 256 else 4
    if dtype.base_type() in _NARROW:
        return _NARROW[dtype.base_type()]
    return 8 if dtype.is_numeric() or dtype.is_temporal() else _STRING_BYTES


def fits_in_memory(rows: int, bytes_per_row: int) -> bool:
    """Whether work peaking at ``bytes_per_row`` per input row fits in half the machine's memory
    (never when ``JOURNEYKIT_CHUNK_ROWS`` forces chunks)."""
    if os.environ.get("JOURNEYKIT_CHUNK_ROWS") is not None:
        return False
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return rows * bytes_per_row <= memory // 2


def per_user(
    frame: pl.LazyFrame, rows: int, compute: Callable[[pl.DataFrame], pl.DataFrame]
) -> pl.DataFrame:
    """``compute`` on every chunk of whole users of ``frame``, results concatenated.

    ``rows`` estimates the rows ``frame`` yields; it decides how many chunks to use. Row order
    within a chunk is not guaranteed: ``compute`` sorts what it needs sorted.
    """
    parts = chunk_count(frame.collect_schema(), rows)
    if parts == 1:
        return compute(frame.collect(engine="streaming"))
    with tempfile.TemporaryDirectory(prefix="journeykit-") as spill:
        key = (pl.col("user").hash(_SEED) % parts).alias("__chunk")
        frame.with_columns(key).sink_ipc(
            pl.PartitionBy(
                spill, key="__chunk", include_key=False, approximate_bytes_per_file=None
            ),
            mkdir=True,
        )
        files = sorted(Path(spill).rglob("*.ipc"))
        results = [compute(pl.read_ipc(path)) for path in files]
    return (
        pl.concat(results, how="vertical_relaxed") if results else compute(frame.head(0).collect())
    )
