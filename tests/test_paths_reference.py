"""Paths and the journey map against the independent reference of SPEC §14 (tests/reference),
and their Hypothesis properties: counts add up, row order is free, CSV and Parquet agree."""

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import reference_events, shared
from tests.reference.paths import journey_map as reference_journey_map
from tests.reference.paths import paths as reference_paths
from tests.reference.paths import transitions as reference_transitions
from tests.test_funnel_properties import EVENTS, frame_of, rows

from journeykit.funnel import FunnelSpec
from journeykit.load.events import EventLog, LoadOptions, load_events, load_frame
from journeykit.paths import JourneyMapSpec, PathsSpec, journey_map, paths

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
SHAPES = {
    "depth": st.integers(1, 4),
    "top": st.integers(1, 6),
    "by": st.sampled_from(["user", "session"]),
    "collapse": st.booleans(),
}
anchored = st.fixed_dictionaries(
    {
        **SHAPES,
        "anchor": st.sampled_from(["add_to_cart", "product_view|search", "purchase", "checkout"]),
        "direction": st.sampled_from(["after", "before"]),
    }
)
funnels = st.fixed_dictionaries(
    {
        "steps": st.lists(st.sampled_from(EVENTS[:5]), min_size=2, max_size=4, unique=True),
        "window": st.sampled_from([timedelta(minutes=m) for m in (0, 5, 30, 120, 10_000)]),
        "order": st.sampled_from(["ordered", "strict", "any"]),
        "since": st.sampled_from([None, datetime(2026, 1, 1, 1, 40, tzinfo=UTC)]),
        "until": st.sampled_from([None, datetime(2026, 1, 1, 6, 40, tzinfo=UTC)]),
    }
)


def records(table: pl.DataFrame) -> list[dict]:
    return [
        {k: (round(v, 9) if isinstance(v, float) else v) for k, v in row.items()}
        for row in table.to_dicts()
    ]


def rounded(rows: list[dict]) -> list[dict]:
    return records(pl.DataFrame(rows, infer_schema_length=None)) if rows else []


def spec_of(options: dict, funnel: dict | None = None) -> PathsSpec:
    if funnel is None:
        return PathsSpec(**options)
    steps = FunnelSpec(**{**funnel, "steps": tuple(funnel["steps"])}, by=options["by"])
    shape = {k: v for k, v in options.items() if k != "dropped_at"}
    return PathsSpec(dropped_at=options["dropped_at"], funnel=steps, **shape)


def reference_options(log: EventLog, spec: PathsSpec) -> dict:
    shape = {"depth": spec.depth, "by": spec.by, "collapse": spec.collapse}
    shape |= {"has_session_column": log.has_sessions, "session_gap": spec.session_gap}
    if spec.funnel is None:
        return shape | {spec.direction: spec.anchor}
    funnel = spec.funnel
    return shape | {
        "dropped_at": spec.dropped_at,
        "steps": list(funnel.steps),
        "window": funnel.window,
        "order": funnel.order,
        "since": funnel.since,
        "until": funnel.until,
    }


def assert_matches_reference(log: EventLog, spec: PathsSpec) -> None:
    result = paths(log, spec)
    events = reference_events(log)
    options = reference_options(log, spec)
    assert records(result.table) == rounded(reference_paths(events, top=spec.top, **options))
    assert records(result.transitions) == rounded(reference_transitions(events, **options))


@SETTINGS
@given(rows, anchored)
def test_anchored_paths_match_the_reference(data, options):
    assert_matches_reference(load_frame(frame_of(data), LoadOptions()), spec_of(options))


@SETTINGS
@given(rows, st.fixed_dictionaries(SHAPES), funnels, st.integers(2, 4))
def test_dropped_at_paths_match_the_reference(data, options, funnel, k):
    k = min(k, len(funnel["steps"]))
    spec = spec_of({**options, "dropped_at": k}, funnel)
    assert_matches_reference(load_frame(frame_of(data), LoadOptions()), spec)


@SETTINGS
@given(rows, st.sampled_from([None, datetime(2026, 1, 1, 2, tzinfo=UTC)]))
def test_the_journey_map_matches_the_reference(data, since):
    log = load_frame(frame_of(data), LoadOptions())
    ours = journey_map(log, JourneyMapSpec(since=since)).table
    expected = reference_journey_map(reference_events(log), since=since)
    assert records(ours) == rounded(expected)


@pytest.mark.parametrize(
    ("path", "options"),
    [
        (
            ("rees46-2019oct-head", "events.parquet"),
            {"dropped_at": 2, "window": timedelta(minutes=30), "by": "session"},
        ),
        (("rees46-2019oct-head", "events.parquet"), {"anchor": "add_to_cart", "by": "session"}),
        (("taobao-userbehavior-slice", "events.csv.gz"), {"dropped_at": 2, "collapse": True}),
        (("taobao-userbehavior-slice", "events.csv.gz"), {"anchor": "purchase", "before": True}),
    ],
)
def test_real_data_matches_the_reference(path, options):
    log = load_events([shared(*path)])
    shape = {"collapse": options.get("collapse", False), "by": options.get("by", "user")}
    if "anchor" in options:
        direction = "before" if options.get("before") else "after"
        spec = PathsSpec(anchor=options["anchor"], direction=direction, **shape)
    else:
        steps = tuple(s for s in ("product_view", "add_to_cart", "purchase"))
        window = options.get("window", timedelta(days=7))
        funnel = FunnelSpec(steps=steps, window=window, by=shape["by"])
        spec = PathsSpec(dropped_at=options["dropped_at"], funnel=funnel, **shape)
    assert_matches_reference(log, spec)


def test_real_data_journey_map_matches_the_reference():
    log = load_events([shared("rees46-2019oct-head", "events.parquet")])
    expected = reference_journey_map(reference_events(log), has_session_column=True)
    assert records(journey_map(log, JourneyMapSpec()).table) == rounded(expected)


# --- properties ---------------------------------------------------------------------------------


def path_lengths(result) -> pl.DataFrame:
    """Units per path length (``(end)``/``(start)`` count as an element)."""
    cells = [f"at_{d}" for d in range(1, result.spec.depth + 1)]
    length = pl.sum_horizontal(pl.col(cells).is_not_null().cast(pl.Int64)).alias("length")
    return result.counts.group_by(length).agg(pl.col("units").sum())


@SETTINGS
@given(rows, anchored)
def test_path_counts_sum_to_the_anchored_units(data, options):
    log = load_frame(frame_of(data), LoadOptions())
    result = paths(log, spec_of(options))
    if options["by"] == "user":  # every user with an anchor event, once
        names = options["anchor"].split("|")
        users = log.frame.filter(pl.col("event").is_in(names)).select(pl.col("user").n_unique())
        assert result.anchored == users.collect().item()
    assert int(result.table["units"].sum()) == result.anchored
    if result.anchored:
        assert result.table["share"].sum() == pytest.approx(1.0)


@SETTINGS
@given(rows, anchored)
def test_transitions_at_depth_d_sum_to_units_with_paths_of_d_events(data, options):
    result = paths(load_frame(frame_of(data), LoadOptions()), spec_of(options))
    lengths = dict(path_lengths(result).iter_rows())
    per_depth = dict(result.transitions.group_by("depth").agg(pl.col("units").sum()).iter_rows())
    for d in range(1, result.spec.depth + 1):
        reaching = sum(units for length, units in lengths.items() if length >= d)
        assert per_depth.get(d, 0) == reaching


@SETTINGS
@given(rows, anchored, st.randoms(use_true_random=False))
def test_shuffling_rows_with_distinct_times_changes_nothing(data, options, rng):
    unique = list({(r[0], r[1]): r for r in data}.values())
    shuffled = unique[:]
    rng.shuffle(shuffled)
    spec = spec_of(options)
    first = paths(load_frame(frame_of(unique), LoadOptions()), spec)
    second = paths(load_frame(frame_of(shuffled), LoadOptions()), spec)
    assert first.table.equals(second.table)
    assert first.transitions.equals(second.transitions)
    maps = [
        journey_map(load_frame(frame_of(d), LoadOptions()), JourneyMapSpec()).table
        for d in (unique, shuffled)
    ]
    assert maps[0].equals(maps[1])


@settings(max_examples=25, deadline=None)
@given(rows, anchored)
def test_csv_and_parquet_give_the_same_output(data, options):
    import tempfile
    from pathlib import Path

    spec = spec_of(options)
    with tempfile.TemporaryDirectory() as folder:
        frame = frame_of(data)
        csv, parquet = Path(folder, "events.csv"), Path(folder, "events.parquet")
        frame.write_csv(csv)
        frame.write_parquet(parquet)
        results = [paths(load_events([str(p)]), spec) for p in (csv, parquet)]
        maps = [journey_map(load_events([str(p)]), JourneyMapSpec()).table for p in (csv, parquet)]
    assert results[0].table.equals(results[1].table)
    assert results[0].transitions.equals(results[1].transitions)
    assert maps[0].equals(maps[1])
