"""Custom segments (SPEC §16): SQL boolean expressions over the emit columns, Polars SQL."""

import re

import polars as pl

from journeykit.errors import UsageError, did_you_mean
from journeykit.segments.spec import OTHER

_QUOTED = re.compile(r"('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\")")
_USER = re.compile(r"(?<![\w.\"])user(?![\w(])")
_MISSING = re.compile(r'unable to find column "([^"]+)"')


def custom_segment(users: pl.DataFrame, segments: tuple[tuple[str, str], ...]) -> pl.Series:
    """Each user's first segment whose expression is true (NULL is no match), else ``other``."""
    if not segments:
        raise UsageError('--by custom: no [segments] in journeykit.toml (name = "SQL expression")')
    context = pl.SQLContext(users=users)
    chosen = pl.Series("custom_segment", [None] * users.height, dtype=pl.String)
    for name, expression in segments:
        if name == OTHER:
            raise UsageError(
                f"[segments] {name}: 'other' is reserved for users matching no segment"
            )
        matched = _evaluate(context, name, expression, users.columns)
        chosen = chosen.zip_with(
            chosen.is_not_null() | ~matched.fill_null(False), pl.Series([name] * users.height)
        )
    return chosen.fill_null(OTHER)


def _evaluate(
    context: "pl.SQLContext[pl.LazyFrame]", name: str, expression: str, columns: list[str]
) -> pl.Series:
    """The expression's value for every user; a usage error naming the segment otherwise."""
    sql = f"SELECT ({_quote_user(expression)}) AS matched FROM users"
    try:
        result = context.execute(sql, eager=True)["matched"]
    except pl.exceptions.ColumnNotFoundError as error:
        found = _MISSING.search(str(error))
        column = found.group(1) if found else "?"
        raise UsageError(
            f"[segments] {name}: no column '{column}'{did_you_mean(column, set(columns))}; "
            f"columns: {', '.join(columns)}"
        ) from None
    except (
        pl.exceptions.SQLSyntaxError,
        pl.exceptions.SQLInterfaceError,
        pl.exceptions.ComputeError,
        pl.exceptions.InvalidOperationError,
    ) as error:
        first = str(error).strip().splitlines()[0]
        raise UsageError(
            f"[segments] {name}: '{expression}' is not a SQL expression ({first})"
        ) from None
    if result.dtype not in (pl.Boolean, pl.Null):
        raise UsageError(
            f"[segments] {name}: '{expression}' gives {result.dtype}, not true/false "
            "(compare it, e.g. orders >= 2)"
        )
    return result.cast(pl.Boolean)


def _quote_user(expression: str) -> str:
    """``user`` as a column (Polars SQL reads a bare ``user`` as a function)."""
    parts = _QUOTED.split(expression)
    return "".join(part if i % 2 else _USER.sub('"user"', part) for i, part in enumerate(parts))
