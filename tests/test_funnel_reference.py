"""The funnel against the independent pure-Python reference of SPEC §4 (tests/reference)."""

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import reference_events, shared
from tests.reference.funnel import funnel as reference_funnel
from tests.test_funnel_properties import EVENTS, frame_of, rows

from journeykit.funnel import FunnelSpec, funnel
from journeykit.load.events import LoadOptions, load_events, load_frame

specs = st.fixed_dictionaries(
    {
        "steps": st.lists(st.sampled_from(EVENTS[:5]), min_size=2, max_size=4).map(tuple),
        "window": st.sampled_from([timedelta(minutes=m) for m in (0, 3, 30, 120, 10_000)]),
        "by": st.sampled_from(["user", "session"]),
        "order": st.sampled_from(["ordered", "strict", "any"]),
        "breakdown": st.sampled_from([None, "channel"]),
        "hold": st.sampled_from([None, None, "channel"]),
        "complete_only": st.booleans(),
        "since": st.sampled_from([None, datetime(2026, 1, 1, 1, 40, tzinfo=UTC)]),
        "until": st.sampled_from([None, datetime(2026, 1, 1, 6, 40, tzinfo=UTC)]),
    }
)


def as_records(table: pl.DataFrame) -> list[dict]:
    return [
        {k: (round(v, 6) if isinstance(v, float) else v) for k, v in row.items()}
        for row in table.to_dicts()
    ]


def expected(log, spec: FunnelSpec) -> list[dict]:
    rows = reference_funnel(
        reference_events(log),
        list(spec.steps),
        window=spec.window,
        by=spec.by,
        order=spec.order,
        breakdown=spec.breakdown,
        hold=spec.hold,
        since=spec.since,
        until=spec.until,
        complete_only=spec.complete_only,
        has_session_column=log.has_sessions,
        gap=spec.session_gap,
    )
    return as_records(pl.DataFrame(rows, infer_schema_length=None)) if rows else []


@settings(max_examples=300, deadline=None)
@given(rows, specs)
def test_funnel_matches_the_reference(data, options):
    log = load_frame(frame_of(data), LoadOptions())
    spec = FunnelSpec(**options)
    ours = funnel(log, spec).table
    assert as_records(ours) == expected(log, spec)


@pytest.mark.parametrize(
    ("path", "options"),
    [
        (("rees46-2019oct-head", "events.csv.gz"), {}),
        (("rees46-2019oct-head", "events.parquet"), {"by": "session", "breakdown": "brand"}),
        (
            ("rees46-2019oct-head", "events.parquet"),
            {"order": "strict", "window": timedelta(hours=1)},
        ),
        (("taobao-userbehavior-slice", "events.csv.gz"), {"by": "session", "order": "any"}),
    ],
)
def test_real_data_matches_the_reference(path, options):
    log = load_events([shared(*path)])
    steps = tuple(s for s in ("product_view", "add_to_cart", "purchase") if s in log.profile.events)
    spec = FunnelSpec(steps=steps, **options)
    assert as_records(funnel(log, spec).table) == expected(log, spec)
