"""Input paths → one lazy scan: files, globs, directories (hive Parquet), ``-`` for stdin,
object storage URIs (``s3://``, ``gs://``, ``az://``, ``https://``) and databases (SPEC §17)."""

import glob
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from journeykit import progress
from journeykit.errors import DataError, UsageError, first_line
from journeykit.load.databases import database_of, read_database
from journeykit.load.dialect import detect_delimiter, error_line, file_delimiter, head_text

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
_REMOTE = ("s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "http", "https", "hf")
_SECRETS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AZURE_STORAGE_ACCOUNT_KEY")
_CSV_FILES: dict[str, list[tuple[Path, str]]] = {}
"""The local CSV files (and delimiters) read under each label, for ``read_failure``."""


@dataclass(frozen=True)
class Source:
    """The scan of every input, and a short name for messages."""

    frame: pl.LazyFrame
    label: str
    parquet_files: tuple[Path, ...] = ()
    """Every file read, when all of them are Parquet (their footers hold statistics)."""
    notes: tuple[tuple[str, str], ...] = ()
    """What was read and how, as (what, how) pairs (``journeykit inspect``)."""


@dataclass(frozen=True)
class Reading:
    """How inputs are read: the format when extensions do not tell, the CSV delimiter when it
    is not to be detected, and a database's ``table`` or ``query``."""

    input_format: InputFormat | None = None
    delimiter: str | None = None
    table: str | None = None
    query: str | None = None


def open_sources(paths: list[str], reading: Reading | None = None) -> Source:
    """Scan ``paths`` lazily; ``-`` reads CSV (or ``reading.input_format``) from stdin."""
    reading = reading or Reading()
    if not paths:
        raise UsageError("no input given; pass a file, a glob, a directory or - for stdin")
    databases = [d for d in map(database_of, paths) if d is not None]
    if databases:
        if len(paths) > 1:
            raise UsageError(f"{databases[0].shown}: a database is read alone, without files")
        what = f"table {reading.table}" if reading.table else "query"
        rows = read_database(databases[0], reading.table, reading.query)
        label = f"{databases[0].shown} ({what})"
        notes = (("input", label), ("format", f"{databases[0].kind} database, {what}"))
        return Source(frame=rows.lazy(), label=label, notes=notes)
    if reading.table is not None or reading.query is not None:
        raise UsageError(
            "--table and --query read from a database: give a postgresql://, sqlite:/// or "
            "duckdb:/// URI as the input"
        )
    first = shown(paths[0])
    label = first if len(paths) == 1 else f"{first} (+{len(paths) - 1})"
    _CSV_FILES[label] = []
    scans = [_scan_one(path, reading, label) for path in paths]
    frames = [frame for frame, _ in scans]
    frame = frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
    files = [f for _, group in scans for f in group]
    everything_parquet = all(group for _, group in scans) and all(
        _format_of(f, reading.input_format) == "parquet" for f in files
    )
    return Source(
        frame=frame,
        label=label,
        parquet_files=tuple(files) if everything_parquet else (),
        notes=_notes(label, paths, files, reading),
    )


def _notes(
    label: str, paths: list[str], files: list[Path], reading: Reading
) -> tuple[tuple[str, str], ...]:
    """What ``open_sources`` read: the input, its files and formats, CSV delimiters."""
    remote = [p for p in paths if _is_remote(p)]
    formats = sorted({str(_format_of(f, reading.input_format)) for f in files})
    notes = [("input", label)]
    if files:
        notes.append(("files", f"{len(files):,} local file" + ("s" if len(files) > 1 else "")))
    notes += [("object storage", shown(uri)) for uri in remote]
    if "-" in paths:
        notes.append(("standard input", reading.input_format or "csv"))
    if formats:
        notes.append(("format", ", ".join(formats)))
    how = "--delimiter" if reading.delimiter else "detected from the header"
    for delimiter in sorted({d for _, d in _CSV_FILES.get(label, [])}):
        notes.append(("delimiter", f"{'tab' if delimiter == chr(9) else repr(delimiter)} ({how})"))
    return tuple(notes)


def _is_remote(path: str) -> bool:
    return "://" in path and path.split("://", 1)[0].lower() in _REMOTE


def read_failure(label: str, exc: pl.exceptions.PolarsError) -> DataError:
    """The one-line error for a failed read of the input ``label``: Polars' first line, with
    the line of a CSV file it is about when that can be found."""
    message = first_line(exc)
    for path, delimiter in _CSV_FILES.get(label, []):
        line = error_line(path, delimiter, str(exc))
        if line is not None:
            return DataError(f"{path}: line {line:,}: cannot read it ({message})")
    return DataError(f"{label}: cannot read the data ({message})")


def _scan_one(path: str, reading: Reading, label: str) -> tuple[pl.LazyFrame, list[Path]]:
    """The scan of one input argument and the local files it reads (none for stdin or URIs)."""
    input_format = reading.input_format
    if path == "-":
        return _read_stdin(input_format or "csv", reading.delimiter), []
    if _is_remote(path):
        return _scan_remote(path, reading), []
    target = Path(path)
    if target.is_dir():
        return _scan_directory(target, reading, label)
    if any(char in path for char in "*?["):
        files = [Path(f) for f in sorted(glob.glob(path, recursive=True))]
        if not files:
            raise DataError(f"{path}: no file matches this pattern")
        return _scan_files(files, reading, label), files
    if not target.exists():
        raise DataError(f"{path}: no such file")
    return _scan_files([target], reading, label), [target]


def _scan_remote(uri: str, reading: Reading) -> pl.LazyFrame:
    """An object-storage URI, glob or (``…/``) folder of hive-partitioned Parquet, read by
    Polars' cloud readers (credentials and endpoint from the environment).

    The objects are read once, into memory: a command passes over its input more than once
    (the profile, then the engine), and each pass over a scan would fetch them again."""
    name, label = uri.split("?", 1)[0], shown(uri)
    folder = name.endswith("/")
    fmt = _format_of(Path(name.rstrip("/")), reading.input_format, quiet=True)
    if folder and fmt is None:
        fmt = "parquet"
    if fmt is None:
        raise UsageError(
            f"{label}: unknown file type; use --input-format parquet|csv|tsv|ndjson|ipc"
        )
    hive = fmt == "parquet" and (folder or any(c in name for c in "*?["))
    try:
        csv = fmt in ("csv", "tsv")
        delimiter = (reading.delimiter or _remote_delimiter(uri, label)) if csv else ","
        scan = _scan_file(uri, fmt, delimiter, hive=hive)
        progress.phase(f"reading {label}")
        return _checked(scan, label).collect().lazy()
    except DataError as exc:
        raise DataError(_without_secrets(str(exc), uri)) from None
    except (pl.exceptions.PolarsError, OSError) as exc:
        message = f"{label}: cannot read it ({first_line(exc)})"
        raise DataError(_without_secrets(message, uri)) from None


def _remote_delimiter(uri: str, label: str) -> str:
    """The delimiter of a remote CSV's header line (read as one field). A remote glob takes
    the first object's (``--delimiter`` sets one for all)."""
    try:
        head = pl.read_csv(uri, has_header=False, separator="\x1f", quote_char=None, n_rows=1)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(f"{label}: cannot read it ({first_line(exc)})") from None
    return detect_delimiter(str(head.item(0, 0)) if head.height else "")


def shown(path: str) -> str:
    """An input path as messages and reports may show it: a database URI without password, a
    remote URI without its query string (a presigned URL's signature)."""
    database = database_of(path)
    if database is not None:
        return database.shown
    if _is_remote(path) and "?" in path:
        return path.split("?", 1)[0] + "?…"
    return path


def _without_secrets(text: str, uri: str) -> str:
    """``text`` without the secrets of the environment and the query string of ``uri``."""
    if "?" in uri:
        text = text.replace(uri.split("?", 1)[1], "…")
    for name in _SECRETS:
        secret = os.environ.get(name)
        if secret:
            text = text.replace(secret, "***")
    return text


def _scan_directory(
    directory: Path, reading: Reading, label: str
) -> tuple[pl.LazyFrame, list[Path]]:
    files = sorted(
        p for p in directory.rglob("*") if p.is_file() and _format_of(p, None, quiet=True)
    )
    if not files:
        raise DataError(f"{directory}: no event files (Parquet, CSV, TSV, NDJSON, Arrow) inside")
    formats = {_format_of(p, reading.input_format) for p in files}
    if formats == {"parquet"}:
        scan = pl.scan_parquet(directory, hive_partitioning=True)
        return _checked(scan, str(directory)), files
    return _scan_files(files, reading, label), files


def _scan_files(files: list[Path], reading: Reading, label: str) -> pl.LazyFrame:
    scans = []
    for path in files:
        fmt = _require_format(path, reading.input_format)
        delimiter = ","
        if fmt in ("csv", "tsv"):
            delimiter = file_delimiter(path, reading.delimiter)
            _CSV_FILES[label].append((path, delimiter))
        scans.append(_checked(_scan_file(path, fmt, delimiter), str(path)))
    return scans[0] if len(scans) == 1 else pl.concat(scans, how="diagonal_relaxed")


def _scan_file(
    path: Path | str, fmt: InputFormat, delimiter: str, *, hive: bool = False
) -> pl.LazyFrame:
    """The scan of one file, glob or folder (``hive``: of hive-partitioned Parquet) in
    ``fmt`` (CSV and TSV split by ``delimiter``)."""
    if fmt == "parquet":
        return pl.scan_parquet(path, hive_partitioning=hive)
    if fmt == "ipc":
        return pl.scan_ipc(path)
    if fmt == "ndjson":
        return pl.scan_ndjson(path, infer_schema_length=10_000)
    return pl.scan_csv(path, separator=delimiter, **_CSV_OPTIONS)  # type: ignore[arg-type]


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
        raise DataError(f"{label}: cannot read it ({first_line(exc)})") from None
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


def _read_stdin(fmt: InputFormat, delimiter: str | None) -> pl.LazyFrame:
    data = sys.stdin.buffer.read()
    if not data.strip():
        raise DataError("-: standard input is empty")
    buffer = io.BytesIO(data)
    try:
        if fmt == "ndjson":
            return pl.read_ndjson(buffer).lazy()
        if fmt in ("csv", "tsv"):
            header = head_text(data[:65536], "-").split("\n", 1)[0]
            separator = delimiter or detect_delimiter(header)
            return pl.read_csv(buffer, separator=separator, **_CSV_OPTIONS).lazy()  # type: ignore[arg-type]
    except pl.exceptions.PolarsError as exc:
        raise DataError(f"-: cannot read standard input as {fmt} ({first_line(exc)})") from None
    raise UsageError(f"-: standard input can be csv, tsv or ndjson, not {fmt}")
