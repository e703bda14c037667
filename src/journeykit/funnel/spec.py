"""The validated description of one funnel, and how step names are resolved against a log."""

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from journeykit.config import Config, FunnelConfig
from journeykit.durations import parse_duration
from journeykit.errors import DataError, UsageError, did_you_mean
from journeykit.load.events import EventLog
from journeykit.load.vocabulary import DEFAULT_FUNNEL
from journeykit.periods import Period

Order = Literal["ordered", "strict", "any"]
Unit = Literal["user", "session"]


class FunnelSpec(BaseModel):
    """What to count. Column names are normalized names (see ``EventLog.column``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    steps: tuple[str, ...]
    window: timedelta = timedelta(days=7)
    by: Unit = "user"
    order: Order = "ordered"
    breakdown: str | None = None
    hold: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    complete_only: bool = False
    session_gap: timedelta = timedelta(minutes=30)
    exclude: tuple[tuple[str, int, int], ...] = ()
    """Exclusions (SPEC §13): (names joined by ``|``, i, j) with 1 ≤ i < j ≤ len(steps)."""
    attribution: str = "first"
    """Which event's value a unit's breakdown takes: ``first``, ``last`` or ``step:N``."""
    percentiles: tuple[float, ...] = ()
    """Percentiles of the seconds from the previous step, each in [0, 100]."""
    trend: Period | None = None
    """One funnel per calendar period of entry (SPEC §11)."""
    tz: str = "UTC"
    """The zone of the trend's calendar."""
    baseline: int = Field(default=4, ge=1)
    """Earlier periods (not flagged) an anomaly test compares with."""
    alpha: float = Field(default=0.01, gt=0, lt=1)

    @field_validator("steps")
    @classmethod
    def _at_least_two(cls, steps: tuple[str, ...]) -> tuple[str, ...]:
        if len(steps) < 2:
            raise ValueError("a funnel needs at least two steps")
        return steps


def resolve_steps(log: EventLog, requested: list[str] | None) -> tuple[tuple[str, ...], list[str]]:
    """Steps as event names of ``log``, and warnings for canonical steps absent from it.

    With no request, the default chain restricted to the events present in the data.
    """
    present = set(log.profile.events)
    if requested is None:
        steps = tuple(step for step in DEFAULT_FUNNEL if step in present)
        if len(steps) < 2:
            raise DataError(
                f"{log.label}: only {len(steps)} of the default funnel events "
                f"({', '.join(DEFAULT_FUNNEL)}) occur; choose steps with --steps "
                f"(events found: {', '.join(sorted(present)) or 'none'})"
            )
        return steps, []
    steps = tuple(resolve_names(log, step, option="--steps") for step in requested)
    if len(steps) < 2:
        raise UsageError(
            "--steps: a funnel needs at least two steps, e.g. --steps view,cart,purchase"
        )
    names = dict.fromkeys(name for step in steps for name in step.split("|"))
    missing = [name for name in names if name not in present]
    return steps, [f"step '{s}' does not occur in {log.label}: it counts 0" for s in missing]


def resolve_names(log: EventLog, text: str, *, option: str) -> str:
    """``a|b`` (event or canonical names) as the data's names joined by ``|``, each once."""
    names = []
    for part in text.split("|"):
        resolved = log.event_name(part.strip())
        if resolved is None:
            raise log.unknown_event(part.strip(), option=option)
        names.append(resolved)
    return "|".join(dict.fromkeys(names))


def build_spec(
    log: EventLog,
    config: Config,
    *,
    steps: str | None,
    name: str | None,
    window: str | None,
    by: Unit | None,
    order: Order | None,
    exclude: list[str] | None = None,
    attribution: str = "first",
    percentiles: str | None = None,
    **rest: Any,
) -> tuple[FunnelSpec, list[str]]:
    """A ``FunnelSpec`` from command-line values, filling gaps from a named funnel in the config.

    ``exclude``, ``attribution`` and ``percentiles`` are the texts of their options (SPEC §13);
    ``rest`` holds ``breakdown``/``hold`` (input column names) and the remaining spec fields.
    """
    named = _named_funnel(config, name)
    requested = steps.split(",") if steps else (named.step_texts if named else None)
    resolved, warnings = resolve_steps(log, requested)
    window_text = window or (named.window if named else None) or "7d"
    for option in ("breakdown", "hold"):
        if rest.get(option) is not None:
            rest[option] = log.column(rest[option], option=f"--{option}")
    chosen_order = order or (named.order if named and named.order else "ordered")
    texts = [*(named.exclude if named else []), *(exclude or [])]
    exclusions = tuple(parse_exclusion(log, text, len(resolved)) for text in texts)
    if exclusions and chosen_order != "ordered":
        raise UsageError(
            f"--exclude needs --order ordered (an exclusion is defined between matched steps in "
            f"order; --order {chosen_order} has no such chain)"
        )
    present = set(log.profile.events)
    warnings += [
        f"--exclude '{name}' does not occur in {log.label}: it excludes nothing"
        for names, _, _ in exclusions
        for name in names.split("|")
        if name not in present
    ]
    spec = FunnelSpec(
        steps=resolved,
        window=parse_duration(window_text, option="--window"),
        by=by or (named.by if named and named.by else "user"),
        order=chosen_order,
        exclude=exclusions,
        attribution=parse_attribution(attribution, len(resolved)),
        percentiles=parse_percentiles(percentiles),
        **rest,
    )
    return spec, warnings


def parse_exclusion(log: EventLog, text: str, steps: int) -> tuple[str, int, int]:
    """``NAME[@i-j]`` (SPEC §13; default range: step 1 to the last) as (names, i, j)."""
    name, _, span = text.partition("@")
    low, high = 1, steps
    if span:
        first, dash, last = span.partition("-")
        if not (dash and first.isdigit() and last.isdigit()):
            raise UsageError(f"--exclude {text}: write NAME@i-j with step numbers, e.g. {name}@2-3")
        low, high = int(first), int(last)
    if not 1 <= low < high <= steps:
        raise UsageError(
            f"--exclude {text}: the range needs 1 <= i < j <= {steps} (the funnel's steps)"
        )
    return resolve_names(log, name, option="--exclude"), low, high


def parse_attribution(text: str, steps: int) -> str:
    """``first``, ``last`` or ``step:N`` with 1 ≤ N ≤ ``steps``."""
    if text in ("first", "last"):
        return text
    number = text.removeprefix("step:")
    if text.startswith("step:") and number.isdigit() and 1 <= int(number) <= steps:
        return f"step:{int(number)}"
    raise UsageError(f"--attribution {text}: use first, last or step:N with N from 1 to {steps}")


def parse_percentiles(text: str | None) -> tuple[float, ...]:
    """``25,50,90`` as numbers in [0, 100], in the order given."""
    if text is None:
        return ()
    values = []
    for part in text.split(","):
        try:
            value = float(part)
        except ValueError:
            value = -1.0
        if not 0 <= value <= 100:
            raise UsageError(
                f"--percentiles: '{part}' is not a number from 0 to 100, e.g. 25,50,90"
            )
        values.append(value)
    return tuple(values)


def _named_funnel(config: Config, name: str | None) -> FunnelConfig | None:
    if name is None:
        return None
    if name not in config.funnels:
        known = ", ".join(sorted(config.funnels)) or "none defined"
        raise UsageError(
            f"--funnel: no funnel '{name}' in the config{did_you_mean(name, set(config.funnels))}"
            f" (funnels: {known})"
        )
    return config.funnels[name]
