"""``journeykit report``."""

from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from journeykit.cli.options import InputOptions, input_options

if TYPE_CHECKING:
    from datetime import datetime

EXAMPLES = """

[bold]Examples[/bold]

  journeykit report data/samples/events.parquet --out reports/

  journeykit report events/ --out reports/ --period month --tz Europe/Paris

  journeykit report events.parquet --out reports/ --at 2026-11-17 --print-path

  [dim]# crontab: every Monday at 06:00, last week's report[/dim]
  0 6 * * 1  journeykit report /data/events/ --out /srv/reports/
"""


@input_options
def report(
    out: Annotated[
        Path,
        typer.Option(
            help="Folder to write into: the report goes to OUT/<period id>/ (e.g. 2026-W47/).",
            show_default=False,
        ),
    ],
    period: Annotated[
        Literal["week", "month"],
        typer.Option(help="Report on an ISO week (Monday to Sunday) or a calendar month."),
    ] = "week",
    at: Annotated[
        str | None,
        typer.Option(
            help="Report on the period containing this date. \\[default: the last complete "
            "period in the data]",
            show_default=False,
        ),
    ] = None,
    stamp: Annotated[
        bool,
        typer.Option(
            "--stamp",
            help="Write the time of the run into the report (its bytes "
            "then differ from run to run).",
        ),
    ] = False,
    print_path: Annotated[
        bool, typer.Option("--print-path", help="Print the report folder on stdout when done.")
    ] = False,
    *,
    inputs: InputOptions,
) -> None:
    """Weekly or monthly report for cron: report.html, report.md, CSVs and summary.json."""
    from journeykit.journey import resolve_rules
    from journeykit.report import ReportSpec, build_report, choose_period, write_report

    log = inputs.load()
    chosen = choose_period(log, period, inputs.tz, inputs.instant(at, "--at"))
    rules, warnings = resolve_rules(log, inputs.settings().stages)
    spec = ReportSpec(
        period=period,
        tz=inputs.tz,
        session_gap=inputs.gap(),
        rules=rules,
        touch=inputs.settings().columns.touch,
    )
    result = build_report(log, chosen, spec, notes=tuple(warnings))
    folder = write_report(result, out, _invocation(inputs, period, at), _now() if stamp else None)
    if print_path:
        typer.echo(str(folder))


def _invocation(inputs: InputOptions, period: str, at: str | None) -> dict[str, Any]:
    """The paths and the input options that differ from their defaults, for summary.json."""
    given = {
        f.name: str(value) if isinstance(value, Path) else value
        for f in fields(inputs)
        if f.name != "paths" and (value := getattr(inputs, f.name)) != f.default
    }
    from journeykit.load.sources import shown

    paths = [shown(path) for path in inputs.paths]
    return {"paths": paths, "period": period, "at": at, "options": given}


def _now() -> "datetime":
    from datetime import UTC, datetime

    return datetime.now(UTC)


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(report)
