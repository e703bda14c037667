"""Comparing segments (SPEC §12): one hand-computed log per rule; compare's rates are the
funnel breakdown's."""

import math
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import at, log_of

from journeykit.compare import CompareSpec, compare
from journeykit.funnel import FunnelSpec, funnel
from journeykit.stats import holm, normal_quantile, pooled_z, two_sided_p, wilson

ROOT = Path(__file__).parent.parent
SAMPLE = str(ROOT / "data" / "samples" / "events.parquet")
COLUMNS = ("user_id", "ts", "event", "variant")
Z95 = normal_quantile(0.975)


def shop(groups: dict[str | None, tuple[int, int]]) -> list[tuple]:
    """Per segment (n, x): n users view, x of them also buy."""
    rows, user = [], 0
    for label, (n, x) in groups.items():
        for i in range(n):
            user += 1
            rows.append((user, at(i), "product_view", label))
            if i < x:
                rows.append((user, at(i + 0.5), "purchase", label))
    return rows


def run(groups, **spec):
    log = log_of(shop(groups), COLUMNS)
    spec.setdefault("funnel", FunnelSpec(steps=("product_view", "purchase")))
    return compare(log, CompareSpec(segment="variant", **spec))


def test_rates_intervals_difference_lift_and_p_by_hand():
    result = run({"A": (100, 30), "B": (50, 20)})
    assert result.control == "A"  # the larger
    control, b = result.table.rows(named=True)
    assert (control["segment"], control["control"], control["diff"]) == ("A", True, None)
    assert (b["n"], b["x"], b["rate"]) == (50, 20, 0.4)
    centre = 0.4 + Z95**2 / 100
    spread = Z95 * math.sqrt(0.4 * 0.6 / 50 + Z95**2 / (4 * 2500))
    assert b["rate_low"] == pytest.approx((centre - spread) / (1 + Z95**2 / 50))
    assert b["rate_high"] == pytest.approx((centre + spread) / (1 + Z95**2 / 50))
    assert b["diff"] == pytest.approx(0.1)
    half = Z95 * math.sqrt(0.4 * 0.6 / 50 + 0.3 * 0.7 / 100)
    assert (b["diff_low"], b["diff_high"]) == pytest.approx((0.1 - half, 0.1 + half))
    assert b["relative_lift"] == pytest.approx(0.4 / 0.3 - 1)
    # pooled: p̂ = 50/150; z = 0.1 / sqrt(1/3 · 2/3 · (1/50 + 1/100)) = 1.2247...
    z = 0.1 / math.sqrt(1 / 3 * 2 / 3 * (1 / 50 + 1 / 100))
    assert b["p_value"] == pytest.approx(math.erfc(z / math.sqrt(2)))
    assert b["significant"] is False
    assert result.table.columns == [
        "segment", "step", "event", "n", "x", "rate", "rate_low", "rate_high", "diff",
        "diff_low", "diff_high", "relative_lift", "p_value", "significant", "control",
    ]  # fmt: skip


def test_wilson_at_zero_and_at_n():
    low, high = wilson(0, 40, Z95)
    assert low == 0.0 and high == pytest.approx(Z95**2 / 40 / (1 + Z95**2 / 40))
    low, high = wilson(40, 40, Z95)
    assert high == 1.0 and low == pytest.approx(1 / (1 + Z95**2 / 40))


def test_holm_stops_at_the_first_failure():
    # m = 3: 0.01 ≤ 0.05/3; 0.03 > 0.05/2 stops, so 0.04 (≤ 0.05) is not significant either.
    assert holm([0.04, 0.01, 0.03], 0.05) == [False, True, False]
    assert holm([0.01, 0.02, 0.04], 0.05) == [True, True, True]
    assert holm([None, 0.001], 0.05) == [None, True]


def test_the_control_by_size_breaks_ties_by_code_point():
    assert run({"9": (40, 10), "10": (40, 20)}).control == "10"
    assert run({"A": (40, 10), None: (40, 20)}).control == "(none)"


def test_control_first_then_n_descending_then_label():
    result = run({"c": (40, 1), "b": (40, 2), "a": (60, 3), "z": (35, 4)}, control="b")
    assert result.table["segment"].to_list() == ["b", "a", "c", "z"]


def test_fewer_than_30_leaves_p_and_significant_null():
    table = run({"A": (100, 30), "B": (29, 20)}).table
    b = table.row(1, named=True)
    assert b["p_value"] is None and b["significant"] is None and b["diff"] is not None


def test_a_huge_lift_is_significant():
    b = run({"A": (200, 20), "B": (200, 120)}).table.row(1, named=True)
    assert b["significant"] is True
    assert b["p_value"] == pytest.approx(two_sided_p(pooled_z(120, 200, 20, 200)))


def test_other_metrics_by_hand():
    rows = [
        # user 1 (A): a bounce, then a session with an abandoned cart; one order later.
        (1, at(0), "page_view", "A"),
        (1, at(60), "add_to_cart", "A"),
        (1, at(61), "product_view", "A"),
        (1, at(200), "purchase", "A"),
        (1, at(300), "purchase", "B"),  # user 1's second order (its first event says A)
        # user 2 (B): a cart that converts, one order.
        (2, at(0), "add_to_cart", "B"),
        (2, at(1), "purchase", "B"),
    ]
    log = log_of(rows, COLUMNS)

    def counts(metric):
        table = compare(log, CompareSpec(segment="variant", metric=metric)).table
        return {r["segment"]: (r["n"], r["x"]) for r in table.iter_rows(named=True)}

    assert "step" not in compare(log, CompareSpec(segment="variant", metric="bounce")).table.columns
    # Sessions: u1 {0}, {60, 61}, {200}, {300}; u2 {0, 1}. Bounces: u1's 0, 200 and 300.
    assert counts("bounce") == {"A": (3, 2), "B": (2, 1)}
    assert counts("abandonment") == {"A": (1, 1), "B": (1, 0)}
    assert counts("repeat") == {"A": (1, 1), "B": (1, 0)}


def test_sample_ratio_mismatch_warns():
    result = run({"A": (300, 30), "B": (100, 10)}, expected_split=(("A", 50), ("B", 50)))
    assert len(result.warnings) == 1 and "A=75.0%, B=25.0%" in result.warnings[0]
    assert run({"A": (52, 5), "B": (48, 5)}, expected_split=(("A", 1), ("B", 1))).warnings == ()
    absent = run({"A": (100, 5)}, expected_split=(("A", 1), ("B", 1)))
    assert "B=0.0%" in absent.warnings[0]


@settings(max_examples=20, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["A", "B", "C"]),
        st.tuples(st.integers(1, 50), st.integers(0, 50)),
        min_size=1,
    )
)
def test_rates_equal_the_funnel_breakdown(groups):
    groups = {k: (n, min(x, n)) for k, (n, x) in groups.items()}
    log = log_of(shop(groups), COLUMNS)
    steps = FunnelSpec(steps=("product_view", "purchase"), breakdown="variant")
    expected = funnel(log, steps).table.filter(pl.col("step") == 2)
    table = compare(log, CompareSpec(segment="variant", funnel=steps)).table
    rates = dict(table.select("segment", "rate").rows())
    assert rates == pytest.approx(dict(expected.select("variant", "conversion_overall").rows()))


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "journeykit", "compare", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )


def test_unknown_control_is_a_usage_error_with_a_suggestion():
    result = cli(SAMPLE, "--segment", "variant", "--control", "b")
    assert result.returncode == 2
    assert "--control: no segment 'b'" in result.stderr and "Traceback" not in result.stderr


def test_unknown_segment_column_is_a_data_error_and_funnel_options_need_conversion():
    unknown = cli(SAMPLE, "--segment", "varient")
    assert unknown.returncode == 1 and "did you mean 'variant'" in unknown.stderr
    misplaced = cli(SAMPLE, "--segment", "variant", "--metric", "bounce", "--window", "1d")
    assert misplaced.returncode == 2 and "--window" in misplaced.stderr


def test_the_sample_finds_the_planted_lift_and_p_values_print_with_6g():
    result = cli(
        SAMPLE,
        "--segment",
        "variant",
        "--steps",
        "checkout,purchase",
        "--control",
        "A",
        "--format",
        "csv",
    )
    assert result.returncode == 0, result.stderr
    table = pl.read_csv(result.stdout.encode(), infer_schema_length=0)
    b = table.row(1, named=True)
    # The generator's true difference (examples/README.md): +0.051 (0.830 → 0.882).
    assert float(b["diff_low"]) < 0.051 < float(b["diff_high"])
    assert b["p_value"] == f"{float(b['p_value']):.6g}"
    srm = cli(SAMPLE, "--segment", "variant", "--expected-split", "A=70,B=30", "--format", "csv")
    assert srm.returncode == 0 and "sample ratio mismatch" in srm.stderr
