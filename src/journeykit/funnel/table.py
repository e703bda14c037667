"""Per-unit levels → the funnel table of SPEC §4 (counts, rates, drop-off, time to convert)."""

import polars as pl

from journeykit.funnel.spec import FunnelSpec

NONE_LABEL = "(none)"
MICROS = 1_000_000
COLUMNS = [
    "step",
    "event",
    "units",
    "conversion_from_previous",
    "conversion_overall",
    "dropped",
    "in_progress",
    "median_seconds_from_previous",
    "mean_seconds_from_previous",
    "median_seconds_from_first",
    "mean_seconds_from_first",
]


def funnel_table(units: pl.DataFrame, spec: FunnelSpec, periods: int | None = None) -> pl.DataFrame:
    """Aggregate unit levels (``level``, ``in_progress``, ``gap_k`` in µs, ``breakdown``) into one
    row per step (per breakdown value, breakdown first). With ``periods``, units carry their
    ``period_index`` and every period gets a block, every breakdown value one in each (zeros
    where absent; rates null)."""
    values = ["breakdown"] if spec.breakdown is not None else []
    if values:
        units = units.with_columns(pl.col("breakdown").cast(pl.String).fill_null(NONE_LABEL))
    keys = (["period_index"] if periods is not None else []) + values
    steps = range(1, len(spec.steps) + 1)
    per_step = [
        units.group_by(keys or pl.lit(0).alias("_all"), maintain_order=True).agg(
            pl.lit(k, dtype=pl.Int64).alias("step"),
            (pl.col("level") >= k).sum().cast(pl.Int64).alias("units"),
            (pl.col("in_progress") & (pl.col("level") == k - 1))
            .sum()
            .cast(pl.Int64)
            .alias("in_progress"),
            *_time_to_convert(k, "gap", "previous"),
            *_time_to_convert(k, "total", "first"),
            *_percentiles(k, spec.percentiles),
        )
        for k in steps
    ]
    counted = pl.concat(per_step, how="vertical_relaxed").drop("_all", strict=False)
    grid = _grid(spec, periods, units["breakdown"].unique() if values else None)
    table = grid.join(counted, on=[*keys, "step"], how="left").with_columns(
        pl.col("units", "in_progress").fill_null(0)
    )
    last = [(pl.col("breakdown") == NONE_LABEL)] if values else []
    table = table.sort([*keys[: len(keys) - len(values)], *last, *values, "step"])
    return (
        table.with_columns(_rates(keys))
        .select([*keys, *COLUMNS, *percentile_columns(spec.percentiles)])
        .rename({"breakdown": spec.breakdown} if spec.breakdown else {})
    )


def _grid(spec: FunnelSpec, periods: int | None, values: pl.Series | None) -> pl.DataFrame:
    """Every row the table has: each step, for each breakdown value, in each period."""
    grid = pl.DataFrame(
        {"step": list(range(1, len(spec.steps) + 1)), "event": list(spec.steps)},
        schema={"step": pl.Int64, "event": pl.String},
    )
    if values is not None:
        grid = values.to_frame("breakdown").join(grid, how="cross")
    if periods is not None:
        index = pl.DataFrame({"period_index": range(periods)}, schema={"period_index": pl.Int64})
        grid = index.join(grid, how="cross")
    return grid


def _time_to_convert(k: int, gaps: str, label: str) -> list[pl.Expr]:
    """Median and mean seconds to step k over the units that reached it, from the previous step
    (``gap_k``) or from the first (``total_k``), both in whole microseconds: the mean is an exact
    sum, whatever the units' order."""
    median, mean_name = f"median_seconds_from_{label}", f"mean_seconds_from_{label}"
    if k == 1:
        empty = pl.lit(None, dtype=pl.Float64)
        return [empty.alias(median), empty.alias(mean_name)]
    reached = pl.col(f"{gaps}_{k}").filter(pl.col("level") >= k)
    total = reached.cast(pl.Int128).sum().cast(pl.Float64)
    mean = pl.when(reached.count() > 0).then(total / reached.count() / MICROS)
    return [(reached / MICROS).median().alias(median), mean.alias(mean_name)]


def percentile_columns(percentiles: tuple[float, ...]) -> list[str]:
    """``p25_seconds_from_previous``, … (``p99.9_…`` for fractions), each once, in order."""
    names = [f"p{q:g}_seconds_from_previous" for q in percentiles]
    return list(dict.fromkeys(names))


def _percentiles(k: int, percentiles: tuple[float, ...]) -> list[pl.Expr]:
    """The percentiles of the seconds from step k − 1 over the units that reached step k,
    linear between closest ranks (NumPy's and Polars' default)."""
    reached = pl.col(f"gap_{k}").filter(pl.col("level") >= k) / MICROS
    unique = dict(zip(percentile_columns(percentiles), dict.fromkeys(percentiles), strict=True))
    if k == 1:
        return [pl.lit(None, dtype=pl.Float64).alias(name) for name in unique]
    return [
        reached.quantile(q / 100, interpolation="linear").alias(name) for name, q in unique.items()
    ]


def _rates(keys: list[str]) -> list[pl.Expr]:
    def over(expr: pl.Expr) -> pl.Expr:
        return expr.over(keys) if keys else expr

    previous = over(pl.col("units").shift(1))
    first = over(pl.col("units").first())
    is_first = pl.col("step") == 1
    return [
        pl.when(is_first)
        .then(pl.when(first > 0).then(1.0))
        .otherwise(pl.when(previous > 0).then(pl.col("units") / previous))
        .alias("conversion_from_previous"),
        pl.when(first > 0).then(pl.col("units") / first).alias("conversion_overall"),
        pl.when(is_first)
        .then(0)
        .otherwise(previous - pl.col("units"))
        .cast(pl.Int64)
        .alias("dropped"),
    ]
