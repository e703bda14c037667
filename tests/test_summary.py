"""Headline figures (SPEC §7b): one hand-computed log per rule.

Times are minutes after 2026-03-02 12:00 UTC (``at``); sessions come from the 30-minute rule.
"""

import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from tests.conftest import at, log_of, shared
from tests.reference.summary import summary as reference_summary
from tests.test_stages import (
    SETTINGS,
    assert_rows_match,
    journey_frame,
    journeys,
    layouts,
    reference_events,
    reference_options,
)

from journeykit.journey import SummarySpec, summary
from journeykit.journey.summary import COLUMNS
from journeykit.load.events import LoadOptions, load_events, load_frame

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)
PRICED = ("user_id", "ts", "event", "price")
SHOP = [
    (1, at(0), "page_view", None),  # u1 s1: bounce
    (1, at(60), "product_view", None),
    (1, at(61), "add_to_cart", 10.0),
    (1, at(62), "purchase", 10.0),
    (1, at(63), "purchase", 5.0),  # u1 s2: one order of two lines, worth 15
    (1, at(200), "purchase", 20.0),  # u1 s3: bounce, a repeat order worth 20
    (2, at(0), "add_to_cart", 8.0),  # u2 s1: bounce, abandoned cart
    (3, at(0), "search", None),
    (3, at(1), "product_view", None),  # u3 s1
]


def figures(rows, columns=PRICED, **spec) -> dict:
    table = summary(log_of(rows, columns), SummarySpec(**spec)).table
    assert table.columns == COLUMNS and table.height == 1
    return table.row(0, named=True)


def test_every_figure_on_a_small_shop():
    f = figures(SHOP)
    assert (f["events"], f["users"], f["sessions"]) == (9, 3, 5)
    assert f["bounce_rate"] == pytest.approx(3 / 5)
    assert f["sessions_with_purchase"] == 2
    assert f["session_conversion_rate"] == pytest.approx(2 / 5)
    assert f["cart_abandonment_rate"] == pytest.approx(1 / 2)  # u1 s2 converted, u2 abandoned
    assert (f["orders"], f["revenue"]) == (2, pytest.approx(35.0))
    assert f["average_order_value"] == pytest.approx(17.5)
    assert (f["customers"], f["repeat_customers"]) == (1, 1)
    assert f["repeat_purchase_rate"] == 1.0
    assert (f["first_event"], f["last_event"]) == (T0, T0 + timedelta(minutes=200))
    assert f["dropped_rows"] == 0


def test_since_until_keep_events_before_sessions_and_orders_are_built():
    # Only the two purchase lines at 62 and 63 remain: one session, one order, a first order.
    f = figures(SHOP, since=T0 + timedelta(minutes=62), until=T0 + timedelta(minutes=200))
    assert (f["events"], f["users"], f["sessions"], f["orders"]) == (2, 1, 1, 1)
    assert f["revenue"] == pytest.approx(15.0)
    assert (f["customers"], f["repeat_customers"]) == (1, 0)
    assert f["repeat_purchase_rate"] == 0.0
    assert f["bounce_rate"] == 0.0 and f["cart_abandonment_rate"] is None
    assert (f["first_event"], f["last_event"]) == (
        T0 + timedelta(minutes=62),
        T0 + timedelta(minutes=63),
    )


def test_dropped_rows_count_the_whole_input_whatever_the_period():
    rows = [*SHOP, (None, at(5), "page_view", None), (4, "not a time", "page_view", None)]
    assert figures(rows)["dropped_rows"] == 2
    assert figures(rows, since=T0 + timedelta(days=30))["dropped_rows"] == 2


def test_without_price_or_revenue_money_is_null_not_zero():
    rows = [(user, time, event) for user, time, event, _ in SHOP]
    f = figures(rows, ("user_id", "ts", "event"))
    assert f["orders"] == 2
    assert f["revenue"] is None and f["average_order_value"] is None


def test_an_empty_period_is_a_row_of_zeros_and_nulls():
    f = figures(SHOP, since=T0 + timedelta(days=30))
    assert (f["events"], f["users"], f["sessions"], f["orders"], f["customers"]) == (0, 0, 0, 0, 0)
    assert f["bounce_rate"] is None and f["session_conversion_rate"] is None
    assert f["revenue"] == 0.0 and f["average_order_value"] is None
    assert f["first_event"] is None and f["repeat_purchase_rate"] is None


def test_orders_by_order_id_and_revenue_column():
    columns = ("user_id", "ts", "event", "order_id", "revenue")
    rows = [
        (1, at(0), "purchase", "A", 3.0),
        (1, at(1), "purchase", "A", 4.0),  # order A: 7
        (1, at(2), "purchase", "B", 10.0),  # order B, same session: a repeat order
        (2, at(0), "purchase", None, 1.0),
        (2, at(1), "purchase", None, 2.0),  # no id: the session's order, worth 3
    ]
    f = figures(rows, columns)
    assert (f["orders"], f["revenue"], f["sessions_with_purchase"]) == (3, pytest.approx(20.0), 2)
    assert (f["customers"], f["repeat_customers"]) == (2, 1)


# --- real data ----------------------------------------------------------------------------------


def test_rees46_matches_an_independent_count():
    # duckdb over (user_id, user_session): 200 sessions with a purchase, 200 orders worth
    # 59,442.63 from 193 customers of whom 7 ordered twice; 2,069 one-event sessions of 5,067.
    for name in ("events.parquet", "events.csv.gz"):
        log = load_events([shared("rees46-2019oct-head", name)])
        f = summary(log, SummarySpec()).table.row(0, named=True)
        assert (f["events"], f["users"], f["sessions"]) == (17_434, 4_504, 5_067)
        assert f["bounce_rate"] == pytest.approx(2_069 / 5_067)
        assert (f["sessions_with_purchase"], f["orders"]) == (200, 200)
        assert f["revenue"] == pytest.approx(59_442.63)
        assert (f["customers"], f["repeat_customers"]) == (193, 7)


def test_completejourney_transaction_export_baskets_are_orders():
    path = shared("completejourney", "transactions.parquet")
    f = summary(load_events([path], LoadOptions(rows_are="purchase")), SummarySpec()).table
    row = f.row(0, named=True)
    assert (row["events"], row["users"], row["orders"]) == (1_469_307, 2_469, 155_848)
    assert row["customers"] == 2_469 and row["cart_abandonment_rate"] is None
    assert row["revenue"] == pytest.approx(
        pl.read_parquet(path, columns=["sales_value"])["sales_value"].sum()
    )


# --- command line -------------------------------------------------------------------------------


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "journeykit", *args], capture_output=True, check=False
    )


REES = shared("rees46-2019oct-head", "events.csv.gz")


def test_cli_csv_and_json_equal_the_library():
    expected = summary(load_events([REES]), SummarySpec()).table.row(0, named=True)
    result = run("summary", REES, "--format", "csv")
    assert result.returncode == 0, result.stderr
    printed = pl.read_csv(io.BytesIO(result.stdout)).row(0, named=True)
    assert list(printed) == COLUMNS
    assert printed["orders"] == expected["orders"] and printed["revenue"] == 59_442.63
    assert printed["first_event"] == "2019-10-01T00:00:00Z"
    as_json = json.loads(run("summary", REES, "--format", "json").stdout)
    assert as_json[0]["sessions"] == 5_067 and as_json[0]["bounce_rate"] == 0.408328


def test_cli_panel_and_strict_exit_code(tmp_path):
    shown = run("summary", REES, "--format", "table")
    assert shown.returncode == 0 and b"Summary" in shown.stdout and b"59,442.63" in shown.stdout
    broken = tmp_path / "broken.csv"
    broken.write_text("user_id,ts,event\n1,2026-01-01 10:00,view\n,2026-01-01 10:01,view\n")
    assert run("summary", str(broken), "--strict").returncode == 1
    lenient = run("summary", str(broken), "--format", "csv")
    assert lenient.returncode == 0 and b"dropped 1 of 2 rows" in lenient.stderr
    assert pl.read_csv(io.BytesIO(lenient.stdout))["dropped_rows"].to_list() == [1]


# --- properties and the reference implementation ------------------------------------------------

PERIODS = st.sampled_from([(None, None), (100, 1_500), (0, 60), (2_000, None)])


def library_figures(data, layout, period) -> pl.DataFrame:
    since, until = (None if m is None else T0 + timedelta(minutes=m) for m in period)
    log = load_frame(journey_frame(data, layout))
    return summary(log, SummarySpec(since=since, until=until)).table


@SETTINGS
@given(journeys, layouts, PERIODS)
def test_summary_matches_the_reference_implementation(data, layout, period):
    since, until = (None if m is None else T0 + timedelta(minutes=m) for m in period)
    expected = reference_summary(
        reference_events(data, layout),
        since=since,
        until=until,
        has_price_column=layout["money"],
        has_revenue_column=False,
        **reference_options(layout),
    )
    assert_rows_match(library_figures(data, layout, period), [expected])


@SETTINGS
@given(journeys, layouts, PERIODS, st.randoms(use_true_random=False))
def test_shuffling_rows_changes_no_figure(data, layout, period, rng):
    shuffled = data[:]
    rng.shuffle(shuffled)
    assert_frame_equal(
        library_figures(data, layout, period),
        library_figures(shuffled, layout, period),
        check_exact=False,
    )


def test_chunked_computation_gives_the_same_row(monkeypatch):
    log = load_events([shared("rees46-2019oct-head", "events.parquet")])
    whole = summary(log, SummarySpec()).table
    monkeypatch.setenv("JOURNEYKIT_CHUNK_ROWS", "2000")
    assert_frame_equal(summary(log, SummarySpec()).table, whole, check_exact=False)
