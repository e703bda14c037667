"""``journeykit funnel`` (and the funnel options ``compare`` shares)."""

from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from journeykit.cli.options import InputOptions, OutputOptions, io_options

if TYPE_CHECKING:
    from journeykit.funnel.spec import FunnelSpec
    from journeykit.load.events import EventLog

EXAMPLES = """

[bold]Examples[/bold]

  journeykit funnel data/samples/events.parquet

  journeykit funnel events.csv --steps view,cart,purchase --window 1d --breakdown channel

  journeykit funnel data/samples/events.parquet --trend week

  journeykit funnel events.parquet --steps 'product_view,add_to_cart|checkout,purchase'

  journeykit funnel events.parquet --exclude search@2-3 --breakdown channel --attribution last

  journeykit funnel events.parquet --percentiles 25,50,90

  journeykit funnel events.parquet --by session --order strict --format csv > funnel.csv

  cat events.csv | journeykit funnel - --since 2026-10-01 --until 2026-11-01
"""

Steps = Annotated[
    str | None,
    typer.Option(
        help="Comma-separated steps (event or canonical names). Default: page_view, "
        "product_view, add_to_cart, checkout, purchase, those present.",
        show_default=False,
    ),
]
Name = Annotated[
    str | None,
    typer.Option("--funnel", help="A named funnel from journeykit.toml.", show_default=False),
]
Window = Annotated[
    str | None,
    typer.Option(
        help="Conversion window from the first step (e.g. 30m, 1d). \\[default: 7d]",
        show_default=False,
    ),
]
By = Annotated[
    Literal["user", "session"] | None,
    typer.Option(
        help="Unit counted: user, or session (window capped by the session). \\[default: user]",
        show_default=False,
    ),
]
Order = Annotated[
    Literal["ordered", "strict", "any"] | None,
    typer.Option(
        help="ordered: steps in order; strict: with no other event between; any: any order. "
        "\\[default: ordered]",
        show_default=False,
    ),
]
Hold = Annotated[
    str | None,
    typer.Option(
        help="Hold this column constant across steps (e.g. product_id).", show_default=False
    ),
]
Since = Annotated[
    str | None,
    typer.Option(help="Only attempts starting at or after this date/time.", show_default=False),
]
Until = Annotated[
    str | None,
    typer.Option(help="Only attempts starting before this date/time.", show_default=False),
]
Exclude = Annotated[
    list[str] | None,
    typer.Option(
        help="NAME\\[@i-j]: a chain with NAME strictly between steps i and j (default: first to "
        "last) does not count (repeatable; --order ordered).",
        show_default=False,
    ),
]
Attribution = Annotated[
    str,
    typer.Option(help="The breakdown value of a unit: first, last or step:N (its step-N event)."),
]
CompleteOnly = Annotated[
    bool,
    typer.Option(
        "--complete-only", help="Drop units whose window is still open at the end of the data."
    ),
]


def check_alpha(alpha: float) -> float:
    """``--alpha`` strictly between 0 and 1."""
    if not 0 < alpha < 1:
        raise typer.BadParameter("needs a level strictly between 0 and 1, e.g. 0.05")
    return alpha


@io_options
def funnel(
    steps: Steps = None,
    funnel_name: Name = None,
    window: Window = None,
    by: By = None,
    order: Order = None,
    breakdown: Annotated[
        str | None,
        typer.Option(
            help="Split by this column's value on the first step (e.g. channel).",
            show_default=False,
        ),
    ] = None,
    hold: Hold = None,
    since: Since = None,
    until: Until = None,
    complete_only: CompleteOnly = False,
    exclude: Exclude = None,
    attribution: Attribution = "first",
    percentiles: Annotated[
        str | None,
        typer.Option(
            help="Percentiles of the time between steps, e.g. 25,50,90 (extra columns).",
            show_default=False,
        ),
    ] = None,
    trend: Annotated[
        Literal["day", "week", "month"] | None,
        typer.Option(
            help="One funnel per calendar period of entry (in --tz), with anomalies flagged.",
            show_default=False,
        ),
    ] = None,
    baseline: Annotated[
        int,
        typer.Option(min=1, help="Earlier periods an anomaly test compares with (--trend)."),
    ] = 4,
    alpha: Annotated[
        float, typer.Option(callback=check_alpha, help="Level of the anomaly test.")
    ] = 0.01,
    *,
    inputs: InputOptions,
    output: OutputOptions,
) -> None:
    """Where do people drop off? Step-by-step conversion within a window."""
    from journeykit.funnel import funnel as compute
    from journeykit.funnel.render import render_funnel

    log = inputs.load()
    spec, warnings = funnel_spec(
        log,
        inputs,
        steps=steps,
        name=funnel_name,
        window=window,
        by=by,
        order=order,
        breakdown=breakdown,
        hold=hold,
        since=since,
        until=until,
        complete_only=complete_only,
        exclude=exclude,
        attribution=attribution,
        percentiles=percentiles,
        trend=trend,
        tz=inputs.tz,
        baseline=baseline,
        alpha=alpha,
    )
    output.warn(*log.warnings, *warnings)
    result = compute(log, spec)
    output.emit(result.table, lambda: render_funnel(result))


def funnel_spec(
    log: "EventLog",
    inputs: InputOptions,
    *,
    since: str | None,
    until: str | None,
    **values: Any,
) -> "tuple[FunnelSpec, list[str]]":
    """The funnel of the command-line values (``journeykit.funnel.spec.build_spec``)."""
    from journeykit.funnel.spec import build_spec

    return build_spec(
        log,
        inputs.settings(),
        since=inputs.instant(since, "--since"),
        until=inputs.instant(until, "--until"),
        session_gap=inputs.gap(),
        **values,
    )


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(funnel)
