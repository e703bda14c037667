"""Touchpoint attribution (SPEC §15): one hand-computed log per rule, properties, the command.

Times are minutes after 2026-03-02 12:00 UTC (``at``); sessions come from the 30-minute rule.
Each order is one purchase row (price 10 unless said), placed in the session it ends.
"""

import io
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import at, log_of

from journeykit.attribution import AttributionSpec, attribution
from journeykit.load.events import LoadOptions, load_events, load_frame

COLUMNS = ("user_id", "ts", "event", "channel", "price")
SAMPLE = "data/samples/events.parquet"
DAY = 24 * 60


def credits(rows, columns=COLUMNS, **spec) -> dict[tuple[str, str], float]:
    """(model, touch) → conversions."""
    table = attribution(log_of(rows, columns), AttributionSpec(touch="channel", **spec)).table
    return {(row["model"], row["touch"]): row["conversions"] for row in table.iter_rows(named=True)}


def visit(user, minute, channel, *, buy=False, price=10.0):
    """A one-session visit: a page view with its channel, and a purchase a minute later."""
    rows = [(user, at(minute), "page_view", channel, None)]
    if buy:
        rows.append((user, at(minute + 1), "purchase", None, price))
    return rows


def test_the_own_session_counts_even_when_it_started_before_the_lookback():
    rows = visit(1, 0, "seo")
    # one long ads session: from minute 100, an event every 20 minutes, the order at 300
    rows += [(1, at(100 + 20 * i), "page_view", "ads" if i == 0 else None, None) for i in range(10)]
    rows += [(1, at(300), "purchase", None, 10.0)]
    got = credits(rows, lookback=timedelta(minutes=60))
    # the window [240, 300] holds no session start; the own session (ads, s = 100) is the path
    assert got == {(model, "ads"): 1.0 for model in _models()}


def test_a_session_exactly_at_the_lookback_boundary_is_in():
    rows = visit(1, 0, "seo") + visit(1, 99, "ads", buy=True)  # the order at minute 100
    inside = credits(rows, lookback=timedelta(minutes=100))  # s = 0 = t − lookback: in
    assert inside[("first", "seo")] == 1.0 and inside[("last", "ads")] == 1.0
    assert inside[("linear", "seo")] == inside[("linear", "ads")] == 0.5
    outside = credits(rows, lookback=timedelta(minutes=99))
    assert outside == {(model, "ads"): 1.0 for model in _models()}


@pytest.mark.parametrize(
    ("m", "expected"),
    [
        (1, {"a": 1.0}),
        (2, {"a": 0.5, "b": 0.5}),
        (3, {"a": 0.4, "b": 0.2, "c": 0.4}),
        # m = 5: 0.4 first and last, 0.2 / 3 = 0.0667 each in between (3 decimals: 0.067)
        (5, {"a": 0.4, "b": 0.067, "c": 0.067, "d": 0.067, "e": 0.4}),
    ],
)
def test_position_weights(m, expected):
    touches = "abcde"[:m]
    rows = [row for i, t in enumerate(touches) for row in visit(1, 100 * i, t, buy=i == m - 1)]
    got = credits(rows, models=("position",))
    assert got == {("position", t): w for t, w in expected.items()}


def test_last_non_direct_skips_direct_and_none_and_falls_back_to_last():
    rows = visit(1, 0, "social") + visit(1, 100, "Direct", buy=True)
    rows += visit(2, 0, "direct") + visit(2, 100, None, buy=True)  # all direct: the last
    got = credits(rows, models=("last", "last_non_direct"))
    assert got[("last", "Direct")] == 1.0 and got[("last_non_direct", "social")] == 1.0
    assert got[("last_non_direct", "Direct")] == 0.0  # listed: it is in a path
    assert got[("last_non_direct", "(none)")] == 1.0  # user 2 falls back to its last session
    assert got[("last_non_direct", "direct")] == 0.0


def test_time_decay_weights():
    # sessions 7 days apart, half-life 7 days, the order opening the second one:
    # weights 2^-1 and 2^0, normalised: 1/3 and 2/3
    rows = [*visit(1, 0, "seo"), (1, at(7 * DAY), "purchase", "ads", 10.0)]
    got = credits(rows, models=("time_decay",), half_life=timedelta(days=7))
    assert got == {("time_decay", "ads"): 0.667, ("time_decay", "seo"): 0.333}


def test_a_touch_repeated_in_a_path_sums_and_counts_one_order():
    rows = visit(1, 0, "ads") + visit(1, 100, "seo") + visit(1, 200, "ads", buy=True)
    table = attribution(log_of(rows, COLUMNS), AttributionSpec(touch="channel")).table
    linear = table.filter(pl.col("model") == "linear")
    assert linear.select("touch", "conversions", "orders_touched").rows() == [
        ("ads", 0.667, 1),
        ("seo", 0.333, 1),
    ]
    # revenue: weight × the order's value (10)
    assert linear["revenue"].to_list() == pytest.approx([20 / 3, 10 / 3])
    assert linear["revenue_share"].to_list() == pytest.approx([2 / 3, 1 / 3])


def test_a_session_without_a_touch_on_its_first_event_is_none():
    rows = [
        (1, at(0), "page_view", None, None),
        (1, at(1), "product_view", "ads", None),  # not the first event: no touch
        (1, at(2), "purchase", None, 10.0),
    ]
    assert credits(rows, models=("first",)) == {("first", "(none)"): 1.0}


def test_without_money_revenue_is_null():
    rows = [(1, at(0), "page_view", "ads"), (1, at(1), "purchase", None)]
    table = attribution(
        log_of(rows, COLUMNS[:4]), AttributionSpec(touch="channel", models=("last",))
    ).table
    assert table.rows() == [("last", "ads", 1.0, 1.0, None, None, 1)]


def test_since_and_until_select_orders_by_their_time_and_paths_reach_back():
    rows = visit(1, 0, "seo", buy=True) + visit(1, 100, "ads", buy=True)
    since = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # minute 60: only the second order
    got = credits(rows, since=since, models=("first", "last"))
    assert got == {("first", "seo"): 1.0, ("first", "ads"): 0.0, ("last", "ads"): 1.0} | {
        ("last", "seo"): 0.0
    }
    until = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    assert credits(rows, until=until, models=("last",)) == {("last", "seo"): 1.0}


def test_rows_order_models_then_conversions_then_touch():
    rows = visit(1, 0, "b", buy=True) + visit(2, 0, "a", buy=True) + visit(3, 0, "c")
    rows += visit(3, 100, "c", buy=True) + visit(4, 0, "c", buy=True)
    table = attribution(log_of(rows, COLUMNS), AttributionSpec(touch="channel")).table
    first = table.filter(pl.col("model") == "first")
    assert first.select("touch", "conversions").rows() == [("c", 2.0), ("a", 1.0), ("b", 1.0)]
    assert table["model"].unique(maintain_order=True).to_list() == _models()


def test_two_purchase_rows_of_one_session_are_one_order():
    rows = [
        *visit(1, 0, "seo"),
        (1, at(100), "page_view", "ads", None),
        (1, at(101), "purchase", None, 10.0),
        (1, at(102), "purchase", None, 20.0),  # no order id, same session…
    ]
    # …so both purchase rows are one order of the session (SPEC §3): one conversion
    got = credits(rows, models=("last",))
    assert got == {("last", "ads"): 1.0, ("last", "seo"): 0.0}


def _models() -> list[str]:
    return ["first", "last", "last_non_direct", "linear", "position", "time_decay"]


# --- properties -----------------------------------------------------------------------------

events = st.lists(
    st.tuples(
        st.integers(1, 5),
        st.integers(0, 3000),
        st.sampled_from(["page_view", "product_view", "purchase"]),
        st.sampled_from(["ads", "seo", "direct", None]),
        st.sampled_from([5.0, 20.0]),
    ),
    min_size=1,
    max_size=40,
)
SETTINGS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def frame(rows) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "ts": [datetime(2026, 1, 1) + timedelta(minutes=r[1]) for r in rows],
            "event": [r[2] for r in rows],
            "channel": [r[3] for r in rows],
            "price": [r[4] for r in rows],
        },
        schema_overrides={"channel": pl.String},
    )


def result_of(rows, **spec):
    log = load_frame(frame(rows), LoadOptions())
    return attribution(log, AttributionSpec(touch="channel", **spec))


def table_of(rows, **spec) -> pl.DataFrame:
    return result_of(rows, **spec).table


lookbacks = st.sampled_from([timedelta(minutes=m) for m in (0, 45, 600, 100_000)])


@SETTINGS
@given(events, lookbacks)
def test_each_models_credits_sum_to_the_orders(rows, lookback):
    result = result_of(rows, lookback=lookback)
    for _, group in result.table.group_by("model"):
        assert group["conversion_share"].sum() == pytest.approx(1.0)
        expected = result.orders
        assert group["conversions"].sum() == pytest.approx(expected, abs=0.0005 * group.height)
        assert group["revenue_share"].sum() == pytest.approx(1.0)


@SETTINGS
@given(events, events, lookbacks)
def test_credits_add_over_users_split_in_two(left, right, lookback):
    right = [(user + 10, *rest) for user, *rest in right]
    whole = table_of(left + right, lookback=lookback)
    parts = pl.concat([table_of(part, lookback=lookback) for part in (left, right)])
    summed = parts.group_by("model", "touch").agg(pl.col("conversions", "orders_touched").sum())
    joined = whole.join(summed, on=["model", "touch"], how="full", coalesce=True)
    assert joined["conversions"].to_list() == pytest.approx(
        joined["conversions_right"].to_list(),
        abs=0.0011,  # each side rounded to 3 decimals
    )
    assert joined["orders_touched"].to_list() == joined["orders_touched_right"].to_list()


# --- the command --------------------------------------------------------------------------


def run(*arguments: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "journeykit", "attribution", *arguments]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_cli_csv_equals_the_library():
    result = run(SAMPLE, "--format", "csv")
    assert result.returncode == 0, result.stderr
    printed = pl.read_csv(io.StringIO(result.stdout))
    expected = attribution(load_events([SAMPLE]), AttributionSpec(touch="channel")).table
    assert printed.columns == expected.columns
    assert printed.select("model", "touch", "orders_touched").equals(
        expected.select("model", "touch", "orders_touched")
    )
    assert printed["conversions"].to_list() == pytest.approx(expected["conversions"].to_list())


def test_no_touch_column_exits_1_naming_the_flag():
    result = run("../shared/data/rees46-2019oct-head/events.parquet")
    assert result.returncode == 1
    assert "--touch" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "arguments",
    [["--model", "nope"], ["--lookback", "30"], ["--half-life", "0d"], ["--touch", "chanel"]],
)
def test_bad_options_are_one_line_errors(arguments):
    result = run(SAMPLE, *arguments)
    assert result.returncode in (1, 2) and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 or "Usage" in result.stderr


def test_the_config_names_the_touch_column(tmp_path):
    config = tmp_path / "journeykit.toml"
    config.write_text('[columns]\ntouch = "device"\n')
    result = run(SAMPLE, "--config", str(config), "--format", "csv", "--model", "first")
    assert result.returncode == 0, result.stderr
    touches = set(pl.read_csv(io.StringIO(result.stdout))["touch"])
    assert touches == {"desktop", "mobile", "tablet"}
