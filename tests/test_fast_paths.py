"""The shortcuts the big-log paths take must never change a number.

Users as exact integers, direct codes or hashed text in the sequence engine, and what Parquet
footers give instead of a pass over the data (the time range, the epoch unit, the user range).
"""

from dataclasses import replace
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.conftest import at, log_of

import journeykit.load.events as events_module
from journeykit.journey import (
    AbandonmentSpec,
    StagesSpec,
    SummarySpec,
    abandonment,
    stages,
    summary,
)
from journeykit.load.events import load_events
from journeykit.load.footer import read_footers

COLUMNS = ("user_id", "session_id", "ts", "event", "price")
ROWS = [
    # user 1: a bounce, then a cart session that buys, then a review after the order
    (1, "a", at(0), "page_view", None),
    (1, "b", at(60), "product_view", 10.0),
    (1, "b", at(61), "add_to_cart", 10.0),
    (1, "b", at(62), "purchase", 10.0),
    (1, "c", at(200), "review", None),
    # user 2 reuses session value "b": a different session; cart left behind
    (2, "b", at(5), "product_view", 4.0),
    (2, "b", at(6), "add_to_cart", 4.0),
    # user 3: a null session value is its own session, with two orders (repeat)
    (3, None, at(10), "purchase", 7.0),
    (3, "d", at(300), "purchase", 8.0),
]


@pytest.mark.parametrize(
    "user",
    [
        lambda u: f"user-{u}",  # text users: two hashes each
        lambda u: -u,  # negative integers: exact keys, no chunks by range
        lambda u: 2**58 + u,  # integers far from zero in a compact range: direct codes
        lambda u: 2**61 * u,  # integers far apart: a hash table
    ],
)
def test_every_kind_of_user_gives_the_same_stages(user):
    expected = stages(log_of(ROWS, COLUMNS), StagesSpec(by="user"))
    log = log_of([(user(row[0]), *row[1:]) for row in ROWS], COLUMNS)
    result = stages(log, StagesSpec(by="user"))
    assert result.table.equals(expected.table)
    assert result.sessions.equals(expected.sessions)
    # 1a, 1c, 3/null and 3d are one event each, 1b and 2b are more
    bounces = dict(result.sessions.select("stage", "bounces").iter_rows())
    assert bounces == {
        "awareness": 1,
        "consideration": 0,
        "decision": 0,
        "purchase": 1,
        "retention": 1,
        "advocacy": 1,
    }


def test_hand_computed_figures_of_the_small_log():
    log = log_of(ROWS, COLUMNS)
    by_stage = dict(stages(log, StagesSpec()).table.select("stage", "sessions").iter_rows())
    # 1a awareness (bounce), 1b purchase (first order), 1c advocacy (review after the order),
    # 2b decision, 3/null purchase, 3d retention (second order)
    assert by_stage == {
        "awareness": 1,
        "consideration": 0,
        "decision": 1,
        "purchase": 2,
        "retention": 1,
        "advocacy": 1,
    }
    row = summary(log, SummarySpec()).figures()
    assert (row["sessions"], row["users"], row["orders"], row["customers"]) == (6, 3, 3, 2)
    assert row["repeat_customers"] == 1
    assert row["bounce_rate"] == pytest.approx(4 / 6)  # 1a, 1c, 3/null, 3d have one event
    carts = abandonment(log, AbandonmentSpec()).table.row(0, named=True)
    assert (carts["cart_sessions"], carts["abandoned"], carts["value_at_risk"]) == (2, 1, 4.0)


def _write(path, times, users, events=None, **options):
    table = pa.table({"user_id": pa.array(users, pa.int64()), "event_time": times})
    table = table.append_column("event", pa.array(events or ["view"] * len(users), pa.string()))
    pq.write_table(table, path, row_group_size=2, **options)
    return path


def _utc_times(unit, values):
    return pa.array(values, pa.timestamp(unit, tz="UTC"))


@pytest.mark.parametrize(
    ("unit", "values", "first", "last"),
    [
        ("us", [1_000_000, 3_000_000, 2_000_000], 1_000_000, 3_000_000),
        ("ms", [1_000, 5_000, 2_000], 1_000_000, 5_000_000),
        ("ns", [1_000_001_999, 4_000_000_000, 2_000_000_000], 1_000_001, 4_000_000),
    ],
)
def test_footers_give_the_time_range_of_clean_files(tmp_path, unit, values, first, last):
    path = _write(tmp_path / "e.parquet", _utc_times(unit, values), [1, 2, 3])
    micro = datetime(1970, 1, 1, tzinfo=UTC).timestamp()
    found = read_footers((path,), "user_id", "event_time", naive_is_utc=False)
    assert found is not None
    assert [round((t.timestamp() - micro) * 1e6) for t in (found.first, found.last)] == [
        first,
        last,
    ]
    assert found.users == (1, 3)


def test_footers_prove_nothing_with_nulls_foreign_naive_times_or_no_statistics(tmp_path):
    times = _utc_times("us", [1, 2, 3])
    with_null = _write(tmp_path / "a.parquet", times, [1, None, 3])
    naive = _write(tmp_path / "b.parquet", pa.array([1, 2, 3], pa.timestamp("us")), [1, 2, 3])
    bare = _write(tmp_path / "c.parquet", times, [1, 2, 3], write_statistics=False)
    for path in (with_null, naive, bare):
        assert read_footers((path,), "user_id", "event_time", naive_is_utc=False) is None
    assert read_footers((with_null,), "user_id", "missing", naive_is_utc=True) is None
    # Zone-less times are read as UTC when --assume-tz is UTC (the default).
    found = read_footers((naive,), "user_id", "event_time", naive_is_utc=True)
    assert found is not None and (found.first.microsecond, found.last.microsecond) == (1, 3)


@pytest.mark.parametrize(
    ("values", "unit", "last"),
    [
        ([1_511_544_070, 1_512_000_000], "s", 1_512_000_000_000_000),
        ([5, 1_512_000_000_123], "ms", 1_512_000_000_123_000),
    ],
)
def test_footers_decide_the_unit_of_integer_epochs(tmp_path, values, unit, last):
    path = _write(tmp_path / "e.parquet", pa.array(values, pa.int64()), [1, 2])
    found = read_footers((path,), "user_id", "event_time", naive_is_utc=True)
    assert found is not None and found.epoch_unit == unit
    micro = datetime(1970, 1, 1, tzinfo=UTC)
    assert round((found.last - micro).total_seconds() * 1e6) == last


@pytest.mark.parametrize(
    ("users", "proven"),
    [(["u1", "u2"], True), (["u1", " "], False), (["", "u2"], False), (["u1", "\u3000x"], False)],
)
def test_footers_prove_text_users_are_never_blank_only_from_printable_bounds(
    tmp_path, users, proven
):
    table = pa.table(
        {"user_id": pa.array(users), "event_time": _utc_times("us", [1, 2]), "event": ["view"] * 2}
    )
    pq.write_table(table, tmp_path / "t.parquet")
    found = read_footers((tmp_path / "t.parquet",), "user_id", "event_time", naive_is_utc=True)
    assert (found is not None) == proven


def test_the_profile_from_footers_equals_the_profile_from_a_pass(tmp_path, monkeypatch):
    # Two rows of sample: 'add_to_cart' (which keeps 'cart' as it is), the blank and null
    # events (dropped, with the first and last times) and 'buy' are found past it.
    times = _utc_times("us", [5_000_000, 2_000_000, 9_000_000, 1_000_000, 10_000_000, 8_000_000])
    events = ["view", "cart", "add_to_cart", None, " ", "buy"]
    clean = _write(tmp_path / "clean.parquet", times, [1, 2, 3, 4, 5, 6], events)
    dirty = _write(tmp_path / "dirty.parquet", times, [1, None, 3, 4, 5, 6], events)
    passed = [load_events([str(p)]) for p in (clean, dirty)]
    monkeypatch.setattr(events_module, "FOOTER_WORTH_BYTES", 0)
    monkeypatch.setattr(events_module, "SAMPLE_ROWS", 2)
    from_footer = [load_events([str(p)]) for p in (clean, dirty)]
    assert from_footer[0].profile.event_counts is None  # proven present, not counted
    assert from_footer[0].profile.sampled == {
        "product_view": 1,
        "add_to_cart": 1,
        "cart": 1,
        "purchase": 1,
    }
    # Raw names proven present are not counted either: their counts are the pass's or None.
    for footer, passed_log in zip(from_footer, passed, strict=True):
        counted = passed_log.profile.raw_counts
        assert footer.profile.raw_counts.keys() == counted.keys()
        assert all(n in (None, counted[k]) for k, n in footer.profile.raw_counts.items())
    assert [
        replace(log.profile, event_counts=None, sampled=None, raw_counts={}) for log in from_footer
    ] == [replace(log.profile, event_counts=None, raw_counts={}) for log in passed]
    assert [log.event_counts for log in from_footer] == [log.event_counts for log in passed]
    assert [log.warnings for log in from_footer] == [log.warnings for log in passed]
    clean_profile = passed[0].profile
    assert clean_profile.events == ("add_to_cart", "cart", "product_view", "purchase")
    assert passed[0].event_counts == {"add_to_cart": 1, "cart": 1, "product_view": 1, "purchase": 1}
    assert clean_profile.dropped == {"user": 0, "time": 0, "event": 2}
    assert (clean_profile.first, clean_profile.last) == (
        datetime(1970, 1, 1, 0, 0, 2, tzinfo=UTC),
        datetime(1970, 1, 1, 0, 0, 9, tzinfo=UTC),
    )
    assert passed[1].profile.dropped["user"] == 1
