"""More funnel options (SPEC §13): one hand-computed log per rule, and exclusions against a plain
enumeration of every chain."""

import itertools
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import at, log_of

from journeykit.config import Config, FunnelConfig
from journeykit.funnel import funnel
from journeykit.funnel.spec import build_spec

ROOT = Path(__file__).parent.parent
SAMPLE = str(ROOT / "data" / "samples" / "events.parquet")
HOUR = timedelta(hours=1)


def table(
    rows, steps, columns=("user_id", "ts", "event"), window=None, order=None, **options
) -> pl.DataFrame:
    log = log_of(rows, columns)
    spec, _ = build_spec(
        log, Config(), steps=",".join(steps), name=None, window=window, by=None, order=order,
        **options,
    )  # fmt: skip
    return funnel(log, spec).table


def units(rows, steps, **options) -> list[int]:
    return table(rows, steps, **options)["units"].to_list()


# --- exclusions ---------------------------------------------------------------------------------


def test_an_exclusion_at_a_steps_instant_breaks_nothing():
    rows = [(1, at(0), "A"), (1, at(0), "X"), (1, at(5), "B"), (1, at(9), "X"), (1, at(9), "C")]
    assert units(rows, "ABC", exclude=["X"]) == [1, 1, 1]


def test_an_exclusion_between_steps_stops_the_chain_there():
    rows = [(1, at(0), "A"), (1, at(1), "B"), (1, at(2), "X"), (1, at(3), "C")]
    assert units(rows, "ABC", exclude=["X"]) == [1, 1, 0]
    assert units(rows, "ABC", exclude=["X@1-2"]) == [1, 1, 1]  # X is after B
    assert units(rows, "ABC") == [1, 1, 1]


def test_an_exclusion_before_the_range_is_irrelevant():
    rows = [(1, at(0), "A"), (1, at(1), "X"), (1, at(2), "B"), (1, at(3), "C")]
    assert units(rows, "ABC", exclude=["X@2-3"]) == [1, 1, 1]
    assert units(rows, "ABC", exclude=["X"]) == [1, 0, 0]


def test_a_later_first_step_avoids_the_exclusion():
    rows = [(1, at(0), "A"), (1, at(1), "X"), (1, at(2), "A"), (1, at(3), "B")]
    result = table(rows, "AB", exclude=["X"])
    assert result["units"].to_list() == [1, 1]
    # The chosen chain starts at the second A: one minute to B.
    assert result["median_seconds_from_previous"].to_list() == [None, 60.0]


def test_a_later_step_i_event_avoids_the_exclusion():
    # The earliest B (at 1) has an X before C; the later B (at 3) does not.
    rows = [
        (1, at(0), "A"), (1, at(1), "B"), (1, at(2), "X"), (1, at(3), "B"), (1, at(4), "C"),
    ]  # fmt: skip
    assert units(rows, "ABC", exclude=["X@2-3"]) == [1, 1, 1]
    assert table(rows, "ABC", exclude=["X@2-3"])["median_seconds_from_previous"][1] == 180.0


def test_two_exclusions():
    rows = [(1, at(0), "A"), (1, at(1), "B"), (1, at(2), "Y"), (1, at(3), "C")]
    # ``search`` is a canonical name absent from the data: it excludes nothing (a warning).
    assert units(rows, "ABC", exclude=["search", "Y@2-3"]) == [1, 1, 0]
    assert units(rows, "ABC", exclude=["search", "Y@1-2"]) == [1, 1, 1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--exclude", "search@3-2"], "1 <= i < j"),
        (["--exclude", "search", "--order", "strict"], "--exclude needs --order ordered"),
        (["--exclude", "search", "--order", "any"], "--exclude needs --order ordered"),
        (["--exclude", "serch"], "did you mean"),
        (["--attribution", "step:9"], "step:N with N from 1 to 5"),
        (["--percentiles", "50,101"], "from 0 to 100"),
    ],
)
def test_bad_options_are_usage_errors(args, message):
    result = subprocess.run(
        [sys.executable, "-m", "journeykit", "funnel", SAMPLE, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_exclusions_from_the_config():
    rows = [(1, at(0), "A"), (1, at(1), "X"), (1, at(2), "B"), (2, at(0), "C")]
    log = log_of(rows)
    config = Config(funnels={"f": FunnelConfig(steps=["A", ["B", "C"]], exclude=["X"])})
    spec, _ = build_spec(log, config, steps=None, name="f", window=None, by=None, order=None)
    assert spec.steps == ("A", "B|C") and spec.exclude == (("X", 1, 2),)
    assert funnel(log, spec).table["units"].to_list() == [1, 0]


# --- alternatives -------------------------------------------------------------------------------


def test_alternatives_match_either_event_and_show_both_names():
    rows = [(1, at(0), "A"), (1, at(1), "C"), (2, at(0), "A"), (2, at(1), "B")]
    result = table(rows, ["A", "B|C|B"])
    assert result["event"].to_list() == ["A", "B|C"]
    assert result["units"].to_list() == [2, 2]


# --- attribution --------------------------------------------------------------------------------

CHANNELS = ("user_id", "ts", "event", "channel")
TOUCHES = [
    (1, at(0), "A", "ads"), (1, at(5), "B", "mail"), (1, at(9), "C", "social"),
    (2, at(0), "A", "ads"), (2, at(5), "B", None),
    (3, at(0), "A", "mail"),
]  # fmt: skip


def by_channel(**options) -> dict[tuple[str, int], int]:
    result = table(TOUCHES, "ABC", CHANNELS, breakdown="channel", **options)
    return {(r["channel"], r["step"]): r["units"] for r in result.iter_rows(named=True)}


def test_attribution_first_last_and_step():
    assert by_channel()[("ads", 1)] == 2 and by_channel()[("mail", 1)] == 1
    last = by_channel(attribution="last")
    # User 1's last matched event is C (social), user 2's is B (null), user 3's is A (mail).
    assert (last[("social", 1)], last[("(none)", 1)], last[("mail", 1)]) == (1, 1, 1)
    step3 = by_channel(attribution="step:3")
    # Only user 1 reached step 3; the others fall in (none). Rows still sum to the total.
    assert (step3[("social", 1)], step3[("(none)", 1)]) == (1, 2)
    assert sum(v for (_, k), v in step3.items() if k == 1) == 3


# --- times --------------------------------------------------------------------------------------


def test_percentiles_and_times_from_the_first_step():
    rows = [
        (1, at(0), "A"), (1, at(1), "B"), (1, at(3), "C"),
        (2, at(0), "A"), (2, at(3), "B"),
    ]  # fmt: skip
    result = table(rows, "ABC", percentiles="25,50,50")
    assert result.columns[-2:] == ["p25_seconds_from_previous", "p50_seconds_from_previous"]
    b, c = result.row(1, named=True), result.row(2, named=True)
    # Gaps A→B: 60 and 180 s; p25 = 60 + 0.25·120 = 90, p50 = 120 (linear).
    assert (b["p25_seconds_from_previous"], b["p50_seconds_from_previous"]) == (90.0, 120.0)
    assert c["p25_seconds_from_previous"] == 120.0  # one value: every percentile is it
    assert (c["median_seconds_from_first"], c["mean_seconds_from_first"]) == (180.0, 180.0)
    assert b["mean_seconds_from_first"] == 120.0
    assert result.row(0, named=True)["median_seconds_from_first"] is None
    fractional = table(rows, "AB", percentiles="99.9")
    assert "p99.9_seconds_from_previous" in fractional.columns


# --- exclusions against every chain -------------------------------------------------------------


def brute_force(events, steps, exclusions, window):
    """Level and chosen chain per user by enumerating every chain of distinct events (SPEC §4,
    §13): times non-decreasing, within the window, unbroken by every exclusion."""
    results = {}
    for user in sorted({u for u, _, _, _ in events}):
        seq = sorted((t, row, name) for u, t, name, row in events if u == user)
        best, chosen = 0, None
        for start in (e for e in seq if e[2] in steps[0].split("|")):
            chains = [[start]]
            frontier = [[start]]
            for step in steps[1:]:
                frontier = [
                    [*chain, e]
                    for chain in frontier
                    for e in seq
                    if e[2] in step.split("|") and e not in chain and e[0] >= chain[-1][0]
                    and e[0] - start[0] <= window
                ]  # fmt: skip
                chains += frontier
            for chain in chains:
                if not _unbroken(chain, seq, exclusions):
                    continue
                key = [(t, row) for t, row, _ in chain]
                if len(chain) > best or (len(chain) == best and key < chosen):
                    best, chosen = len(chain), key
        if best:
            results[user] = (best, chosen)
    return results


def assert_equals_enumeration(events, steps, exclusions, window):
    """The funnel with ``exclusions`` ((names, i, j), ``C|X`` for either) equals the
    enumeration of every chain: units per step and the chosen chains' mean total time."""
    events = [*events, *((9, 0, name) for name in "ABCX")]  # every name occurs (user 9)
    rows = [(u, at(t), name) for u, t, name in events]
    indexed = [(u, t, name, row) for row, (u, t, name) in enumerate(events)]
    expected = brute_force(indexed, steps, _split(exclusions), window)
    texts = [f"{n}@{i}-{j}" for n, i, j in exclusions]
    result = table(rows, steps, exclude=texts, window=f"{window}m")
    levels = [sum(1 for lv, _ in expected.values() if lv >= k) for k in range(1, len(steps) + 1)]
    assert result["units"].to_list() == levels
    # The chosen chains' total time to convert (from the first step) is the enumeration's.
    for k in range(2, len(steps) + 1):
        totals = [chain[k - 1][0] - chain[0][0] for lv, chain in expected.values() if lv >= k]
        mean = result.row(k - 1, named=True)["mean_seconds_from_first"]
        assert mean == (pytest.approx(60 * sum(totals) / len(totals)) if totals else None)


def _unbroken(chain, seq, exclusions):
    length = len(chain)
    for name, i, j in exclusions:
        if length <= i:
            continue
        low, high = chain[i - 1][0], chain[min(j, length) - 1][0]
        if any(x[2] == name and x not in chain and low < x[0] < high for x in seq):
            return False
    return True


EVENT = st.tuples(st.integers(1, 3), st.integers(0, 12), st.sampled_from("ABCX"))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(EVENT, min_size=1, max_size=14),
    st.sampled_from(["AB", "ABC", "ABA", "ABB", "AAB", "ACB"]),
    st.lists(
        st.tuples(st.just("X"), st.integers(1, 3), st.integers(2, 3)).filter(lambda e: e[1] < e[2]),
        min_size=1,
        max_size=2,
    ),
    st.sampled_from([3, 6, 100]),
)
def test_exclusions_equal_every_chain_enumerated(events, steps, exclusions, window):
    exclusions = [(n, i, min(j, len(steps))) for n, i, j in exclusions if i < len(steps)]
    if not exclusions:
        return
    assert_equals_enumeration(events, list(steps), exclusions, window)


def test_no_new_option_keeps_every_chain_the_greedy_one():
    # Without exclusions the enumeration's level equals the greedy funnel's on a tie-heavy log.
    events = [(1, 0, "A", 0), (1, 0, "B", 1), (1, 0, "A", 2), (1, 1, "B", 3), (2, 2, "B", 4)]
    rows = [(u, at(t), name) for u, t, name, _ in events]
    expected = brute_force(events, list("AB"), [], 100)
    assert units(rows, "AB") == [len(expected), sum(lv >= 2 for lv, _ in expected.values())]
    assert list(itertools.islice(expected, 1)) == [1]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(EVENT, min_size=1, max_size=12),
    st.sampled_from([["A", "B|C", "C"], ["A|B", "B", "C|A"], ["A", "A|B", "B"], ["C|A", "A|B"]]),
    st.sampled_from([3, 100]),
)
def test_overlapping_alternatives_find_the_longest_chain(events, steps, window):
    assert_equals_enumeration(events, steps, [], window)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(EVENT, min_size=1, max_size=14),
    st.sampled_from(["ordered", "strict", "any"]),
)
def test_alternatives_equal_a_log_with_the_names_merged(events, order):
    events = [*events, *((9, 0, name) for name in "ABCX")]
    rows = [(u, at(t), name) for u, t, name in events]
    merged = [(u, at(t), "X" if name == "C" else name) for u, t, name in events]
    steps = ["A", "C|X", "B"]
    mine = table(rows, steps, order=order).drop("event")
    theirs = table(merged, ["A", "X", "B"], order=order).drop("event")
    assert mine.equals(theirs)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(EVENT, min_size=1, max_size=10),
    st.sampled_from([["A", "B", "C"], ["A", "B|C", "C"], ["A", "A", "B"], ["A|X", "B"]]),
    st.lists(
        st.tuples(st.sampled_from(["X", "B", "A", "C|X"]), st.integers(1, 2), st.integers(2, 3)),
        min_size=1,
        max_size=2,
    ),
    st.sampled_from([3, 100]),
)
def test_exclusions_of_step_events_equal_every_chain_enumerated(events, steps, exclusions, window):
    exclusions = [(n, i, min(j, len(steps))) for n, i, j in exclusions if i < min(j, len(steps))]
    if not exclusions:
        return
    assert_equals_enumeration(events, steps, exclusions, window)


def _split(exclusions):
    """``C|X`` exclusions as one exclusion per name (the same rule: any of the names breaks)."""
    return [(name, i, j) for names, i, j in exclusions for name in names.split("|")]


def test_an_exclusion_of_a_step_event_spares_the_chains_own():
    # Excluding B between steps 1 and 3: the chain's own B does not break it, another one does.
    own = [(1, at(0), "A"), (1, at(1), "B"), (1, at(2), "C")]
    other = [*own, (1, at(1.5), "B")]
    assert units(own, "ABC", exclude=["B@1-3"]) == [1, 1, 1]
    assert units(other, "ABC", exclude=["B@1-3"]) == [1, 1, 0]


def test_an_alternative_that_is_another_steps_name():
    # A, then B and C at one instant (C first in the file): B|C takes B so that C can be step 3.
    rows = [(1, at(0), "A"), (1, at(1), "C"), (1, at(1), "B")]
    assert units(rows, ["A", "B|C", "C"]) == [1, 1, 1]
    later = [(1, at(0), "A"), (1, at(1), "C"), (1, at(2), "B")]
    assert units(later, ["A", "B|C", "C"]) == [1, 1, 0]
    assert units(later, ["A", "B|C", "C"], order="any") == [1, 1, 1]
