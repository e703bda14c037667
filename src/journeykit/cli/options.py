"""Options every command shares, declared once and injected by ``@io_options``.

A command declares only its own options; the decorator adds the input options (files, column
roles, time zones, sessions, config) and output options (format, destination, quiet), and passes
them to the command as two objects, ``inputs`` and ``output``.
"""

import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from threading import Thread
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from journeykit.durations import parse_duration
from journeykit.errors import UsageError

if TYPE_CHECKING:
    from journeykit.config import Config
    from journeykit.load.events import EventLog
    from journeykit.output.write import Format

INPUT, OUTPUT = "Input", "Output"
Paths = Annotated[
    list[str],
    typer.Argument(
        help="Event files, globs or directories; - reads CSV from stdin.", show_default=False
    ),
]


def _option(*names: str, help: str, panel: str = INPUT, **extra: Any) -> Any:
    return typer.Option(
        *names,
        help=help,
        rich_help_panel=panel,
        show_default=extra.pop("show_default", True),
        **extra,
    )


@dataclass(frozen=True)
class InputOptions:
    """How to read the input; ``load()`` turns it into an ``EventLog``."""

    paths: list[str]
    input_format: Annotated[
        Literal["parquet", "csv", "tsv", "ndjson", "ipc"] | None,
        _option(
            "--input-format",
            help="Input format when the extension does not tell.",
            show_default=False,
        ),
    ] = None
    delimiter: Annotated[
        str | None,
        _option(
            "--delimiter",
            help="CSV delimiter: one character or 'tab' (default: detected from the header).",
            show_default=False,
        ),
    ] = None
    table: Annotated[
        str | None,
        _option(
            "--table", help="Database table to read (with a database URI).", show_default=False
        ),
    ] = None
    query: Annotated[
        str | None,
        _option("--query", help="SQL query to read (with a database URI).", show_default=False),
    ] = None
    user_col: Annotated[
        str | None, _option("--user-col", help="Column holding the user id.", show_default=False)
    ] = None
    time_col: Annotated[
        str | None, _option("--time-col", help="Column holding the timestamp.", show_default=False)
    ] = None
    event_col: Annotated[
        str | None,
        _option("--event-col", help="Column holding the event name.", show_default=False),
    ] = None
    session_col: Annotated[
        str | None,
        _option("--session-col", help="Column holding the session id.", show_default=False),
    ] = None
    price_col: Annotated[
        str | None,
        _option("--price-col", help="Column holding the unit price.", show_default=False),
    ] = None
    quantity_col: Annotated[
        str | None,
        _option("--quantity-col", help="Column holding the quantity.", show_default=False),
    ] = None
    revenue_col: Annotated[
        str | None,
        _option("--revenue-col", help="Column holding line revenue.", show_default=False),
    ] = None
    order_col: Annotated[
        str | None, _option("--order-col", help="Column holding the order id.", show_default=False)
    ] = None
    stitch: Annotated[
        str | None,
        _option(
            "--stitch",
            help="Anonymous id column whose visits join the user's journey (e.g. anonymous_id).",
            show_default=False,
        ),
    ] = None
    rows_are: Annotated[
        str | None,
        _option(
            "--rows-are",
            help="Every row is this event (e.g. purchase for a transaction export).",
            show_default=False,
        ),
    ] = None
    assume_tz: Annotated[str, _option("--assume-tz", help="Zone of naive timestamps.")] = "UTC"
    tz: Annotated[str, _option("--tz", help="Zone for calendar days, weeks and months.")] = "UTC"
    session_gap: Annotated[
        str, _option("--session-gap", help="Inactivity that starts a new session.")
    ] = "30m"
    dedupe: Annotated[bool, _option("--dedupe", help="Drop exact duplicate rows.")] = False
    strict: Annotated[bool, _option("--strict", help="Fail (exit 1) if any row is dropped.")] = (
        False
    )
    config: Annotated[
        Path | None,
        _option(
            "--config",
            help="Config file (default: ./journeykit.toml if present).",
            show_default=False,
        ),
    ] = None

    def settings(self) -> "Config":
        from journeykit.config import load_config

        return load_config(self.config)

    def gap(self) -> timedelta:
        return parse_duration(self.session_gap, option="--session-gap")

    def load(self, *, engine: bool = True) -> "EventLog":
        """The event log of the inputs; with ``engine``, the sequence engine (Numba) starts
        meanwhile."""
        if engine:
            Thread(target=_start_engine, daemon=True).start()
        from journeykit.load.events import LoadOptions, load_events

        config = self.settings()
        _check_zone(self.assume_tz, "--assume-tz")
        _check_zone(self.tz, "--tz")
        flags = self._flags()
        columns = {role: flags[role] or getattr(config.columns, role) for role in flags}
        options = LoadOptions(
            input_format=self.input_format,
            delimiter=_delimiter(self.delimiter),
            table=self.table,
            query=self.query,
            stitch=self.stitch or config.columns.stitch,
            columns=columns,
            rows_are=self.rows_are,
            assume_tz=self.assume_tz,
            dedupe=self.dedupe,
            strict=self.strict,
            aliases=config.events,
        )
        return load_events(self.paths, options)

    def _flags(self) -> dict[str, str | None]:
        return {
            "user": self.user_col,
            "time": self.time_col,
            "event": self.event_col,
            "session": self.session_col,
            "price": self.price_col,
            "quantity": self.quantity_col,
            "revenue": self.revenue_col,
            "order": self.order_col,
        }

    def role_origins(self, config: "Config") -> dict[str, str]:
        """How each role's column is chosen: ``flag``, ``config`` (of ``config``) or
        ``detected``."""
        return {
            role: "flag" if flag else "config" if getattr(config.columns, role) else "detected"
            for role, flag in self._flags().items()
        }

    def instant(self, text: str | None, option: str, zone: str | None = None) -> datetime | None:
        """``--since``/``--until``: a date or date-time; without a zone it is in ``zone``
        (default ``--tz``)."""
        if text is None:
            return None
        try:
            moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(
                f"{option}: '{text}' is not a date or date-time like 2019-10-01 or 2019-10-01T12:00"
            ) from None
        if moment.tzinfo is None:
            from zoneinfo import ZoneInfo

            moment = moment.replace(tzinfo=ZoneInfo(zone or self.tz))
        return moment.astimezone(UTC)


def _start_engine() -> None:
    """Import the sequence engine and have Numba ready (about half a second, once per process)
    while the main thread profiles the input."""
    from journeykit.engine.jit import start

    start()


@dataclass(frozen=True)
class OutputOptions:
    """Where and how results go; ``emit`` writes one result table."""

    format: Annotated[
        Literal["table", "csv", "tsv", "json", "ndjson", "markdown", "parquet"] | None,
        _option(
            "--format",
            "-f",
            help="Output format (default: table on a terminal, csv otherwise).",
            panel=OUTPUT,
            show_default=False,
        ),
    ] = None
    output: Annotated[
        Path | None,
        _option(
            "--output",
            "-o",
            help="Write to this file (atomically); format from its extension.",
            panel=OUTPUT,
            show_default=False,
        ),
    ] = None
    quiet: Annotated[bool, _option("--quiet", "-q", help="Silence warnings.", panel=OUTPUT)] = False

    def warn(self, *messages: str) -> None:
        if not self.quiet:
            for message in messages:
                typer.echo(f"journeykit: warning: {message}", err=True)

    @property
    def chosen_format(self) -> "Format":
        """The format ``emit`` writes in (``table`` for people, else rows for machines)."""
        from journeykit.output.write import choose_format

        return choose_format(self.format, self.output, terminal=sys.stdout.isatty())

    def emit(self, frame: Any, render: Callable[[], object] | None = None) -> None:
        from journeykit.output.write import write_table

        write_table(frame, self.chosen_format, self.output, render)


def _delimiter(text: str | None) -> str | None:
    """``--delimiter``: one character, or ``tab``/``\\t``."""
    if text is None or len(text) == 1:
        return text
    if text.lower() in ("tab", "\\t"):
        return "\t"
    raise UsageError(f"--delimiter: '{text}' is not one character (or 'tab')")


def _check_zone(name: str, option: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"{option}: unknown time zone '{name}' (use an IANA name like Europe/Paris or UTC)"
        ) from None


def _parameters(cls: type) -> list[inspect.Parameter]:
    hints = inspect.get_annotations(cls, eval_str=True)
    return [
        inspect.Parameter(
            f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=hints[f.name]
        )
        for f in fields(cls)
        if f.name != "paths"
    ]


def io_options(command: Callable[..., None]) -> Callable[..., None]:
    """Add the shared input and output options to ``command`` (it takes ``inputs``, ``output``)."""
    return _with_options(command, with_output=True)


def input_options(command: Callable[..., None]) -> Callable[..., None]:
    """Add the input options only, for a command that writes no result table (it takes
    ``inputs``)."""
    return _with_options(command, with_output=False)


def _with_options(command: Callable[..., None], *, with_output: bool) -> Callable[..., None]:
    injected = {"inputs", "output"}
    own = [p for p in inspect.signature(command).parameters.values() if p.name not in injected]
    input_params = _parameters(InputOptions)
    output_params = _parameters(OutputOptions) if with_output else []
    input_names = {p.name for p in input_params}
    output_names = {p.name for p in output_params}

    def wrapper(**kwargs: Any) -> None:
        inputs = InputOptions(paths=kwargs.pop("paths"), **{k: kwargs.pop(k) for k in input_names})
        if with_output:
            kwargs["output"] = OutputOptions(**{k: kwargs.pop(k) for k in output_names})
        command(**kwargs, inputs=inputs)

    paths = inspect.Parameter("paths", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Paths)
    parameters = [paths, *own, *input_params, *output_params]
    wrapper.__name__, wrapper.__doc__ = command.__name__, command.__doc__
    wrapper.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    return wrapper
