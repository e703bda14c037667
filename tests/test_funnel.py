"""SPEC §4, one test per rule, on hand-computed frames."""

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from tests.conftest import at, levels, log_of

from journeykit.funnel import FunnelSpec, funnel

HOUR = timedelta(hours=1)


def table(rows, steps, columns=("user_id", "ts", "event"), **spec):
    return funnel(log_of(rows, columns), FunnelSpec(steps=tuple(steps), **spec)).table


def test_window_boundary_is_inclusive():
    on_edge = [(1, at(0), "A"), (1, at(60), "B")]
    past_edge = [(1, at(0), "A"), (1, at(60 + 1 / 60), "B")]
    assert levels(on_edge, "AB", window=HOUR) == [1, 1]
    assert levels(past_edge, "AB", window=HOUR) == [1, 0]


def test_restart_from_a_later_first_step_converts():
    # A 13:00, A 13:30, B 13:45, C 14:15, window 1h: the 13:30 attempt reaches C 45 min later.
    rows = [(1, at(60), "A"), (1, at(90), "A"), (1, at(105), "B"), (1, at(135), "C")]
    result = table(rows, "ABC", window=HOUR)
    assert result["units"].to_list() == [1, 1, 1]
    # The chosen attempt is the 13:30 one: A→B 15 min, B→C 30 min.
    assert result["median_seconds_from_previous"].to_list() == [None, 900.0, 1800.0]


@pytest.mark.parametrize("file_order", [["A", "B"], ["B", "A"]])
def test_equal_timestamps_match_in_either_file_order(file_order):
    rows = [(1, at(0), name) for name in file_order]
    assert levels(rows, "AB") == [1, 1]


def test_repeated_step_name_needs_distinct_events():
    one_view = [(1, at(0), "pv"), (1, at(1), "cart")]
    two_views = [(2, at(0), "pv"), (2, at(1), "pv"), (2, at(2), "cart")]
    view_cart_view = [(3, at(0), "pv"), (3, at(1), "cart"), (3, at(2), "pv")]
    steps = ["product_view", "product_view", "add_to_cart"]
    assert levels(one_view, steps) == [1, 0, 0]
    assert levels(two_views, steps) == [1, 1, 1]
    assert levels(view_cart_view, steps) == [1, 1, 0]


def test_repeated_step_name_with_tied_timestamps():
    rows = [(1, at(0), "pv"), (1, at(0), "pv"), (1, at(0), "cart")]
    assert levels(rows, ["product_view", "product_view", "add_to_cart"]) == [1, 1, 1]


def test_strict_is_broken_by_any_other_event():
    rows = [(1, at(0), "A"), (1, at(1), "X"), (1, at(2), "B"), (2, at(0), "A"), (2, at(1), "B")]
    assert levels(rows, "AB", order="strict") == [2, 1]
    assert levels(rows, "AB", order="ordered") == [2, 2]


def test_strict_does_not_swap_events_at_the_same_instant():
    rows = [(1, at(0), "B"), (1, at(0), "A")]
    assert levels(rows, "AB", order="strict") == [1, 0]
    assert levels(rows, "AB", order="ordered") == [1, 1]


def test_any_order_counts_steps_after_the_first_in_any_order():
    rows = [(1, at(0), "A"), (1, at(10), "C"), (1, at(25), "B")]
    assert levels(rows, "ABC", order="ordered") == [1, 1, 0]
    result = table(rows, "ABC", order="any")
    assert result["units"].to_list() == [1, 1, 1]
    # Matched events in time order: A 0, C 10, B 25 → gaps 600 s and 900 s.
    assert result["median_seconds_from_previous"].to_list() == [None, 600.0, 900.0]


def test_any_order_interval_starts_at_a_first_step_event():
    rows = [(1, at(0), "B"), (1, at(5), "A")]
    assert levels(rows, "AB", order="any") == [1, 0]


def test_session_units_cap_the_window_at_the_session():
    rows = [(1, at(0), "A"), (1, at(120), "B"), (1, at(200), "A"), (1, at(201), "B")]
    assert levels(rows, "AB", by="user") == [1, 1]
    # 30-minute rule: sessions {0}, {120}, {200, 201}; two sessions start with A, one converts.
    assert levels(rows, "AB", by="session") == [2, 1]


def test_session_column_defines_sessions():
    rows = [
        (1, at(0), "A", "s1"),
        (1, at(1), "B", "s2"),
        (1, at(2), "A", None),
        (1, at(3), "B", None),
    ]
    assert levels(rows, "AB", ("user_id", "ts", "event", "session_id"), by="session") == [2, 1]


def test_breakdown_uses_the_chosen_attempt_and_rows_sum_to_total():
    rows = [
        (1, at(0), "A", "ads"),
        (1, at(200), "A", "email"),
        (1, at(210), "B", "email"),
        (2, at(0), "A", None),
        (3, at(0), "A", "ads"),
        (3, at(1), "B", "ads"),
    ]
    result = table(
        rows, "AB", ("user_id", "ts", "event", "channel"), window=HOUR, breakdown="channel"
    )
    by_value = {(r["channel"], r["step"]): r["units"] for r in result.iter_rows(named=True)}
    assert by_value == {
        ("(none)", 1): 1,
        ("(none)", 2): 0,
        ("ads", 1): 1,
        ("ads", 2): 1,
        ("email", 1): 1,
        ("email", 2): 1,
    }
    totals = result.group_by("step").agg(pl.col("units").sum()).sort("step")["units"].to_list()
    assert totals == levels(rows, "AB", ("user_id", "ts", "event", "channel"), window=HOUR)


def test_hold_keeps_a_column_constant_across_steps():
    rows = [
        (1, at(0), "view", 10),
        (1, at(1), "cart", 20),
        (1, at(2), "view", 20),
        (1, at(3), "cart", 20),
    ]
    columns = ("user_id", "ts", "event", "product_id")
    steps = ["product_view", "add_to_cart"]
    assert levels(rows, steps, columns, hold="product_id") == [2, 1]
    assert levels(rows, steps, columns) == [1, 1]


def test_in_progress_counts_units_whose_window_is_still_open():
    # Data ends at minute 1000 (user 9). Window 1h.
    rows = [
        (1, at(0), "A"),  # window closed: dropped, not in progress
        (2, at(990), "A"),  # open at the end: in progress at step 2
        (3, at(980), "A"),
        (3, at(985), "B"),  # open, stopped before C: in progress at 3
        (4, at(950), "A"),
        (4, at(951), "B"),
        (4, at(952), "C"),  # complete
        (9, at(1000), "Z"),
    ]
    result = table(rows, "ABC", window=HOUR)
    assert result["units"].to_list() == [4, 2, 1]
    assert result["in_progress"].to_list() == [0, 1, 1]
    complete = table(rows, "ABC", window=HOUR, complete_only=True)
    assert complete["units"].to_list() == [2, 1, 1]
    assert complete["in_progress"].to_list() == [0, 0, 0]


def test_in_progress_boundary_is_strictly_after_the_last_timestamp():
    rows = [(1, at(0), "A"), (2, at(60), "Z")]  # 0 + 1h == last: window is closed
    assert table(rows, "AB", window=HOUR)["in_progress"].to_list() == [0, 0]


def test_since_until_select_entry_time_and_later_steps_may_fall_after_until():
    rows = [
        (1, at(0), "A"),
        (1, at(5), "B"),  # starts before since: not counted
        (2, at(20), "A"),
        (2, at(70), "B"),  # starts inside, finishes after until
        (3, at(60), "A"),
    ]  # starts at until: excluded (half-open)
    since = datetime(2026, 3, 2, 12, 10, tzinfo=UTC)
    until = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    assert levels(rows, "AB", since=since, until=until) == [1, 1]


def test_left_censored_purchases_never_give_a_rate_above_one():
    rows = [
        (1, at(0), "purchase"),
        (2, at(0), "view"),
        (2, at(1), "purchase"),
        (3, at(0), "purchase"),
        (3, at(5), "view"),
    ]
    result = table(rows, ["product_view", "purchase"])
    assert result["units"].to_list() == [2, 1]
    assert result["conversion_overall"].to_list() == [1.0, 0.5]


def test_rates_dropped_and_time_to_convert():
    rows = [(u, at(0), "A") for u in range(1, 5)] + [
        (1, at(2), "B"),
        (2, at(4), "B"),
        (3, at(9), "B"),
        (1, at(10), "C"),
    ]
    result = table(rows, "ABC").to_dicts()
    assert [r["units"] for r in result] == [4, 3, 1]
    assert [r["conversion_from_previous"] for r in result] == [1.0, 0.75, pytest.approx(1 / 3)]
    assert [r["conversion_overall"] for r in result] == [1.0, 0.75, 0.25]
    assert [r["dropped"] for r in result] == [0, 1, 2]
    # A→B gaps 120, 240, 540 s: median 240, mean 300; B→C: 480 s.
    assert result[1]["median_seconds_from_previous"] == 240.0
    assert result[1]["mean_seconds_from_previous"] == 300.0
    assert result[2]["median_seconds_from_previous"] == 480.0


def test_median_of_an_even_count_is_the_mean_of_the_middle_two():
    rows = [(1, at(0), "A"), (1, at(1), "B"), (2, at(0), "A"), (2, at(4), "B")]
    assert table(rows, "AB")["median_seconds_from_previous"].to_list() == [None, 150.0]


def test_no_unit_entered_gives_null_rates():
    rows = [(1, at(0), "B")]
    result = table(rows, "AB")
    assert result["units"].to_list() == [0, 0]
    assert result["conversion_from_previous"].to_list() == [None, None]
    assert result["conversion_overall"].to_list() == [None, None]


def test_breakdown_is_empty_when_no_unit_entered():
    rows = [(1, at(0), "B", "x")]
    result = table(rows, "AB", ("user_id", "ts", "event", "channel"), breakdown="channel")
    assert result.height == 0
    assert result.columns[0] == "channel"
