"""Cohort sizes and cell counts → the long retention table of SPEC §7 (with the average rows).

Cohorts and periods arrive as period numbers (see ``periods.py``); a cell (c, k) is observed when
period c + k starts no later than the data's last timestamp, i.e. c + k ≤ the last period, and
partial when c + k is the last period.
"""

import polars as pl

from journeykit.periods import period_start
from journeykit.retention.spec import RetentionSpec

AVERAGE = "average"
USER_COLUMNS = ["cohort", "period", "cohort_size", "retained", "rate", "partial"]
REVENUE_COLUMNS = ["cohort", "period", "cohort_size", "revenue", "revenue_per_user", "partial"]
_SCHEMA = {
    "cohort": pl.String,
    "period": pl.Int64,
    "cohort_size": pl.Int64,
    "retained": pl.Int64,
    "rate": pl.Float64,
    "revenue": pl.Float64,
    "revenue_per_user": pl.Float64,
    "partial": pl.Boolean,
}


def columns_for(spec: RetentionSpec) -> list[str]:
    return REVENUE_COLUMNS if spec.value == "revenue" else USER_COLUMNS


def empty_table(spec: RetentionSpec) -> pl.DataFrame:
    """No cohort at all: the columns and no rows."""
    return pl.DataFrame(schema={name: _SCHEMA[name] for name in columns_for(spec)})


def retention_table(
    sizes: pl.DataFrame, cells: pl.DataFrame, spec: RetentionSpec, last_period: int
) -> pl.DataFrame:
    """Every (cohort, period 0…N) cell, cohorts by date, then the average row per period.

    ``sizes``: ``cohort, cohort_size``; ``cells``: ``cohort, period`` and ``retained`` (users,
    periods ≥ 1) or ``revenue`` (periods ≥ 0); cells absent from ``cells`` are 0 when observed.
    """
    if sizes.height == 0:
        return empty_table(spec)
    measure = "revenue" if spec.value == "revenue" else "retained"
    periods = pl.DataFrame({"period": pl.int_range(0, spec.periods + 1, eager=True)})
    grid = (
        sizes.cast({"cohort": pl.Int32, "cohort_size": pl.Int64})
        .join(periods, how="cross")
        .join(
            cells.cast({"cohort": pl.Int32, "period": pl.Int64}),
            on=["cohort", "period"],
            how="left",
        )
        .with_columns(observed=pl.col("cohort") + pl.col("period") <= last_period)
        .with_columns(
            pl.when("observed")
            .then(pl.col("cohort") + pl.col("period") == last_period)
            .alias("partial"),
            _observed_measure(measure, spec).alias(measure),
        )
        .sort("cohort", "period")
    )
    cohorts = grid.with_columns(
        period_start(pl.col("cohort"), spec.period).dt.to_string("%Y-%m-%d").alias("cohort")
    )
    table = pl.concat([cohorts.drop("observed"), _average(grid, measure)], how="diagonal_relaxed")
    return _finish(table, measure, spec)


def _observed_measure(measure: str, spec: RetentionSpec) -> pl.Expr:
    """Null when not observed; period 0 of a user table is the cohort; a missing cell is 0."""
    value = pl.col(measure).fill_null(0)
    if spec.value == "users":
        value = pl.when(pl.col("period") == 0).then(pl.col("cohort_size")).otherwise(value)
    return pl.when("observed").then(value)


def _average(grid: pl.DataFrame, measure: str) -> pl.DataFrame:
    """Per period: Σ measure / Σ cohort size over the cohorts where the cell is observed."""
    observed = pl.col("observed")
    any_observed = observed.any()
    return (
        grid.group_by("period")
        .agg(
            pl.col("cohort_size").filter(observed).sum(),
            pl.when(any_observed).then(pl.col(measure).filter(observed).sum()).alias(measure),
            pl.when(any_observed).then(pl.col("partial").filter(observed).any()).alias("partial"),
        )
        .with_columns(pl.lit(AVERAGE).alias("cohort"))
        .sort("period")
    )


def _finish(table: pl.DataFrame, measure: str, spec: RetentionSpec) -> pl.DataFrame:
    ratio = "revenue_per_user" if spec.value == "revenue" else "rate"
    size = pl.col("cohort_size")
    table = table.with_columns(
        pl.when(size > 0).then(pl.col(measure) / size).alias(ratio),
    )
    columns = columns_for(spec)
    return table.select(pl.col(name).cast(_SCHEMA[name]) for name in columns)
