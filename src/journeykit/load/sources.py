"""Input paths → one lazy scan: files, globs, directories (hive Parquet), ``-`` for stdin."""

import glob
import io
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from journeykit.errors import DataError, UsageError

InputFormat = Literal["parquet", "csv", "tsv", "ndjson", "ipc"]

_SUFFIXES: dict[str, InputFormat] = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".arrow": "ipc",
    ".ipc": "ipc",
    ".feather": "ipc",
}
_CSV_OPTIONS = {"infer_schema_length": 10_000, "null_values": [""], "raise_if_empty": True}


@dataclass(frozen=True)
class Source:
    """The scan of every input, and a short name for messages."""

    frame: pl.LazyFrame
    label: str
    parquet_files: tuple[Path, ...] = ()
    """Every file read, when all of them are Parquet (their footers hold statistics)."""


def open_sources(paths: list[str], input_format: InputFormat | None = None) -> Source:
    """Scan ``paths`` lazily; ``-`` reads CSV (or ``input_format``) from stdin."""
    if not paths:
        raise UsageError("no input given; pass a file, a glob, a directory or - for stdin")
    scans = [_scan_one(path, input_format) for path in paths]
    frames = [frame for frame, _ in scans]
    frame = frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
    files = [f for _, group in scans for f in group]
    everything_parquet = all(group for _, group in scans) and all(
        _format_of(f, input_format) == "parquet" for f in files
    )
    return Source(
        frame=frame,
        label=paths[0] if len(paths) == 1 else f"{paths[0]} (+{len(paths) - 1})",
        parquet_files=tuple(files) if everything_parquet else (),
    )


def _scan_one(path: str, input_format: InputFormat | None) -> tuple[pl.LazyFrame, list[Path]]:
    """The scan of one input argument and the files it reads (none for stdin)."""
    if path == "-":
        return _read_stdin(input_format or "csv"), []
    target = Path(path)
    if target.is_dir():
        return _scan_directory(target, input_format)
    if any(char in path for char in "*?["):
        files = [Path(f) for f in sorted(glob.glob(path, recursive=True))]
        if not files:
            raise DataError(f"{path}: no file matches this pattern")
        return _scan_files(files, input_format, label=path), files
    if not target.exists():
        raise DataError(f"{path}: no such file")
    return _scan_files([target], input_format, label=path), [target]


def _scan_directory(
    directory: Path, input_format: InputFormat | None
) -> tuple[pl.LazyFrame, list[Path]]:
    files = sorted(
        p for p in directory.rglob("*") if p.is_file() and _format_of(p, None, quiet=True)
    )
    if not files:
        raise DataError(f"{directory}: no event files (Parquet, CSV, TSV, NDJSON, Arrow) inside")
    formats = {_format_of(p, input_format) for p in files}
    if formats == {"parquet"}:
        scan = pl.scan_parquet(directory, hive_partitioning=True)
        return _checked(scan, str(directory)), files
    return _scan_files(files, input_format, label=str(directory)), files


def _scan_files(files: list[Path], input_format: InputFormat | None, *, label: str) -> pl.LazyFrame:
    scans = [_checked(_scan_file(f, _require_format(f, input_format)), str(f)) for f in files]
    return scans[0] if len(scans) == 1 else pl.concat(scans, how="diagonal_relaxed")


def _scan_file(path: Path, fmt: InputFormat) -> pl.LazyFrame:
    if fmt == "parquet":
        return pl.scan_parquet(path)
    if fmt == "ipc":
        return pl.scan_ipc(path)
    if fmt == "ndjson":
        return pl.scan_ndjson(path, infer_schema_length=10_000)
    separator = "\t" if fmt == "tsv" else ","
    return pl.scan_csv(path, separator=separator, **_CSV_OPTIONS)  # type: ignore[arg-type]


def schema_of(frame: pl.LazyFrame) -> pl.Schema:
    """The schema of ``frame``, resolved on a copy.

    Resolving a scan's schema in place (Polars 2.1) keeps later filters out of that scan whenever
    a row index sits between them: every read would decode all rows of every column it needs.
    """
    return frame.clone().collect_schema()


def _checked(frame: pl.LazyFrame, label: str) -> pl.LazyFrame:
    """Read the schema now, so a corrupt or empty file is named in the error."""
    try:
        schema = schema_of(frame)
    except pl.exceptions.NoDataError:
        raise DataError(f"{label}: the file is empty (no header, no rows)") from None
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(f"{label}: cannot read it ({_first_line(exc)})") from None
    if not schema:
        raise DataError(f"{label}: the file has no columns")
    return frame


def _format_of(
    path: Path, forced: InputFormat | None, *, quiet: bool = False
) -> InputFormat | None:
    if forced is not None:
        return forced
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    fmt = _SUFFIXES.get(suffixes[-1]) if suffixes else None
    if fmt is None and not quiet:
        raise UsageError(
            f"{path}: unknown file type; use --input-format parquet|csv|tsv|ndjson|ipc"
        )
    return fmt


def _require_format(path: Path, forced: InputFormat | None) -> InputFormat:
    fmt = _format_of(path, forced)
    assert fmt is not None  # _format_of raises for unknown types unless quiet
    return fmt


def _read_stdin(fmt: InputFormat) -> pl.LazyFrame:
    data = sys.stdin.buffer.read()
    if not data.strip():
        raise DataError("-: standard input is empty")
    buffer = io.BytesIO(data)
    try:
        if fmt == "ndjson":
            return pl.read_ndjson(buffer).lazy()
        if fmt in ("csv", "tsv"):
            separator = "\t" if fmt == "tsv" else ","
            return pl.read_csv(buffer, separator=separator, **_CSV_OPTIONS).lazy()  # type: ignore[arg-type]
    except pl.exceptions.PolarsError as exc:
        raise DataError(f"-: cannot read standard input as {fmt} ({_first_line(exc)})") from None
    raise UsageError(f"-: standard input can be csv, tsv or ndjson, not {fmt}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
