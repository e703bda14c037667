"""Hypothesis properties of the funnel (STYLE: counts never increase, order-free, additive)."""

from datetime import datetime, timedelta

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeykit.funnel import FunnelSpec, funnel
from journeykit.load.events import LoadOptions, load_events, load_frame

EVENTS = ["page_view", "product_view", "add_to_cart", "checkout", "purchase", "search"]
START = datetime(2026, 1, 1)
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

rows = st.lists(
    st.tuples(
        st.integers(1, 6),
        st.integers(0, 600),
        st.sampled_from(EVENTS),
        st.sampled_from(["ads", "seo", None]),
    ),
    min_size=1,
    max_size=40,
)
specs = st.builds(
    FunnelSpec,
    steps=st.lists(st.sampled_from(EVENTS[:5]), min_size=2, max_size=4).map(tuple),
    window=st.sampled_from([timedelta(minutes=m) for m in (0, 5, 30, 120, 10_000)]),
    by=st.sampled_from(["user", "session"]),
    order=st.sampled_from(["ordered", "strict", "any"]),
    breakdown=st.sampled_from([None, "channel"]),
)


def frame_of(data: list[tuple[int, int, str, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "user_id": [r[0] for r in data],
            "ts": [START + timedelta(minutes=r[1]) for r in data],
            "event": [r[2] for r in data],
            "channel": [r[3] for r in data],
        },
        schema={
            "user_id": pl.Int64,
            "ts": pl.Datetime("us"),
            "event": pl.String,
            "channel": pl.String,
        },
    )


def table(frame: pl.DataFrame, spec: FunnelSpec) -> pl.DataFrame:
    return funnel(load_frame(frame, LoadOptions()), spec).table


@SETTINGS
@given(rows, specs)
def test_counts_never_increase_along_the_steps(data, spec):
    result = table(frame_of(data), spec)
    groups = result.partition_by(spec.breakdown) if spec.breakdown else [result]
    for group in [*groups, result.group_by("step").agg(pl.col("units").sum())]:
        units = group.sort("step")["units"].to_list()
        assert units == sorted(units, reverse=True)


@SETTINGS
@given(rows, specs, st.randoms(use_true_random=False))
def test_shuffling_rows_with_distinct_times_changes_nothing(data, spec, rng):
    # Row order only breaks ties, so make timestamps distinct per user before shuffling.
    unique = list({(r[0], r[1]): r for r in data}.values())
    shuffled = unique[:]
    rng.shuffle(shuffled)
    assert table(frame_of(unique), spec).equals(table(frame_of(shuffled), spec))


@SETTINGS
@given(rows, rows, specs)
def test_disjoint_user_sets_add_up(first, second, spec):
    second = [(user + 100, *rest) for user, *rest in second]
    # Same data end for all three runs: in_progress depends on the last timestamp.
    end = (1, 10_000, "zz_end", None)
    spec = spec.model_copy(update={"breakdown": None})
    a, b = table(frame_of([*first, end]), spec), table(frame_of([*second, end]), spec)
    both = table(frame_of([*first, *second, end]), spec)
    assert both["units"].to_list() == [x + y for x, y in zip(a["units"], b["units"], strict=True)]
    assert both["in_progress"].to_list() == [
        x + y for x, y in zip(a["in_progress"], b["in_progress"], strict=True)
    ]


@SETTINGS
@given(rows, specs)
def test_chunked_computation_equals_single_pass(monkeypatch, data, spec):
    frame = frame_of(data)
    single = table(frame, spec)
    monkeypatch.setenv("JOURNEYKIT_CHUNK_ROWS", "7")
    assert table(frame, spec).equals(single)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows, specs)
def test_csv_and_parquet_give_identical_output(tmp_path_factory, data, spec):
    folder = tmp_path_factory.mktemp("formats")
    frame = frame_of(data)
    frame.write_csv(folder / "events.csv")
    frame.write_parquet(folder / "events.parquet")
    from_csv = funnel(load_events([str(folder / "events.csv")]), spec).table
    from_parquet = funnel(load_events([str(folder / "events.parquet")]), spec).table
    assert from_csv.equals(from_parquet)
