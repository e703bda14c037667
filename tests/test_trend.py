"""Conversion over time (SPEC §11): one hand-computed log per rule, and properties against the
plain funnel and summary of each period."""

import math
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from tests.conftest import log_of

from journeykit.funnel import FunnelSpec, funnel
from journeykit.journey import SummarySpec, summary
from journeykit.stats import pooled_z, two_sided_p
from journeykit.trend import anomaly_series

DAY = timedelta(days=1)


def iso(*parts: int) -> str:
    return datetime(*parts, tzinfo=UTC).isoformat()


def trend(rows, steps="AB", **spec) -> pl.DataFrame:
    spec.setdefault("trend", "week")
    return funnel(log_of(rows), FunnelSpec(steps=tuple(steps), **spec)).table


def test_iso_weeks_across_a_year_end():
    # Sun 2023-12-31 is in the week of Mon 2023-12-25; Mon 2024-01-01 starts the next one.
    rows = [
        (1, iso(2023, 12, 31, 12), "A"),
        (2, iso(2024, 1, 1, 0), "A"),
        (2, iso(2024, 1, 2), "B"),
    ]
    result = trend(rows)
    assert result["period"].unique(maintain_order=True).to_list() == [
        date(2023, 12, 25),
        date(2024, 1, 1),
    ]
    assert result.columns[0] == "period"
    assert result["units"].to_list() == [1, 0, 1, 1]


def test_tz_moves_an_event_across_midnight():
    # 2026-03-02 23:30 UTC is 2026-03-03 00:30 in Berlin.
    rows = [(1, iso(2026, 3, 2, 23, 30), "A"), (1, iso(2026, 3, 2, 23, 40), "B")]
    utc = trend(rows, trend="day")
    berlin = trend(rows, trend="day", tz="Europe/Berlin")
    assert utc["period"].to_list() == [date(2026, 3, 2)] * 2
    assert berlin["period"].to_list() == [date(2026, 3, 3)] * 2


def test_months_and_the_partial_flag():
    # Last data timestamp 2026-03-05: March ends 04-01, + 7 d window is after it → partial;
    # February ends 03-01, + 7 d = 03-08 > 03-05 → partial too; with a 1 d window it is not.
    rows = [(1, iso(2026, 2, 10), "A"), (1, iso(2026, 3, 5), "A")]
    assert trend(rows, trend="month")["partial"].to_list() == [True] * 4
    one_day = trend(rows, trend="month", window=DAY)
    assert one_day.filter(pl.col("step") == 1)["partial"].to_list() == [False, True]


def test_a_unit_counts_in_every_period_it_enters():
    # User 1 enters in week 1 and converts in week 2 (attempt of week 1, within 7 days); it
    # enters again in week 2 and converts there too.
    rows = [
        (1, iso(2026, 3, 8, 12), "A"),  # Sunday, week of 03-02
        (1, iso(2026, 3, 9, 12), "B"),  # Monday, week of 03-09
        (1, iso(2026, 3, 10, 12), "A"),
        (1, iso(2026, 3, 11, 12), "B"),
    ]
    assert trend(rows)["units"].to_list() == [1, 1, 1, 1]


def test_empty_periods_are_rows_of_zeros_with_null_rates():
    rows = [(1, iso(2026, 3, 2), "A"), (1, iso(2026, 3, 2, 1), "B"), (2, iso(2026, 3, 17), "B")]
    result = trend(rows)
    middle = result.filter(pl.col("period") == date(2026, 3, 9))
    assert middle["units"].to_list() == [0, 0]
    assert middle["conversion_overall"].to_list() == [None, None]
    # The last period has only a B (no entrant) but is still a block: it holds an event.
    assert result["period"].n_unique() == 3


def test_breakdown_values_get_a_block_in_every_period():
    rows = [
        (1, iso(2026, 3, 2), "A", "x"),
        (2, iso(2026, 3, 9), "A", "y"),
        (2, iso(2026, 3, 9, 1), "B", "y"),
    ]
    log = log_of(rows, ("user_id", "ts", "event", "channel"))
    result = funnel(log, FunnelSpec(steps=("A", "B"), trend="week", breakdown="channel")).table
    assert result.columns[:2] == ["period", "channel"]
    assert result.select("channel", "units").rows() == [
        ("x", 1), ("x", 0), ("y", 0), ("y", 0),
        ("x", 0), ("x", 0), ("y", 1), ("y", 1),
    ]  # fmt: skip


def test_since_and_until_clip_the_first_and_last_period():
    rows = [(u, iso(2026, 3, d), "A") for u, d in enumerate(range(2, 16), start=1)]
    result = trend(
        rows, since=datetime(2026, 3, 4, tzinfo=UTC), until=datetime(2026, 3, 11, tzinfo=UTC)
    )
    step1 = result.filter(pl.col("step") == 1)
    # Week of 03-02 keeps 03-04..03-08 (5 users); week of 03-09 keeps 03-09 and 03-10.
    assert step1.select("period", "units").rows() == [(date(2026, 3, 2), 5), (date(2026, 3, 9), 2)]


def test_z_by_hand():
    # x/n = 20/100 against X0/N0 = 90/300: p̂ = 110/400 = 0.275,
    # z = (0.2 − 0.3) / sqrt(0.275 · 0.725 · (1/100 + 1/300)) = −1.932...
    expected = (0.2 - 0.3) / math.sqrt(0.275 * 0.725 * (1 / 100 + 1 / 300))
    assert pooled_z(20, 100, 90, 300) == pytest.approx(expected)
    assert two_sided_p(expected) == pytest.approx(math.erfc(abs(expected) / math.sqrt(2)))


@pytest.mark.parametrize("x", [0, 100])
def test_z_is_zero_when_the_pooled_rate_is_0_or_1(x):
    assert pooled_z(x, 100, 3 * x, 300) == 0.0


def test_the_baseline_needs_two_periods_and_n_of_30():
    counts = [(30, 60), (30, 60), (5, 60), (2, 29)]
    tests = anomaly_series(counts, [False] * 4, baseline=4, alpha=0.01)
    assert [t.anomaly for t in tests[:2]] == [None, None]  # 0 then 1 earlier period
    assert tests[2].anomaly == "low"  # 5/60 against 60/120
    assert tests[3].anomaly is None  # n = 29
    small_baseline = anomaly_series([(10, 20), (10, 20), (30, 60)], [False] * 3, 4, 0.01)
    assert small_baseline[2].anomaly == "none"  # N0 = 40 ≥ 30: tested, z = 0
    assert anomaly_series([(5, 10), (5, 10), (30, 60)], [False] * 3, 4, 0.01)[2].z is None


def test_the_baseline_skips_flagged_periods_and_partial_ones_are_not_tested():
    counts = [(50, 100), (50, 100), (5, 100), (50, 100), (50, 100)]
    tests = anomaly_series(counts, [False, False, False, False, True], baseline=2, alpha=0.01)
    assert tests[2].anomaly == "low"
    # Period 3's baseline is periods 1 and 0 (period 2 is flagged): 50/100 against 100/200.
    assert tests[3].z == 0.0 and tests[3].anomaly == "none"
    assert tests[4] == type(tests[4])()  # partial: z and anomaly null
    assert tests[2].z == round(pooled_z(5, 100, 100, 200), 3)


def test_an_incident_week_is_flagged_low_and_row_1_never():
    # 40 users enter each week; all buy except in week 4, where 10 do.
    rows = []
    for week in range(5):
        for u in range(40):
            user = week * 100 + u
            start = datetime(2026, 3, 2, tzinfo=UTC) + week * 7 * DAY + timedelta(hours=u)
            rows.append((user, start.isoformat(), "A"))
            if week != 3 or u < 10:
                rows.append((user, (start + timedelta(minutes=5)).isoformat(), "B"))
    rows.append((0, iso(2026, 5, 1), "C"))  # later data: no week is partial
    result = trend(rows)
    assert result.filter(pl.col("step") == 1)["anomaly"].is_null().all()
    flagged = result.filter(pl.col("anomaly") == "low")
    assert flagged["period"].to_list() == [date(2026, 3, 23)]
    # Against the three earlier weeks (all bought): 10/40 against 120/120.
    assert flagged["z"][0] == round(pooled_z(10, 40, 120, 120), 3)
    # The week after is tested against weeks 0–2 (week 3 is flagged): 40/40 against 120/120.
    after = result.filter((pl.col("period") == date(2026, 3, 30)) & (pl.col("step") == 2))
    assert after.select("z", "anomaly").row(0) == (0.0, "none")


# Properties: each period is the plain funnel (summary) of its range; chunks do not matter.

EVENTS = st.lists(
    st.tuples(
        st.integers(1, 6),
        st.integers(0, 40 * 24 * 60),  # minutes over 40 days
        st.sampled_from(["A", "B", "C"]),
    ),
    min_size=1,
    max_size=60,
)
START = datetime(2026, 1, 26, tzinfo=UTC)


def _rows(events):
    return [(u, (START + timedelta(minutes=m)).isoformat(), e) for u, m, e in events]


@settings(max_examples=40, deadline=None)
@given(
    EVENTS, st.sampled_from(["day", "week", "month"]), st.sampled_from(["ordered", "any", "strict"])
)
def test_each_period_is_the_funnel_of_its_range(events, kind, order):
    log = log_of(_rows(events))
    spec = FunnelSpec(steps=("A", "B", "C"), window=3 * DAY, order=order)
    result = funnel(log, spec.model_copy(update={"trend": kind}))
    assert result.trend is not None
    for period in result.trend.periods:
        alone = funnel(log, spec.model_copy(update={"since": period.since, "until": period.until}))
        rows = result.table.filter(pl.col("period") == period.start)
        assert_frame_equal(rows.drop("period", "partial", "z", "anomaly"), alone.table)


@settings(max_examples=25, deadline=None)
@given(EVENTS, st.sampled_from(["day", "week"]))
def test_each_summary_period_is_the_summary_of_its_range(events, kind):
    log = log_of(_rows(events))
    result = summary(log, SummarySpec(trend=kind))
    periods = result.table["period"].to_list()
    for index, start in enumerate(periods):
        end = start + (DAY if kind == "day" else 7 * DAY)
        since = datetime.combine(start, datetime.min.time(), UTC)
        until = datetime.combine(end, datetime.min.time(), UTC)
        alone = summary(log, SummarySpec(since=since, until=until)).table
        assert_frame_equal(result.table.slice(index, 1).drop("period"), alone)


@settings(max_examples=25, deadline=None)
@given(EVENTS)
def test_trend_counts_add_up_over_users_split_in_two(events):
    rows = _rows(events)
    spec = FunnelSpec(steps=("A", "B"), trend="week")
    whole = funnel(log_of(rows), spec).table
    low = [r for r in rows if r[0] <= 3]
    high = [r for r in rows if r[0] > 3]
    parts = [funnel(log_of(p), spec).table for p in (low, high) if p]
    summed = (
        pl.concat([p.select("period", "step", "units") for p in parts])
        .group_by("period", "step")
        .agg(pl.col("units").sum())
    )
    joined = whole.select("period", "step", "units").join(summed, on=["period", "step"], how="left")
    assert joined.select(pl.col("units") == pl.col("units_right").fill_null(0)).to_series().all()


def test_no_event_in_range_is_an_empty_success():
    rows = [(1, iso(2026, 3, 2), "A"), (1, iso(2026, 3, 2, 1), "B")]
    since = datetime(2027, 1, 1, tzinfo=UTC)
    empty = trend(rows, since=since)
    assert empty.height == 0 and empty.columns[0] == "period"
    assert empty.columns[-3:] == ["partial", "z", "anomaly"]
    table = summary(log_of(rows), SummarySpec(trend="week", since=since)).table
    assert table.height == 0 and table.columns[0] == "period"


def test_summary_trend_rows_and_empty_weeks():
    rows = [
        (1, iso(2026, 3, 2, 10), "product_view"),
        (1, iso(2026, 3, 2, 10, 5), "purchase"),
        (1, iso(2026, 3, 17, 10), "purchase"),  # week of 03-16; week of 03-09 is empty
    ]
    table = summary(log_of(rows), SummarySpec(trend="week")).table
    assert table["period"].to_list() == [date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)]
    assert table.select("events", "sessions", "orders", "customers").rows() == [
        (2, 1, 1, 1),
        (0, 0, 0, 0),
        (1, 1, 1, 1),
    ]
    assert table["bounce_rate"].to_list() == [0.0, None, 1.0]
    # The user's two orders fall in two periods: neither period has a repeat customer.
    assert table["repeat_customers"].to_list() == [0, 0, 0]
