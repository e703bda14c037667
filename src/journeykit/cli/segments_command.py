"""``journeykit segments``."""

from pathlib import Path
from typing import Annotated, Literal

import typer

from journeykit.cli.options import InputOptions, OutputOptions, io_options

EXAMPLES = """

[bold]Examples[/bold]

  journeykit segments data/samples/events.parquet

  journeykit segments data/samples/events.parquet --by rfm

  journeykit segments events.parquet --by custom --config journeykit.toml --emit users.csv

  journeykit segments events.parquet --by rfm --at 2026-11-01
"""


@io_options
def segments(
    by: Annotated[
        Literal["lifecycle", "rfm", "custom"],
        typer.Option(help="lifecycle, RFM (customers), or [segments] of journeykit.toml."),
    ] = "lifecycle",
    at: Annotated[
        str | None,
        typer.Option(
            help="As of this date: only earlier events count, and now is this date "
            "(without a zone: --assume-tz).",
            show_default=False,
        ),
    ] = None,
    emit: Annotated[
        Path | None,
        typer.Option(
            help="Also write one row per user (scores and segments) to this file "
            "(.csv, .parquet, …): the file a CRM imports.",
            show_default=False,
        ),
    ] = None,
    *,
    inputs: InputOptions,
    output: OutputOptions,
) -> None:
    """Who are the customers? Lifecycle, RFM and custom segments, per user."""
    from journeykit.cli.stages_command import emit_format
    from journeykit.output.write import write_table
    from journeykit.segments import SegmentsSpec
    from journeykit.segments import segments as compute
    from journeykit.segments.render import render_segments

    chosen_format = emit_format(emit)
    log = inputs.load()
    spec = SegmentsSpec(
        by=by,
        at=inputs.instant(at, "--at", zone=inputs.assume_tz),
        session_gap=inputs.gap(),
        custom=tuple(inputs.settings().segments.items()),
    )
    output.warn(*log.warnings)
    result = compute(log, spec)
    if emit is not None and chosen_format is not None:
        write_table(result.users, chosen_format, emit)
    output.emit(result.table, lambda: render_segments(result))


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(segments)
