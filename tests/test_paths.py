"""Paths and the journey map (SPEC §14): one hand-computed log per rule, the command line.

Times are minutes after 2026-03-02 12:00 UTC (``at``); sessions come from the 30-minute rule
unless a ``session_id`` column is given.
"""

import io
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from tests.conftest import at, log_of, shared

from journeykit.funnel.spec import FunnelSpec
from journeykit.journey import StageRules
from journeykit.load.events import load_events
from journeykit.paths import JourneyMapSpec, PathsSpec, journey_map, paths

SAMPLE = "data/samples/events.parquet"
T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)


def rows_of(table: pl.DataFrame) -> list[tuple]:
    return [tuple(row) for row in table.iter_rows()]


def path_rows(rows, **spec) -> list[tuple]:
    """``(path, units)`` of each path row."""
    table = paths(log_of(rows), PathsSpec(**spec)).table
    return [(path, units) for path, units, _ in table.iter_rows()]


def test_the_anchor_is_the_first_match_and_the_path_ends_with_end():
    rows = [
        (1, at(0), "page_view"),
        (1, at(1), "add_to_cart"),
        (1, at(2), "product_view"),
        (1, at(3), "add_to_cart"),  # a second cart: not an anchor
        (2, at(0), "add_to_cart"),  # nothing follows
        (3, at(0), "page_view"),  # no anchor: not counted
    ]
    result = paths(log_of(rows), PathsSpec(anchor="add_to_cart", depth=3))
    # user 1: product_view > add_to_cart > (end) (only two events follow); user 2: (end)
    assert rows_of(result.table) == [
        ("(end)", 1, 0.5),
        ("product_view > add_to_cart > (end)", 1, 0.5),
    ]
    assert result.anchored == 2


def test_before_starts_with_start_and_lists_oldest_first():
    rows = [
        (1, at(0), "page_view"),
        (1, at(1), "product_view"),
        (1, at(2), "search"),
        (1, at(3), "purchase"),
        (2, at(0), "product_view"),
        (2, at(1), "purchase"),
        (3, at(0), "purchase"),
    ]
    assert path_rows(rows, anchor="purchase", direction="before", depth=2) == [
        ("(start)", 1),  # user 3: nothing before
        ("(start) > product_view", 1),  # user 2: one event before
        ("product_view > search", 1),  # user 1: the two nearest, oldest first
    ]


def test_alternatives_anchor_on_the_first_event_of_either_name():
    rows = [
        (1, at(0), "search"),
        (1, at(1), "product_view"),
        (1, at(2), "add_to_cart"),
        (1, at(3), "purchase"),
    ]
    assert path_rows(rows, anchor="add_to_cart|product_view", depth=1) == [("add_to_cart", 1)]


def test_collapse_merges_runs_before_anchoring():
    rows = [
        (1, at(0), "add_to_cart"),
        (1, at(1), "add_to_cart"),
        (1, at(2), "product_view"),
        (1, at(3), "product_view"),
        (1, at(4), "product_view"),
        (1, at(5), "checkout"),
    ]
    # raw: add_to_cart > product_view > product_view; collapsed: product_view > checkout > (end)
    assert path_rows(rows, anchor="add_to_cart") == [
        ("add_to_cart > product_view > product_view", 1)
    ]
    assert path_rows(rows, anchor="add_to_cart", collapse=True) == [
        ("product_view > checkout > (end)", 1)
    ]
    assert path_rows(rows, anchor="checkout", direction="before", collapse=True) == [
        ("(start) > add_to_cart > product_view", 1)
    ]


def test_by_session_each_session_is_a_unit():
    rows = [
        (1, at(0), "add_to_cart"),
        (1, at(1), "checkout"),
        (1, at(100), "add_to_cart"),  # a new session (gap ≥ 30 min)
        (1, at(101), "search"),
    ]
    assert path_rows(rows, anchor="add_to_cart", depth=1) == [("checkout", 1)]
    assert path_rows(rows, anchor="add_to_cart", depth=2, by="session") == [
        ("checkout > (end)", 1),
        ("search > (end)", 1),
    ]


def test_ties_follow_the_input_row():
    rows = [
        (1, at(0), "add_to_cart"),
        (1, at(5), "search"),
        (1, at(5), "product_view"),
        (2, at(0), "add_to_cart"),
        (2, at(5), "product_view"),
        (2, at(5), "search"),
    ]
    assert path_rows(rows, anchor="add_to_cart", depth=2) == [
        ("product_view > search", 1),
        ("search > product_view", 1),
    ]


def test_other_holds_the_rest_and_is_omitted_when_empty():
    rows = [(u, at(0), "add_to_cart") for u in range(1, 6)]
    rows += [(u, at(1), "search") for u in (1, 2, 3)]
    rows += [(4, at(1), "checkout"), (5, at(1), "purchase")]
    # search 3, checkout 1, purchase 1 (ties by path)
    table = paths(log_of(rows), PathsSpec(anchor="add_to_cart", depth=1, top=1)).table
    assert rows_of(table) == [("search", 3, 0.6), ("(other)", 2, 0.4)]
    table = paths(log_of(rows), PathsSpec(anchor="add_to_cart", depth=1, top=3)).table
    assert rows_of(table) == [("search", 3, 0.6), ("checkout", 1, 0.2), ("purchase", 1, 0.2)]


def _funnel(*steps: str, **options) -> FunnelSpec:
    return FunnelSpec(steps=steps, **options)


def test_dropped_at_takes_units_stopped_at_k_minus_1_and_not_in_progress():
    rows = [
        # user 1 stops at add_to_cart (level 2), then searches: its window closed long ago
        (1, at(0), "product_view"),
        (1, at(1), "add_to_cart"),
        (1, at(2), "search"),
        # user 2 buys: level 3, not counted
        (2, at(0), "product_view"),
        (2, at(1), "add_to_cart"),
        (2, at(2), "purchase"),
        # user 3 stops at add_to_cart but its 1-day window is still open at the data's end
        (3, at(3000), "product_view"),
        (3, at(3001), "add_to_cart"),
    ]
    funnel = _funnel("product_view", "add_to_cart", "purchase", window=timedelta(days=1))
    result = paths(log_of(rows), PathsSpec(dropped_at=3, funnel=funnel, depth=2))
    assert rows_of(result.table) == [("search > (end)", 1, 1.0)]


def test_dropped_at_anchors_on_the_chosen_attempt():
    rows = [
        # attempt 1 (view at 0) reaches add_to_cart at 1; attempt 2 (view at 50) also reaches
        # add_to_cart (at 51): the chosen attempt is the earliest reaching the level, so the
        # anchor is the add_to_cart at minute 1 and the path starts with search
        (1, at(0), "product_view"),
        (1, at(1), "add_to_cart"),
        (1, at(2), "search"),
        (1, at(50), "product_view"),
        (1, at(51), "add_to_cart"),
        (2, at(500), "page_view"),  # the data ends well after user 1's windows
    ]
    funnel = _funnel("product_view", "add_to_cart", "purchase", window=timedelta(hours=1))
    assert rows_of(paths(log_of(rows), PathsSpec(dropped_at=3, funnel=funnel)).table) == [
        ("search > product_view > add_to_cart", 1, 1.0)
    ]


def test_dropped_at_with_any_order_anchors_on_the_last_matched_event():
    rows = [
        (1, at(0), "product_view"),  # step 1
        (1, at(1), "checkout"),  # step 3: with any order, two steps are done (level 2)
        (1, at(2), "search"),
        (2, at(20_000), "page_view"),  # the data ends after user 1's 7-day window
    ]
    funnel = _funnel("product_view", "add_to_cart", "checkout", "purchase", order="any")
    table = paths(log_of(rows), PathsSpec(dropped_at=3, funnel=funnel, depth=1)).table
    # the anchor is the last matched event (checkout), not a step-2 event
    assert rows_of(table) == [("search", 1, 1.0)]


def test_dropped_at_with_collapse_skips_the_anchors_run():
    rows = [
        (1, at(0), "product_view"),
        (1, at(1), "product_view"),  # the step-1 run: the chosen event is the first
        (1, at(2), "product_view"),
        (1, at(3), "search"),
        (2, at(20_000), "page_view"),  # the data ends after user 1's 7-day window
    ]
    funnel = _funnel("product_view", "add_to_cart")
    spec = {"dropped_at": 2, "funnel": funnel, "depth": 2}
    table = paths(log_of(rows), PathsSpec(**spec)).table
    assert rows_of(table) == [("product_view > product_view", 1, 1.0)]
    table = paths(log_of(rows), PathsSpec(**spec, collapse=True)).table
    assert rows_of(table) == [("search > (end)", 1, 1.0)]


def test_transitions_start_at_the_anchor_and_follow_time():
    rows = [
        (1, at(0), "add_to_cart"),
        (1, at(1), "search"),
        (2, at(0), "add_to_cart"),
        (2, at(1), "search"),
        (2, at(2), "purchase"),
    ]
    result = paths(log_of(rows), PathsSpec(anchor="add_to_cart", depth=3))
    assert rows_of(result.transitions) == [
        (1, "add_to_cart", "search", 2),
        (2, "search", "(end)", 1),
        (2, "search", "purchase", 1),
        (3, "purchase", "(end)", 1),
    ]
    result = paths(log_of(rows), PathsSpec(anchor="purchase", direction="before", depth=3))
    # user 2 only: (start) > add_to_cart > search, then purchase
    assert rows_of(result.transitions) == [
        (1, "search", "purchase", 1),
        (2, "add_to_cart", "search", 1),
        (3, "(start)", "add_to_cart", 1),
    ]


def test_the_journey_map_counts_users_and_transitions():
    rows = [
        # user 1: consideration, consideration, purchase (sessions 100 minutes apart)
        (1, at(0), "product_view"),
        (1, at(100), "product_view"),
        (1, at(200), "purchase"),
        # user 2: awareness, consideration
        (2, at(0), "page_view"),
        (2, at(100), "product_view"),
    ]
    result = journey_map(log_of(rows), JourneyMapSpec())
    assert rows_of(result.table) == [
        ("(start)", "awareness", 1, 1),
        ("(start)", "consideration", 1, 1),
        ("awareness", "consideration", 1, 1),
        ("consideration", "consideration", 1, 1),
        ("consideration", "purchase", 1, 1),
        ("consideration", "(end)", 1, 1),
        ("purchase", "(end)", 1, 1),
    ]
    assert result.users == 2


def test_journey_map_users_are_distinct_and_transitions_are_pairs():
    # one user: consideration, awareness, consideration, awareness → awareness→consideration once,
    # consideration→awareness twice (users 1, transitions 2)
    events = ["product_view", "page_view", "product_view", "page_view"]
    rows = [(1, at(100 * i), event) for i, event in enumerate(events)]
    table = journey_map(log_of(rows), JourneyMapSpec()).table
    assert ("consideration", "awareness", 1, 2) in rows_of(table)
    assert ("awareness", "consideration", 1, 1) in rows_of(table)


def test_journey_map_orders_sessions_by_first_event_then_session_text():
    columns = ("user_id", "ts", "event", "session_id")
    rows = [
        (1, at(0), "purchase", "9"),  # same first instant: "10" < "9" as text
        (1, at(0), "page_view", "10"),
    ]
    table = journey_map(log_of(rows, columns), JourneyMapSpec()).table
    assert rows_of(table) == [
        ("(start)", "awareness", 1, 1),
        ("awareness", "purchase", 1, 1),
        ("purchase", "(end)", 1, 1),
    ]


def test_journey_map_period_keeps_sessions_starting_inside():
    rows = [
        (1, at(0), "page_view"),
        (1, at(100), "product_view"),
        (1, at(200), "purchase"),
    ]
    spec = JourneyMapSpec(since=T0 + timedelta(minutes=50), until=T0 + timedelta(minutes=150))
    assert rows_of(journey_map(log_of(rows), spec).table) == [
        ("(start)", "consideration", 1, 1),
        ("consideration", "(end)", 1, 1),
    ]


def test_journey_map_uses_the_stage_rules():
    rows = [(1, at(0), "search")]
    spec = JourneyMapSpec(rules=StageRules(consideration=("search",)))
    assert rows_of(journey_map(log_of(rows), spec).table)[0] == ("(start)", "consideration", 1, 1)


def run(*arguments: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "journeykit", "paths", *arguments]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_cli_csv_equals_the_library():
    result = run(SAMPLE, "--after", "add_to_cart", "--format", "csv")
    assert result.returncode == 0, result.stderr
    expected = paths(load_events([SAMPLE]), PathsSpec(anchor="add_to_cart")).table
    assert_frame_equal(printed(result), expected, abs_tol=1e-6)


def test_cli_transitions_and_stages_csv_equal_the_library():
    log = load_events([SAMPLE])
    result = run(SAMPLE, "--dropped-at", "4", "--transitions", "--format", "csv")
    funnel = FunnelSpec(steps=("page_view", "product_view", "add_to_cart", "checkout", "purchase"))
    expected = paths(log, PathsSpec(dropped_at=4, funnel=funnel)).transitions
    assert_frame_equal(printed(result), expected)
    result = run(SAMPLE, "--stages", "--format", "csv")
    assert_frame_equal(printed(result), journey_map(log, JourneyMapSpec()).table)


def printed(result: subprocess.CompletedProcess) -> pl.DataFrame:
    assert result.returncode == 0, result.stderr
    return pl.read_csv(io.StringIO(result.stdout))


@pytest.mark.parametrize(
    "arguments",
    [
        ["--depth", "0", "--after", "cart"],
        ["--top", "0", "--after", "cart"],
        ["--dropped-at", "1"],
        ["--dropped-at", "6"],
        ["--after", "cart", "--before", "purchase"],
        [],
        ["--after", "nothing_like_it"],
        ["--stages", "--depth", "2"],
        ["--after", "cart", "--steps", "view,cart"],
        ["--after", "cart", "--since", "2026-11-01"],
    ],
)
def test_usage_errors_exit_2_with_one_line(arguments):
    result = run(SAMPLE, *arguments)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr


def test_missing_file_is_a_one_line_error():
    result = run("no/such/events.parquet", "--after", "cart")
    assert result.returncode != 0
    assert result.stderr.count("\n") <= 2 and "Traceback" not in result.stderr


def test_real_data_rees46_sessions_and_taobao_gap_sessions():
    rees = load_events([shared("rees46-2019oct-head", "events.parquet")])
    steps = ("product_view", "add_to_cart", "purchase")
    funnel = FunnelSpec(steps=steps, by="session", window=timedelta(minutes=30))
    result = paths(rees, PathsSpec(dropped_at=2, funnel=funnel, by="session", collapse=True))
    # Sessions that viewed but never carted (window closed): with runs of views collapsed,
    # 688 of 699 simply end; the rest buy without a cart event (a REES46 quirk), read by hand.
    assert rows_of(result.table)[:2] == [
        ("(end)", 688, pytest.approx(688 / 699)),
        ("purchase > (end)", 5, pytest.approx(5 / 699)),
    ]
    assert result.in_progress == 4_250  # the slice's last half hour holds most of its sessions
    taobao = load_events([shared("taobao-userbehavior-slice", "events.csv.gz")])
    stages = journey_map(taobao, JourneyMapSpec())
    first = stages.table.filter(pl.col("from") == "(start)")
    users = taobao.frame.select(pl.col("user").n_unique()).collect().item()
    assert int(first["users"].sum()) == stages.users == users == 66_454
    # most first sessions are consideration (product views): 86.5% of the users
    assert first.row(by_predicate=pl.col("to") == "consideration")[2] == 57_489


def test_more_than_254_event_names_get_wider_codes():
    # 300 names: codes no longer fit a byte; paths and the funnel still name every event
    rows = [(1, at(0), "add_to_cart")]
    rows += [(1, at(i + 1), f"custom_{i:03}") for i in range(300)]
    rows += [(2, at(0), "add_to_cart"), (2, at(1), "custom_299"), (2, at(2), "purchase")]
    log = log_of(rows)
    assert len(log.profile.events) == 302
    table = paths(log, PathsSpec(anchor="add_to_cart", depth=2)).table
    assert rows_of(table) == [
        ("custom_000 > custom_001", 1, 0.5),
        ("custom_299 > purchase", 1, 0.5),
    ]
    before = paths(log, PathsSpec(anchor="custom_299", direction="before", depth=1)).table
    assert rows_of(before) == [("add_to_cart", 1, 0.5), ("custom_298", 1, 0.5)]


def test_the_spec_refuses_mixed_anchors():
    funnel = _funnel("product_view", "add_to_cart")
    with pytest.raises(ValueError, match="a funnel goes with dropped_at"):
        PathsSpec(anchor="add_to_cart", funnel=funnel)
    with pytest.raises(ValueError, match="by the funnel's unit"):
        PathsSpec(dropped_at=2, funnel=funnel, by="session")
    with pytest.raises(ValueError, match="either an anchor event or dropped_at"):
        PathsSpec()
