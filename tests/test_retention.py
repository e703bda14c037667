"""Retention (SPEC §7): hand-computed frames, real exports checked by DuckDB, the reference model
and the command line."""

import io
import os
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import shared
from tests.reference.model import Event, orders
from tests.reference.retention import add_periods, period_start
from tests.reference.retention import retention as reference_retention

from journeykit.errors import DataError, UsageError
from journeykit.load.events import EventLog, LoadOptions, load_events, load_frame
from journeykit.retention import RetentionSpec, build_spec, retention

TAOBAO = shared("taobao-userbehavior-prefix", "events.csv.gz")
JOURNEY = shared("completejourney", "transactions.parquet")
REES = shared("rees46-2019oct-head", "events.parquet")

Cells = dict[tuple[str, int], tuple[Any, ...]]


def log_of(
    rows: list[tuple[Any, ...]],
    columns: tuple[str, ...] = ("user_id", "ts", "event"),
    **options: Any,
) -> EventLog:
    """A log from literal rows; times are zone-less strings, read as UTC."""
    frame = pl.DataFrame([list(r) for r in rows], schema=list(columns), orient="row")
    return load_frame(frame, LoadOptions(**options))


def cells(log: EventLog, **spec: Any) -> Cells:
    """``(cohort, period) → (cohort_size, retained, rate, partial)`` (or revenue columns)."""
    table = retention(log, RetentionSpec(**spec)).table
    return {(row[0], row[1]): tuple(row[2:]) for row in table.iter_rows()}


def column(result: Cells, cohort: str, index: int) -> list[Any]:
    """One column of the cells of ``cohort``, periods in order."""
    return [value[index] for (c, _), value in sorted(result.items()) if c == cohort]


# --- cohorts and cells, computed by hand ------------------------------------------------------


def test_cohort_is_the_period_of_the_first_ever_cohort_event():
    log = log_of(
        [
            (1, "2024-03-01 10:00", "purchase"),
            (1, "2024-03-03 09:00", "purchase"),
            (2, "2024-03-01 23:00", "page_view"),  # not a cohort event
            (2, "2024-03-02 12:00", "purchase"),
            (3, "2024-03-03 10:00", "purchase"),
            (3, "2024-03-02 10:00", "purchase"),  # earlier although later in the file
            (9, "2024-03-04 12:00", "page_view"),  # the data ends on 03-04
        ]
    )
    result = cells(log, period="day", periods=3)
    assert sorted({c for c, _ in result}) == ["2024-03-01", "2024-03-02", "average"]
    assert column(result, "2024-03-01", 0) == [1, 1, 1, 1]
    assert column(result, "2024-03-02", 0) == [2, 2, 2, 2]
    assert column(result, "2024-03-01", 1) == [1, 0, 1, 0]  # user 1 back on 03-03 (k = 2)
    assert column(result, "2024-03-02", 1) == [2, 1, 0, None]  # user 3 back on 03-03 (k = 1)
    assert column(result, "2024-03-02", 2) == [1.0, 0.5, 0.0, None]


def test_on_counts_one_period_and_unbounded_that_period_or_later():
    log = log_of(
        [
            (1, "2024-03-01 10:00", "purchase"),
            (1, "2024-03-04 10:00", "purchase"),
            (2, "2024-03-01 11:00", "purchase"),
            (2, "2024-03-02 11:00", "purchase"),
            (9, "2024-03-06 12:00", "page_view"),
        ]
    )
    on = cells(log, period="day", periods=5, mode="on")
    unbounded = cells(log, period="day", periods=5, mode="unbounded")
    assert column(on, "2024-03-01", 1) == [2, 1, 0, 1, 0, 0]
    assert column(unbounded, "2024-03-01", 1) == [2, 2, 1, 1, 0, 0]
    assert column(unbounded, "2024-03-01", 3) == column(on, "2024-03-01", 3)


def test_periods_starting_after_the_data_are_unobserved_not_zero():
    log = log_of(
        [
            (1, "2024-03-01 10:00", "purchase"),
            (2, "2024-03-03 10:00", "purchase"),
            (9, "2024-03-03 18:00", "page_view"),
        ]
    )
    result = cells(log, period="day", periods=2)
    assert result["2024-03-03", 0] == (1, 1, 1.0, True)
    assert result["2024-03-03", 1] == (1, None, None, None)
    assert result["2024-03-03", 2] == (1, None, None, None)
    assert result["2024-03-01", 2] == (1, 0, 0.0, True)


def test_the_period_holding_the_last_timestamp_is_partial_even_at_its_first_instant():
    log = log_of(
        [
            (1, "2024-03-01 10:00", "purchase"),
            (1, "2024-03-02 10:00", "purchase"),
            (9, "2024-03-03 00:00:00", "page_view"),  # the last timestamp opens 03-03
        ]
    )
    result = cells(log, period="day", periods=3)
    assert column(result, "2024-03-01", 3) == [False, False, True, None]
    assert column(result, "2024-03-01", 1) == [1, 1, 0, None]


def test_iso_weeks_start_on_monday_across_the_year_end():
    log = log_of(
        [
            (1, "2024-12-29 12:00", "purchase"),  # Sunday: the week of Monday 2024-12-23
            (1, "2025-01-05 12:00", "purchase"),  # Sunday: the week of 2024-12-30, k = 1
            (2, "2024-12-30 00:30", "purchase"),  # Monday 2024-12-30 (ISO week 2025-W01)
            (2, "2025-01-05 23:59", "purchase"),  # same week: not a return
            (2, "2025-01-06 00:00", "purchase"),  # next Monday: k = 1
            (9, "2025-01-08 12:00", "page_view"),
        ]
    )
    result = cells(log, period="week", periods=2)
    assert sorted({c for c, _ in result}) == ["2024-12-23", "2024-12-30", "average"]
    assert column(result, "2024-12-23", 1) == [1, 1, 0]
    assert column(result, "2024-12-30", 1) == [1, 1, None]
    assert column(result, "2024-12-30", 3) == [False, True, None]


def test_tz_moves_events_and_the_last_period_across_midnight():
    rows = [
        (1, "2024-03-01 23:30", "purchase"),  # 03-02 00:30 in Paris
        (1, "2024-03-02 00:30", "purchase"),  # 03-02 01:30 in Paris
        (9, "2024-03-03 23:30", "page_view"),  # 03-04 00:30 in Paris
    ]
    utc = cells(log_of(rows), period="day", periods=3)
    paris = cells(log_of(rows), period="day", periods=3, tz="Europe/Paris")
    assert column(utc, "2024-03-01", 1) == [1, 1, 0, None]
    assert column(utc, "2024-03-01", 3) == [False, False, True, None]
    assert "2024-03-01" not in {c for c, _ in paris}
    assert column(paris, "2024-03-02", 1) == [1, 0, 0, None]
    assert column(paris, "2024-03-02", 3) == [False, False, True, None]


def test_month_periods():
    log = log_of(
        [
            (1, "2024-01-31 23:00", "purchase"),
            (1, "2024-02-01 01:00", "purchase"),  # k = 1
            (1, "2024-03-31 12:00", "purchase"),  # k = 2
            (2, "2024-02-29 12:00", "purchase"),
            (9, "2024-04-02 12:00", "page_view"),
        ]
    )
    result = cells(log, period="month", periods=3)
    assert column(result, "2024-01-01", 1) == [1, 1, 1, 0]
    assert column(result, "2024-01-01", 3) == [False, False, False, True]
    assert column(result, "2024-02-01", 1) == [1, 0, 0, None]
    assert column(result, "2024-02-01", 3) == [False, False, True, None]


def test_cohort_event_different_from_return_event():
    log = log_of(
        [
            (1, "2024-03-01 08:00", "purchase"),  # before user 1's first page view: irrelevant
            (1, "2024-03-01 09:00", "page_view"),
            (1, "2024-03-02 09:00", "purchase"),
            (2, "2024-03-01 10:00", "purchase"),  # never views a page: in no cohort
            (3, "2024-03-02 10:00", "page_view"),
            (3, "2024-03-03 10:00", "page_view"),  # not a return event
            (4, "2024-03-01 10:00", "page_view"),
            (4, "2024-03-03 10:00", "purchase"),
            (9, "2024-03-04 12:00", "search"),
        ]
    )
    result = cells(log, period="day", periods=3, cohort_event="page_view")
    assert column(result, "2024-03-01", 1) == [2, 1, 1, 0]
    assert column(result, "2024-03-02", 1) == [1, 0, 0, None]
    assert column(result, "average", 0) == [3, 3, 3, 2]


def test_average_weights_by_cohort_size_over_observed_cells_only():
    log = log_of(
        [
            (1, "2024-03-01 10:00", "purchase"),
            (1, "2024-03-02 10:00", "purchase"),
            (1, "2024-03-03 10:00", "purchase"),
            (2, "2024-03-02 10:00", "purchase"),
            (3, "2024-03-02 10:00", "purchase"),
            (4, "2024-03-02 10:00", "purchase"),
            (2, "2024-03-03 10:00", "purchase"),
            (9, "2024-03-03 12:00", "page_view"),
        ]
    )
    result = cells(log, period="day", periods=3)
    # k = 1: cohort 03-01 keeps 1 of 1, cohort 03-02 keeps user 2 of {2, 3, 4}:
    # (1 + 1) / (1 + 3) = 50%, not the mean of 100% and 33%.
    assert result["2024-03-02", 1] == (3, 1, pytest.approx(1 / 3), True)
    assert result["average", 1] == (4, 2, 0.5, True)
    # k = 2 is observed only for cohort 03-01 (1 of 1, partial).
    assert result["average", 2] == (1, 1, 1.0, True)
    assert result["average", 3] == (0, None, None, None)
    assert result["average", 0] == (4, 4, 1.0, False)


def test_any_event_gives_new_and_active_users():
    log = log_of(
        [
            (1, "2024-03-01 10:00", "page_view"),
            (1, "2024-03-02 10:00", "search"),
            (2, "2024-03-02 10:00", "product_view"),
            (9, "2024-03-03 12:00", "page_view"),
        ]
    )
    result = cells(log, period="day", periods=2, cohort_event="any", return_event="any")
    assert column(result, "2024-03-01", 1) == [1, 1, 0]
    assert column(result, "2024-03-02", 1) == [1, 0, None]
    assert column(result, "2024-03-03", 1) == [1, None, None]


def test_machine_columns_and_types():
    log = log_of([(1, "2024-03-01 10:00", "purchase"), (1, "2024-03-09 10:00", "purchase")])
    table = retention(log, RetentionSpec()).table
    assert table.schema == pl.Schema(
        {
            "cohort": pl.String,
            "period": pl.Int64,
            "cohort_size": pl.Int64,
            "retained": pl.Int64,
            "rate": pl.Float64,
            "partial": pl.Boolean,
        }
    )
    assert table["cohort"].to_list() == ["2024-02-26"] * 9 + ["average"] * 9
    assert table["period"].to_list() == list(range(9)) * 2


def test_no_cohort_event_is_an_empty_table_and_a_warning():
    log = log_of([(1, "2024-03-01 10:00", "page_view")])
    spec, warnings = build_spec(log)
    assert warnings == ["cohort event 'purchase' does not occur in <frame>: no cohorts"]
    table = retention(log, spec).table
    assert table.height == 0 and table.columns[3] == "retained"


def test_event_names_resolve_through_aliases_and_typos_are_usage_errors():
    log = log_of([(1, "2024-03-01 10:00", "buy"), (1, "2024-03-02 10:00", "pv")])
    spec, warnings = build_spec(log, cohort_event="pv", return_event="buy")
    assert (spec.cohort_event, spec.return_event, warnings) == ("product_view", "purchase", [])
    with pytest.raises(UsageError, match=r"--return-event: 'purchse'.*did you mean 'purchase'"):
        build_spec(log, return_event="purchse")


# --- revenue ----------------------------------------------------------------------------------

REVENUE_COLUMNS = ("user_id", "ts", "event", "order_id", "price", "quantity")


def test_revenue_is_order_value_per_cohort_and_period():
    log = log_of(
        [
            (1, "2024-03-01 10:00", "purchase", "A", 10.0, 2),
            (1, "2024-03-01 10:01", "purchase", "A", 5.0, None),  # order A = 10 × 2 + 5 × 1
            (1, "2024-03-03 12:00", "purchase", "B", 7.0, 1),
            (2, "2024-03-02 09:00", "purchase", "C", 4.0, 1),
        ],
        REVENUE_COLUMNS,
    )
    result = cells(log, period="day", periods=2, value="revenue")
    assert column(result, "2024-03-01", 1) == [25.0, 0.0, 7.0]
    assert column(result, "2024-03-01", 3) == [False, False, True]
    assert column(result, "2024-03-02", 1) == [4.0, 0.0, None]
    assert result["average", 0] == (2, 29.0, 14.5, False)
    assert result["average", 1] == (2, 0.0, 0.0, True)
    assert result["average", 2] == (1, 7.0, 7.0, True)


def test_revenue_counts_orders_at_or_after_the_cohort_event():
    log = log_of(
        [
            (3, "2024-03-01 08:00", "purchase", "D", 100.0, 1),  # before the first page view
            (3, "2024-03-01 09:00", "page_view", None, None, None),
            (3, "2024-03-01 09:30", "purchase", "E", 8.0, 1),
            (3, "2024-03-02 09:00", "purchase", "F", 3.0, 1),
        ],
        REVENUE_COLUMNS,
    )
    result = cells(log, period="day", periods=1, value="revenue", cohort_event="page_view")
    assert column(result, "2024-03-01", 1) == [8.0, 3.0]


def test_revenue_without_order_ids_uses_session_orders_timed_at_their_first_row():
    log = log_of(
        [
            (1, "2024-03-01 23:55", "purchase", 10.0),
            (1, "2024-03-02 00:05", "purchase", 2.0),  # same session: the 03-01 order
            (1, "2024-03-02 12:00", "purchase", 5.0),
            (9, "2024-03-02 13:00", "page_view", None),
        ],
        ("user_id", "ts", "event", "price"),
    )
    result = cells(log, period="day", periods=1, value="revenue")
    assert column(result, "2024-03-01", 1) == [12.0, 5.0]


def test_revenue_needs_money_purchases_and_mode_on():
    no_money = log_of([(1, "2024-03-01 10:00", "purchase")])
    with pytest.raises(DataError, match="needs a price or revenue column"):
        build_spec(no_money, value="revenue")
    money = log_of([(1, "2024-03-01 10:00", "purchase", 1.0)], ("user_id", "ts", "event", "price"))
    with pytest.raises(UsageError, match="--return-event must be purchase"):
        build_spec(money, value="revenue", return_event="page_view")
    with pytest.raises(UsageError, match="--mode on"):
        build_spec(money, value="revenue", mode="unbounded")


# --- an independent calculation: DuckDB on the real exports -----------------------------------

STEP = {"day": "INTERVAL 1 DAY", "week": "INTERVAL 7 DAY", "month": "INTERVAL 1 MONTH"}


def duckdb_retention(
    source: str,
    period: str,
    periods: int,
    mode: str,
    tz: str = "UTC",
    cohort: str = "purchase",
    back: str = "purchase",
) -> pl.DataFrame:
    """SPEC §7 in SQL over ``source`` (a query with columns u, t TIMESTAMPTZ, ev)."""
    compare = "=" if mode == "on" else ">="
    sql = f"""
        WITH e AS ({source}),
        last AS (SELECT date_trunc('{period}', max(t)) AS lp FROM e),
        firsts AS (SELECT u, date_trunc('{period}', min(t)) AS c FROM e WHERE ev = '{cohort}'
                   GROUP BY u),
        rets AS (SELECT DISTINCT u, date_trunc('{period}', t) AS p FROM e WHERE ev = '{back}'),
        grid AS (SELECT c, k, count(*) AS n, c + k * {STEP[period]} AS target
                 FROM firsts, range(0, {periods + 1}) ks(k) GROUP BY c, k)
        SELECT strftime(g.c, '%Y-%m-%d') AS cohort, g.k AS period, g.n AS cohort_size,
            CASE WHEN g.target > lp THEN NULL WHEN g.k = 0 THEN g.n ELSE
                (SELECT count(*) FROM firsts f WHERE f.c = g.c AND EXISTS (
                    SELECT 1 FROM rets r WHERE r.u = f.u AND r.p {compare} g.target)) END
                AS retained,
            CASE WHEN g.target > lp THEN NULL ELSE g.target = lp END AS partial
        FROM grid g, last ORDER BY g.c, g.k
    """
    connection = duckdb.connect()
    connection.execute(f"SET TimeZone = '{tz}'")
    return connection.sql(sql).pl()


def with_average(cohorts: pl.DataFrame) -> pl.DataFrame:
    """The average row computed in plain Python from the cohort rows."""
    rows = cohorts.to_dicts()
    for k in sorted({r["period"] for r in rows}):
        used = [r for r in rows if r["period"] == k and r["retained"] is not None]
        size = sum(r["cohort_size"] for r in used)
        retained = sum(r["retained"] for r in used) if used else None
        partial = any(r["partial"] for r in used) if used else None
        rows.append(
            {
                "cohort": "average",
                "period": k,
                "cohort_size": size,
                "retained": retained,
                "partial": partial,
            }
        )
    return pl.DataFrame(rows).with_columns(
        pl.when(pl.col("cohort_size") > 0)
        .then(pl.col("retained") / pl.col("cohort_size"))
        .alias("rate")
    )


def assert_same(ours: pl.DataFrame, theirs: pl.DataFrame) -> None:
    expected = with_average(theirs).select(ours.columns).cast(ours.schema)  # type: ignore[arg-type]
    assert ours.drop("rate").equals(expected.drop("rate"))
    assert ours["rate"].to_list() == pytest.approx(expected["rate"].to_list(), nan_ok=True)


TAOBAO_SQL = (
    f"SELECT user_id AS u, to_timestamp(timestamp) AS t, CASE behavior_type "
    f"WHEN 'buy' THEN 'purchase' WHEN 'pv' THEN 'product_view' ELSE behavior_type END "
    f"AS ev FROM read_csv('{TAOBAO}')"
)
JOURNEY_SQL = (
    f"SELECT household_id AS u, CAST(transaction_timestamp AS TIMESTAMP)::TIMESTAMPTZ "
    f"AS t, 'purchase' AS ev FROM read_parquet('{JOURNEY}')"
)
REES_SQL = f"SELECT user_id AS u, event_time AS t, event_type AS ev FROM read_parquet('{REES}')"


@pytest.mark.parametrize(
    ("mode", "tz", "cohort"),
    [
        ("on", "UTC", "purchase"),
        ("unbounded", "UTC", "purchase"),
        ("on", "Asia/Shanghai", "purchase"),
        ("on", "UTC", "pv"),
    ],
)
def test_taobao_daily_matches_duckdb(mode, tz, cohort):
    log = load_events([TAOBAO])
    spec, _ = build_spec(log, period="day", mode=mode, tz=tz, cohort_event=cohort)
    ours = retention(log, spec).table
    assert_same(ours, duckdb_retention(TAOBAO_SQL, "day", 8, mode, tz, spec.cohort_event))
    assert ours.filter(pl.col("retained").is_null()).height > 0  # the data ends: a triangle


@pytest.mark.parametrize(
    ("period", "mode"), [("week", "on"), ("month", "on"), ("month", "unbounded")]
)
def test_completejourney_matches_duckdb(period, mode):
    log = load_events([JOURNEY], LoadOptions(rows_are="purchase"))
    ours = retention(log, RetentionSpec(period=period, mode=mode)).table
    assert_same(ours, duckdb_retention(JOURNEY_SQL, period, 8, mode))
    cohorts = ours.filter((pl.col("cohort") != "average") & (pl.col("period") == 0))
    assert cohorts["cohort_size"].sum() == 2469  # every household bought something


def test_rees46_default_flags_match_duckdb():
    ours = retention(load_events([REES]), RetentionSpec()).table
    theirs = duckdb_retention(REES_SQL, "week", 8, "on")
    assert_same(ours, theirs)
    assert ours["cohort"].unique().sort().to_list() == ["2019-09-30", "average"]


def test_completejourney_revenue_matches_duckdb():
    log = load_events([JOURNEY], LoadOptions(rows_are="purchase"))
    ours = retention(log, RetentionSpec(period="month", value="revenue")).table
    sql = f"""
        WITH e AS ({JOURNEY_SQL.replace("'purchase' AS ev", "sales_value AS v")}),
        firsts AS (SELECT u, date_trunc('month', min(t)) AS c FROM e GROUP BY u)
        SELECT strftime(c, '%Y-%m-%d') AS cohort,
               datediff('month', c, date_trunc('month', t)) AS period, sum(v) AS revenue
        FROM e JOIN firsts USING (u) GROUP BY 1, 2 HAVING period <= 8
    """
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    theirs = connection.sql(sql).pl()
    observed = ours.filter((pl.col("cohort") != "average") & pl.col("revenue").is_not_null())
    joined = observed.join(theirs, on=["cohort", "period"], how="left").sort("cohort", "period")
    assert theirs.height == observed.filter(pl.col("revenue") > 0).height == 75
    assert joined["revenue"].to_list() == pytest.approx(
        joined["revenue_right"].fill_null(0).to_list()
    )


# --- the reference model, on random small logs ------------------------------------------------

EVENTS = ["page_view", "product_view", "purchase"]
ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"]
SETTINGS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
random_rows = st.lists(
    st.tuples(st.integers(1, 6), st.integers(0, 120 * 24 * 60), st.sampled_from(EVENTS)),
    min_size=1,
    max_size=40,
)
random_specs = st.fixed_dictionaries(
    {
        "period": st.sampled_from(["day", "week", "month"]),
        "periods": st.integers(1, 5),
        "mode": st.sampled_from(["on", "unbounded"]),
        "tz": st.sampled_from(ZONES),
        "cohort_event": st.sampled_from(EVENTS),
        "return_event": st.sampled_from(EVENTS),
    }
)
START = datetime(2024, 10, 20, tzinfo=UTC)


def random_log(rows: list[tuple[int, int, str]]) -> tuple[pl.DataFrame, list[Event]]:
    times = [START.timestamp() + minutes * 60 for _, minutes, _ in rows]
    frame = pl.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "ts": [datetime.fromtimestamp(t, UTC) for t in times],
            "event": [r[2] for r in rows],
        }
    )
    events = [
        Event(user=u, time=datetime.fromtimestamp(t, UTC), event=e, row=i)
        for i, ((u, _, e), t) in enumerate(zip(rows, times, strict=True))
    ]
    return frame, events


def rounded(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**row, "rate": None if row["rate"] is None else round(row["rate"], 12)} for row in rows
    ]


@SETTINGS
@given(random_rows, random_specs)
def test_matches_the_reference_model(rows, spec):
    frame, events = random_log(rows)
    ours = retention(load_frame(frame), RetentionSpec(**spec)).table
    assert rounded(ours.to_dicts()) == rounded(reference_retention(events, **spec))


@SETTINGS
@given(random_rows, random_specs, st.randoms(use_true_random=False))
def test_row_order_changes_nothing(rows, spec, rng):
    shuffled = rows[:]
    rng.shuffle(shuffled)
    first = retention(load_frame(random_log(rows)[0]), RetentionSpec(**spec)).table
    assert first.equals(retention(load_frame(random_log(shuffled)[0]), RetentionSpec(**spec)).table)


purchase_rows = st.lists(
    st.tuples(
        st.integers(1, 4),
        st.integers(0, 75),  # day
        st.integers(22 * 60, 26 * 60),  # minutes after the day's midnight: sessions across it
        st.sampled_from(["page_view", "purchase", "purchase"]),
        st.sampled_from([None, 1.5, 10.0]),
        st.sampled_from([None, "a", "b"]),
    ),
    min_size=1,
    max_size=30,
)


def reference_revenue(events: list[Event], spec: dict[str, Any]) -> dict[tuple[str, int], float]:
    """Order value per (cohort, k) from the reference model's orders (observed or not)."""
    zone = ZoneInfo(spec["tz"])
    firsts: dict[Any, datetime] = {}
    for e in sorted(events, key=lambda e: (e.time, e.row)):
        if e.event == spec["cohort_event"]:
            firsts.setdefault(e.user, e.time)
    revenue: dict[tuple[str, int], float] = defaultdict(float)
    for order in orders(
        events,
        has_session_column=False,
        has_order_column=True,
        has_price_column=True,
        has_revenue_column=False,
    ):
        if order.user not in firsts or order.time < firsts[order.user]:
            continue
        cohort = period_start(firsts[order.user], spec["period"], zone)
        placed = period_start(order.time, spec["period"], zone)
        for k in range(spec["periods"] + 1):
            if add_periods(cohort, k, spec["period"]) == placed:
                revenue[cohort.isoformat(), k] += order.value or 0.0
    return revenue


@SETTINGS
@given(purchase_rows, random_specs)
def test_revenue_matches_the_reference_orders(rows, spec):
    spec = {**spec, "mode": "on", "return_event": "purchase"}
    times = [START + timedelta(days=day, minutes=minute) for _, day, minute, *_ in rows]
    frame = pl.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "ts": times,
            "event": [r[3] for r in rows],
            "price": [r[4] for r in rows],
            "order_id": [r[5] for r in rows],
        },
        schema={
            "user_id": pl.Int64,
            "ts": pl.Datetime("us", "UTC"),
            "event": pl.String,
            "price": pl.Float64,
            "order_id": pl.String,
        },
    )
    events = [
        Event(user=r[0], time=t, event=r[3], row=i, price=r[4], order_id=r[5])
        for i, (r, t) in enumerate(zip(rows, times, strict=True))
    ]
    table = retention(load_frame(frame), RetentionSpec(value="revenue", **spec)).table
    expected = reference_revenue(events, spec)
    for row in table.filter(pl.col("cohort") != "average").iter_rows(named=True):
        if row["revenue"] is not None:
            key = (row["cohort"], row["period"])
            assert row["revenue"] == pytest.approx(expected.pop(key, 0.0))
    assert not expected  # nothing outside the observed cells


def test_taobao_matches_the_reference_model():
    log = load_events([TAOBAO])
    frame = log.frame.select("user", "time", "event", "row").collect()
    events = [Event(user=u, time=t, event=e, row=r) for u, t, e, r in frame.iter_rows()]
    for mode in ("on", "unbounded"):
        ours = retention(log, RetentionSpec(period="day", mode=mode)).table
        expected = reference_retention(events, period="day", mode=mode)
        assert rounded(ours.to_dicts()) == rounded(expected)


# --- the command line -------------------------------------------------------------------------


def run(*args: str, cwd: str | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "journeykit", "retention", *args],
        capture_output=True,
        env={**os.environ, "NO_COLOR": "1"},
        cwd=cwd,
        check=False,
    )


def test_cli_csv_equals_the_library_result():
    result = run(TAOBAO, "--period", "day", "--format", "csv")
    assert result.returncode == 0, result.stderr
    printed = pl.read_csv(io.BytesIO(result.stdout), schema_overrides={"partial": pl.Boolean})
    expected = retention(load_events([TAOBAO]), RetentionSpec(period="day")).table
    assert printed.drop("rate").equals(expected.drop("rate"))
    assert printed["rate"].to_list() == pytest.approx(expected["rate"].to_list(), abs=1e-6)
    assert b"\n2017-12-03,1,33,,,\n" in result.stdout  # unobserved: blank, never 0


def test_cli_table_is_a_triangle_with_partial_marks_and_the_average():
    result = run(JOURNEY, "--rows-are", "purchase", "--period", "month", "--format", "table")
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode()
    assert "Month 0" in text and "Month 8" in text and "average" in text
    assert "2017-12-01 │     6 │  100.0% │   0.0%* │" in text
    assert "partial: the data ends inside this month" in text


def test_cli_revenue_columns_and_money_decimals():
    result = run(JOURNEY, "--rows-are", "purchase", "--period", "month", "--value", "revenue")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    assert lines[0] == "cohort,period,cohort_size,revenue,revenue_per_user,partial"
    assert lines[1].startswith("2017-01-01,0,1982,") and lines[1].endswith(",false")
    assert all(len(cell.split(".")[1]) == 2 for cell in lines[1].split(",")[3:5])


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--cohort-event", "purchse"), 2, "did you mean 'purchase'"),
        (("--period", "year"), 2, "year"),
        (("--periods", "0"), 2, "--periods"),
        (("--tz", "Mars/Olympus"), 2, "unknown time zone"),
        (("--value", "revenue"), 1, "needs a price or revenue column"),
    ],
)
def test_cli_errors(args, code, message):
    result = run(TAOBAO, *args)
    assert result.returncode == code
    assert message in result.stderr.decode()
    assert b"Traceback" not in result.stderr


def test_cli_help_documents_every_option():
    helped = run("--help").stdout.decode()
    for option in (
        "--period",
        "--periods",
        "--cohort-event",
        "--return-event",
        "--mode",
        "--value",
        "--tz",
        "Examples",
    ):
        assert option in helped


def test_revenue_is_the_same_computed_in_chunks_of_users(monkeypatch):
    spec = RetentionSpec(period="day", periods=2, value="revenue")
    single = retention(load_events([REES]), spec).table
    monkeypatch.setenv("JOURNEYKIT_CHUNK_ROWS", "1000")
    chunked = retention(load_events([REES]), spec).table
    money = ["revenue", "revenue_per_user"]
    assert chunked.drop(money).equals(single.drop(money))
    assert chunked["revenue"].to_list() == pytest.approx(single["revenue"].to_list(), nan_ok=True)
    assert single["revenue"][0] == pytest.approx(59442.63)


def test_cli_without_cohorts_succeeds_with_a_warning():
    table = run(TAOBAO, "--cohort-event", "review", "--format", "table")
    assert table.returncode == 0
    assert "No user has a 'review' event: no cohorts." in table.stdout.decode()
    assert "cohort event 'review' does not occur" in table.stderr.decode()
    csv = run(TAOBAO, "--cohort-event", "review", "--quiet")
    assert (csv.returncode, csv.stdout, csv.stderr) == (
        0,
        b"cohort,period,cohort_size,retained,rate,partial\n",
        b"",
    )
