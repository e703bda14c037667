"""``compare(log, spec)``: per segment and step, x out of n, against the control segment.

The counts come from the commands that define them (the funnel with ``--breakdown``, the
abandonment breakdown, session facts for bounces and repeat customers), so compare's rates are
theirs; this module adds Wilson intervals, the difference against the control with its
interval, the relative lift, pooled two-sided p-values and Holm–Bonferroni (``journeykit.stats``).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from journeykit.errors import UsageError, did_you_mean
from journeykit.funnel import FunnelSpec, funnel
from journeykit.journey import AbandonmentSpec, abandonment
from journeykit.journey.spec import Period
from journeykit.journey.units import UnitOptions, session_facts
from journeykit.load.events import EventLog
from journeykit.stats import MIN_N, chi_square_p, holm, normal_quantile, pooled_z, two_sided_p
from journeykit.stats import wilson as wilson_interval

Metric = Literal["conversion", "abandonment", "bounce", "repeat"]
NONE_LABEL = "(none)"
SRM_ALPHA = 0.001
COLUMNS = [
    "segment",
    "step",
    "event",
    "n",
    "x",
    "rate",
    "rate_low",
    "rate_high",
    "diff",
    "diff_low",
    "diff_high",
    "relative_lift",
    "p_value",
    "significant",
    "control",
]


class CompareSpec(BaseModel):
    """What to compare: ``segment`` (a normalized column name) under ``metric``; ``funnel``
    holds the §4 options of ``conversion`` (its breakdown is the segment)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    segment: str
    metric: Metric = "conversion"
    control: str | None = None
    alpha: float = Field(default=0.05, gt=0, lt=1)
    expected_split: tuple[tuple[str, float], ...] | None = None
    funnel: FunnelSpec | None = None
    since: datetime | None = None
    until: datetime | None = None
    session_gap: timedelta = timedelta(minutes=30)


@dataclass(frozen=True)
class CompareResult:
    table: pl.DataFrame
    spec: CompareSpec
    control: str
    warnings: tuple[str, ...] = ()


def compare(log: EventLog, spec: CompareSpec) -> CompareResult:
    """The comparison table of SPEC §12 (rows by step, control first, then by n and label)."""
    counts = segment_counts(log, spec)
    sizes = _sizes(counts)
    control = _control(sizes, spec.control)
    warnings = _srm(sizes, spec.expected_split)
    table = _statistics(counts, control, spec.alpha)
    if spec.metric != "conversion":
        table = table.drop("step", "event")
    return CompareResult(table, spec, control, tuple(warnings))


def segment_counts(log: EventLog, spec: CompareSpec) -> pl.DataFrame:
    """``segment, step, event, n, x`` per segment (and funnel step k ≥ 2 for conversion)."""
    if spec.metric == "conversion":
        return _conversion(log, spec)
    if spec.metric == "abandonment":
        table = abandonment(
            log,
            AbandonmentSpec(
                since=spec.since,
                until=spec.until,
                breakdown=spec.segment,
                session_gap=spec.session_gap,
            ),
        ).table
        counts = table.select(
            pl.col(spec.segment).alias("segment"),
            pl.col("cart_sessions").alias("n"),
            pl.col("abandoned").alias("x"),
        )
    else:
        counts = _session_counts(log, spec)
    return counts.select(
        pl.col("segment").cast(pl.String),
        pl.lit(None, dtype=pl.Int64).alias("step"),
        pl.lit(None, dtype=pl.String).alias("event"),
        pl.col("n").cast(pl.Int64),
        pl.col("x").cast(pl.Int64),
    ).filter(pl.col("n") >= 1)


def _conversion(log: EventLog, spec: CompareSpec) -> pl.DataFrame:
    assert spec.funnel is not None
    table = funnel(log, spec.funnel.model_copy(update={"breakdown": spec.segment})).table
    first = pl.col("units").filter(pl.col("step") == 1).first().over(spec.segment)
    return (
        table.with_columns(first.alias("n"))
        .filter((pl.col("step") >= 2) & (pl.col("n") >= 1))
        .select(
            pl.col(spec.segment).cast(pl.String).alias("segment"),
            "step",
            "event",
            pl.col("n").cast(pl.Int64),
            pl.col("units").cast(pl.Int64).alias("x"),
        )
    )


def _session_counts(log: EventLog, spec: CompareSpec) -> pl.DataFrame:
    """Bounces per session (segment: the session's first event) or repeat customers per user
    (segment: the user's first event), over the events in ``[since, until)`` (SPEC §7b)."""
    options = UnitOptions(
        session_gap=spec.session_gap,
        breakdown=spec.segment,
        events_in=Period(since=spec.since, until=spec.until),
        moments=(),
        money=False,
    )

    def reduce(facts: pl.LazyFrame) -> pl.DataFrame:
        labelled = facts.with_columns(pl.col("breakdown").cast(pl.String).fill_null(NONE_LABEL))
        if spec.metric == "bounce":
            return (
                labelled.group_by("breakdown")
                .agg(pl.len().alias("n"), pl.col("single_event").sum().alias("x"))
                .collect()
            )
        users = labelled.group_by("user").agg(
            pl.col("breakdown").sort_by("first_event").first(), pl.col("orders").sum()
        )
        return (
            users.filter(pl.col("orders") >= 1)
            .group_by("breakdown")
            .agg(pl.len().alias("n"), (pl.col("orders") >= 2).sum().alias("x"))
            .collect()
        )

    sums = session_facts(log, options, reduce=reduce)
    return sums.group_by("breakdown").agg(pl.col("n", "x").sum()).rename({"breakdown": "segment"})


def _sizes(counts: pl.DataFrame) -> dict[str, int]:
    """Each segment's n at the metric's first step."""
    return {row[0]: row[1] for row in counts.group_by("segment").agg(pl.col("n").first()).rows()}


def _control(sizes: dict[str, int], requested: str | None) -> str:
    """``--control``, else the segment with the largest n (ties: the smallest label)."""
    if requested is not None:
        if requested not in sizes:
            known = ", ".join(sorted(sizes)) or "none"
            raise UsageError(
                f"--control: no segment '{requested}'{did_you_mean(requested, set(sizes))} "
                f"(segments: {known})"
            )
        return requested
    if not sizes:
        return ""
    return min(sizes, key=lambda label: (-sizes[label], label.encode("utf-8")))


def _srm(sizes: dict[str, int], expected: tuple[tuple[str, float], ...] | None) -> list[str]:
    """The sample-ratio-mismatch warning when the sizes are unlikely under the expected split."""
    if expected is None:
        return []
    listed = dict(expected)
    unlisted = sorted(set(sizes) - set(listed))
    if unlisted:
        raise UsageError(
            f"--expected-split: segment '{unlisted[0]}' of the data is not listed "
            f"(segments: {', '.join(sorted(sizes))}); give every segment a weight"
        )
    observed = [sizes.get(label, 0) for label in listed]
    p = chi_square_p(observed, list(listed.values()))
    if p >= SRM_ALPHA:
        return []
    total, weights = sum(observed), sum(listed.values())
    want = ", ".join(f"{k}={100 * w / weights:.1f}%" for k, w in listed.items())
    shares = [100 * v / total if total else 0.0 for v in observed]
    got = ", ".join(f"{k}={share:.1f}%" for k, share in zip(listed, shares, strict=True))
    return [
        f"sample ratio mismatch: expected {want}, observed {got} "
        f"(chi-square p = {p:.3g}); the assignment may be broken"
    ]


def _statistics(counts: pl.DataFrame, control: str, alpha: float) -> pl.DataFrame:
    """Rates, intervals and tests per row against the control row of the same step."""
    z = normal_quantile(1 - alpha / 2)
    rows = sorted(
        counts.rows(named=True),
        key=lambda r: (
            r["step"] or 0,
            r["segment"] != control,
            -r["n"],
            r["segment"].encode("utf-8"),
        ),
    )
    controls = {r["step"]: r for r in rows if r["segment"] == control}
    out = []
    for row in rows:
        x, n = row["x"], row["n"]
        low, high = wilson_interval(x, n, z)
        base = controls.get(row["step"])
        is_control = row["segment"] == control
        compared = _against(x, n, base, z) if base is not None and not is_control else {}
        out.append(
            row
            | {"rate": x / n, "rate_low": low, "rate_high": high, "control": is_control}
            | {key: compared.get(key) for key in _COMPARED}
        )
    frame = pl.DataFrame(out, schema=_SCHEMA, orient="row") if out else pl.DataFrame(schema=_SCHEMA)
    significant = holm(frame["p_value"].to_list(), alpha)
    return frame.with_columns(pl.Series("significant", significant, dtype=pl.Boolean)).select(
        COLUMNS
    )


_COMPARED = ("diff", "diff_low", "diff_high", "relative_lift", "p_value")
_SCHEMA = {
    "segment": pl.String,
    "step": pl.Int64,
    "event": pl.String,
    "n": pl.Int64,
    "x": pl.Int64,
    "rate": pl.Float64,
    "rate_low": pl.Float64,
    "rate_high": pl.Float64,
    "control": pl.Boolean,
    **dict.fromkeys(_COMPARED, pl.Float64),
    "significant": pl.Boolean,
}


def _against(x: int, n: int, base: dict[str, object], z: float) -> dict[str, float | None]:
    x_c, n_c = int(base["x"]), int(base["n"])  # type: ignore[call-overload]
    rate, rate_c = x / n, x_c / n_c
    diff = rate - rate_c
    spread = z * (rate * (1 - rate) / n + rate_c * (1 - rate_c) / n_c) ** 0.5
    tested = n >= MIN_N and n_c >= MIN_N
    return {
        "diff": diff,
        "diff_low": diff - spread,
        "diff_high": diff + spread,
        "relative_lift": rate / rate_c - 1 if rate_c > 0 else None,
        "p_value": two_sided_p(pooled_z(x, n, x_c, n_c)) if tested else None,
    }
