"""Segments against the independent reference of SPEC §16 (tests/reference/segments.py), on
random logs (gap sessions and a session column, order ids, money or not, --at) and real data."""

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import reference_events, shared
from tests.reference.segments import segments as reference_segments
from tests.reference.segments import users as reference_users

from journeykit.load.events import EventLog, LoadOptions, load_events, load_frame
from journeykit.segments import SegmentsSpec, segments

START = datetime(2026, 1, 1)
rows = st.lists(
    st.tuples(
        st.integers(1, 8),  # user
        st.integers(0, 6000),  # minute
        st.sampled_from(["page_view", "add_to_cart", "checkout", "purchase", "purchase"]),
        st.sampled_from(["s1", "s2", None]),  # session
        st.sampled_from([None, 5.0, 20.0, 0.1, 0.2]),  # price
        st.sampled_from([None, "o1", "o2"]),  # order id
    ),
    min_size=1,
    max_size=50,
)
ats = st.sampled_from([None, datetime(2026, 1, 3, tzinfo=UTC)])


def frame_of(data, *, sessions: bool, orders: bool, money: bool) -> pl.DataFrame:
    columns: dict[str, list] = {
        "user_id": [r[0] for r in data],
        "ts": [START + timedelta(minutes=r[1]) for r in data],
        "event": [r[2] for r in data],
    }
    if sessions:
        columns["session_id"] = [r[3] for r in data]
    if money:
        columns["price"] = [r[4] for r in data]
    if orders:
        columns["order_id"] = [r[5] for r in data]
    return pl.DataFrame(columns, schema_overrides={"price": pl.Float64})


def records(table: pl.DataFrame) -> list[dict]:
    return [
        {k: (round(v, 6) if isinstance(v, float) else v) for k, v in row.items()}
        for row in table.to_dicts()
    ]


def rounded(rows: list[dict]) -> list[dict]:
    return records(pl.DataFrame(rows, infer_schema_length=None)) if rows else []


def assert_matches(log: EventLog, by: str, at: datetime | None) -> None:
    result = segments(log, SegmentsSpec(by=by, at=at))
    options = {
        "at": at,
        "has_session_column": log.has_sessions,
        "has_order_column": log.roles.has("order"),
        "has_price_column": log.roles.has("price"),
        "has_revenue_column": log.roles.has("revenue"),
    }
    events = reference_events(log)
    assert records(result.table) == rounded(reference_segments(events, by=by, **options))
    ours = records(result.users.with_columns(pl.col(pl.Datetime).dt.replace_time_zone(None)))
    theirs = rounded(reference_users(events, **options))
    for row in theirs:  # the reference's times are aware UTC datetimes
        for key in ("first_event", "last_event", "first_order", "last_order"):
            if row[key] is not None:
                row[key] = row[key].replace(tzinfo=None)
    assert ours == theirs


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows, st.sampled_from(["lifecycle", "rfm"]), ats, st.booleans(), st.booleans(), st.booleans()
)
def test_segments_match_the_reference(data, by, at, sessions, orders, money):
    log = load_frame(frame_of(data, sessions=sessions, orders=orders, money=money), LoadOptions())
    assert_matches(log, by, at)


@pytest.mark.parametrize(
    ("path", "flags"),
    [
        (("rees46-2019oct-head", "events.parquet"), {}),
        (("completejourney", "transactions.parquet"), {"rows_are": "purchase"}),
    ],
)
def test_real_data_matches_the_reference(path, flags):
    log = load_events([shared(*path)], LoadOptions(**flags))
    assert_matches(log, "rfm", None)
