"""``journeykit retention``."""

from typing import Annotated, Literal

import typer

from journeykit.cli.options import InputOptions, OutputOptions, io_options

EXAMPLES = """

[bold]Examples[/bold]

  journeykit retention data/samples/events.parquet

  journeykit retention events.csv --period day --periods 14 --tz Europe/Paris

  journeykit retention events.parquet --cohort-event any --return-event any --mode unbounded

  journeykit retention transactions.parquet --rows-are purchase --period month --value revenue

  journeykit retention events.parquet --format csv > retention.csv
"""


@io_options
def retention(
    period: Annotated[
        Literal["day", "week", "month"],
        typer.Option(help="Calendar period of cohorts and cells (ISO weeks start on Monday)."),
    ] = "week",
    periods: Annotated[
        int, typer.Option(help="Show periods 0…N after the cohort's own.", min=1, max=1000)
    ] = 8,
    cohort_event: Annotated[
        str,
        typer.Option(
            help="A user's first-ever such event puts them in a cohort (any: first event)."
        ),
    ] = "purchase",
    return_event: Annotated[
        str, typer.Option(help="The event that counts as coming back (any: any event).")
    ] = "purchase",
    mode: Annotated[
        Literal["on", "unbounded"],
        typer.Option(help="on: returned in period k; unbounded: in period k or later."),
    ] = "on",
    value: Annotated[
        Literal["users", "revenue"],
        typer.Option(help="users: share of the cohort returning; revenue: order value per period."),
    ] = "users",
    *,
    inputs: InputOptions,
    output: OutputOptions,
) -> None:
    """Do first-time customers come back? Cohorts by first event, return by period."""
    from journeykit.retention import build_spec
    from journeykit.retention import retention as compute
    from journeykit.retention.render import render_retention

    log = inputs.load(engine=value == "revenue")
    spec, warnings = build_spec(
        log,
        cohort_event=cohort_event,
        return_event=return_event,
        period=period,
        periods=periods,
        mode=mode,
        value=value,
        tz=inputs.tz,
        session_gap=inputs.gap(),
    )
    output.warn(*log.warnings, *warnings)
    result = compute(log, spec)
    output.emit(result.table, lambda: render_retention(result))


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(retention)
