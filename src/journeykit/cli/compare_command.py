"""``journeykit compare``."""

from typing import Annotated, Literal

import typer

from journeykit.cli.funnel_command import (
    Attribution,
    By,
    CompleteOnly,
    Exclude,
    Hold,
    Name,
    Order,
    Since,
    Steps,
    Until,
    Window,
    check_alpha,
    funnel_spec,
)
from journeykit.cli.options import InputOptions, OutputOptions, io_options
from journeykit.errors import UsageError

EXAMPLES = """

[bold]Examples[/bold]

  journeykit compare data/samples/events.parquet --segment variant

  journeykit compare events.parquet --segment variant --steps checkout,purchase --control A

  journeykit compare events.parquet --segment channel --metric abandonment

  journeykit compare events.parquet --segment variant --expected-split A=50,B=50
"""


@io_options
def compare(
    segment: Annotated[
        str, typer.Option(help="The column whose values are compared (e.g. variant, channel).")
    ],
    metric: Annotated[
        Literal["conversion", "abandonment", "bounce", "repeat"],
        typer.Option(
            help="conversion: funnel steps; abandonment: cart sessions abandoned; bounce: "
            "single-event sessions; repeat: customers with 2+ orders."
        ),
    ] = "conversion",
    control: Annotated[
        str | None,
        typer.Option(help="The control segment. \\[default: the largest]", show_default=False),
    ] = None,
    alpha: Annotated[float, typer.Option(callback=check_alpha, help="Significance level.")] = 0.05,
    expected_split: Annotated[
        str | None,
        typer.Option(
            help="Intended shares (e.g. A=50,B=50): warn on a sample ratio mismatch.",
            show_default=False,
        ),
    ] = None,
    steps: Steps = None,
    funnel_name: Name = None,
    window: Window = None,
    by: By = None,
    order: Order = None,
    hold: Hold = None,
    since: Since = None,
    until: Until = None,
    complete_only: CompleteOnly = False,
    exclude: Exclude = None,
    attribution: Attribution = "first",
    *,
    inputs: InputOptions,
    output: OutputOptions,
) -> None:
    """Did variant B beat A? Rates per segment with intervals, lift and tests."""
    from journeykit.compare import CompareSpec
    from journeykit.compare import compare as compute
    from journeykit.compare.render import render_compare
    from journeykit.journey import check_period

    funnel_options = {
        "--steps": steps, "--funnel": funnel_name, "--window": window, "--by": by,
        "--order": order, "--hold": hold, "--complete-only": complete_only or None,
        "--exclude": exclude, "--attribution": None if attribution == "first" else attribution,
    }  # fmt: skip
    given = [flag for flag, value in funnel_options.items() if value is not None]
    if metric != "conversion" and given:
        raise UsageError(f"{given[0]} is a funnel option: it needs --metric conversion")
    split = _split(expected_split) if expected_split is not None else None
    log = inputs.load()
    column = log.column(segment, option="--segment")
    warnings: list[str] = []
    funnel = None
    if metric == "conversion":
        funnel, warnings = funnel_spec(
            log, inputs, steps=steps, name=funnel_name, window=window, by=by, order=order,
            hold=hold, since=since, until=until, complete_only=complete_only, exclude=exclude,
            attribution=attribution,
        )  # fmt: skip
    start, end = inputs.instant(since, "--since"), inputs.instant(until, "--until")
    check_period(start, end)
    spec = CompareSpec(
        segment=column, metric=metric, control=control, alpha=alpha, expected_split=split,
        funnel=funnel, since=start, until=end, session_gap=inputs.gap(),
    )  # fmt: skip
    output.warn(*log.warnings, *warnings)
    result = compute(log, spec)
    output.warn(*result.warnings)
    output.emit(result.table, lambda: render_compare(result))


def _split(text: str) -> tuple[tuple[str, float], ...]:
    """``A=50,B=50`` as (value, weight) pairs: at least two, weights ≥ 0 with a positive sum."""
    pairs = []
    for part in text.split(","):
        label, _, weight = part.partition("=")
        try:
            value = float(weight)
        except ValueError:
            value = -1.0
        if not label.strip() or value < 0:
            raise UsageError(
                f"--expected-split: '{part}' is not VALUE=WEIGHT; write e.g. A=50,B=50"
            )
        pairs.append((label.strip(), value))
    if len(pairs) < 2 or sum(w for _, w in pairs) <= 0:
        raise UsageError("--expected-split needs two or more values with weights, e.g. A=50,B=50")
    return tuple(pairs)


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(compare)
