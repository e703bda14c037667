"""``journeykit funnel``."""

from typing import Annotated, Literal

import typer

from journeykit.cli.options import InputOptions, OutputOptions, io_options

EXAMPLES = """

[bold]Examples[/bold]

  journeykit funnel data/samples/events.parquet

  journeykit funnel events.csv --steps view,cart,purchase --window 1d --breakdown channel

  journeykit funnel events.parquet --by session --order strict --format csv > funnel.csv

  cat events.csv | journeykit funnel - --since 2026-10-01 --until 2026-11-01
"""


@io_options
def funnel(
    steps: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated steps (event or canonical names). Default: page_view, "
            "product_view, "
            "add_to_cart, checkout, purchase, those present.",
            show_default=False,
        ),
    ] = None,
    funnel_name: Annotated[
        str | None,
        typer.Option("--funnel", help="A named funnel from journeykit.toml.", show_default=False),
    ] = None,
    window: Annotated[
        str | None,
        typer.Option(
            help="Conversion window from the first step (e.g. 30m, 1d). [default: 7d]",
            show_default=False,
        ),
    ] = None,
    by: Annotated[
        Literal["user", "session"] | None,
        typer.Option(
            help="Unit counted: user, or session (window capped by the session). [default: user]",
            show_default=False,
        ),
    ] = None,
    order: Annotated[
        Literal["ordered", "strict", "any"] | None,
        typer.Option(
            help="ordered: steps in order; strict: with no other event between; any: any order. "
            "[default: ordered]",
            show_default=False,
        ),
    ] = None,
    breakdown: Annotated[
        str | None,
        typer.Option(
            help="Split by this column's value on the first step (e.g. channel).",
            show_default=False,
        ),
    ] = None,
    hold: Annotated[
        str | None,
        typer.Option(
            help="Hold this column constant across steps (e.g. product_id).", show_default=False
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Only attempts starting at or after this date/time.", show_default=False),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(help="Only attempts starting before this date/time.", show_default=False),
    ] = None,
    complete_only: Annotated[
        bool,
        typer.Option(
            "--complete-only", help="Drop units whose window is still open at the end of the data."
        ),
    ] = False,
    *,
    inputs: InputOptions,
    output: OutputOptions,
) -> None:
    """Where do people drop off? Step-by-step conversion within a window."""
    from journeykit.funnel import funnel as compute
    from journeykit.funnel.render import render_funnel
    from journeykit.funnel.spec import build_spec

    log = inputs.load()
    spec, warnings = build_spec(
        log,
        inputs.settings(),
        steps=steps,
        name=funnel_name,
        window=window,
        by=by,
        order=order,
        breakdown=breakdown,
        hold=hold,
        since=inputs.instant(since, "--since"),
        until=inputs.instant(until, "--until"),
        complete_only=complete_only,
        session_gap=inputs.gap(),
    )
    output.warn(*log.warnings, *warnings)
    result = compute(log, spec)
    output.emit(result.table, lambda: render_funnel(result))


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(funnel)
