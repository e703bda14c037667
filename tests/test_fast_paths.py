"""The shortcuts the big-log paths take must never change a number.

Sessions grouped by a 64-bit hash (and what happens when it collides), the deepest stage read
from an ordered Enum, and the time range that Parquet footers give instead of a pass over the
data.
"""

from dataclasses import replace
from datetime import UTC, datetime

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.conftest import at, log_of

import journeykit.load.events as events_module
from journeykit import derive
from journeykit.journey import (
    AbandonmentSpec,
    StagesSpec,
    SummarySpec,
    abandonment,
    stages,
    summary,
)
from journeykit.journey.spec import StageRules
from journeykit.journey.units import EventLadder
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


def test_a_colliding_session_hash_is_detected_and_grouped_again(monkeypatch):
    log = log_of(ROWS, COLUMNS)
    expected = stages(log, StagesSpec()).table, summary(log, SummarySpec()).table
    tried: list[int] = []
    real_key = derive.session_key

    def first_seed_collides(seed: int) -> pl.Expr:
        tried.append(seed)
        if len(tried) == 1:  # every session of every user gets the same key
            return pl.lit(0, dtype=pl.UInt64).alias(derive.SESSION_KEY)
        return real_key(seed)

    monkeypatch.setattr(derive, "session_key", first_seed_collides)
    assert stages(log, StagesSpec()).table.equals(expected[0])
    assert tried[:2] == list(derive._KEY_SEEDS[:2])
    tried.clear()
    assert summary(log, SummarySpec()).table.equals(expected[1])
    assert len(tried) == 2


@pytest.mark.parametrize(
    "user",
    [
        lambda u: f"user-{u}",  # text users: user min/max aggregates
        lambda u: -u,  # negative integers, packed with the deepest stage and the row
        lambda u: 2**58 + u,  # packed with the deepest stage, too large to pack the row too
        lambda u: 2**61 + u,  # too large to pack
    ],
)
def test_every_kind_of_user_gives_the_same_stages(user):
    expected = stages(log_of(ROWS, COLUMNS), StagesSpec(by="user"))
    log = log_of([(user(row[0]), *row[1:]) for row in ROWS], COLUMNS)
    result = stages(log, StagesSpec(by="user"))
    assert result.table.equals(expected.table)
    assert result.sessions.equals(expected.sessions)
    # 1a, 1c, 3/null and 3d are one event each (a one-event session's largest packed row is
    # its smallest), 1b and 2b are more
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


def test_the_deepest_stage_is_the_largest_code_of_an_ordered_enum():
    rules = StageRules(consideration=("view", "both"), decision=("cart", "both"))
    ladder = EventLadder.of(["zzz", "cart", "view", "both", "aaa", "review"], rules)
    assert ladder.names == ["aaa", "review", "zzz", "view", "both", "cart"]
    assert (ladder.considered_from, ladder.decided_from) == (3, 4)
    nothing = EventLadder.of(["page_view"], rules)
    assert (nothing.considered_from, nothing.decided_from) == (1, 1)


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
    found = read_footers((path,), "user_id", "event_time")
    assert found is not None
    assert [round((t.timestamp() - micro) * 1e6) for t in (found.first, found.last)] == [
        first,
        last,
    ]
    assert found.users == (1, 3)


def test_footers_prove_nothing_with_nulls_naive_times_or_no_statistics(tmp_path):
    times = _utc_times("us", [1, 2, 3])
    with_null = _write(tmp_path / "a.parquet", times, [1, None, 3])
    naive = _write(tmp_path / "b.parquet", pa.array([1, 2, 3], pa.timestamp("us")), [1, 2, 3])
    bare = _write(tmp_path / "c.parquet", times, [1, 2, 3], write_statistics=False)
    for path in (with_null, naive, bare):
        assert read_footers((path,), "user_id", "event_time") is None
    assert read_footers((with_null,), "user_id", "missing") is None


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
    assert [replace(log.profile, event_counts=None) for log in from_footer] == [
        replace(log.profile, event_counts=None) for log in passed
    ]
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
