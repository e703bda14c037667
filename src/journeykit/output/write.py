"""``write_table``: one result frame → table, CSV, TSV, JSON, NDJSON, Markdown or Parquet.

Machine formats are deterministic: timestamps as ISO-8601 UTC with ``Z``, rates with 6 decimals,
seconds with 3 and money with 2. Files are written atomically (temporary file + rename).
"""

import io
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Literal

import polars as pl

from journeykit.errors import UsageError

Format = Literal["table", "csv", "tsv", "json", "ndjson", "markdown", "parquet"]
FORMATS: tuple[Format, ...] = ("table", "csv", "tsv", "json", "ndjson", "markdown", "parquet")
_EXTENSIONS: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".md": "markdown",
    ".markdown": "markdown",
    ".parquet": "parquet",
    ".txt": "table",
}
DECIMALS = {"rate": 6, "seconds": 3, "money": 2, "credit": 3}
MONEY_COLUMNS = {
    "value_at_risk",
    "recovered_revenue",
    "revenue",
    "average_order_value",
    "order_value",
    "value",
    "revenue_per_user",
}


RATE_COLUMNS = {"diff", "diff_low", "diff_high", "relative_lift"}


def column_kind(name: str) -> str | None:
    """``rate``, ``seconds``, ``money``, ``credit`` (attributed conversions, SPEC §15) or ``p``
    (a p-value: ``%.6g`` in text formats, SPEC §12) for the columns whose precision the SPEC
    fixes."""
    if name == "p_value":
        return "p"
    if name == "conversions":
        return "credit"
    if "seconds" in name:
        return "seconds"
    if name in MONEY_COLUMNS or name.endswith(("_revenue", "_value")):
        return "money"
    rate = name.endswith("share") or "rate" in name or name.startswith("conversion")
    return "rate" if rate or name in RATE_COLUMNS else None


def choose_format(requested: Format | None, output: Path | None, *, terminal: bool) -> Format:
    """``--format`` wins, else the ``--output`` extension, else table on a tty, else CSV."""
    if requested is not None:
        return requested
    if output is not None:
        fmt = _EXTENSIONS.get(output.suffix.lower())
        if fmt is None:
            raise UsageError(f"--output {output}: unknown extension; add --format csv|json|…")
        return fmt
    return "table" if terminal else "csv"


def machine_frame(frame: pl.DataFrame, fmt: Format) -> pl.DataFrame:
    """Round (or, for text formats, fix the decimals of) every column with a SPEC precision."""
    exprs = []
    for name, dtype in frame.schema.items():
        kind = column_kind(name)
        if isinstance(dtype, pl.Datetime) and fmt != "parquet":
            column = pl.col(name)
            if dtype.time_zone is None:
                column = column.dt.replace_time_zone("UTC")
            exprs.append(iso_utc(column).alias(name))
        elif kind == "p" and dtype.is_float():
            if fmt in ("csv", "tsv", "markdown"):
                texts = [None if p is None else f"{p:.6g}" for p in frame[name].to_list()]
                exprs.append(pl.lit(pl.Series(name, texts, dtype=pl.String)))
        elif kind is not None and dtype.is_float():
            decimals = DECIMALS[kind]
            text = fmt in ("csv", "tsv", "markdown")
            rounded = fixed(pl.col(name), decimals) if text else pl.col(name).round(decimals)
            exprs.append(rounded.alias(name))
    return frame.with_columns(exprs) if exprs else frame


def iso_utc(column: pl.Expr) -> pl.Expr:
    """``2019-10-01T00:00:00Z``, with microseconds only when non-zero (``column`` is zone-aware)."""
    utc = column.dt.convert_time_zone("UTC")
    micros = utc.dt.microsecond()
    fraction = (
        pl.when(micros != 0)
        .then(pl.lit(".") + micros.cast(pl.String).str.zfill(6))
        .otherwise(pl.lit(""))
    )
    return pl.concat_str(utc.dt.strftime("%Y-%m-%dT%H:%M:%S"), fraction, pl.lit("Z"))


def fixed(column: pl.Expr, decimals: int) -> pl.Expr:
    """A float as text with exactly ``decimals`` decimals (``0.5`` → ``0.500000``)."""
    scale = 10**decimals
    scaled = (column * scale).round(0).cast(pl.Int64)
    sign = pl.when(scaled < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    whole = (scaled.abs() // scale).cast(pl.String)
    fraction = (scaled.abs() % scale).cast(pl.String).str.zfill(decimals)
    return pl.concat_str(sign, whole, pl.lit("."), fraction)


def write_table(
    frame: pl.DataFrame,
    fmt: Format,
    destination: Path | None,
    render: Callable[[], object] | None = None,
) -> None:
    """Write ``frame`` as ``fmt`` to ``destination`` (atomically) or to stdout."""
    if fmt == "table":
        from journeykit.output.human import print_renderable

        with _sink(destination, binary=False) as stream:
            print_renderable(render() if render is not None else frame, stream)
        return
    payload = serialize(machine_frame(frame, fmt), fmt)
    with _sink(destination, binary=True) as stream:
        stream.write(payload)


def serialize(frame: pl.DataFrame, fmt: Format) -> bytes:
    """The bytes of ``frame`` in a machine format (already rounded by ``machine_frame``)."""
    buffer = io.BytesIO()
    if fmt in ("csv", "tsv"):
        frame.write_csv(buffer, separator="\t" if fmt == "tsv" else ",")
    elif fmt == "json":
        buffer.write(frame.write_json().encode() + b"\n")
    elif fmt == "ndjson":
        frame.write_ndjson(buffer)
    elif fmt == "parquet":
        frame.write_parquet(buffer, statistics=False)
    else:
        buffer.write(markdown(frame).encode())
    return buffer.getvalue()


def markdown(frame: pl.DataFrame) -> str:
    """A GitHub-flavoured Markdown table (nulls blank)."""
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    text = frame.select(pl.all().cast(pl.String).fill_null(""))
    rows = [
        "| " + " | ".join(v.replace("|", "\\|") for v in row) + " |" for row in text.iter_rows()
    ]
    return "\n".join([header, rule, *rows]) + "\n"


@contextmanager
def _sink(destination: Path | None, *, binary: bool) -> Iterator[IO[Any]]:
    if destination is None:
        stream = sys.stdout.buffer if binary else sys.stdout
        try:
            yield stream
            stream.flush()
        except BrokenPipeError:
            quiet_broken_pipe()
        return
    with atomic_file(destination, binary=binary) as handle:
        yield handle


def quiet_broken_pipe() -> None:
    """The reader went away (``journeykit funnel x | head -1``): stop quietly with exit 0."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise SystemExit(0)


@contextmanager
def atomic_file(destination: Path, *, binary: bool = True) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``destination``; rename it into place only on success."""
    directory = destination.parent if str(destination.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"--output {destination}: directory {directory} does not exist")
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{destination.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else "utf-8") as handle:
            yield handle
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
