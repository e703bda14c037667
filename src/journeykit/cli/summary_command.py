"""``journeykit summary``."""

from typing import Annotated, Literal

import typer

from journeykit.cli.options import InputOptions, OutputOptions, io_options

EXAMPLES = """

[bold]Examples[/bold]

  journeykit summary data/samples/events.parquet

  journeykit summary events.parquet --since 2026-10-01 --until 2026-10-08 --format json

  journeykit summary transactions.parquet --rows-are purchase
"""


@io_options
def summary(
    since: Annotated[
        str | None,
        typer.Option(help="Only events at or after this date/time.", show_default=False),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(help="Only events before this date/time.", show_default=False),
    ] = None,
    trend: Annotated[
        Literal["day", "week", "month"] | None,
        typer.Option(help="One row of figures per calendar period (in --tz).", show_default=False),
    ] = None,
    *,
    inputs: InputOptions,
    output: OutputOptions,
) -> None:
    """The headline figures: traffic, conversion, orders, revenue and repeat customers."""
    from journeykit.journey import SummarySpec, check_period
    from journeykit.journey import summary as compute
    from journeykit.journey.render import render_summary

    log = inputs.load()
    start, end = inputs.instant(since, "--since"), inputs.instant(until, "--until")
    check_period(start, end)
    spec = SummarySpec(since=start, until=end, session_gap=inputs.gap(), trend=trend, tz=inputs.tz)
    output.warn(*log.warnings)
    result = compute(log, spec)
    output.emit(result.table, lambda: render_summary(result))


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(summary)
