"""CSV dialects and hostile files (SPEC §17), and unusable money values."""

import gzip
from pathlib import Path

import pytest
from tests.test_sources import error_of, output, run

from journeykit.errors import DataError
from journeykit.load.dialect import detect_delimiter
from journeykit.load.events import LoadOptions, load_events

ROWS = [
    ("u1", "2026-03-02 12:00:00", "page_view", ""),
    ("u1", "2026-03-02 12:01:00", "add_to_cart", "10.5"),
    ("u1", "2026-03-02 12:02:00", "purchase", "10.5"),
    ("u2", "2026-03-02 12:00:00", "page_view", ""),
]
HEADER = ("user_id", "event_time", "event", "price")


def write(path: Path, delimiter: str, rows=ROWS, header=HEADER, prefix: bytes = b"") -> Path:
    lines = [delimiter.join(header), *(delimiter.join(row) for row in rows)]
    path.write_bytes(prefix + ("\n".join(lines) + "\n").encode())
    return path


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("a,b,c", ","),
        ("a;b;c", ";"),
        ("a\tb\tc", "\t"),
        ("a|b|c", "|"),
        ("a;b,c", ","),  # a tie: the first of , ; tab |
        ("a|b\tc", "\t"),
        ("a;b;c,d", ";"),  # the one that splits into the most fields
        ("single", ","),
        ('"user,id";"event,time";event', ";"),  # quoted names are one field each
    ],
)
def test_delimiter_from_the_header_line(header, expected):
    assert detect_delimiter(header) == expected


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_every_dialect_reads_the_same_events(tmp_path, delimiter):
    log = load_events([str(write(tmp_path / "events.csv", delimiter))])
    assert log.profile.rows == 4
    assert log.event_counts == {"add_to_cart": 1, "page_view": 2, "purchase": 1}
    assert log.frame.collect()["price"].to_list() == [None, 10.5, 10.5, None]


def test_semicolon_export_with_decimal_commas_is_read_with_the_given_delimiter(tmp_path):
    # A European export: ';' between fields, ',' inside prices; the header decides ';'.
    path = write(tmp_path / "excel.csv", ";", [("u1", "2026-03-02 12:00:00", "purchase", "10")])
    assert load_events([str(path)]).frame.collect()["price"].to_list() == [10.0]


def test_delimiter_flag_overrides_detection(tmp_path):
    # The header splits most on ',' but the file is '|'-separated with commas in names.
    rows = [("u1", "2026-03-02 12:00:00", "page_view", "a,b,c,d,e")]
    path = write(
        tmp_path / "pipes.csv", "|", rows, header=("user_id", "event_time", "event", "v,w,x,y,z")
    )
    with pytest.raises(DataError):
        load_events([str(path)])  # read as ',' there is no event column
    log = load_events([str(path)], LoadOptions(delimiter="|"))
    assert log.frame.collect()["v,w,x,y,z"].to_list() == ["a,b,c,d,e"]
    assert "tab" in run("funnel", str(path), "--delimiter", "ab").stderr


def test_bom_is_ignored(tmp_path):
    path = write(tmp_path / "bom.csv", ";", prefix=b"\xef\xbb\xbf")
    log = load_events([str(path)])
    assert log.roles.columns["user"] == "user_id" and log.profile.rows == 4


def test_gzipped_csv_dialect(tmp_path):
    plain = write(tmp_path / "plain.csv", "\t")
    packed = tmp_path / "events.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert load_events([str(packed)]).profile.rows == 4


def test_binary_file_is_not_a_text_file_and_no_bytes_are_shown(tmp_path):
    path = tmp_path / "events.csv"
    path.write_bytes(b"PAR1\x15\x04\x00\xff\xfe\x00\x01" * 50)
    result = run("funnel", str(path))
    line = error_of(result, 1)
    assert "not a text file" in line and str(path) in line
    assert "\\x" not in result.stderr and "PAR1" not in result.stderr


def test_latin1_file_is_named_with_its_first_bad_byte(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("user_id,event_time,event\nJosé,2026-03-02 12:00:00,view\n".encode("latin-1"))
    line = error_of(run("funnel", str(path)), 1)
    assert "not a text file (byte 29 is not UTF-8)" in line


def test_stdin_dialect_is_detected(tmp_path):
    data = write(tmp_path / "in.csv", ";").read_bytes()
    result = run_stdin("summary", "-", data=data)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith(b"4,2,2,")


def run_stdin(*args: str, data: bytes):
    import subprocess
    import sys

    command = [sys.executable, "-m", "journeykit", *args, "--format", "csv"]
    return subprocess.run(command, input=data, capture_output=True, check=False, text=False)


def test_parse_error_names_the_line(tmp_path):
    rows = [(f"u{i}", "2026-03-02 12:00:00", "page_view", str(i)) for i in range(12_000)]
    rows[11_000] = ("u11000", "2026-03-02 12:00:00", "page_view", "ten")
    path = write(tmp_path / "late.csv", ",", rows)
    line = error_of(run("summary", str(path)), 1)
    # Line 1 is the header: row 11,000 (0-based) is line 11,002.
    assert f"{path}: line 11,002: cannot read it" in line and "ten" in line


def test_ragged_line_is_named(tmp_path):
    rows = [(f"u{i}", "2026-03-02 12:00:00", "page_view", "1") for i in range(50)]
    path = write(tmp_path / "ragged.csv", ",", rows)
    text = path.read_text().splitlines()
    text[31] += ",surplus"
    path.write_text("\n".join(text) + "\n")
    assert f"{path}: line 32: cannot read it" in error_of(run("summary", str(path)), 1)


def test_non_numeric_and_negative_prices_are_counted_not_used(tmp_path):
    rows = [
        ("u1", "2026-03-02 12:00:00", "add_to_cart", "n/a"),
        ("u1", "2026-03-02 12:01:00", "purchase", "-5"),
        ("u1", "2026-03-02 12:02:00", "purchase", "7.5"),
        ("u2", "2026-03-02 12:02:00", "purchase", "2"),
        ("u2", "2026-03-02 12:03:00", "page_view", ""),
    ]
    path = write(tmp_path / "money.csv", ",", rows)
    result = run("summary", str(path), "--format", "csv")
    assert result.returncode == 0
    assert result.stderr.splitlines() == [
        "journeykit: warning: 1 non-numeric price value read as missing",
        "journeykit: warning: 1 negative price value read as missing",
    ]
    log = load_events([str(path)])
    assert log.frame.collect()["price"].to_list() == [None, None, 7.5, 2.0, None]
    # Orders: u1's session (one order, 7.5 + nothing) and u2's (2.0).
    assert output("summary", str(path)).splitlines()[1].split(",")[7:9] == ["2", "9.50"]


def test_clean_parquet_prices_need_no_warning(tmp_path):
    import polars as pl

    frame = pl.DataFrame(
        {
            "user_id": [1, 1],
            "ts": ["2026-03-02 12:00", "2026-03-02 12:01"],
            "event": ["view", "purchase"],
        }
        | {"price": [3.0, -1.0]}
    )
    frame.write_parquet(tmp_path / "signed.parquet")
    frame.with_columns(pl.col("price").abs()).write_parquet(tmp_path / "clean.parquet")
    assert load_events([str(tmp_path / "clean.parquet")]).warnings == ()
    signed = load_events([str(tmp_path / "signed.parquet")])
    assert signed.warnings == ("1 negative price value read as missing",)


def test_ragged_line_is_found_past_short_lines(tmp_path):
    rows = [(f"u{i}", "2026-03-02 12:00:00", "page_view", "1") for i in range(20_010)]
    path = write(tmp_path / "late_ragged.csv", ",", rows)
    text = path.read_text().splitlines()
    text[1] = "u0,2026-03-02 12:00:00,page_view"  # short: Polars reads a null price
    text[20_002] += ",surplus"
    path.write_text("\n".join(text) + "\n")
    assert f"{path}: line 20,003: cannot read it" in error_of(run("summary", str(path)), 1)


@pytest.mark.parametrize(
    "data", [b"no", gzip.compress(b"user_id,ts,event\n1,2026-03-02,view\n")[:20]]
)
def test_broken_gzip_is_one_line(tmp_path, data):
    path = tmp_path / "events.csv.gz"
    path.write_bytes(data)
    line = error_of(run("summary", str(path)), 1)
    assert line.startswith(f"journeykit: error: {path}: cannot read it")
