"""``journeykit paths``."""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal, NamedTuple

import typer

from journeykit.cli.funnel_command import By, Name, Order, Since, Steps, Until, Window, funnel_spec
from journeykit.cli.options import InputOptions, OutputOptions, io_options
from journeykit.errors import UsageError

if TYPE_CHECKING:
    from journeykit.funnel.spec import Order as FunnelOrder
    from journeykit.funnel.spec import Unit
    from journeykit.load.events import EventLog
    from journeykit.paths import PathsResult, PathsSpec

EXAMPLES = """

[bold]Examples[/bold]

  journeykit paths data/samples/events.parquet --after add_to_cart

  journeykit paths data/samples/events.parquet --dropped-at 4 --collapse

  journeykit paths events.parquet --before purchase --depth 4 --by session

  journeykit paths events.parquet --after cart --transitions --format csv > sankey.csv

  journeykit paths data/samples/events.parquet --stages
"""


@io_options
def paths(
    after: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="Paths after the first NAME event of each unit (a|b: either).",
            show_default=False,
        ),
    ] = None,
    before: Annotated[
        str | None,
        typer.Option(
            metavar="NAME", help="Paths leading to the first NAME event.", show_default=False
        ),
    ] = None,
    dropped_at: Annotated[
        int | None,
        typer.Option(
            metavar="K",
            help="Paths of the units that reached step K − 1 of the funnel but not step K.",
            show_default=False,
        ),
    ] = None,
    stages: Annotated[
        bool,
        typer.Option("--stages", help="The journey map: stage to stage, session by session."),
    ] = False,
    depth: Annotated[
        int | None,
        typer.Option(min=1, help="Events per path. \\[default: 3]", show_default=False),
    ] = None,
    top: Annotated[
        int | None,
        typer.Option(
            min=1, help="Paths listed before (other). \\[default: 20]", show_default=False
        ),
    ] = None,
    by: By = None,
    collapse: Annotated[
        bool, typer.Option("--collapse", help="Repeats of one event in a row count once.")
    ] = False,
    transitions: Annotated[
        bool,
        typer.Option("--transitions", help="Rows depth, from, to, units (for a Sankey)."),
    ] = False,
    steps: Steps = None,
    funnel_name: Name = None,
    window: Window = None,
    order: Order = None,
    since: Since = None,
    until: Until = None,
    *,
    inputs: InputOptions,
    output: OutputOptions,
) -> None:
    """What do people do after, before, or instead? Paths and the journey map."""
    from journeykit.paths import paths as compute
    from journeykit.paths.render import render_paths, render_transitions

    _check_choice(after, before, dropped_at, stages)
    shape = {"--depth": depth, "--top": top, "--by": by, "--collapse": collapse}
    funnel = {"--steps": steps, "--funnel": funnel_name, "--window": window, "--order": order}
    if stages:
        _refuse("--stages", shape | funnel | {"--transitions": transitions})
        return _journey_map(inputs, output, since, until)
    if dropped_at is None:
        _refuse("--after/--before", funnel | {"--since": since, "--until": until})
    log = inputs.load()
    spec, warnings = _spec(
        log,
        inputs,
        PathOptions(after, before, dropped_at, depth or 3, top or 20, by, collapse),
        FunnelOptions(steps, funnel_name, window, order, since, until),
    )
    output.warn(*log.warnings, *warnings)
    result = compute(log, spec)
    output.warn(*_waiting(result))
    if transitions:
        output.emit(result.transitions, lambda: render_transitions(result))
    else:
        output.emit(result.table, lambda: render_paths(result))


class PathOptions(NamedTuple):
    """The path options of the command line (``--depth``/``--top`` with their defaults)."""

    after: str | None
    before: str | None
    dropped_at: int | None
    depth: int
    top: int
    by: "Unit | None"
    collapse: bool


class FunnelOptions(NamedTuple):
    """The funnel of ``--dropped-at``."""

    steps: str | None
    name: str | None
    window: str | None
    order: "FunnelOrder | None"
    since: str | None
    until: str | None


def _check_choice(
    after: str | None, before: str | None, dropped_at: int | None, stages: bool
) -> None:
    if [after is not None, before is not None, dropped_at is not None, stages].count(True) != 1:
        raise UsageError(
            "paths: give one of --after NAME, --before NAME, --dropped-at K or --stages"
        )


def _refuse(mode: str, options: Mapping[str, object]) -> None:
    """A usage error naming the options given that do not apply to ``mode``."""
    given = [name for name, value in options.items() if value not in (None, False)]
    if given:
        raise UsageError(f"{', '.join(given)}: not used with {mode}")


def _spec(
    log: "EventLog", inputs: InputOptions, options: PathOptions, funnel: FunnelOptions
) -> "tuple[PathsSpec, list[str]]":
    """The ``PathsSpec`` of the options, and warnings (an anchor that does not occur)."""
    from journeykit.funnel.spec import resolve_names
    from journeykit.paths import PathsSpec

    shape: dict[str, Any] = {"depth": options.depth, "top": options.top}
    shape |= {"collapse": options.collapse, "session_gap": inputs.gap()}
    if options.dropped_at is None:
        option, text = ("--after", options.after) if options.after else ("--before", options.before)
        assert text is not None
        anchor = resolve_names(log, text, option=option)
        missing = [name for name in anchor.split("|") if name not in log.profile.events]
        warnings = [f"{option} '{name}' does not occur in {log.label}" for name in missing]
        direction: Literal["after", "before"] = "after" if option == "--after" else "before"
        spec = PathsSpec(anchor=anchor, direction=direction, by=options.by or "user", **shape)
        return spec, warnings
    steps, warnings = funnel_spec(
        log,
        inputs,
        since=funnel.since,
        until=funnel.until,
        steps=funnel.steps,
        name=funnel.name,
        window=funnel.window,
        by=options.by,
        order=funnel.order,
    )
    if not 2 <= options.dropped_at <= len(steps.steps):
        raise UsageError(
            f"--dropped-at {options.dropped_at}: choose a step from 2 to {len(steps.steps)} "
            f"(the funnel: {', '.join(steps.steps)})"
        )
    spec = PathsSpec(dropped_at=options.dropped_at, funnel=steps, by=steps.by, **shape)
    return spec, warnings


def _waiting(result: "PathsResult") -> list[str]:
    """A note on the units ``--dropped-at`` left out as still in progress."""
    spec = result.spec
    if not result.in_progress or spec.funnel is None or spec.dropped_at is None:
        return []
    from journeykit.durations import format_duration

    window = format_duration(spec.funnel.window.total_seconds())
    return [
        f"{result.in_progress:,} {spec.by}s that stopped at step {spec.dropped_at - 1} are "
        f"still in progress (their {window} window ends after the data's last event) and are "
        f"not counted; a shorter --window counts them"
    ]


def _journey_map(
    inputs: InputOptions, output: OutputOptions, since: str | None, until: str | None
) -> None:
    """``paths --stages``: the journey map."""
    from journeykit.journey import check_period, resolve_rules
    from journeykit.paths import JourneyMapSpec, journey_map
    from journeykit.paths.render import render_journey_map

    log = inputs.load()
    rules, warnings = resolve_rules(log, inputs.settings().stages)
    start, end = inputs.instant(since, "--since"), inputs.instant(until, "--until")
    check_period(start, end)
    spec = JourneyMapSpec(rules=rules, session_gap=inputs.gap(), since=start, until=end)
    output.warn(*log.warnings, *warnings)
    result = journey_map(log, spec)
    output.emit(result.table, lambda: render_journey_map(result))


def register(app: typer.Typer) -> None:
    app.command(epilog=EXAMPLES)(paths)
