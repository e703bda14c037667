"""``journeykit abandonment``."""

from typing import Annotated

import typer

from journeykit.cli.options import InputOptions, OutputOptions, io_options

EXAMPLES = """

[bold]Examples[/bold]

  journeykit abandonment data/samples/events.parquet

  journeykit abandonment events.parquet --breakdown channel --recovery-window 3d

  journeykit abandonment events.csv --since 2026-10-01 --until 2026-10-08 --format csv
"""


@io_options
def abandonment(
    recovery_window: Annotated[
        str,
        typer.Option(help="How long after an abandoned cart a later order counts as recovery."),
    ] = "7d",
    breakdown: Annotated[
        str | None,
        typer.Option(
            help="Split by this column's value on the session's first event (e.g. channel).",
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="Only cart sessions whose first add-to-cart is at or after this date/time.",
            show_default=False,
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            help="Only cart sessions whose first add-to-cart is before this date/time.",
            show_default=False,
        ),
    ] = None,
    *,
    inputs: InputOptions,
    output: OutputOptions,
) -> None:
    """How much money sits in abandoned carts, and how much of it comes back?"""
    from journeykit.durations import parse_duration
    from journeykit.journey import AbandonmentSpec, check_period
    from journeykit.journey import abandonment as compute
    from journeykit.journey.render import render_abandonment

    window = parse_duration(recovery_window, option="--recovery-window")
    log = inputs.load()
    start, end = inputs.instant(since, "--since"), inputs.instant(until, "--until")
    check_period(start, end)
    spec = AbandonmentSpec(
        recovery_window=window,
        breakdown=log.column(breakdown, option="--breakdown") if breakdown else None,
        since=start,
        until=end,
        session_gap=inputs.gap(),
    )
    output.warn(*log.warnings)
    result = compute(log, spec)
    output.emit(result.table, lambda: render_abandonment(result))


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(abandonment)
