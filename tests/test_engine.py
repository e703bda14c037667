"""The sequence engine (``journeykit.engine``): its compiled kernels against their pure-Python
twins, against the independent reference of the SPEC (``tests/reference``) on random logs with
ties, repeated step names, null sessions, one-event units and text users; chunks against one
pass; memory bounded by the chunk size, not the log."""

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from tests.conftest import reference_events
from tests.reference.abandonment import abandonment as reference_abandonment
from tests.reference.stages import stages_by_session, stages_by_user
from tests.reference.summary import summary as reference_summary
from tests.test_funnel_reference import as_records
from tests.test_funnel_reference import expected as reference_funnel_rows

from journeykit.engine import stream
from journeykit.funnel import FunnelSpec, funnel
from journeykit.journey import (
    AbandonmentSpec,
    StagesSpec,
    SummarySpec,
    abandonment,
    stages,
    summary,
)
from journeykit.load.events import LoadOptions, load_frame
from journeykit.retention import RetentionSpec, retention

ROOT = Path(__file__).parent.parent
SAMPLE = str(ROOT / "data" / "samples" / "events.parquet")
START = datetime(2026, 1, 1, tzinfo=UTC)
EVENTS = ["page_view", "product_view", "add_to_cart", "checkout", "purchase", "review", "search"]
SETTINGS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# --- compiled kernels = their pure-Python twins (Numba's NUMBA_DISABLE_JIT) ------------------

TWIN_CASES = [
    ["funnel", SAMPLE],
    ["funnel", SAMPLE, "--order", "strict", "--by", "session"],
    ["funnel", SAMPLE, "--order", "any", "--breakdown", "channel", "--hold", "product_id"],
    ["stages", SAMPLE, "--by", "user"],
    ["abandonment", SAMPLE, "--breakdown", "device"],
    ["summary", SAMPLE, "--session-gap", "20m", "--session-col", "country"],
    ["retention", SAMPLE, "--value", "revenue"],
    ["paths", SAMPLE, "--after", "add_to_cart", "--collapse", "--by", "session"],
    ["paths", SAMPLE, "--before", "purchase", "--depth", "4"],
    ["paths", SAMPLE, "--dropped-at", "3", "--order", "any", "--collapse"],
    ["attribution", SAMPLE, "--lookback", "3d", "--half-life", "12h"],
    ["segments", SAMPLE, "--by", "rfm"],
]


@pytest.mark.parametrize("args", TWIN_CASES, ids=[" ".join(c[:1] + c[2:]) for c in TWIN_CASES])
def test_compiled_kernels_give_what_their_pure_python_twins_give(args):
    def run(**env: str) -> bytes:
        command = [sys.executable, "-W", "ignore", "-m", "journeykit", *args, "--format", "csv"]
        done = subprocess.run(command, capture_output=True, env={**os.environ, **env}, check=True)
        return done.stdout

    assert run(NUMBA_DISABLE_JIT="1") == run()


# --- random logs: ties, repeated steps, null sessions, one-event users, text users ---------------

logs = st.lists(
    st.tuples(
        st.integers(1, 5),  # user
        st.integers(0, 90),  # minute: many events share an instant
        st.sampled_from(EVENTS),
        st.sampled_from(["a", "b", None]),  # session value
        st.sampled_from(["ads", "seo", None]),  # channel
        st.sampled_from([None, 4.0, 10.0]),  # price
        st.sampled_from([None, "o1", "o2"]),  # order id
    ),
    min_size=1,
    max_size=45,
)
layouts = st.fixed_dictionaries(
    {"sessions": st.booleans(), "orders": st.booleans(), "text_users": st.booleans()}
)


def frame_of(rows: list[tuple], layout: dict[str, bool]) -> pl.DataFrame:
    user = [f"user {r[0]}" if layout["text_users"] else r[0] for r in rows]
    columns: dict[str, list[object]] = {
        "user_id": user,
        "ts": [START + timedelta(minutes=r[1]) for r in rows],
        "event": [r[2] for r in rows],
        "channel": [r[4] for r in rows],
        "price": [r[5] for r in rows],
    }
    if layout["sessions"]:
        columns["session_id"] = [r[3] for r in rows]
    if layout["orders"]:
        columns["order_id"] = [r[6] for r in rows]
    return pl.DataFrame(columns, schema_overrides={"price": pl.Float64})


def log_of(rows: list[tuple], layout: dict[str, bool]):
    return load_frame(frame_of(rows, layout), LoadOptions())


funnel_specs = st.fixed_dictionaries(
    {
        "steps": st.lists(st.sampled_from(EVENTS[:5]), min_size=2, max_size=4).map(tuple),
        "window": st.sampled_from([timedelta(minutes=m) for m in (0, 5, 45, 10_000)]),
        "by": st.sampled_from(["user", "session"]),
        "order": st.sampled_from(["ordered", "strict", "any"]),
        "breakdown": st.sampled_from([None, "channel"]),
        "hold": st.sampled_from([None, None, "channel"]),
    }
)


@SETTINGS
@given(logs, layouts, funnel_specs)
def test_funnels_match_the_reference(rows, layout, options):
    log = log_of(rows, layout)
    spec = FunnelSpec(**options)
    assert as_records(funnel(log, spec).table) == reference_funnel_rows(log, spec)


def _reference_options(log) -> dict[str, bool]:
    return {"has_session_column": log.has_sessions, "has_order_column": log.roles.has("order")}


def _matches(ours: pl.DataFrame, theirs: list[dict]) -> None:
    assert ours.columns == list(theirs[0])
    for mine, expected in zip(ours.iter_rows(named=True), theirs, strict=True):
        for name, value in expected.items():
            if isinstance(value, float):
                assert mine[name] == pytest.approx(value), name
            else:
                assert mine[name] == value, name


@SETTINGS
@given(logs, layouts)
def test_stages_match_the_reference(rows, layout):
    log = log_of(rows, layout)
    events, options = reference_events(log), _reference_options(log)
    result = stages(log, StagesSpec())
    _matches(result.sessions, stages_by_session(events, **options))
    _matches(result.users, stages_by_user(events, **options))


@SETTINGS
@given(logs, layouts, st.sampled_from([None, "channel"]))
def test_abandonment_matches_the_reference(rows, layout, breakdown):
    log = log_of(rows, layout)
    expected = reference_abandonment(
        reference_events(log),
        breakdown=breakdown,
        has_price_column=True,
        has_revenue_column=False,
        **_reference_options(log),
    )
    table = abandonment(log, AbandonmentSpec(breakdown=breakdown)).table
    if breakdown is not None and not expected:
        assert table.height == 0
        return
    _matches(table, expected)


@SETTINGS
@given(logs, layouts)
def test_summary_matches_the_reference(rows, layout):
    log = log_of(rows, layout)
    expected = reference_summary(
        reference_events(log),
        has_price_column=True,
        has_revenue_column=False,
        dropped_rows=0,
        **_reference_options(log),
    )
    _matches(summary(log, SummarySpec()).table, [expected])


# --- chunks of whole users = one pass ------------------------------------------------------------


def _everything(log) -> list[pl.DataFrame]:
    spec = FunnelSpec(steps=("product_view", "add_to_cart", "purchase"), breakdown="channel")
    return [
        funnel(log, spec).table,
        funnel(log, spec.model_copy(update={"by": "session", "order": "strict"})).table,
        stages(log, StagesSpec(by="user")).table,
        abandonment(log, AbandonmentSpec(breakdown="channel")).table,
        summary(log, SummarySpec()).table,
        retention(log, RetentionSpec(value="revenue")).table,
    ]


@settings(max_examples=30, deadline=None)
@given(logs, layouts)
def test_chunks_spilled_to_disk_give_what_one_pass_gives(rows, layout):
    log = log_of(rows, layout)
    whole = _everything(log)
    os.environ["JOURNEYKIT_CHUNK_ROWS"] = "4"
    try:
        chunked = _everything(log)
    finally:
        del os.environ["JOURNEYKIT_CHUNK_ROWS"]
    for one, other in zip(whole, chunked, strict=True):
        assert_frame_equal(one, other, check_exact=False, rel_tol=1e-12)


def test_a_log_larger_than_the_memory_budget_is_spilled_in_chunks(monkeypatch):
    """Past ``MEMORY_BYTES`` the batches go to files, and each chunk holds about
    ``CHUNK_BYTES`` of them: what is in memory at once follows the chunk size."""
    log = load_frame(pl.read_parquet(SAMPLE), LoadOptions())
    expected = [stages(log, StagesSpec(by="user")).table, summary(log, SummarySpec()).table]
    spilled, largest = [], []
    real_open, real_read = stream._Chunks._open_files, stream._Chunks.read

    def open_files(self: stream._Chunks) -> None:
        spilled.append(self.folder)
        real_open(self)

    def read(self: stream._Chunks, part: int) -> stream.Chunk:
        chunk = real_read(self, part)
        largest.append(sum(array.nbytes for array in chunk.values()))
        return chunk

    monkeypatch.setattr(stream, "MEMORY_BYTES", 64 * 2**10)
    monkeypatch.setattr(stream, "CHUNK_BYTES", 32 * 2**10)
    monkeypatch.setattr(stream, "BATCH_ROWS", 4096)
    monkeypatch.setattr(stream._Chunks, "_open_files", open_files)
    monkeypatch.setattr(stream._Chunks, "read", read)
    # Money sums of other chunks may differ in the last bits, never at the printed decimals.
    assert stages(log, StagesSpec(by="user")).table.equals(expected[0])
    assert_frame_equal(summary(log, SummarySpec()).table, expected[1], check_exact=False)
    assert spilled, "the batches stayed in memory"
    # 43,513 events in 64 or more chunks: no chunk holds more than a small part of them.
    assert len(largest) >= 64 * 2 and max(largest) < 4 * 32 * 2**10
