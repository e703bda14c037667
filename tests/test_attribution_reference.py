"""Attribution against the independent reference of SPEC §15 (tests/reference/attribution.py),
on random logs (gap sessions and a session column, order ids, since/until) and on real data."""

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import reference_events, shared
from tests.reference.attribution import attribution as reference_attribution

from journeykit.attribution import AttributionSpec, attribution
from journeykit.load.events import EventLog, LoadOptions, load_events, load_frame

START = datetime(2026, 1, 1)
rows = st.lists(
    st.tuples(
        st.integers(1, 5),  # user
        st.integers(0, 4000),  # minute
        st.sampled_from(["page_view", "product_view", "purchase", "purchase"]),
        st.sampled_from(["ads", "seo", "Direct", "(none)", None]),  # channel
        st.sampled_from(["s1", "s2", "s3", None]),  # session
        st.sampled_from([None, 5.0, 20.0]),  # price
        st.sampled_from([None, "o1", "o2"]),  # order id
    ),
    min_size=1,
    max_size=40,
)
specs = st.fixed_dictionaries(
    {
        "lookback": st.sampled_from([timedelta(minutes=m) for m in (0, 30, 600, 100_000)]),
        "half_life": st.sampled_from([timedelta(hours=1), timedelta(days=7)]),
        "since": st.sampled_from([None, datetime(2026, 1, 2, tzinfo=UTC)]),
        "until": st.sampled_from([None, datetime(2026, 1, 3, 6, tzinfo=UTC)]),
    }
)


def frame_of(data, *, sessions: bool, orders: bool) -> pl.DataFrame:
    columns = {
        "user_id": [r[0] for r in data],
        "ts": [START + timedelta(minutes=r[1]) for r in data],
        "event": [r[2] for r in data],
        "channel": [r[3] for r in data],
        "price": [r[5] for r in data],
    }
    if sessions:
        columns["session_id"] = [r[4] for r in data]
    if orders:
        columns["order_id"] = [r[6] for r in data]
    return pl.DataFrame(columns, schema_overrides={"channel": pl.String, "price": pl.Float64})


def records(table: pl.DataFrame) -> list[dict]:
    return [
        {k: (round(v, 6) if isinstance(v, float) else v) for k, v in row.items()}
        for row in table.to_dicts()
    ]


def assert_matches(log: EventLog, spec: AttributionSpec) -> None:
    ours = attribution(log, spec).table
    expected = reference_attribution(
        reference_events(log),
        touch=spec.touch,
        lookback=spec.lookback,
        half_life=spec.half_life,
        since=spec.since,
        until=spec.until,
        has_session_column=log.has_sessions,
        has_order_column=log.roles.has("order"),
        has_price_column=log.roles.has("price"),
        has_revenue_column=log.roles.has("revenue"),
    )
    rounded = records(pl.DataFrame(expected, infer_schema_length=None)) if expected else []
    assert records(ours) == rounded


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows, specs, st.booleans(), st.booleans())
def test_attribution_matches_the_reference(data, options, sessions, orders):
    log = load_frame(frame_of(data, sessions=sessions, orders=orders), LoadOptions())
    assert_matches(log, AttributionSpec(touch="channel", **options))


@pytest.mark.parametrize(
    ("path", "touch"),
    [
        (("rees46-2019oct-head", "events.parquet"), "category_code"),
        (("rees46-2019oct-head", "events.parquet"), "brand"),
    ],
)
def test_real_data_matches_the_reference(path, touch):
    log = load_events([shared(*path)])
    assert_matches(log, AttributionSpec(touch=log.column(touch, option="--touch")))


def test_the_sample_matches_the_reference():
    log = load_events(["data/samples/events.parquet"])
    assert_matches(log, AttributionSpec(touch="channel", lookback=timedelta(days=14)))
