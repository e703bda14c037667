"""CSV dialects and hostile text files (SPEC §17): the delimiter, a BOM, binary files, and the
line a parse error is on.

The delimiter is the one of ``, ; \\t |`` that splits the header line into the most fields (ties
in that order). A file is text when its first bytes hold no NUL and decode as UTF-8. Polars
names the column and value of a parse error but not its line: ``error_line`` finds it.
"""

import csv
import gzip
import io
import re
from pathlib import Path
from typing import BinaryIO

from journeykit.errors import DataError

DELIMITERS = (",", ";", "\t", "|")
_HEAD_BYTES = 64 * 1024
_BOM = b"\xef\xbb\xbf"
_BAD_VALUE = re.compile(
    r"could not parse `(?P<value>.*?)` as dtype `\w+` at column '(?P<column>.*?)'"
)


def detect_delimiter(header: str) -> str:
    """The delimiter of a header line: the one that splits it into the most fields (quoted
    names count as one field), ties in ``DELIMITERS`` order.

    >>> detect_delimiter("user_id;event_time;event"), detect_delimiter("a,b|c")
    (';', ',')
    >>> detect_delimiter('"user,id";"event,time";event')
    ';'
    """
    counts = [len(next(csv.reader([header], delimiter=d), [])) for d in DELIMITERS]
    return DELIMITERS[counts.index(max(counts))]


def head_text(data: bytes, label: str) -> str:
    """The first bytes of a file as text (BOM dropped), or a ``DataError`` when it is not text."""
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    if b"\x00" in data:
        raise DataError(f"{label}: not a text file (it holds binary data); is it Parquet or Arrow?")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(data) - 3:  # not just a character cut by the end of the sample
            raise DataError(
                f"{label}: not a text file (byte {exc.start + 1:,} is not UTF-8); "
                "save it as UTF-8 CSV"
            ) from None
        return data[: exc.start].decode("utf-8")


def file_delimiter(path: Path, forced: str | None) -> str:
    """The delimiter of a CSV file (``forced`` when given), after checking it is text."""
    try:
        with _open(path) as handle:
            head = head_text(handle.read(_HEAD_BYTES), str(path))
    except (OSError, EOFError) as exc:  # a .gz that is not gzip, or cut short
        what = "not a gzip file" if isinstance(exc, gzip.BadGzipFile) else type(exc).__name__
        raise DataError(f"{path}: cannot read it ({what})") from None
    return forced if forced is not None else detect_delimiter(head.split("\n", 1)[0])


def error_line(path: Path, delimiter: str, message: str) -> int | None:
    """The 1-based line of ``path`` that a Polars parse error ``message`` is about, if found:
    the first line with more fields than the header ("found more fields"), or whose value in
    the named column is the named value."""
    bad = _BAD_VALUE.search(message)
    ragged = "more fields" in message
    if bad is None and not ragged:
        return None
    try:
        return _first_line_of(path, delimiter, bad, ragged)
    except (OSError, EOFError, csv.Error):
        return None


def _first_line_of(
    path: Path, delimiter: str, bad: re.Match[str] | None, ragged: bool
) -> int | None:
    with _open(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
        rows = csv.reader(text, delimiter=delimiter)
        header = next(rows, [])
        column = header.index(bad["column"]) if bad and bad["column"] in header else None
        for row in rows:
            if not row:
                continue
            if ragged and len(row) > len(header):
                return rows.line_num
            if (
                column is not None
                and bad is not None
                and row[column : column + 1] == [bad["value"]]
            ):
                return rows.line_num
    return None


def _open(path: Path) -> BinaryIO:
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")
