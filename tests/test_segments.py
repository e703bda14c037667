"""Segments and personas (SPEC §16): one hand-computed log per rule, properties, the command.

Times are minutes after 2026-03-02 12:00 UTC (``at``); sessions come from the 30-minute rule.
"""

import io
import subprocess
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import at, log_of

from journeykit.journey import SummarySpec, summary
from journeykit.load.events import LoadOptions, load_events, load_frame
from journeykit.segments import SegmentsSpec, segments
from journeykit.segments.users import _scores

COLUMNS = ("user_id", "ts", "event", "price")
SAMPLE = "data/samples/events.parquet"
DAY = 24 * 60
T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)


def users_of(rows, columns=COLUMNS, **spec) -> dict:
    """user → its emit row."""
    result = segments(log_of(rows, columns), SegmentsSpec(**spec))
    return {row["user"]: row for row in result.users.iter_rows(named=True)}


def buys(user, minute, price=10.0):
    return [(user, at(minute), "page_view", None), (user, at(minute + 1), "purchase", price)]


def scores(values, high_is_good=True):
    x = np.array(values, dtype=float)
    return _scores(x, np.ones(x.shape[0], bool), high_is_good=high_is_good).astype(int).tolist()


def test_thresholds_with_fewer_than_five_customers():
    # n = 1: every q_j is the one value: nothing is above it → F score 1, R score 5
    assert scores([3]) == [1] and scores([3], high_is_good=False) == [5]
    # n = 2: positions ceil(j·2/5) = 1, 1, 2, 2 → q = (1, 1, 4, 4): 1 → 1; 4 → 1 + 2 = 3
    assert scores([1, 4]) == [1, 3]
    # n = 3: positions 1, 2, 2, 3 → q = (1, 2, 2, 3): 1 → 1, 2 → 2, 3 → 4
    assert scores([1, 2, 3]) == [1, 2, 4]


def test_thresholds_with_heavy_ties():
    # ten customers, eight with 1 order: q = values at 2, 4, 6, 8 = (1, 1, 1, 1) → 1 scores 1,
    # 2 and 5 score 5 (above all four thresholds)
    assert scores([1] * 8 + [2, 5]) == [1] * 8 + [5, 5]


def test_recency_scores_run_the_other_way():
    # days since the last order 1, 2, …, 5 (n = 5: q = 1, 2, 3, 4): the most recent scores 5
    assert scores([1, 2, 3, 4, 5], high_is_good=False) == [5, 4, 3, 2, 1]


def test_fm_rounds_half_up_and_champions_come_before_new():
    rows = []
    for user, (orders, price) in enumerate([(1, 10), (1, 50), (2, 10), (3, 30), (4, 90)], 1):
        for k in range(orders):
            rows += buys(user, 100 * k + user, price)
    got = users_of(rows)
    # F = orders 1, 1, 2, 3, 4 → q = (1, 1, 2, 3): scores 1, 1, 3, 4, 5
    assert [got[u]["f_score"] for u in range(1, 6)] == [1, 1, 3, 4, 5]
    # M = 10, 50, 20, 90, 360 → sorted 10, 20, 50, 90, 360 = q (10, 20, 50, 90): 1, 3, 2, 4, 5
    assert [got[u]["m_score"] for u in range(1, 6)] == [1, 3, 2, 4, 5]
    # user 2: F 1, M 3 → FM = floor(2 + 0.5) = 2; user 4: (4 + 4)/2 = 4; user 3: 2.5 → 3
    # recency: last orders at minutes 1, 2, 103, 204, 305; now = 306 → user 5 most recent
    assert [got[u]["r_score"] for u in range(1, 6)] == [1, 2, 3, 4, 5]
    # user 5: R 5, FM 5 → champions; user 4: R 4, FM 4 → champions (before any other rule)
    assert got[5]["rfm_segment"] == got[4]["rfm_segment"] == "champions"
    assert got[3]["rfm_segment"] == "loyal"  # R 3, FM 3
    assert got[1]["rfm_segment"] == "lost" and got[2]["rfm_segment"] == "hibernating"


def test_new_is_a_recent_one_order_customer_that_is_not_a_champion():
    rows = buys(1, 0) + buys(2, 10) + buys(3, 20) + buys(4, 30) + buys(5, 40, price=5.0)
    got = users_of(rows)
    # every F is 1 → F score 1; user 5 is the most recent (R 5) with FM = floor((1 + 1)/2 + .5) = 1
    assert got[5]["r_score"] == 5 and got[5]["rfm_segment"] == "new"
    assert got[4]["r_score"] == 4 and got[4]["rfm_segment"] == "new"


def test_without_money_fm_is_f_and_revenue_is_null():
    rows = [(u, at(u), "purchase") for u in range(1, 4)] + [(3, at(100), "purchase")]
    got = users_of(rows, COLUMNS[:3])
    assert {got[u]["m_score"] for u in got} == {None} and {got[u]["revenue"] for u in got} == {None}
    # F 1, 1, 2 → q = (1, 1, 1, 2): user 3 scores 4 (above three thresholds), FM = F
    assert got[3]["f_score"] == 4
    table = segments(log_of(rows, COLUMNS[:3]), SegmentsSpec(by="rfm")).table
    assert table["revenue"].null_count() == table.height


def test_engaged_by_two_sessions_or_a_checkout():
    rows = [
        (1, at(0), "page_view", None),
        (1, at(100), "page_view", None),  # a second session
        (2, at(0), "checkout", None),  # one session, but a checkout
        (3, at(0), "page_view", None),
        (3, at(5), "product_view", None),  # one session, no cart: first-time visitor
        *buys(4, 0),
        *buys(5, 0),
        *buys(5, 100),
    ]
    lifecycle = {u: row["lifecycle"] for u, row in users_of(rows).items()}
    assert lifecycle == {
        1: "engaged_visitor",
        2: "engaged_visitor",
        3: "first_time_visitor",
        4: "first_time_buyer",
        5: "repeat_buyer",
    }
    table = segments(log_of(rows, COLUMNS), SegmentsSpec()).table
    assert table["users"].to_list() == [1, 1, 2, 1] and table["share"].to_list() == [
        0.2,
        0.2,
        0.4,
        0.2,
    ]


def test_at_drops_later_events_and_moves_now():
    rows = buys(1, 0) + buys(1, 2 * DAY) + [(2, at(3 * DAY), "page_view", None)]
    later = users_of(rows)
    assert later[1]["orders"] == 2 and later[1]["recency_days"] == pytest.approx(
        (3 * DAY - (2 * DAY + 1)) / DAY
    )
    earlier = users_of(rows, at=T0 + timedelta(days=1))
    assert 2 not in earlier and earlier[1]["orders"] == 1
    assert earlier[1]["recency_days"] == pytest.approx((DAY - 1) / DAY)  # now = --at


def test_custom_segments_first_match_wins_and_other():
    rows = buys(1, 0, price=5.0) + buys(2, 0, price=50.0) + [(3, at(0), "page_view", None)]
    custom = (("cheap", "revenue < 10"), ("buyer", "orders >= 1"), ("nobody", "NULL"))
    result = segments(log_of(rows, COLUMNS), SegmentsSpec(by="custom", custom=custom))
    assert dict(result.users.select("user", "custom_segment").rows()) == {
        1: "cheap",
        2: "buyer",
        3: "cheap",  # revenue 0 < 10: a non-buyer has revenue 0 with money
    }
    assert result.table["segment"].to_list() == ["cheap", "buyer", "nobody", "other"]
    assert result.table["users"].to_list() == [2, 1, 0, 0]


def test_custom_expressions_see_user_as_a_column():
    rows = buys(1, 0) + buys(2, 0)
    custom = (("first", "user = 1"),)
    result = segments(log_of(rows, COLUMNS), SegmentsSpec(by="custom", custom=custom))
    assert result.users["custom_segment"].to_list() == ["first", "other"]


def run(*arguments: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "journeykit", "segments", *arguments]
    return subprocess.run(command, capture_output=True, text=True, check=False)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("reveneu > 1", "no column 'reveneu' (did you mean 'revenue'?)"),
        ("orders >", "is not a SQL expression"),
        ("orders", "not true/false"),
    ],
)
def test_bad_custom_expressions_exit_2_naming_the_segment(tmp_path, expression, message):
    config = tmp_path / "journeykit.toml"
    config.write_text(f'[segments]\nbig = "{expression}"\n')
    result = run(SAMPLE, "--by", "custom", "--config", str(config))
    assert result.returncode == 2, result.stderr
    assert "[segments] big" in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr


def test_custom_without_segments_exits_2():
    result = run(SAMPLE, "--by", "custom")
    assert result.returncode == 2 and "[segments]" in result.stderr


def test_emit_writes_every_column(tmp_path):
    out = tmp_path / "users.csv"
    result = run(SAMPLE, "--by", "rfm", "--emit", str(out), "--format", "csv")
    assert result.returncode == 0, result.stderr
    emitted = pl.read_csv(out)
    assert emitted.columns == [
        "user", "first_event", "last_event", "sessions", "events", "orders", "revenue",
        "first_order", "last_order", "recency_days", "r_score", "f_score", "m_score",
        "lifecycle", "rfm_segment",
    ]  # fmt: skip
    printed = pl.read_csv(io.StringIO(result.stdout))
    assert int(printed["users"].sum()) == emitted["rfm_segment"].is_not_null().sum() == 632


def test_the_personas_example_recovers_the_sample_personas():
    from journeykit.sample.params import SampleParams
    from journeykit.sample.simulate import BLOCK_USERS, _Block, _Catalog

    params = SampleParams()
    catalog = _Catalog.build(params)
    truth = []
    for block in range((params.users - 1) // BLOCK_USERS + 1):
        count = min(BLOCK_USERS, params.users - block * BLOCK_USERS)
        drawn, _ = _Block(params, catalog, block).users(count)
        truth += [params.personas[p].name for p in drawn.persona]
    config = tomllib.loads(Path("examples/personas.toml").read_text())
    spec = SegmentsSpec(by="custom", custom=tuple(config["segments"].items()))
    found = segments(load_events([SAMPLE]), spec).users.sort("user")["custom_segment"]
    # 1,334 of the 2,000 users get their true persona back (a third would by guessing the
    # largest persona): bargain hunters by long visits, loyalists by re-orders
    assert int((found == pl.Series(truth)).sum()) == 1334


# --- properties -----------------------------------------------------------------------------

events = st.lists(
    st.tuples(
        st.integers(1, 6),
        st.integers(0, 5000),
        st.sampled_from(["page_view", "add_to_cart", "checkout", "purchase"]),
        st.sampled_from([5.0, 20.0, 7.5]),
    ),
    min_size=1,
    max_size=40,
)
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def frame(rows) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "ts": [datetime(2026, 1, 1) + timedelta(minutes=r[1]) for r in rows],
            "event": [r[2] for r in rows],
            "price": [r[3] for r in rows],
        }
    )


@SETTINGS
@given(events, st.sampled_from(["lifecycle", "rfm"]))
def test_sizes_sum_to_users_and_emit_sums_to_summary(rows, by):
    log = load_frame(frame(rows), LoadOptions())
    result = segments(log, SegmentsSpec(by=by))
    users = result.users
    expected = users.height if by == "lifecycle" else int((users["orders"] > 0).sum())
    assert int(result.table["users"].sum()) == expected
    headline = summary(log, SummarySpec()).table.row(0, named=True)
    assert int(users["orders"].sum()) == headline["orders"]
    assert users["revenue"].sum() == pytest.approx(headline["revenue"])


@SETTINGS
@given(events, st.randoms(use_true_random=False))
def test_shuffling_rows_changes_nothing(rows, rng):
    unique = list({(r[0], r[1]): r for r in rows}.values())
    shuffled = unique[:]
    rng.shuffle(shuffled)
    results = [
        segments(load_frame(frame(r), LoadOptions()), SegmentsSpec(by="rfm"))
        for r in (unique, shuffled)
    ]
    assert results[0].users.equals(results[1].users)
    assert results[0].table.equals(results[1].table)
