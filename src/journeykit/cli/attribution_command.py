"""``journeykit attribution``."""

from typing import Annotated, Literal

import typer

from journeykit.cli.options import InputOptions, OutputOptions, io_options
from journeykit.errors import UsageError

EXAMPLES = """

[bold]Examples[/bold]

  journeykit attribution data/samples/events.parquet

  journeykit attribution events.parquet --touch utm_source --lookback 14d --model position

  journeykit attribution events.parquet --since 2026-11-01 --until 2026-12-01 --format csv
"""


@io_options
def attribution(
    touch: Annotated[
        str | None,
        typer.Option(
            metavar="COL",
            help="The touch column (default: channel, utm_source, source, … the first present).",
            show_default=False,
        ),
    ] = None,
    lookback: Annotated[
        str, typer.Option(help="Sessions this long before an order are in its path.")
    ] = "30d",
    model: Annotated[
        Literal["all", "first", "last", "last_non_direct", "linear", "position", "time_decay"],
        typer.Option(help="The attribution model, or all of them."),
    ] = "all",
    half_life: Annotated[str, typer.Option(help="The half-life of time_decay.")] = "7d",
    since: Annotated[
        str | None,
        typer.Option(help="Only orders placed at or after this date/time.", show_default=False),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(help="Only orders placed before this date/time.", show_default=False),
    ] = None,
    *,
    inputs: InputOptions,
    output: OutputOptions,
) -> None:
    """Which channels bring the orders? Credit per touch value under six models."""
    from journeykit.attribution import AttributionSpec
    from journeykit.attribution import attribution as compute
    from journeykit.attribution.render import render_attribution
    from journeykit.attribution.spec import models_of, touch_column
    from journeykit.durations import parse_duration
    from journeykit.journey import check_period

    half = parse_duration(half_life, option="--half-life")
    if half.total_seconds() <= 0:
        raise UsageError(f"--half-life {half_life}: must be longer than 0, e.g. 7d")
    log = inputs.load()
    start, end = inputs.instant(since, "--since"), inputs.instant(until, "--until")
    check_period(start, end)
    spec = AttributionSpec(
        touch=touch_column(log, touch or inputs.settings().columns.touch),
        lookback=parse_duration(lookback, option="--lookback"),
        models=models_of(model),
        half_life=half,
        since=start,
        until=end,
        session_gap=inputs.gap(),
    )
    output.warn(*log.warnings)
    result = compute(log, spec)
    output.emit(result.table, lambda: render_attribution(result))


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(attribution)
