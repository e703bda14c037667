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

DEFAULT_CHUNK_ROWS = 12_000_000
_SEED = 20_191_001


def chunk_rows() -> int:
    """Rows per chunk; ``JOURNEYKIT_CHUNK_ROWS`` overrides the default (used by tests)."""
    return int(os.environ.get("JOURNEYKIT_CHUNK_ROWS", DEFAULT_CHUNK_ROWS))


def per_user(
    frame: pl.LazyFrame, rows: int, compute: Callable[[pl.DataFrame], pl.DataFrame]
) -> pl.DataFrame:
    """``compute`` on every chunk of whole users of ``frame``, results concatenated.

    ``rows`` estimates the rows ``frame`` yields; it decides how many chunks to use. Row order
    within a chunk is not guaranteed: ``compute`` sorts what it needs sorted.
    """
    parts = max(1, math.ceil(rows / chunk_rows()))
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
