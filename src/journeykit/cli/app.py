"""The ``journeykit`` command: a thin shell over the library (see the command modules)."""

import os
import sys
from typing import Annotated, Any

import typer

from journeykit import __version__
from journeykit.errors import JourneykitError

app = typer.Typer(
    name="journeykit",
    help="Funnel analytics for e-commerce event logs: funnels, journey stages, cart abandonment, "
    "retention and weekly reports, from Parquet, CSV, NDJSON or Arrow files, object storage "
    "(s3://, gs://, az://, https://) or a database (postgresql://, sqlite:///, duckdb:///).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"journeykit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Funnel analytics for e-commerce event logs."""


def _register() -> None:
    from journeykit.cli import (
        abandonment_command,
        attribution_command,
        compare_command,
        funnel_command,
        inspect_command,
        paths_command,
        report_command,
        retention_command,
        sample_command,
        segments_command,
        stages_command,
        summary_command,
    )

    for module in (
        inspect_command,
        funnel_command,
        sample_command,
        stages_command,
        abandonment_command,
        summary_command,
        retention_command,
        compare_command,
        paths_command,
        attribution_command,
        segments_command,
        report_command,
    ):
        module.register(app)


def _plain_flags() -> None:
    """Help without a type for flags: Typer shows ``<bool>`` beside ``--quiet`` or ``--help``,
    options that take no value."""
    from typer.core import TyperOption

    typed = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag else typed(self, ctx)

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


def main() -> None:
    """Entry point: an expected error is one line on stderr and an exit code, not a traceback."""
    # NumPy asks the kernel for huge pages for big arrays; on virtual machines that back memory
    # lazily (Firecracker, many clouds' VMs) each huge-page fault is far slower than the small
    # pages it saves, and the engine allocates its arrays fresh per batch (measured: 960 MB of
    # new arrays fill in 9.5 s with huge pages, 0.34 s without). Set before NumPy is imported;
    # NUMPY_MADVISE_HUGEPAGE=1 restores NumPy's default.
    os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
    from journeykit import progress

    _register()
    _plain_flags()
    try:
        with progress.shown(sys.stderr.isatty()):
            app()
    except JourneykitError as error:
        typer.echo(f"journeykit: error: {error}", err=True)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
