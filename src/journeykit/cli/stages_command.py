"""``journeykit stages``."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from journeykit.cli.options import InputOptions, OutputOptions, io_options
from journeykit.errors import UsageError

if TYPE_CHECKING:
    from journeykit.output.write import Format

EXAMPLES = """

[bold]Examples[/bold]

  journeykit stages data/samples/events.parquet

  journeykit stages events.parquet --by user --format csv > ladder.csv

  journeykit stages events.csv --emit session_stages.parquet --since 2026-10-01
"""


@io_options
def stages(
    by: Annotated[
        Literal["session", "user"] | None,
        typer.Option(
            help="Rows of the machine output: the session distribution or the user ladder "
            "(a terminal shows both). \\[default: session]",
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Only sessions starting at or after this date/time.", show_default=False),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(help="Only sessions starting before this date/time.", show_default=False),
    ] = None,
    emit: Annotated[
        Path | None,
        typer.Option(
            help="Also write one row per session (per user with --by user) with its stage "
            "to this file (.csv, .parquet, .ndjson, …).",
            show_default=False,
        ),
    ] = None,
    *,
    inputs: InputOptions,
    output: OutputOptions,
) -> None:
    """How deep do sessions and users get? Awareness → consideration → … → advocacy."""
    from journeykit.journey import StagesSpec, check_period, resolve_rules
    from journeykit.journey import stages as compute
    from journeykit.journey.render import render_stages
    from journeykit.output.write import write_table

    file_format = emit_format(emit)
    log = inputs.load()
    rules, warnings = resolve_rules(log, inputs.settings().stages)
    start, end = inputs.instant(since, "--since"), inputs.instant(until, "--until")
    check_period(start, end)
    spec = StagesSpec(
        by=by or "session",
        rules=rules,
        since=start,
        until=end,
        session_gap=inputs.gap(),
        rows=emit is not None,
        ladder=by == "user" or output.chosen_format == "table",
    )
    output.warn(*log.warnings, *warnings)
    result = compute(log, spec)
    if emit is not None and file_format is not None and result.rows is not None:
        write_table(result.rows, file_format, emit)
    output.emit(result.table, lambda: render_stages(result))


def emit_format(path: Path | None) -> "Format | None":
    """The format of ``--emit`` from its extension (a file of rows, never a Rich table)."""
    from journeykit.output.write import choose_format

    if path is None:
        return None
    fmt = choose_format(None, path, terminal=False)
    if fmt == "table":
        raise UsageError(f"--emit {path}: use .csv, .tsv, .parquet, .json, .ndjson or .md")
    return fmt


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(stages)
