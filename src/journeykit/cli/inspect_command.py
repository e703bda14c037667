"""``journeykit inspect``."""

import typer

from journeykit.cli.options import InputOptions, OutputOptions, io_options

EXAMPLES = """

[bold]Examples[/bold]

  journeykit inspect data/samples/events.parquet

  journeykit inspect export.csv --delimiter ';' --format csv

  journeykit inspect postgresql://analyst@db.internal/shop --table events
"""


@io_options
def inspect(*, inputs: InputOptions, output: OutputOptions) -> None:
    """What journeykit understood of the input, before any metric: start here.

    Files and format, rows kept and dropped, the column of each role, how times were read,
    events and their mapping, where sessions, orders and money come from, dimensions."""
    from journeykit.inspection import InspectSpec, inspection, render_inspection

    log = inputs.load(engine=False)
    config = inputs.settings()
    spec = InspectSpec(
        origins=inputs.role_origins(config),
        session_gap=inputs.gap(),
        tz=inputs.tz,
        aliases=config.events,
        rows_are=inputs.rows_are,
    )
    table = inspection(log, spec)
    output.emit(table, lambda: render_inspection(table))


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(inspect)
