"""Cart abandonment (SPEC §6): one hand-computed log per rule.

Times are minutes after 2026-03-02 12:00 UTC (``at``); 7 days = 10,080 minutes.
"""

import io
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from tests.conftest import at, log_of, shared
from tests.reference.abandonment import abandonment as reference_abandonment
from tests.test_stages import (
    SETTINGS,
    assert_rows_match,
    journey_frame,
    journeys,
    layouts,
    reference_events,
    reference_options,
)

from journeykit.journey import AbandonmentResult, AbandonmentSpec, abandonment
from journeykit.journey.abandonment import COLUMNS
from journeykit.load.events import load_events, load_frame

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)
WEEK = 10_080
SECOND = 1 / 60
PRICED = ("user_id", "ts", "event", "price")


def row_of(rows, columns=PRICED, **spec) -> dict:
    table = abandonment(log_of(rows, columns), AbandonmentSpec(**spec)).table
    assert table.columns == COLUMNS and table.height == 1
    return table.row(0, named=True)


def test_converted_means_a_purchase_at_or_after_the_first_add_to_cart():
    rows = [
        (1, at(0), "add_to_cart", 10.0),
        (1, at(0), "purchase", 10.0),  # same instant: converted
        (2, at(0), "purchase", 9.0),
        (2, at(1), "add_to_cart", 5.0),  # purchase before the cart: abandoned
        (3, at(0), "add_to_cart", 7.0),
        (3, at(3), "purchase", 7.0),
        (3, at(5), "add_to_cart", 3.0),  # after the first cart's purchase: still converted
        (4, at(0), "product_view", 1.0),  # not a cart session
    ]
    row = row_of(rows)
    assert (row["cart_sessions"], row["converted"], row["abandoned"]) == (3, 2, 1)
    assert row["abandonment_rate"] == pytest.approx(1 / 3)
    assert row["value_at_risk"] == pytest.approx(5.0)


def test_checkout_abandonment_is_judged_from_the_first_checkout():
    rows = [
        (1, at(0), "checkout", None),
        (1, at(1), "purchase", None),
        (1, at(2), "checkout", None),  # first checkout was followed by a purchase
        (2, at(0), "checkout", None),  # checkout-only session, abandoned, not a cart session
        (3, at(0), "add_to_cart", None),
        (3, at(1), "purchase", None),
        (3, at(2), "checkout", None),  # cart converted, checkout abandoned
    ]
    row = row_of(rows)
    assert (row["cart_sessions"], row["converted"], row["abandoned"]) == (1, 1, 0)
    assert (row["checkout_sessions"], row["checkout_abandoned"]) == (3, 2)
    assert row["checkout_abandonment_rate"] == pytest.approx(2 / 3)


def test_value_at_risk_is_price_times_quantity_minus_removals_floored_at_zero_per_session():
    columns = ("user_id", "ts", "event", "price", "quantity")
    rows = [
        (1, at(0), "add_to_cart", 10.0, 2),  # 20
        (1, at(1), "add_to_cart", 5.0, None),  # quantity defaults to 1: 5
        (1, at(2), "remove_from_cart", 10.0, 1),  # −10 → 15
        (2, at(0), "add_to_cart", 4.0, 1),
        (2, at(1), "remove_from_cart", 4.0, 3),  # 4 − 12 = −8 → 0, not −8
        (3, at(0), "add_to_cart", None, 5),  # a null price counts 0
        (4, at(0), "add_to_cart", 100.0, 1),
        (4, at(1), "purchase", 100.0, 1),  # converted: not at risk
    ]
    row = row_of(rows, columns)
    assert row["abandoned"] == 3
    assert row["value_at_risk"] == pytest.approx(15.0)


def test_recovery_window_edge_is_inclusive_and_one_second_past_is_not():
    rows = [
        (1, at(0), "add_to_cart", 10.0),
        (1, at(10), "page_view", None),  # last event of the abandoned session: 10
        (1, at(10 + WEEK), "purchase", 30.0),  # exactly last + 7d: recovered
        (1, at(10 + WEEK + 1), "purchase", 20.0),  # same order (same session): worth 50
        (2, at(0), "add_to_cart", 20.0),
        (2, at(WEEK + SECOND), "purchase", 99.0),  # one second too late
        (5, at(0), "add_to_cart", 1.0),
        (5, at(100), "purchase", 40.0),  # first order after the cart: counts
        (5, at(300), "purchase", 60.0),  # a later order: does not add
    ]
    row = row_of(rows)
    assert (row["abandoned"], row["recovered"]) == (3, 2)
    assert row["recovery_rate"] == pytest.approx(2 / 3)
    assert row["recovered_revenue"] == pytest.approx(50.0 + 40.0)
    assert row["value_at_risk"] == pytest.approx(31.0)
    assert row["recovery_pending"] == 0  # user 2's window closed before the data ends


def test_an_order_recovers_every_abandoned_session_it_follows_within_the_window():
    rows = [
        (1, at(0), "add_to_cart", 5.0),
        (1, at(60), "add_to_cart", 5.0),
        (1, at(120), "purchase", 25.0),
    ]
    row = row_of(rows)
    assert (row["cart_sessions"], row["abandoned"], row["recovered"]) == (2, 2, 2)
    assert row["recovered_revenue"] == pytest.approx(50.0)


def test_an_order_at_the_same_instant_as_the_sessions_last_event_does_not_recover_it():
    columns = ("user_id", "ts", "event", "session_id")
    rows = [
        (1, at(0), "add_to_cart", "a"),
        (1, at(0), "purchase", "b"),  # t == last: not after it
        (2, at(0), "add_to_cart", "c"),
        (2, at(1), "purchase", "d"),  # another session, later: recovers
    ]
    row = row_of(rows, columns)
    assert (row["abandoned"], row["recovered"]) == (2, 1)
    assert row["value_at_risk"] is None and row["recovered_revenue"] is None


def test_recovery_pending_when_the_window_reaches_past_the_end_of_the_data():
    rows = [
        (1, at(0), "add_to_cart", 1.0),
        (2, at(995), "add_to_cart", 1.0),
        (3, at(990), "add_to_cart", 1.0),
        (9, at(1000), "page_view", None),  # the data's last timestamp
    ]
    assert row_of(rows)["recovery_pending"] == 3  # 7-day windows are all still open
    short = row_of(rows, recovery_window=timedelta(minutes=10))
    # user 1 closed at 10; user 3 closes at 1000, the last timestamp itself (not after it)
    assert short["recovery_pending"] == 1


def test_orders_by_order_id_count_once_and_revenue_is_preferred():
    columns = ("user_id", "ts", "event", "revenue", "order_id", "price")
    rows = [
        (1, at(0), "add_to_cart", None, None, 8.0),
        (1, at(60), "purchase", 10.0, "X", 1.0),
        (1, at(61), "purchase", 15.0, "X", 1.0),  # one order worth 25 (revenue, not price)
    ]
    row = row_of(rows, columns)
    assert (row["recovered"], row["recovered_revenue"]) == (1, pytest.approx(25.0))
    assert row["value_at_risk"] == pytest.approx(8.0)  # carts use price × quantity


def test_money_columns_are_null_without_price_or_revenue_and_zero_when_nothing_is_at_risk():
    no_money = row_of([(1, at(0), "add_to_cart")], ("user_id", "ts", "event"))
    assert no_money["abandoned"] == 1
    assert no_money["value_at_risk"] is None and no_money["recovered_revenue"] is None
    nothing = row_of([(1, at(0), "add_to_cart", 3.0), (1, at(1), "purchase", 3.0)])
    assert nothing["value_at_risk"] == 0.0 and nothing["recovered_revenue"] == 0.0
    empty = row_of([(1, at(0), "page_view", 3.0)])
    assert empty["cart_sessions"] == 0 and empty["abandonment_rate"] is None
    assert empty["recovery_rate"] is None and empty["checkout_abandonment_rate"] is None


def test_value_at_risk_uses_price_only_so_revenue_without_price_puts_zero_at_risk():
    # SPEC §6: Σ price × quantity of cart rows; a revenue column makes money figures non-null,
    # but carts without a price carry no value. The later order (revenue 9) recovers the cart.
    rows = [(1, at(0), "add_to_cart", 5.0), (1, at(600), "purchase", 9.0)]
    result = row_of(rows, ("user_id", "ts", "event", "revenue"))
    assert result["abandoned"] == 1 and result["value_at_risk"] == 0.0
    assert result["recovered"] == 1 and result["recovered_revenue"] == 9.0


def test_since_until_select_sessions_by_first_add_to_cart_or_first_checkout():
    rows = [
        (1, at(35), "page_view", None),
        (1, at(50), "add_to_cart", 2.0),  # session starts before since, cart inside: in
        (2, at(30), "add_to_cart", 2.0),  # before since: out
        (3, at(45), "checkout", None),  # checkout-only, by its checkout: in
        (4, at(100), "add_to_cart", 2.0),  # at until: out
    ]
    since, until = T0 + timedelta(minutes=40), T0 + timedelta(minutes=100)
    row = row_of(rows, since=since, until=until)
    assert (row["cart_sessions"], row["checkout_sessions"], row["abandoned"]) == (1, 1, 1)
    assert row["value_at_risk"] == pytest.approx(2.0)


def test_breakdown_uses_the_sessions_first_event_and_rows_sum_to_the_total():
    columns = ("user_id", "ts", "event", "price", "channel")
    rows = [
        (1, at(0), "page_view", None, "ads"),
        (1, at(1), "add_to_cart", 4.0, "email"),  # session's first event says ads
        (2, at(0), "add_to_cart", 6.0, None),
        (3, at(0), "add_to_cart", 1.0, "seo"),
        (3, at(1), "purchase", 1.0, "seo"),
    ]
    result = abandonment(log_of(rows, columns), AbandonmentSpec(breakdown="channel"))
    table = result.table
    assert table.columns == ["channel", *COLUMNS]
    assert table["channel"].to_list() == ["ads", "seo", "(none)"]
    assert table["abandoned"].to_list() == [1, 0, 1]
    assert table["value_at_risk"].to_list() == pytest.approx([4.0, 0.0, 6.0])
    assert table["cart_sessions"].sum() == result.total["cart_sessions"][0] == 3
    assert result.total["value_at_risk"][0] == pytest.approx(10.0)


def test_chunked_computation_gives_the_same_table(monkeypatch):
    log = load_events([shared("taobao-userbehavior-prefix", "events.csv.gz")])
    whole = abandonment(log, AbandonmentSpec()).table
    monkeypatch.setenv("JOURNEYKIT_CHUNK_ROWS", "10000")
    assert abandonment(log, AbandonmentSpec()).table.equals(whole)


# --- real data ----------------------------------------------------------------------------------


def test_rees46_figures_match_an_independent_count():
    # Checked with a duckdb query over (user_id, user_session): 118 cart sessions, 65 with a
    # purchase at/after the first cart, Σ cart prices of the other 53 = 24,200.15; one of them
    # is followed by an order (101.65) within 7 days; the other 52 are still pending.
    for name in ("events.parquet", "events.csv.gz"):
        log = load_events([shared("rees46-2019oct-head", name)])
        row = abandonment(log, AbandonmentSpec()).table.row(0, named=True)
        assert (row["cart_sessions"], row["converted"], row["abandoned"]) == (118, 65, 53)
        assert row["value_at_risk"] == pytest.approx(24_200.15)
        assert (row["recovered"], row["recovered_revenue"]) == (1, pytest.approx(101.65))
        assert row["recovery_pending"] == 52


def test_taobao_without_money_matches_an_independent_count():
    # duckdb with sessions split at gaps ≥ 1800 s and one order per session with a buy.
    log = load_events([shared("taobao-userbehavior-prefix", "events.csv.gz")])
    row = abandonment(log, AbandonmentSpec()).table.row(0, named=True)
    assert (row["cart_sessions"], row["converted"], row["abandoned"]) == (2713, 193, 2520)
    assert (row["recovered"], row["recovery_pending"]) == (1230, 1155)
    assert row["value_at_risk"] is None and row["recovered_revenue"] is None


# --- command line -------------------------------------------------------------------------------


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "journeykit", *args], capture_output=True, check=False
    )


REES = shared("rees46-2019oct-head", "events.parquet")


def test_cli_csv_equals_the_library_with_a_breakdown():
    result = run("abandonment", REES, "--breakdown", "brand", "--format", "csv")
    assert result.returncode == 0, result.stderr
    printed = pl.read_csv(io.BytesIO(result.stdout), schema_overrides={"brand": pl.String})
    expected = abandonment(load_events([REES]), AbandonmentSpec(breakdown="brand")).table
    assert printed.columns == expected.columns
    assert printed["brand"].to_list() == expected["brand"].to_list()
    assert printed["abandoned"].to_list() == expected["abandoned"].to_list()
    assert printed["value_at_risk"].to_list() == pytest.approx(
        expected["value_at_risk"].to_list(), abs=0.005
    )


def test_cli_terminal_puts_the_money_first_and_errors_are_one_line():
    shown = run("abandonment", REES, "--format", "table")
    assert shown.returncode == 0
    first_lines = shown.stdout.decode().splitlines()[:3]
    assert any("24,200.15 left in 53 abandoned carts" in line for line in first_lines)
    unknown = run("abandonment", REES, "--breakdown", "chanel")
    assert unknown.returncode == 1 and b"--breakdown" in unknown.stderr
    bad_window = run("abandonment", REES, "--recovery-window", "7")
    assert bad_window.returncode == 2 and b"recovery-window" in bad_window.stderr


# --- properties and the reference implementation ------------------------------------------------

WINDOWS = st.sampled_from([timedelta(minutes=10), timedelta(hours=5), timedelta(days=7)])


def library_table(data, layout, **spec) -> AbandonmentResult:
    return abandonment(load_frame(journey_frame(data, layout)), AbandonmentSpec(**spec))


@SETTINGS
@given(journeys, layouts, WINDOWS, st.sampled_from([None, "channel"]))
def test_abandonment_matches_the_reference_implementation(data, layout, window, breakdown):
    events = reference_events(data, layout)
    expected = reference_abandonment(
        events,
        recovery_window=window,
        breakdown=breakdown,
        has_price_column=layout["money"],
        has_revenue_column=False,
        **reference_options(layout),
    )
    result = library_table(data, layout, recovery_window=window, breakdown=breakdown)
    if breakdown is not None and not expected:
        assert result.table.height == 0
        return
    assert_rows_match(result.table, expected)


@SETTINGS
@given(journeys, layouts, WINDOWS)
def test_breakdown_rows_sum_to_the_total(data, layout, window):
    result = library_table(data, layout, recovery_window=window, breakdown="channel")
    for column in ["cart_sessions", "abandoned", "checkout_abandoned", "recovered"]:
        assert result.table[column].sum() == result.total[column][0]
    if layout["money"]:
        assert result.table["value_at_risk"].sum() == pytest.approx(
            result.total["value_at_risk"][0]
        )


@SETTINGS
@given(journeys, layouts, st.randoms(use_true_random=False))
def test_shuffling_rows_changes_no_abandonment_figure(data, layout, rng):
    shuffled = data[:]
    rng.shuffle(shuffled)
    first = library_table(data, layout, breakdown="channel").table
    second = library_table(shuffled, layout, breakdown="channel").table
    assert_frame_equal(first, second, check_exact=False)


@settings(max_examples=25, deadline=None)
@given(journeys, layouts)
def test_chunks_of_whole_users_give_the_same_table(data, layout):
    whole = library_table(data, layout, breakdown="channel").table
    previous = os.environ.get("JOURNEYKIT_CHUNK_ROWS")
    os.environ["JOURNEYKIT_CHUNK_ROWS"] = "7"
    try:
        chunked = library_table(data, layout, breakdown="channel").table
    finally:
        if previous is None:
            del os.environ["JOURNEYKIT_CHUNK_ROWS"]
        else:
            os.environ["JOURNEYKIT_CHUNK_ROWS"] = previous
    assert_frame_equal(whole, chunked, check_exact=False)
