"""Journey stages (SPEC §5): one hand-computed log per rule.

Times are minutes after 2026-03-02 12:00 UTC (``at``); sessions come from the 30-minute rule
unless a ``session_id`` column is given.
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
from tests.conftest import at, log_of, shared
from tests.reference.model import Event
from tests.reference.stages import stages_by_session as reference_stages_by_session
from tests.reference.stages import stages_by_user as reference_stages_by_user

from journeykit.config import StagesConfig
from journeykit.journey import StageRules, StagesSpec, resolve_rules, stages
from journeykit.load.events import LoadOptions, load_events, load_frame

STAGES = ["awareness", "consideration", "decision", "purchase", "retention", "advocacy"]
T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)


def by_stage(result_table: pl.DataFrame, column: str) -> list[int]:
    assert result_table["stage"].to_list() == STAGES
    return result_table[column].to_list()


def sessions_of(rows, columns=("user_id", "ts", "event"), **spec):
    return stages(log_of(rows, columns), StagesSpec(**spec)).sessions


def users_of(rows, columns=("user_id", "ts", "event"), **spec):
    return stages(log_of(rows, columns), StagesSpec(by="user", **spec)).table


def test_each_session_is_classified_by_the_deepest_stage_it_reaches():
    rows = [
        (1, at(0), "page_view"),  # awareness, bounce
        (2, at(0), "page_view"),
        (2, at(1), "product_view"),  # consideration
        (3, at(0), "search"),  # consideration, bounce
        (4, at(0), "product_view"),
        (4, at(2), "add_to_cart"),  # decision
        (5, at(0), "checkout"),  # decision, bounce
        (6, at(0), "product_view"),
        (6, at(1), "add_to_cart"),
        (6, at(2), "purchase"),  # purchase
    ]
    table = sessions_of(rows)
    assert by_stage(table, "sessions") == [1, 2, 2, 1, 0, 0]
    assert by_stage(table, "bounces") == [1, 1, 1, 0, 0, 0]
    assert table["share"].to_list() == pytest.approx([1 / 6, 2 / 6, 2 / 6, 1 / 6, 0, 0])
    assert table.columns == ["stage", "sessions", "share", "bounces"]


def test_bounce_rate_is_single_event_sessions_over_sessions():
    rows = [(1, at(0), "page_view"), (1, at(60), "page_view"), (1, at(61), "search")]
    result = stages(log_of(rows), StagesSpec())
    assert by_stage(result.sessions, "bounces") == [1, 0, 0, 0, 0, 0]
    assert result.bounce_rate == pytest.approx(1 / 2)


def test_the_user_ladder_can_be_left_out_of_session_counts():
    rows = [(1, at(0), "page_view"), (1, at(60), "search"), (2, at(0), "checkout")]
    full = stages(log_of(rows), StagesSpec())
    sessions_only = stages(log_of(rows), StagesSpec(ladder=False))
    assert by_stage(sessions_only.table, "sessions") == [1, 1, 1, 0, 0, 0]
    assert sessions_only.sessions.equals(full.sessions)
    with pytest.raises(ValueError, match="not counted"):
        _ = sessions_only.users
    # --by user always counts users: 2 users reach consideration, 1 decision
    by_user = stages(log_of(rows), StagesSpec(by="user", ladder=False))
    assert by_stage(by_user.table, "users") == [2, 2, 1, 0, 0, 0]


def test_purchase_only_session_is_purchase_and_a_later_order_is_retention():
    # The cart happened before the data starts (left-censored): the lone purchase still counts.
    rows = [(1, at(0), "purchase"), (1, at(120), "purchase"), (1, at(300), "product_view")]
    table = sessions_of(rows)
    assert by_stage(table, "sessions") == [0, 1, 0, 1, 1, 0]
    assert by_stage(table, "bounces") == [0, 1, 0, 1, 1, 0]


def test_two_orders_in_one_session_make_retention_and_a_multi_row_order_counts_once():
    columns = ("user_id", "ts", "event", "order_id")
    rows = [
        (1, at(0), "purchase", "A"),
        (1, at(5), "purchase", "B"),  # a second order in the same session → repeat
        (2, at(0), "purchase", "C"),
        (2, at(1), "purchase", "C"),  # same order, second line → still the first order
    ]
    table = sessions_of(rows, columns)
    assert by_stage(table, "sessions") == [0, 0, 0, 1, 1, 0]


def test_advocacy_counts_only_at_or_after_the_users_first_order():
    rows = [
        (1, at(0), "review"),  # before user 1 orders: awareness
        (1, at(60), "product_view"),
        (1, at(61), "purchase"),  # purchase
        (1, at(200), "referral"),  # after the first order: advocacy
        (2, at(0), "review"),  # never orders: awareness
        (3, at(0), "share"),  # same instant as the order (file order before it): counts
        (3, at(0), "purchase"),
    ]
    table = sessions_of(rows)
    assert by_stage(table, "sessions") == [2, 0, 0, 1, 0, 2]
    assert by_stage(table, "bounces") == [2, 0, 0, 0, 0, 1]


def test_user_ladder_is_cumulative_and_an_advocate_with_one_order_counts_as_retained():
    rows = [
        (1, at(0), "page_view"),  # awareness
        (2, at(0), "product_view"),  # consideration
        (3, at(0), "add_to_cart"),
        (3, at(1), "purchase"),  # purchase (one order)
        (4, at(0), "purchase"),
        (4, at(100), "review"),  # advocacy with a single order
        (5, at(0), "review"),
        (5, at(100), "purchase"),  # review before ordering: purchase, not advocacy
    ]
    table = users_of(rows)
    assert table.columns == ["stage", "users", "conversion_from_previous", "conversion_overall"]
    # deepest: u1 0, u2 1, u3 3, u4 5, u5 3 → users with stage ≥ row
    assert by_stage(table, "users") == [5, 4, 3, 3, 1, 1]
    assert table["conversion_from_previous"].to_list() == pytest.approx(
        [1.0, 4 / 5, 3 / 4, 1.0, 1 / 3, 1.0]
    )
    assert table["conversion_overall"].to_list() == pytest.approx(
        [1.0, 4 / 5, 3 / 5, 3 / 5, 1 / 5, 1 / 5]
    )


def test_user_with_two_orders_reaches_retention():
    rows = [(1, at(0), "purchase"), (1, at(600), "purchase")]
    assert by_stage(users_of(rows), "users") == [1, 1, 1, 1, 1, 0]


def test_session_column_is_used_and_a_null_session_is_its_own_session():
    columns = ("user_id", "ts", "event", "session_id")
    rows = [
        (1, at(0), "product_view", "a"),
        (1, at(1), "page_view", None),
        (1, at(2), "add_to_cart", "a"),
        (2, at(0), "page_view", "a"),  # same value, other user: another session
    ]
    table = sessions_of(rows, columns)
    assert by_stage(table, "sessions") == [2, 0, 1, 0, 0, 0]
    assert by_stage(table, "bounces") == [2, 0, 0, 0, 0, 0]


def test_gap_of_exactly_the_session_gap_starts_a_new_session():
    rows = [(1, at(0), "page_view"), (1, at(29.5), "page_view"), (1, at(59.5), "search")]
    assert by_stage(sessions_of(rows), "sessions") == [1, 1, 0, 0, 0, 0]
    assert by_stage(sessions_of(rows, session_gap=timedelta(hours=1)), "sessions") == [
        0,
        1,
        0,
        0,
        0,
        0,
    ]


def test_stage_rules_come_from_the_config_with_aliases_resolved():
    rows = [
        (1, at(0), "fav"),  # consideration once the config says so
        (2, at(0), "basket"),  # decision once the config says so
        (3, at(0), "pv"),  # product_view by alias, but not listed any more: awareness
    ]
    log = log_of(rows)
    config = StagesConfig(consideration=["fav", "wishlst"], decision=["basket", "cart"])
    rules, warnings = resolve_rules(log, config)
    assert rules == StageRules(
        consideration=("fav", "wishlst"),
        decision=("basket", "add_to_cart"),
        advocacy=("review", "referral", "share"),
    )
    assert (
        len(warnings) == 1 and "'wishlst'" in warnings[0] and "stages.consideration" in warnings[0]
    )
    table = stages(log, StagesSpec(rules=rules)).sessions
    assert by_stage(table, "sessions") == [1, 1, 1, 0, 0, 0]


def test_since_until_select_sessions_by_first_event_and_judge_them_on_full_history():
    rows = [
        (1, at(0), "purchase"),  # before the period: the user's first order
        (1, at(120), "purchase"),  # in the period: a repeat order → retention
        (2, at(100), "page_view"),
        (2, at(125), "product_view"),  # session starts before since: left out
        (3, at(300), "page_view"),  # at until: left out (half-open)
        (4, at(299), "page_view"),  # in
    ]
    spec = {"since": T0 + timedelta(minutes=110), "until": T0 + timedelta(minutes=300)}
    assert by_stage(sessions_of(rows, **spec), "sessions") == [1, 0, 0, 0, 1, 0]
    assert by_stage(users_of(rows, **spec), "users") == [2, 1, 1, 1, 1, 0]


def test_no_sessions_gives_zero_counts_and_null_rates():
    rows = [(1, at(0), "page_view")]
    spec = {"since": T0 + timedelta(days=1)}
    sessions = sessions_of(rows, **spec)
    assert by_stage(sessions, "sessions") == [0] * 6
    assert sessions["share"].to_list() == [None] * 6
    users = users_of(rows, **spec)
    assert by_stage(users, "users") == [0] * 6
    assert users["conversion_overall"].to_list() == [None] * 6


def test_rows_label_each_session_and_user_with_stage_times_events_and_order_value():
    columns = ("user_id", "ts", "event", "price")
    rows = [
        (1, at(0), "product_view", 10.0),
        (1, at(1), "purchase", 10.0),
        (1, at(2), "purchase", 5.0),  # same session: one order worth 15
        (1, at(100), "page_view", None),
        (2, at(0), "page_view", None),
    ]
    result = stages(log_of(rows, columns), StagesSpec(rows=True))
    sessions = result.session_rows
    assert sessions is not None and result.rows is sessions
    assert sessions.columns == [
        "user",
        "session",
        "stage",
        "first_event",
        "last_event",
        "events",
        "orders",
        "order_value",
    ]
    assert sessions["stage"].to_list() == ["purchase", "awareness", "awareness"]
    assert sessions["events"].to_list() == [3, 1, 1]
    assert sessions["orders"].to_list() == [1, 0, 0]
    assert sessions["order_value"].to_list() == [15.0, 0.0, 0.0]
    assert sessions["first_event"][0] == T0 and sessions["last_event"][0] == T0 + timedelta(
        minutes=2
    )
    users = stages(log_of(rows, columns), StagesSpec(by="user", rows=True)).rows
    assert users is not None
    assert users.select("user", "stage", "sessions", "events", "orders").rows() == [
        (1, "purchase", 2, 4, 1),
        (2, "awareness", 1, 1, 0),
    ]


def test_order_value_is_null_without_money_columns():
    rows = [(1, at(0), "purchase")]
    result = stages(log_of(rows), StagesSpec(by="user", rows=True))
    assert result.rows is not None and result.rows["order_value"].to_list() == [None]


def test_chunked_computation_gives_the_same_tables(monkeypatch):
    log = load_events([shared("taobao-userbehavior-prefix", "events.csv.gz")])
    whole = stages(log, StagesSpec())
    monkeypatch.setenv("JOURNEYKIT_CHUNK_ROWS", "10000")
    chunked = stages(log, StagesSpec())
    assert chunked.sessions.equals(whole.sessions) and chunked.users.equals(whole.users)


# --- real data ----------------------------------------------------------------------------------


def test_rees46_sessions_come_from_user_session_and_both_formats_agree():
    tables = [
        stages(load_events([shared("rees46-2019oct-head", name)]), StagesSpec()).sessions
        for name in ("events.parquet", "events.csv.gz")
    ]
    assert tables[0].equals(tables[1])
    # 5,067 (user, user_session) pairs: one user_session value is shared by two users.
    assert int(tables[0]["sessions"].sum()) == 5067
    assert by_stage(tables[0], "sessions") == [0, 4814, 53, 193, 7, 0]


def test_taobao_sessions_from_the_30_minute_rule_match_an_independent_count():
    # duckdb: sessions split at gaps ≥ 1800 s, orders = sessions with a buy, ranked per user.
    log = load_events([shared("taobao-userbehavior-prefix", "events.csv.gz")])
    table = stages(log, StagesSpec()).sessions
    assert by_stage(table, "sessions") == [156, 10157, 2441, 558, 786, 0]
    assert by_stage(table, "bounces") == [123, 3741, 243, 111, 178, 0]


def test_completejourney_baskets_are_orders():
    path = shared("completejourney", "transactions.parquet")
    result = stages(load_events([path], LoadOptions(rows_are="purchase")), StagesSpec())
    # every household orders; 2,438 of 2,469 have two or more baskets
    assert by_stage(result.users, "users") == [2469, 2469, 2469, 2469, 2438, 0]


# --- command line -------------------------------------------------------------------------------


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "journeykit", *args], capture_output=True, check=False
    )


TAOBAO = shared("taobao-userbehavior-prefix", "events.csv.gz")


def test_cli_csv_equals_the_library_for_sessions_and_users():
    log = load_events([TAOBAO])
    for by in ("session", "user"):
        result = run("stages", TAOBAO, "--by", by, "--format", "csv")
        assert result.returncode == 0, result.stderr
        printed = pl.read_csv(io.BytesIO(result.stdout))
        expected = stages(log, StagesSpec(by=by)).table
        assert printed.columns == expected.columns
        assert printed[printed.columns[1]].to_list() == expected[expected.columns[1]].to_list()


def test_cli_emit_writes_one_row_per_session(tmp_path):
    target = tmp_path / "sessions.parquet"
    result = run("stages", TAOBAO, "--emit", str(target), "--format", "csv")
    assert result.returncode == 0, result.stderr
    emitted = pl.read_parquet(target)
    assert emitted.height == 14098
    assert set(emitted["stage"].unique()) <= set(STAGES)
    bad = run("stages", TAOBAO, "--emit", str(tmp_path / "rows.txt"))
    assert bad.returncode == 2 and b"--emit" in bad.stderr
    assert not os.path.exists(tmp_path / "rows.txt")


def test_cli_table_shows_both_views_and_bad_periods_are_usage_errors():
    shown = run("stages", TAOBAO, "--format", "table")
    assert shown.returncode == 0
    assert b"Sessions by deepest journey stage" in shown.stdout
    assert b"User journey ladder" in shown.stdout and b"Bounce rate" in shown.stdout
    backwards = run("stages", TAOBAO, "--since", "2017-12-01", "--until", "2017-11-01")
    assert backwards.returncode == 2 and b"--since" in backwards.stderr
    assert b"Traceback" not in backwards.stderr


# --- properties and the reference implementation ------------------------------------------------

JOURNEY_EVENTS = [
    "page_view",
    "product_view",
    "search",
    "add_to_cart",
    "remove_from_cart",
    "checkout",
    "purchase",
    "purchase",
    "review",
    "share",
]
SETTINGS = settings(max_examples=60, deadline=None)
journeys = st.lists(
    st.tuples(
        st.integers(1, 4),  # user
        st.integers(0, 3_000),  # minute (sessions, recovery windows and pending all vary)
        st.sampled_from(JOURNEY_EVENTS),
        st.sampled_from([None, 0.0, 5.0, 12.5]),  # price
        st.sampled_from([None, 1, 3]),  # quantity
        st.sampled_from(["ads", "seo", None]),  # channel
        st.sampled_from(["a", "b", None]),  # session value
        st.sampled_from([None, "o1", "o2"]),  # order id
    ),
    min_size=1,
    max_size=40,
).map(lambda rows: list({(r[0], r[1]): r for r in rows}.values()))  # distinct times per user
layouts = st.fixed_dictionaries(
    {"sessions": st.booleans(), "orders": st.booleans(), "money": st.booleans()}
)


def journey_frame(data: list[tuple], layout: dict[str, bool]) -> pl.DataFrame:
    """The random rows as an input file would hold them (optional columns per ``layout``)."""
    columns = {
        "user_id": ([r[0] for r in data], pl.Int64),
        "ts": ([T0 + timedelta(minutes=r[1]) for r in data], pl.Datetime("us", "UTC")),
        "event": ([r[2] for r in data], pl.String),
        "channel": ([r[5] for r in data], pl.String),
    }
    if layout["money"]:
        columns["price"] = ([r[3] for r in data], pl.Float64)
        columns["quantity"] = ([r[4] for r in data], pl.Int64)
    if layout["sessions"]:
        columns["session_id"] = ([r[6] for r in data], pl.String)
    if layout["orders"]:
        columns["order_id"] = ([r[7] for r in data], pl.String)
    return pl.DataFrame(
        {name: values for name, (values, _) in columns.items()},
        schema={name: dtype for name, (_, dtype) in columns.items()},
    )


def reference_events(data: list[tuple], layout: dict[str, bool]) -> list[Event]:
    return [
        Event(
            user=r[0],
            time=T0 + timedelta(minutes=r[1]),
            event=r[2],
            row=row,
            session=r[6] if layout["sessions"] else None,
            price=r[3] if layout["money"] else None,
            quantity=r[4] if layout["money"] else None,
            order_id=r[7] if layout["orders"] else None,
            dims={"channel": r[5]},
        )
        for row, r in enumerate(data)
    ]


def reference_options(layout: dict[str, bool]) -> dict[str, bool]:
    return {"has_session_column": layout["sessions"], "has_order_column": layout["orders"]}


def assert_rows_match(ours: pl.DataFrame, theirs: list[dict]) -> None:
    assert ours.columns == list(theirs[0])
    for mine, expected in zip(ours.iter_rows(named=True), theirs, strict=True):
        for name, value in expected.items():
            if isinstance(value, float):
                assert mine[name] == pytest.approx(value), name
            else:
                assert mine[name] == value, name


@SETTINGS
@given(journeys, layouts)
def test_stages_match_the_reference_implementation(data, layout):
    events, options = reference_events(data, layout), reference_options(layout)
    result = stages(load_frame(journey_frame(data, layout)), StagesSpec())
    assert_rows_match(result.sessions, reference_stages_by_session(events, **options))
    assert_rows_match(result.users, reference_stages_by_user(events, **options))


@SETTINGS
@given(journeys, layouts)
def test_session_shares_sum_to_one_and_ladder_never_grows(data, layout):
    result = stages(load_frame(journey_frame(data, layout)), StagesSpec())
    assert sum(result.sessions["share"]) == pytest.approx(1.0)
    users = result.users["users"].to_list()
    assert users == sorted(users, reverse=True)


@SETTINGS
@given(journeys, layouts, st.randoms(use_true_random=False))
def test_shuffling_rows_changes_no_stage(data, layout, rng):
    shuffled = data[:]
    rng.shuffle(shuffled)
    first = stages(load_frame(journey_frame(data, layout)), StagesSpec())
    second = stages(load_frame(journey_frame(shuffled, layout)), StagesSpec())
    assert first.sessions.equals(second.sessions) and first.users.equals(second.users)
