"""SPEC §2: formats, column detection, timestamps, event aliases, bad rows."""

import gzip
from datetime import UTC, datetime

import polars as pl
import pytest

from journeykit.errors import DataError, UsageError
from journeykit.load.events import LoadOptions, load_events, load_frame
from journeykit.load.timestamps import epoch_unit

FRAME = pl.DataFrame(
    {
        "User_ID": ["a", "a", "b"],
        "event_time": [
            "2026-01-05 10:00:00 UTC",
            "2026-01-05 10:05:00 UTC",
            "2026-01-06T09:00:00Z",
        ],
        "Event_Type": ["view", "cart", "purchase"],
        "price": [1.5, 2.0, 3.0],
    }
)


def times(values, **options):
    frame = pl.DataFrame({"user_id": [1] * len(values), "ts": values, "event": ["x"] * len(values)})
    log = load_frame(frame, LoadOptions(**options))
    return log.frame.sort("row").collect()["time"].to_list()


def utc(*parts):
    return datetime(*parts, tzinfo=UTC)


def test_roles_are_detected_case_insensitively_in_priority_order():
    log = load_frame(FRAME.with_columns(pl.col("User_ID").alias("customer_id")))
    assert log.roles.columns["user"] == "User_ID"
    assert log.roles.columns["event"] == "Event_Type"
    assert log.roles.columns["price"] == "price"
    assert log.event_counts == {"add_to_cart": 1, "product_view": 1, "purchase": 1}


def test_flags_override_detection():
    frame = FRAME.rename({"User_ID": "who"})
    log = load_frame(frame, LoadOptions(columns={"user": "who"}))
    assert log.roles.columns["user"] == "who"


def test_missing_required_column_lists_columns_and_flag():
    with pytest.raises(DataError) as error:
        load_frame(FRAME.drop("User_ID"))
    message = str(error.value)
    assert "no user column" in message and "event_time, Event_Type, price" in message
    assert "--user-col" in message


def test_missing_event_column_suggests_rows_are():
    with pytest.raises(DataError, match="--rows-are purchase"):
        load_frame(FRAME.drop("Event_Type"))


def test_rows_are_makes_every_row_that_event():
    log = load_frame(FRAME.drop("Event_Type"), LoadOptions(rows_are="purchase"))
    assert log.event_counts == {"purchase": 3}


def test_unknown_flag_column_is_a_usage_error_with_suggestion():
    with pytest.raises(UsageError, match="did you mean 'price'"):
        load_frame(FRAME, LoadOptions(columns={"price": "prise"}))


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["2019-10-01 00:00:00 UTC"], [utc(2019, 10, 1)]),
        (["2019-10-01T02:00:00+02:00"], [utc(2019, 10, 1)]),
        (["2019-10-01T00:00:00.250Z"], [utc(2019, 10, 1, 0, 0, 0, 250_000)]),
        (["2019-10-01 00:00"], [utc(2019, 10, 1)]),
        (["2019-10-01"], [utc(2019, 10, 1)]),
    ],
)
def test_iso_strings(values, expected):
    assert times(values) == expected


def test_zone_less_strings_use_assume_tz():
    assert times(["2019-10-01 02:00:00"], assume_tz="Europe/Paris") == [utc(2019, 10, 1)]


@pytest.mark.parametrize(
    ("value", "unit"),
    [
        (1_511_544_070, "s"),
        (1_511_544_070_000, "ms"),
        (1_511_544_070_000_000, "us"),
        (1_511_544_070_000_000_000, "ns"),
    ],
)
def test_integer_epochs_by_magnitude(value, unit):
    assert epoch_unit(abs(value)) == unit
    assert times([value]) == [utc(2017, 11, 24, 17, 21, 10)]


def test_epoch_unit_is_decided_once_per_column():
    # The largest value is in milliseconds, so the small one is milliseconds too.
    assert times([1_000, 1_511_544_070_000]) == [
        utc(1970, 1, 1, 0, 0, 1),
        utc(2017, 11, 24, 17, 21, 10),
    ]


def test_native_naive_datetimes_use_assume_tz():
    frame = pl.DataFrame({"user_id": [1], "ts": [datetime(2019, 10, 1, 2)], "event": ["x"]})
    log = load_frame(frame, LoadOptions(assume_tz="Europe/Paris"))
    assert log.frame.collect()["time"].to_list() == [utc(2019, 10, 1)]


def test_alias_maps_only_when_the_canonical_name_is_absent():
    frame = pl.DataFrame(
        {
            "user_id": [1, 1, 1],
            "ts": ["2026-01-01"] * 3,
            "event": ["cart", "add_to_cart", "Purchase"],
        }
    )
    log = load_frame(frame)
    assert log.event_counts == {"add_to_cart": 1, "cart": 1, "purchase": 1}
    assert any("'cart' kept as 'cart'" in w for w in log.warnings)


def test_config_aliases_extend_the_vocabulary():
    frame = pl.DataFrame({"user_id": [1], "ts": ["2026-01-01"], "event": ["basket_add"]})
    log = load_frame(frame, LoadOptions(aliases={"add_to_cart": ["basket_add"]}))
    assert log.event_counts == {"add_to_cart": 1}


def test_bad_rows_are_dropped_and_counted_once_under_the_first_problem():
    frame = pl.DataFrame(
        {
            "user_id": ["a", None, " ", "b", "c", None, "d"],
            "ts": ["2026-01-01", "2026-01-01", "2026-01-01", "nonsense", "2026-01-01", "bad", None],
            "event": ["view", "view", "view", "view", "", None, "view"],
        }
    )
    log = load_frame(frame)
    assert log.profile.rows == 7
    assert log.profile.dropped == {"user": 3, "time": 2, "event": 1}
    assert log.frame.collect().height == 1
    assert "dropped 6 of 7 rows: 3 null user_id, 2 unparsable ts, 1 null event" in log.warnings


def test_event_counts_and_time_span_come_from_kept_rows_only():
    frame = pl.DataFrame(
        {
            "user_id": ["a", None, "b", "c", "d"],
            "ts": ["2026-01-02", "2025-01-01", "2026-01-03", "2027-01-01", "never"],
            "event": ["view", "view", "purchase", " ", "purchase"],
        }
    )
    profile = load_frame(frame).profile
    assert profile.event_counts == {"product_view": 1, "purchase": 1}
    assert (profile.first, profile.last) == (utc(2026, 1, 2), utc(2026, 1, 3))


def test_blank_categorical_events_are_dropped_like_blank_strings():
    frame = pl.DataFrame(
        {"user_id": [1, 2, 3], "ts": ["2026-01-01"] * 3, "event": ["view", " ", "purchase"]}
    ).with_columns(pl.col("event").cast(pl.Categorical))
    log = load_frame(frame)
    assert log.profile.dropped["event"] == 1
    assert log.frame.sort("row").collect()["event"].to_list() == ["product_view", "purchase"]


def test_without_bad_rows_the_profile_needs_no_corrections():
    frame = pl.DataFrame(
        {"user_id": [1, 2], "ts": ["2026-01-01", "2026-01-02"], "event": ["a", "b"]}
    )
    profile = load_frame(frame).profile
    assert profile.dropped == {"user": 0, "time": 0, "event": 0}
    assert profile.event_counts == {"a": 1, "b": 1}


def test_an_event_filter_reaches_the_parquet_scan(tmp_path):
    path = tmp_path / "events.parquet"
    FRAME.write_parquet(path)
    plan = load_events([str(path)]).events(["purchase"]).select("user", "time").explain()
    assert "SELECTION" in plan  # the scan decodes only the rows of the named events


def test_strict_turns_dropped_rows_into_a_data_error():
    frame = pl.DataFrame({"user_id": ["a", None], "ts": ["2026-01-01"] * 2, "event": ["v", "v"]})
    with pytest.raises(DataError, match="--strict"):
        load_frame(frame, LoadOptions(strict=True))


def test_every_timestamp_unparsable_is_a_data_error():
    frame = pl.DataFrame({"user_id": ["a"], "ts": ["yesterday"], "event": ["view"]})
    with pytest.raises(DataError, match=r"no usable rows.*1 unparsable ts"):
        load_frame(frame)


def test_duplicates_are_kept_unless_dedupe():
    frame = pl.DataFrame({"user_id": [1, 1], "ts": ["2026-01-01"] * 2, "event": ["view", "view"]})
    assert load_frame(frame).profile.event_counts == {"product_view": 2}
    assert load_frame(frame, LoadOptions(dedupe=True)).profile.event_counts == {"product_view": 1}


def test_row_keeps_input_order():
    log = load_frame(FRAME)
    assert log.frame.collect()["row"].to_list() == [0, 1, 2]


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".csv.gz", ".tsv", ".ndjson", ".arrow"])
def test_every_format_reads_the_same_events(tmp_path, suffix):
    path = tmp_path / f"events{suffix}"
    if suffix == ".parquet":
        FRAME.write_parquet(path)
    elif suffix == ".csv":
        FRAME.write_csv(path)
    elif suffix == ".csv.gz":
        path.write_bytes(gzip.compress(FRAME.write_csv().encode()))
    elif suffix == ".tsv":
        FRAME.write_csv(path, separator="\t")
    elif suffix == ".ndjson":
        FRAME.write_ndjson(path)
    else:
        FRAME.write_ipc(path)
    log = load_events([str(path)])
    got = log.frame.sort("row").collect().select("user", "time", "event")
    assert got["event"].to_list() == ["product_view", "add_to_cart", "purchase"]
    assert got["time"].to_list() == [
        utc(2026, 1, 5, 10),
        utc(2026, 1, 5, 10, 5),
        utc(2026, 1, 6, 9),
    ]


def test_directories_globs_and_hive_partitions(tmp_path):
    for day in ("2026-01-05", "2026-01-06"):
        folder = tmp_path / f"day={day}"
        folder.mkdir()
        FRAME.write_parquet(folder / "part.parquet")
    from_dir = load_events([str(tmp_path)])
    from_glob = load_events([str(tmp_path / "*" / "*.parquet")])
    assert from_dir.profile.rows == from_glob.profile.rows == 6
    assert "day" in from_dir.dimensions


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"user_id,ts,event\n", "no rows"),
        (b"PAR1garbage", "cannot read"),
    ],
)
def test_unreadable_inputs_are_data_errors(tmp_path, content, message):
    path = tmp_path / ("bad.parquet" if content.startswith(b"PAR1") else "bad.csv")
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        load_events([str(path)])


def test_missing_file_and_unknown_extension(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_events([str(tmp_path / "nope.csv")])
    odd = tmp_path / "events.xyz"
    odd.write_text("a")
    with pytest.raises(UsageError, match="--input-format"):
        load_events([str(odd)])
